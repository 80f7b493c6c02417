// Hostile input on the wire: a master child (test/helpers/fault-master.ts)
// gets random bytes and truncated or nonsensical HTTP/2 frames on raw TCP
// sockets, an HTTP/2 rapid-reset burst, valid gRPC calls carrying malformed
// MessagePack or malformed protobuf (unknown fields, wrong wire types,
// random bytes), oversized messages, and 10,000 concurrent calls from four
// client processes. After each phase a well-behaved client is served, the
// master process is alive, and its memory (process.memoryUsage().rss after a
// GC, reported over IPC) stays bounded.
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import fc from 'fast-check';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { freshStorePath, onCleanup } from './00.setup';
import { FaultMaster } from './helpers/fault-child';
import { decodeBatchResponse } from '../lib/grpc/batch_codec';
import { pack, unpack } from '../lib/msgpack';

type Method = 'CreateToken' | 'ReadToken' | 'UpdateToken' | 'DeleteToken' | SessionMethod;
type SessionMethod = 'TouchToken' | 'RevokeSubject' | 'ListSubject' | 'RevokeHandle' | 'PutToken';
const METHODS: Method[] = ['CreateToken', 'ReadToken', 'UpdateToken', 'DeleteToken'];
const SESSION_METHODS: SessionMethod[] = ['TouchToken', 'RevokeSubject', 'ListSubject', 'RevokeHandle'];
const ALL_NEW_METHODS: SessionMethod[] = [...SESSION_METHODS, 'PutToken'];

// ---- protobuf by hand, so that any bytes can be sent ----------------------
function varint(n: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}
const fieldVarint = (f: number, n: number | bigint): Buffer => Buffer.concat([varint((f << 3) | 0), varint(n)]);
const fieldBytes = (f: number, b: Uint8Array | string): Buffer => {
  const buf = typeof b === 'string' ? Buffer.from(b) : Buffer.from(b);
  return Buffer.concat([varint((f << 3) | 2), varint(buf.length), buf]);
};

