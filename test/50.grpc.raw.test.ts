// A client built from proto/token_service.proto alone, with plain
// @grpc/grpc-js + @grpc/proto-loader + msgpack-lite (an encoder that is not
// ours), the way other crudjt SDKs
// talk to a master: it must interoperate with ours, and nothing it sends
// may break the master.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { expect } from 'chai';
import path from 'node:path';
import { CRUDJT, startTestMaster } from './00.setup';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const msgpackLite: { encode(v: unknown): Buffer; decode(b: Uint8Array): any } = require('msgpack-lite');
const pack = (v: unknown): Buffer => msgpackLite.encode(v);
const unpack = (b: Uint8Array): any => msgpackLite.decode(b);

type Callback = (err: grpc.ServiceError | null, res?: any) => void;
type RawClient = grpc.Client & Record<'CreateToken' | 'ReadToken' | 'UpdateToken' | 'DeleteToken', (req: object, opts: grpc.CallOptions, cb: Callback) => void>;

function rawClient(port: number): RawClient {
  // The published JS SDK's client loads the proto with longs: String.
  const def = protoLoader.loadSync(path.join(__dirname, '..', 'proto', 'token_service.proto'), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const proto = grpc.loadPackageDefinition(def) as any;
  return new proto.token.TokenService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

function call(client: RawClient, method: 'CreateToken' | 'ReadToken' | 'UpdateToken' | 'DeleteToken', req: object): Promise<any> {
  return new Promise((resolve, reject) => {
    client[method](req, { deadline: Date.now() + 5000 }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

async function callError(client: RawClient, method: 'CreateToken' | 'ReadToken' | 'UpdateToken' | 'DeleteToken', req: object): Promise<grpc.ServiceError> {
  try {
    const res = await call(client, method, req);
    expect.fail(`expected an error, got ${JSON.stringify(res)}`);
  } catch (e) {
    if ((e as { code?: unknown }).code === undefined) throw e;
    return e as grpc.ServiceError;
  }
  throw new Error('unreachable');
}

describe('TokenService over raw gRPC (as other SDKs call it)', () => {
  let client: RawClient;

  before(async () => {
    const info = await startTestMaster();
    client = rawClient(info.grpc_port);
  });
  after(async () => {
    client.close();
    await CRUDJT.Config.shutdownServer();
  });

  // After every test the master still serves.
  afterEach(async () => {
    const { token } = await call(client, 'CreateToken', { packed_data: pack({ alive: true }), ttl: -1, silence_read: -1 });
    const res = await call(client, 'ReadToken', { token });
    expect(unpack(res.packed_data)).to.deep.equal({ data: { alive: true } });
  });

  it('creates with ttl/silence_read -1 (no limits) and reads { data } back', async () => {
    const { token } = await call(client, 'CreateToken', { packed_data: pack({ user_id: 42, role: 11 }), ttl: -1, silence_read: -1 });
    expect(token).to.match(/^[A-Za-z0-9_-]{22}$/);
    const res = await call(client, 'ReadToken', { token });
    expect(unpack(res.packed_data)).to.deep.equal({ data: { user_id: 42, role: 11 } });
  });

  it('treats ttl/silence_read 0 (or absent) as no limit', async () => {
    const a = await call(client, 'CreateToken', { packed_data: pack({ a: 1 }), ttl: 0, silence_read: 0 });
    expect(unpack((await call(client, 'ReadToken', { token: a.token })).packed_data)).to.deep.equal({ data: { a: 1 } });
    const b = await call(client, 'CreateToken', { packed_data: pack({ b: 1 }) });
    expect(unpack((await call(client, 'ReadToken', { token: b.token })).packed_data)).to.deep.equal({ data: { b: 1 } });
  });

  it('answers {metadata: {ttl, silence_read}, data} with exactly these key names', async () => {
    const { token } = await call(client, 'CreateToken', { packed_data: pack({ a: 1 }), ttl: 60, silence_read: 3 });
    const res = await call(client, 'ReadToken', { token });
    const decoded = unpack(res.packed_data);
    expect(decoded).to.deep.equal({ metadata: { ttl: 60, silence_read: 2 }, data: { a: 1 } });
    expect(Object.keys(decoded)).to.deep.equal(['metadata', 'data']);
  });

  it('answers MessagePack nil (0xc0), never empty bytes, for an unknown token', async () => {
    const res = await call(client, 'ReadToken', { token: 'AAAAAAAAAAAAAAAAAAAAAA' });
    expect(Buffer.from(res.packed_data)).to.deep.equal(Buffer.from([0xc0]));
  });

  it('counts silence_read down to 0 then answers nil', async () => {
    const { token } = await call(client, 'CreateToken', { packed_data: pack({ a: 1 }), ttl: -1, silence_read: 2 });
    expect(unpack((await call(client, 'ReadToken', { token })).packed_data).metadata).to.deep.equal({ silence_read: 1 });
    expect(unpack((await call(client, 'ReadToken', { token })).packed_data).metadata).to.deep.equal({ silence_read: 0 });
    expect(Buffer.from((await call(client, 'ReadToken', { token })).packed_data)).to.deep.equal(Buffer.from([0xc0]));
  });

  it('updates and deletes', async () => {
    const { token } = await call(client, 'CreateToken', { packed_data: pack({ v: 1 }), ttl: 60, silence_read: -1 });
    expect((await call(client, 'UpdateToken', { token, packed_data: pack({ v: 2 }), ttl: -1, silence_read: -1 })).result).to.equal(true);
    expect(unpack((await call(client, 'ReadToken', { token })).packed_data)).to.deep.equal({ data: { v: 2 } });
    expect((await call(client, 'DeleteToken', { token })).result).to.equal(true);
    expect((await call(client, 'DeleteToken', { token })).result).to.equal(false);
    expect((await call(client, 'UpdateToken', { token, packed_data: pack({ v: 3 }), ttl: -1, silence_read: -1 })).result).to.equal(false);
  });

  it('gives the data bytes back exactly as sent (int64, str8, bin, float)', async () => {
    // {id: uint64 2^40, neg: int64 -2^33, s: str8 'k'*40, b: bin [1,2], f: float64 1.5}
    const sent = Buffer.concat([
      Buffer.from([0x85, 0xa2]), Buffer.from('id'), Buffer.from([0xcf, 0, 0, 1, 0, 0, 0, 0, 0]),
      Buffer.from([0xa3]), Buffer.from('neg'), Buffer.from([0xd3, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0]),
      Buffer.from([0xa1, 0x73, 0xd9, 40]), Buffer.from('k'.repeat(40)),
      Buffer.from([0xa1, 0x62, 0xc4, 2, 1, 2]),
      Buffer.from([0xa1, 0x66, 0xcb]), (() => { const f = Buffer.alloc(8); f.writeDoubleBE(1.5); return f; })(),
    ]);
    const { token } = await call(client, 'CreateToken', { packed_data: sent, ttl: -1, silence_read: -1 });
    for (let i = 0; i < 2; i++) {
      // Twice: the second read may come from the master's cache.
      const res = Buffer.from((await call(client, 'ReadToken', { token })).packed_data);
      const prefix = Buffer.concat([Buffer.from([0x81, 0xa4]), Buffer.from('data')]);
      expect(res).to.deep.equal(Buffer.concat([prefix, sent]));
    }
  });

  it('writes integers beyond 32 bits created through the API as int64, not float64', async () => {
    const token = await CRUDJT.create({ id: 2 ** 40 });
    const res = Buffer.from((await call(client, 'ReadToken', { token })).packed_data);
    expect(res.subarray(res.length - 9)).to.deep.equal(Buffer.from([0xcf, 0, 0, 1, 0, 0, 0, 0, 0]));
  });

  it('interoperates with the in-process API both ways', async () => {
    const { token } = await call(client, 'CreateToken', { packed_data: pack({ from: 'wire' }), ttl: -1, silence_read: 5 });
    expect(await CRUDJT.read(token)).to.deep.equal({ metadata: { silence_read: 4 }, data: { from: 'wire' } });
    const mine = await CRUDJT.create({ from: 'api' }, 120);
    expect(unpack((await call(client, 'ReadToken', { token: mine })).packed_data)).to.deep.equal({ metadata: { ttl: 120 }, data: { from: 'api' } });
  });

  describe('bad input gets INVALID_ARGUMENT and the master keeps serving', () => {
    const badPayloads: Array<[string, Buffer, RegExp]> = [
      ['malformed MessagePack', Buffer.from([0x82, 0xa1, 0x61]), /MessagePack/],
      ['trailing bytes after the map', Buffer.from([0x81, 0xa1, 0x61, 0x01, 0xff]), /MessagePack/],
      ['an unknown extension type', Buffer.from([0x81, 0xa1, 0x61, 0xd4, 0x05, 0x00]), /MessagePack|extension/],
      ['an array', pack([1, 2, 3]), /^Must be a Hash \(Object\)$/],
      ['a string', pack('hello'), /^Must be a Hash \(Object\)$/],
      ['nil', Buffer.from([0xc0]), /^Must be a Hash \(Object\)$/],
      ['empty bytes', Buffer.alloc(0), /./],
      ['an empty map', Buffer.from([0x80]), /^Hash can not be empty$/],
      ['a map over 256 bytes', pack({ a: 'x'.repeat(300) }), /^Hash can not be bigger than 256 bytesize$/],
    ];
    for (const [label, bytes, message] of badPayloads) {
      it(`CreateToken with ${label}`, async () => {
        const err = await callError(client, 'CreateToken', { packed_data: bytes, ttl: -1, silence_read: -1 });
        expect(err.code).to.equal(grpc.status.INVALID_ARGUMENT);
        expect(err.details).to.match(message);
      });
      it(`UpdateToken with ${label}`, async () => {
        const { token } = await call(client, 'CreateToken', { packed_data: pack({ a: 1 }), ttl: -1, silence_read: -1 });
        const err = await callError(client, 'UpdateToken', { token, packed_data: bytes, ttl: -1, silence_read: -1 });
        expect(err.code).to.equal(grpc.status.INVALID_ARGUMENT);
        // A refused update leaves the token as it was.
        expect(unpack((await call(client, 'ReadToken', { token })).packed_data)).to.deep.equal({ data: { a: 1 } });
      });
    }

    const badLimits: Array<[string, string | number]> = [
      ['-5', -5],
      ['2^62', '4611686018427387904'],
      ['int64 max', '9223372036854775807'],
      ['int64 min', '-9223372036854775808'],
      ['2^53 + 1', '9007199254740993'],
      ['one second past the largest ttl', Math.floor(Number.MAX_SAFE_INTEGER / 1000) + 1],
    ];
    for (const [label, value] of badLimits) {
      it(`CreateToken with ttl ${label}`, async () => {
        const err = await callError(client, 'CreateToken', { packed_data: pack({ a: 1 }), ttl: value, silence_read: -1 });
        expect(err.code).to.equal(grpc.status.INVALID_ARGUMENT);
        expect(err.details).to.match(/^ttl /);
        expect(err.metadata.get('crudjt-error')[0]).to.be.oneOf(['TypeError', 'RangeError']);
      });
      if (label !== 'one second past the largest ttl') {
        it(`UpdateToken with silence_read ${label}`, async () => {
          const err = await callError(client, 'UpdateToken', { token: 'AAAAAAAAAAAAAAAAAAAAAA', packed_data: pack({ a: 1 }), ttl: -1, silence_read: value });
          expect(err.code).to.equal(grpc.status.INVALID_ARGUMENT);
          expect(err.details).to.match(/^silence_read /);
        });
      }
    }

    it('an empty token gets INVALID_ARGUMENT', async () => {
      for (const method of ['ReadToken', 'DeleteToken'] as const) {
        const err = await callError(client, method, { token: '' });
        expect(err.code).to.equal(grpc.status.INVALID_ARGUMENT);
        expect(err.details).to.equal('token must be a non-empty String');
      }
    });

    it('a 10 KB token is simply not found (nil / false), as in the API', async () => {
      const token = 'A'.repeat(10 * 1024);
      expect(Buffer.from((await call(client, 'ReadToken', { token })).packed_data)).to.deep.equal(Buffer.from([0xc0]));
      expect((await call(client, 'DeleteToken', { token })).result).to.equal(false);
      expect((await call(client, 'UpdateToken', { token, packed_data: pack({ a: 1 }), ttl: -1, silence_read: -1 })).result).to.equal(false);
    });

    it('a message over 64 KiB is refused by the transport', async () => {
      const err = await callError(client, 'ReadToken', { token: 'A'.repeat(100 * 1024) });
      expect(err.code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
    });

    it('a burst of 200 garbage requests leaves the master serving', async () => {
      const jobs: Array<Promise<unknown>> = [];
      for (let i = 0; i < 200; i++) {
        const garbage = Buffer.from(Array.from({ length: 1 + (i % 60) }, (_, j) => (i * 31 + j * 7) & 0xff));
        jobs.push(call(client, 'CreateToken', { packed_data: garbage, ttl: i % 3 === 0 ? -7 : -1, silence_read: -1 }).catch((e) => e));
      }
      const results = await Promise.all(jobs);
      for (const r of results) {
        if (r instanceof Error) expect((r as grpc.ServiceError).code).to.equal(grpc.status.INVALID_ARGUMENT);
      }
    });
  });
});