/** A client that sends and receives raw message bytes. */
type RawClient = grpc.Client & Record<Method, (req: Buffer, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Buffer) => void) => void>;
function rawClient(port: number): RawClient {
  const def: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  for (const m of [...METHODS, ...ALL_NEW_METHODS]) {
    def[m] = {
      path: `/token.TokenService/${m}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    };
  }
  const Ctor = grpc.makeGenericClientConstructor(def, 'TokenService');
  return new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': -1,
    'grpc.max_receive_message_length': -1,
  }) as unknown as RawClient;
}
function rawCall(c: RawClient, m: Method, req: Buffer): Promise<{ code: number; res?: Buffer; details?: string }> {
  return new Promise((resolve) => {
    c[m](req, { deadline: Date.now() + 10_000 }, (err, res) => resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, res }));
  });
}

/** The bytes of length-delimited field 1 of a response (token, packed_data). */
function field1(res: Buffer): Buffer {
  expect(res[0]).to.equal(0x0a);
  let len = 0;
  let shift = 0;
  let pos = 1;
  for (;;) {
    const b = res[pos++];
    len += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) break;
  }
  return res.subarray(pos, pos + len);
}
const tokenOf = (res: Buffer): string => field1(res).toString();

describe('hostile bytes on the wire: the master keeps serving, memory stays bounded', function () {
  this.timeout(120_000);
  let master: FaultMaster;
  let client: RawClient;
  const rss: Array<[string, number]> = [];
  let tried = 0;
  let loadCalls = 0;

  /** A proper create + read through gRPC works, and the child is alive. */
  async function expectServing(phase: string): Promise<void> {
    expect(master.alive, `${phase}: master alive (${master.stderr})`).to.equal(true);
    const c = rawClient(master.port);
    try {
      const created = await rawCall(c, 'CreateToken', Buffer.concat([fieldBytes(1, pack({ phase })), fieldVarint(2, -1), fieldVarint(3, -1)]));
      expect(created.code, `${phase}: create ${created.details}`).to.equal(grpc.status.OK);
      const read = await rawCall(c, 'ReadToken', fieldBytes(1, tokenOf(created.res!)));
      expect(read.code).to.equal(grpc.status.OK);
      expect(unpack(field1(read.res!))).to.deep.equal({ data: { phase } });
    } finally {
      c.close();
    }
    rss.push([phase, await master.rss()]);
  }

  before(async function () {
    this.timeout(30_000);
    master = await FaultMaster.start({ store_jt_path: freshStorePath() });
    onCleanup(() => master.kill());
    client = rawClient(master.port);
    await expectServing('start');
  });

  after(async () => {
    client?.close();
    console.log(`      wire: ${tried} hostile inputs, ${loadCalls} concurrent load calls; master rss (MiB) ${rss.map(([p, b]) => `${p}=${(b / 2 ** 20).toFixed(0)}`).join(' ')}`);
    await master?.stop();
  });

  it('random bytes on 300 raw TCP connections (closed, reset or left hanging)', async () => {
    const one = (i: number): Promise<void> =>
      new Promise((resolve) => {
        const s = net.connect(master.port, '127.0.0.1');
        s.on('error', () => undefined);
        s.on('close', () => resolve());
        s.on('data', () => undefined);
        s.on('connect', () => {
          const size = 1 + crypto.randomInt(i % 10 === 0 ? 256 * 1024 : 4096);
          s.write(crypto.randomBytes(size));
          if (i % 3 === 0) s.end();
          else if (i % 3 === 1) s.destroy();
          else setTimeout(() => s.destroy(), 200);
        });
        s.setTimeout(3000, () => s.destroy());
      });
    for (let batch = 0; batch < 6; batch++) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => one(batch * 50 + j)));
    }
    tried += 300;
    await expectServing('random-tcp');
  });

  it('the HTTP/2 preface followed by truncated, oversized and nonsensical frames (400 connections)', async () => {
    const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    const frame = (type: number, flags: number, stream: number, payload: Buffer, declared = payload.length): Buffer => {
      const h = Buffer.alloc(9);
      h.writeUIntBE(declared, 0, 3);
      h[3] = type;
      h[4] = flags;
      h.writeUInt32BE(stream >>> 0, 5);
      return Buffer.concat([h, payload]);
    };
    const settings = frame(4, 0, 0, Buffer.alloc(0));
    const crafted: Buffer[] = [
      PREFACE.subarray(0, 10),
      Buffer.concat([PREFACE, settings.subarray(0, 5)]),
      Buffer.concat([PREFACE, frame(4, 0, 0, Buffer.from([0, 4, 0xff, 0xff, 0xff, 0xff]))]), // INITIAL_WINDOW_SIZE too big
      Buffer.concat([PREFACE, settings, frame(0, 1, 1, Buffer.from('data before headers'))]),
      Buffer.concat([PREFACE, settings, frame(1, 4, 1, crypto.randomBytes(64))]), // HEADERS with garbage HPACK
      Buffer.concat([PREFACE, settings, frame(1, 0, 1, crypto.randomBytes(32)), ...Array.from({ length: 2000 }, () => frame(9, 0, 1, crypto.randomBytes(16)))]), // CONTINUATION flood
      Buffer.concat([PREFACE, settings, frame(0, 0, 1, crypto.randomBytes(100), 0xffffff)]), // declares 16 MiB, sends 100 bytes
      Buffer.concat([PREFACE, settings, frame(8, 0, 0, Buffer.from([0, 0, 0, 0]))]), // WINDOW_UPDATE of 0
      Buffer.concat([PREFACE, settings, ...Array.from({ length: 5000 }, () => frame(6, 0, 0, crypto.randomBytes(8)))]), // PING flood
      Buffer.concat([PREFACE, settings, ...Array.from({ length: 1000 }, (_, k) => frame(3, 0, 2 * k + 1, Buffer.from([0, 0, 0, 8])))]), // RST_STREAM on idle streams
      Buffer.concat([PREFACE, settings, frame(7, 0, 0, Buffer.alloc(8))]), // GOAWAY
      Buffer.concat([PREFACE, frame(4, 0, 0, Buffer.alloc(6 * 1000, 0))]), // 1000 settings entries
    ];
    const randomFrames = (): Buffer => {
      const parts: Buffer[] = [PREFACE, settings];
      const n = 1 + crypto.randomInt(20);
      for (let k = 0; k < n; k++) {
        const payload = crypto.randomBytes(crypto.randomInt(200));
        const declared = crypto.randomInt(4) === 0 ? crypto.randomInt(0x1000000) : payload.length;
        parts.push(frame(crypto.randomInt(12), crypto.randomInt(256), crypto.randomInt(2) === 0 ? crypto.randomInt(10) : crypto.randomInt(2 ** 31), payload, declared));
      }
      const all = Buffer.concat(parts);
      return crypto.randomInt(3) === 0 ? all.subarray(0, crypto.randomInt(all.length)) : all;
    };
    const send = (bytes: Buffer, hang: boolean): Promise<void> =>
      new Promise((resolve) => {
        const s = net.connect(master.port, '127.0.0.1');
        s.on('error', () => undefined);
        s.on('data', () => undefined);
        s.on('close', () => resolve());
        s.on('connect', () => {
          s.write(bytes);
          if (!hang) s.end();
          setTimeout(() => s.destroy(), 300);
        });
        s.setTimeout(1000, () => s.destroy());
      });
    for (let round = 0; round < 4; round++) {
      await Promise.all(crafted.map((b, k) => send(b, (k + round) % 2 === 0)));
      tried += crafted.length;
    }
    for (let batch = 0; batch < 8; batch++) {
      await Promise.all(Array.from({ length: 44 }, (_, k) => send(randomFrames(), k % 4 === 0)));
      tried += 44;
    }
    await expectServing('http2-frames');
  });

  it('an HTTP/2 rapid-reset burst (3,000 streams opened and cancelled at once)', async () => {
    const session = http2.connect(`http://127.0.0.1:${master.port}`);
    session.on('error', () => undefined);
    await new Promise<void>((resolve) => session.once('connect', () => resolve()));
    for (let i = 0; i < 3000 && !session.destroyed && !session.closed; i++) {
      try {
        const req = session.request({ ':method': 'POST', ':path': '/token.TokenService/ReadToken', 'content-type': 'application/grpc', te: 'trailers' });
        req.on('error', () => undefined);
        req.close(http2.constants.NGHTTP2_CANCEL);
      } catch {
        break; // the server may refuse further streams (GOAWAY): that is fine
      }
      tried++;
    }
    await new Promise((r) => setTimeout(r, 200));
    session.destroy();
    await expectServing('rapid-reset');
  });

  it('valid gRPC with malformed MessagePack gets INVALID_ARGUMENT (or OK for a valid map)', async () => {
    const crafted: Buffer[] = [
      Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]), // str32 of 4 GiB, 1 byte present
      Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff]), // map32 of 4 G entries
      Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), // array32
      Buffer.from([0xc6, 0xff, 0xff, 0xff, 0xff, 0]), // bin32
      Buffer.from([0x81, 0xa1, 0x61, ...Array(200).fill(0x91), 0x01]), // nested 200 deep
      Buffer.from([0x81, 0xc1, 0x01]), // reserved byte as key
      Buffer.from([0x81, 0x01, 0x02]), // integer key
      Buffer.from([0x81, 0x91, 0x01, 0x02]), // array key
      Buffer.from([0x81, 0x80, 0x02]), // map key
      Buffer.from([0x81, 0xc0, 0x02]), // nil key
      Buffer.from([0x82, 0xa1, 0x61, 0x01, 0xa1, 0x61, 0x02]), // duplicate key
      Buffer.from([0x81, 0xa1, 0x61, 0xd4, 0x05, 0x01]), // fixext1 of an unknown type
      Buffer.from([0x81, 0xa1, 0x61, 0xd6, 0xff, 0xff, 0xff, 0xff]), // timestamp32
      Buffer.from([0x81, 0xa1, 0x61, 0xc7, 0x0c, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]), // timestamp96, nanoseconds > 1e9
      Buffer.from([0x81, 0xa9, 0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f, 0x81, 0xa1, 0x78, 0x01]), // {"__proto__": {x: 1}}
      Buffer.from([0x81, 0xa1, 0x61, 0xa2, 0xed, 0xa0]), // invalid UTF-8 (a lone surrogate)
      Buffer.from([0x81, 0xa1, 0x61, 0x01, 0x00]), // trailing byte
      Buffer.from([0x80]), // empty map
      Buffer.from([0xc0]),
      Buffer.alloc(0),
      Buffer.from([0x81, 0xa1, 0x61, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // uint64 max
      Buffer.from([0x81, 0xa1, 0x61, 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1]), // NaN payload
    ];
    const allowed = new Set([grpc.status.OK, grpc.status.INVALID_ARGUMENT]);
    const bad: string[] = [];
    let okCount = 0;
    const check = async (bytes: Uint8Array, live: string): Promise<void> => {
      const create = await rawCall(client, 'CreateToken', Buffer.concat([fieldBytes(1, bytes), fieldVarint(2, 60), fieldVarint(3, 5)]));
      const update = await rawCall(client, 'UpdateToken', Buffer.concat([fieldBytes(1, live), fieldBytes(2, bytes), fieldVarint(3, -1), fieldVarint(4, 0)]));
      tried += 2;
      for (const [what, r] of [['create', create], ['update', update]] as const) {
        if (!allowed.has(r.code)) bad.push(`${what} ${Buffer.from(bytes).toString('hex').slice(0, 80)}: status ${r.code} ${r.details}`);
      }
      if (create.code === grpc.status.OK) {
        okCount++;
        // What was accepted reads back as a decodable answer.
        const read = await rawCall(client, 'ReadToken', fieldBytes(1, tokenOf(create.res!)));
        const answer = unpack(field1(read.res!)) as { data: unknown };
        expect(answer.data).to.be.an('object');
      }
    };
    const live = tokenOf((await rawCall(client, 'CreateToken', fieldBytes(1, pack({ live: 1 })))).res!);
    for (const bytes of crafted) await check(bytes, live);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          // A map header followed by random bytes: gets past the first check.
          fc.tuple(fc.integer({ min: 0x81, max: 0x8f }), fc.uint8Array({ maxLength: 200 })).map(([h, rest]) => Uint8Array.from([h, ...rest])),
          // Valid MessagePack, cut short.
          fc.tuple(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 5 }), fc.nat()).map(([d, cut]) => {
            const b = pack(d);
            return b.subarray(0, cut % (b.length + 1));
          }),
        ),
        async (bytes) => check(bytes, live),
      ),
      { numRuns: 600 },
    );
    expect(bad).to.deep.equal([]);
    expect(okCount, 'some inputs were valid maps').to.be.greaterThan(0);
    await expectServing('msgpack');
  });

  it('malformed protobuf: unknown fields are ignored, wrong wire types and random bytes are refused, nothing crashes', async () => {
    // Unknown fields beside valid ones: accepted, the known ones used.
    const withUnknown = Buffer.concat([
      fieldVarint(15, 12345),
      fieldBytes(1, pack({ unknown: 'fields' })),
      fieldBytes(200, crypto.randomBytes(50)),
      Buffer.concat([varint((3000 << 3) | 1), crypto.randomBytes(8)]), // fixed64
      Buffer.concat([varint((4000 << 3) | 5), crypto.randomBytes(4)]), // fixed32
      fieldVarint(2, -1),
    ]);
    const created = await rawCall(client, 'CreateToken', withUnknown);
    expect(created.code, created.details).to.equal(grpc.status.OK);
    const read = await rawCall(client, 'ReadToken', Buffer.concat([fieldBytes(1, tokenOf(created.res!)), fieldVarint(99, 1)]));
    expect(unpack(field1(read.res!))).to.deep.equal({ data: { unknown: 'fields' } });
    tried += 2;

    const bad: string[] = [];
    const fatal = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.UNKNOWN]);
    const crafted: Array<[Method, Buffer]> = [
      ['CreateToken', fieldBytes(2, 'ttl as bytes')],
      ['CreateToken', Buffer.concat([fieldBytes(1, pack({ a: 1 })), fieldVarint(2, 2n ** 63n)])], // ttl = int64 min
      ['CreateToken', Buffer.concat([fieldBytes(1, pack({ a: 1 })), fieldVarint(3, 2n ** 62n)])], // silence_read 2**62
      ['CreateToken', Buffer.concat([fieldBytes(1, pack({ a: 1 })), fieldVarint(2, -5)])],
      ['CreateToken', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])], // length 4 GiB
      ['CreateToken', Buffer.from([0x0a])],
      ['ReadToken', fieldVarint(1, 7)], // token as a varint
      ['ReadToken', fieldBytes(1, Buffer.from([0xff, 0xfe, 0xc3]))], // token not UTF-8
      ['ReadToken', fieldBytes(1, 'A'.repeat(60_000))],
      ['UpdateToken', Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])], // overlong varint tag
      ['DeleteToken', Buffer.from([0x0b, 0x0c])], // group start/end
      ['DeleteToken', Buffer.from([0x07])], // wire type 7
    ];
    const note = (m: Method, b: Uint8Array, r: { code: number; details?: string }): void => {
      tried++;
      if (fatal.has(r.code)) bad.push(`${m} ${Buffer.from(b).toString('hex').slice(0, 60)}: status ${r.code} ${r.details}`);
    };
    for (const [m, b] of crafted) note(m, b, await rawCall(client, m, b));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...METHODS), fc.uint8Array({ maxLength: 400 }), async (m, b) => {
        note(m, b, await rawCall(client, m, Buffer.from(b)));
      }),
      { numRuns: 600 },
    );
    expect(bad).to.deep.equal([]);
    await expectServing('protobuf');
  });

  it('session RPCs and ops: garbage bytes, huge subjects and wrong types get INVALID_ARGUMENT, nothing crashes', async () => {
    const bad: string[] = [];
    const expectInvalid = async (m: Method, b: Buffer, what: string): Promise<void> => {
      const r = await rawCall(client, m, b);
      tried++;
      if (r.code !== grpc.status.INVALID_ARGUMENT) bad.push(`${m} ${what}: status ${r.code} ${r.details}`);
    };
    const huge = 'u'.repeat(60_000);
    for (const m of ['RevokeSubject', 'ListSubject'] as const) {
      await expectInvalid(m, Buffer.alloc(0), 'no subject');
      await expectInvalid(m, fieldBytes(1, ''), 'empty subject');
      await expectInvalid(m, fieldBytes(1, 'x'.repeat(129)), '129-byte subject');
      await expectInvalid(m, fieldBytes(1, 'é'.repeat(65)), '130-byte UTF-8 subject');
      await expectInvalid(m, fieldBytes(1, huge), '60,000-byte subject');
      await expectInvalid(m, fieldBytes(1, Buffer.from([0x75, 0xff, 0xfe, 0xed, 0xa0, 0x80])), 'subject not UTF-8');
      await expectInvalid(m, fieldVarint(1, 7), 'subject as a varint');
      await expectInvalid(m, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), 'length 4 GiB');
      await expectInvalid(m, Buffer.from([0x0a]), 'truncated');
    }
    await expectInvalid('RevokeHandle', Buffer.alloc(0), 'no handle');
    await expectInvalid('RevokeHandle', fieldVarint(1, 1), 'handle as a varint');
    await expectInvalid('RevokeHandle', Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 'overlong varint tag');
    const live = tokenOf((await rawCall(client, 'CreateToken', Buffer.concat([fieldBytes(1, pack({ s: 1 })), fieldBytes(4, 'victim')]))).res!);
    await expectInvalid('TouchToken', fieldVarint(2, 60), 'no token');
    await expectInvalid('TouchToken', Buffer.concat([fieldBytes(1, live), fieldVarint(2, -5)]), 'ttl -5');
    await expectInvalid('TouchToken', Buffer.concat([fieldBytes(1, live), fieldVarint(2, 2n ** 62n)]), 'ttl 2^62');
    await expectInvalid('TouchToken', Buffer.concat([fieldBytes(1, live), fieldBytes(2, 'ttl as bytes')]), 'ttl as bytes');
    await expectInvalid('TouchToken', Buffer.concat([fieldVarint(1, 5), fieldVarint(2, 60)]), 'token as a varint');
    await expectInvalid('CreateToken', Buffer.concat([fieldBytes(1, pack({ a: 1 })), fieldBytes(4, 'x'.repeat(129))]), '129-byte subject');
    await expectInvalid('CreateToken', Buffer.concat([fieldBytes(1, pack({ a: 1 })), fieldBytes(4, huge)]), '60,000-byte subject');
    await expectInvalid('PutToken', fieldBytes(2, pack({ a: 1 })), 'no token');
    await expectInvalid('PutToken', Buffer.concat([fieldBytes(1, 'short'), fieldBytes(2, pack({ a: 1 }))]), '5-character token');
    await expectInvalid('PutToken', Buffer.concat([fieldBytes(1, 'a+b/'.repeat(8)), fieldBytes(2, pack({ a: 1 }))]), 'token not base64url');
    await expectInvalid('PutToken', Buffer.concat([fieldBytes(1, 'A'.repeat(60_000)), fieldBytes(2, pack({ a: 1 }))]), '60,000-character token');
    await expectInvalid('PutToken', Buffer.concat([fieldBytes(1, 'A'.repeat(22)), fieldBytes(2, Buffer.from([0x91, 0x01]))]), 'data not a map');
    await expectInvalid('PutToken', Buffer.concat([fieldBytes(1, 'A'.repeat(22)), fieldBytes(2, pack({ a: 1 })), fieldVarint(3, -3)]), 'ttl -3');
    // Random bytes: never a fatal status (PutToken's request is decoded by
    // protobufjs, so malformed bytes there may be INTERNAL, as for the four
    // original RPCs).
    for (let i = 0; i < 200; i++) {
      const r = await rawCall(client, 'PutToken', crypto.randomBytes(i % 120));
      tried++;
      if ([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.UNKNOWN].includes(r.code)) bad.push(`PutToken random: ${r.code} ${r.details}`);
    }
    const fatal = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.UNKNOWN, grpc.status.INTERNAL]);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SESSION_METHODS), fc.uint8Array({ maxLength: 300 }), async (m, b) => {
        const r = await rawCall(client, m, Buffer.from(b));
        tried++;
        if (fatal.has(r.code)) bad.push(`${m} ${Buffer.from(b).toString('hex').slice(0, 60)}: status ${r.code} ${r.details}`);
      }),
      { numRuns: 400 },
    );
    // Batch ops (unary ExecuteBatch): TOUCH and subjects refused per op, neighbours answered.
    const op = (id: number, kind: number, extra: Buffer): Buffer => fieldBytes(1, Buffer.concat([fieldVarint(1, id), fieldVarint(2, kind), extra]));
    const batch = Buffer.concat([
      op(1, 5, fieldVarint(5, 60)), // TOUCH without a token
      op(2, 5, Buffer.concat([fieldBytes(3, live), fieldVarint(5, -9)])), // TOUCH, bad ttl
      op(3, 1, Buffer.concat([fieldBytes(4, pack({ a: 1 })), fieldBytes(7, 'x'.repeat(200))])), // CREATE, subject too big
      op(4, 9, fieldBytes(3, live)), // unknown kind
      op(5, 5, Buffer.concat([fieldBytes(3, live), fieldVarint(5, 90)])), // a good TOUCH
    ]);
    const res = await new Promise<{ code: number; res?: Buffer; details?: string }>((resolve) => {
      (client as unknown as grpc.Client).makeUnaryRequest(
        '/token.TokenService/ExecuteBatch', (b: Buffer) => b, (b: Buffer) => b, batch, { deadline: Date.now() + 10_000 },
        (err, r) => resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, res: r }),
      );
    });
    tried++;
    expect(res.code, res.details).to.equal(grpc.status.OK);
    const results = decodeBatchResponse(res.res!).results;
    expect(results.map((r) => [r.id, r.error_code])).to.deep.equal([[1, 3], [2, 3], [3, 3], [4, 3], [5, 0]]);
    expect(results[4].result).to.equal(true);
    expect(bad).to.deep.equal([]);
    await expectServing('sessions');
  });

  it('oversized messages get RESOURCE_EXHAUSTED and the master keeps serving', async () => {
    for (const size of [64 * 1024 + 1, 1 << 20, 16 << 20]) {
      const r = await rawCall(client, 'CreateToken', fieldBytes(1, Buffer.alloc(size, 0x61)));
      expect(r.code, `${size} bytes`).to.equal(grpc.status.RESOURCE_EXHAUSTED);
      tried++;
    }
    await expectServing('oversized');
  });

  it('10,000 concurrent calls from 4 client processes, twice: all answered, others served meanwhile, rss bounded', async function () {
    this.timeout(180_000);
    const loader = path.join(__dirname, 'helpers', 'fault-load.ts');
    const burst = async (label: string): Promise<void> => {
      const kids = Array.from({ length: 4 }, () => {
        const p = spawn(process.execPath, ['--require', 'tsx/cjs', loader, String(master.port), '2500'], {
          cwd: path.join(__dirname, '..'),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        onCleanup(() => void p.kill('SIGKILL'));
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (err += d));
        return new Promise<{ ok: number; failed: Record<string, number>; fatal?: string }>((resolve) =>
          p.on('close', () => {
            try {
              resolve(JSON.parse(out.trim().split('\n').pop()!));
            } catch {
              resolve({ ok: 0, failed: {}, fatal: `${out} ${err}` });
            }
          }),
        );
      });
      // Meanwhile a well-behaved client is served, with bounded latency.
      let worst = 0;
      let served = 0;
      let done = false;
      const all = Promise.all(kids).finally(() => {
        done = true;
      });
      const c = rawClient(master.port);
      while (!done) {
        const t0 = Date.now();
        const r = await rawCall(c, 'CreateToken', fieldBytes(1, pack({ bystander: served })));
        expect(r.code, r.details).to.equal(grpc.status.OK);
        worst = Math.max(worst, Date.now() - t0);
        served++;
        await new Promise((res) => setTimeout(res, 20));
      }
      c.close();
      const results = await all;
      for (const r of results) {
        expect(r.fatal, r.fatal).to.equal(undefined);
        expect(r.failed, 'no call failed').to.deep.equal({});
        expect(r.ok).to.equal(2500);
      }
      loadCalls += 10_000;
      expect(served, 'the bystander was served during the burst').to.be.greaterThan(0);
      expect(worst, 'bystander latency (ms)').to.be.lessThan(10_000);
      await expectServing(label);
      console.log(`      ${label}: 4 x 2,500 calls answered; bystander ${served} calls, worst ${worst} ms`);
    };
    await burst('burst-1');
    await burst('burst-2');
    const byPhase = new Map(rss);
    const mib = (p: string): number => byPhase.get(p)! / 2 ** 20;
    // Bounded: no phase leaves the master far above where it started, and
    // the second burst does not grow it beyond the first (no leak per call).
    for (const [phase, bytes] of rss) expect(bytes / 2 ** 20, `rss after ${phase} (MiB)`).to.be.lessThan(mib('start') + 200);
    expect(mib('burst-2'), 'rss after the second burst (MiB)').to.be.lessThan(mib('burst-1') + 40);
  });
});
