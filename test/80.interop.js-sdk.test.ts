// Wire compatibility with the published JavaScript SDK (crudjt@1.0.1), in
// both directions (see test/interop/published_js.ts for what "the way it
// works" means, and doc/interop.md for the sources):
//  1. a client that talks like crudjt@1.0.1's client (proto-loader with
//     longs: String, msgpack-lite, -1 for "no limit") drives our master;
//  2. our client (CRUDJT.Config.connectToMaster) drives a master that
//     answers like crudjt@1.0.1's master (longs: Number, msgpack-lite,
//     limits of 0 rejected), including hand-made encodings of the read
//     result that any MessagePack library may produce.
import { expect } from 'chai';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { CRUDJT, startOurMaster, type RunningMaster } from './interop/our_master';
import { msgpackLite, PublishedStyleClient, PublishedStyleMaster, type GrpcFailure } from './interop/published_js';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function failure(p: Promise<unknown>): Promise<GrpcFailure> {
  try {
    await p;
  } catch (e) {
    return e as GrpcFailure;
  }
  throw new Error('expected the call to fail');
}

describe('interop: crudjt@1.0.1-style JS client -> our master', function () {
  this.timeout(30000);
  let master: RunningMaster;
  let client: PublishedStyleClient;

  before(async () => {
    master = await startOurMaster();
    client = new PublishedStyleClient(master.address);
  });

  after(async () => {
    client?.close();
    if (master) await master.stop();
  });

  it('creates without limits and reads {data} back through msgpack-lite', async () => {
    const token = await client.create({ user_id: 42, role: 11 });
    expect(token).to.be.a('string').that.matches(/^[A-Za-z0-9_-]{22}$/);
    expect(await client.read(token)).to.deep.equal({ data: { user_id: 42, role: 11 } });
  });

  it('reports the limits that are set: {ttl}, {silence_read}, both', async () => {
    const t1 = await client.create({ a: 1 }, 3600);
    expect(await client.read(t1)).to.deep.equal({ metadata: { ttl: 3600 }, data: { a: 1 } });
    const t2 = await client.create({ a: 1 }, null, 10);
    expect(await client.read(t2)).to.deep.equal({ metadata: { silence_read: 9 }, data: { a: 1 } });
    const t3 = await client.create({ a: 1 }, 3600, 10);
    expect(await client.read(t3)).to.deep.equal({ metadata: { ttl: 3600, silence_read: 9 }, data: { a: 1 } });
  });

  it('counts silence_read down 5..0, then the read decodes to null', async () => {
    const token = await client.create({ user_id: 42 }, null, 6);
    for (const left of [5, 4, 3, 2, 1, 0]) {
      expect(await client.read(token)).to.deep.equal({ metadata: { silence_read: left }, data: { user_id: 42 } });
    }
    expect(await client.read(token)).to.equal(null);
  });

  it('counts ttl down in whole seconds and expires the token', async () => {
    const token = await client.create({ user_id: 42 }, 2);
    expect(await client.read(token)).to.deep.equal({ metadata: { ttl: 2 }, data: { user_id: 42 } });
    await sleep(1100);
    expect(await client.read(token)).to.deep.equal({ metadata: { ttl: 1 }, data: { user_id: 42 } });
    await sleep(1000);
    expect(await client.read(token)).to.equal(null);
    expect(await client.update(token, { user_id: 1 })).to.equal(false);
    expect(await client.delete(token)).to.equal(false);
  });

  it('updates data and limits; an update without limits makes the token plain', async () => {
    const token = await client.create({ role: 11 }, 100, 50);
    expect(await client.update(token, { role: 8 }, 30, 4)).to.equal(true);
    expect(await client.read(token)).to.deep.equal({ metadata: { ttl: 30, silence_read: 3 }, data: { role: 8 } });
    expect(await client.update(token, { role: 9 })).to.equal(true);
    expect(await client.read(token)).to.deep.equal({ data: { role: 9 } });
  });

  it('deletes once; unknown tokens read null and update/delete false', async () => {
    const token = await client.create({ a: 1 });
    expect(await client.delete(token)).to.equal(true);
    expect(await client.delete(token)).to.equal(false);
    expect(await client.read(token)).to.equal(null);
    for (const unknown of ['AAAAAAAAAAAAAAAAAAAAAA', 'qx2GuTDWUdUdU+adr+h+Mw', 'x'.repeat(500)]) {
      expect(await client.read(unknown)).to.equal(null);
      expect(await client.update(unknown, { a: 1 })).to.equal(false);
      expect(await client.delete(unknown)).to.equal(false);
    }
  });

  it('answers not-found with MessagePack nil (0xc0), never empty bytes', async () => {
    const res = await client.call('ReadToken', { token: 'AAAAAAAAAAAAAAAAAAAAAA' });
    expect(Buffer.from(res.packed_data).toString('hex')).to.equal('c0');
  });

  it('accepts msgpack-lite encodings: ints beyond 32 bits as float64, str8 keys, bin, floats, nesting', async () => {
    const long = 'k'.repeat(40);
    const data = {
      big: 2 ** 40, // msgpack-lite: float64 (0xcb)
      neg: -(2 ** 33),
      f: 1.25,
      [long]: 'value',
      bin: Buffer.from([0, 255, 16]),
      nested: { list: [1, 'two', null, true] },
    };
    const packed = msgpackLite.encode(data);
    expect(packed.includes(0xcb), 'msgpack-lite wrote a float64').to.equal(true);
    expect(packed.includes(0xd9), 'msgpack-lite wrote a str8').to.equal(true);
    const token = await client.create(data);
    const back = await client.read(token);
    expect(back.data.big).to.equal(2 ** 40);
    expect(back.data.neg).to.equal(-(2 ** 33));
    expect(back.data.f).to.equal(1.25);
    expect(back.data[long]).to.equal('value');
    expect(Buffer.isBuffer(back.data.bin)).to.equal(true);
    expect(back.data.bin.toString('hex')).to.equal('00ff10');
    expect(back.data.nested).to.deep.equal({ list: [1, 'two', null, true] });
  });

  it('rejects bad requests with a gRPC status, as errors, and keeps serving', async () => {
    const tooBig = await failure(client.create({ s: 'x'.repeat(300) }));
    expect(tooBig.code).to.equal(GrpcStatus.INVALID_ARGUMENT);
    const garbage = await failure(client.call('CreateToken', { packed_data: Buffer.from([0xc1]), ttl: -1, silence_read: -1 }));
    expect(garbage.code).to.equal(GrpcStatus.INVALID_ARGUMENT);
    const notMap = await failure(client.call('CreateToken', { packed_data: msgpackLite.encode([1, 2]), ttl: -1, silence_read: -1 }));
    expect(notMap.code).to.equal(GrpcStatus.INVALID_ARGUMENT);
    const negative = await failure(client.create({ a: 1 }, -5));
    expect(negative.code).to.equal(GrpcStatus.INVALID_ARGUMENT);
    const emptyToken = await failure(client.read(''));
    expect(emptyToken.code).to.equal(GrpcStatus.INVALID_ARGUMENT);
    const token = await client.create({ still: 'serving' });
    expect(await client.read(token)).to.deep.equal({ data: { still: 'serving' } });
  });

  it('sees writes made through the master\'s own API at once, and vice versa', async () => {
    const mine = await CRUDJT.create({ from: 'master' }, null, 3);
    expect(await client.read(mine)).to.deep.equal({ metadata: { silence_read: 2 }, data: { from: 'master' } });
    expect(await CRUDJT.read(mine)).to.deep.equal({ metadata: { silence_read: 1 }, data: { from: 'master' } });
    const theirs = await client.create({ from: 'client' });
    expect(await CRUDJT.read(theirs)).to.deep.equal({ data: { from: 'client' } });
    expect(await client.delete(theirs)).to.equal(true);
    expect(await CRUDJT.read(theirs)).to.equal(null);
  });
});

describe('interop: our client -> crudjt@1.0.1-style JS master', function () {
  this.timeout(30000);
  let theirs: PublishedStyleMaster;

  before(async () => {
    theirs = new PublishedStyleMaster();
    const address = await theirs.start();
    CRUDJT.Config.connectToMaster({ grpc_host: '127.0.0.1', grpc_port: theirs.port, deadline_ms: 5000 });
    expect(address).to.equal(`127.0.0.1:${theirs.port}`);
  });

  afterEach(() => {
    theirs.readAnswerOverride = null;
  });

  after(async () => {
    await CRUDJT.Config.shutdownServer(); // client role: closes the channel
    if (theirs) await theirs.stop();
  });

  it('sends -1 for "no limit" (the published master rejects 0) and returns its token as-is', async () => {
    theirs.seen.length = 0;
    const token = await CRUDJT.create({ user_id: 42, role: 11 });
    const req = theirs.seen.find((s) => s.method === 'CreateToken')!.request;
    expect(req.ttl).to.equal(-1);
    expect(req.silence_read).to.equal(-1);
    expect(msgpackLite.decode(req.packed_data)).to.deep.equal({ user_id: 42, role: 11 });
    expect(token).to.be.a('string').with.length(22); // standard base64: may hold + and /
    expect(await CRUDJT.read(token)).to.deep.equal({ data: { user_id: 42, role: 11 } });
  });

  it('sends limits as int64 and reads the metadata the published master answers', async () => {
    theirs.seen.length = 0;
    const token = await CRUDJT.create({ a: 1 }, 3600, 3);
    const req = theirs.seen.find((s) => s.method === 'CreateToken')!.request;
    expect([req.ttl, req.silence_read]).to.deep.equal([3600, 3]);
    expect(await CRUDJT.read(token)).to.deep.equal({ metadata: { ttl: 3600, silence_read: 2 }, data: { a: 1 } });
  });

  it('reads ints beyond 32 bits that msgpack-lite answers as float64', async () => {
    const token = await CRUDJT.create({ big: 2 ** 40, neg: -(2 ** 33), f: 0.5 });
    expect(await CRUDJT.read(token)).to.deep.equal({ data: { big: 2 ** 40, neg: -(2 ** 33), f: 0.5 } });
  });

  it('maps nil to null and keeps update/delete booleans', async () => {
    expect(await CRUDJT.read('qx2GuTDWUdUdU+adr+h+Mw')).to.equal(null);
    const token = await CRUDJT.create({ a: 1 });
    expect(await CRUDJT.update(token, { a: 2 })).to.equal(true);
    expect(await CRUDJT.read(token)).to.deep.equal({ data: { a: 2 } });
    expect(await CRUDJT.delete(token)).to.equal(true);
    expect(await CRUDJT.delete(token)).to.equal(false);
    expect(await CRUDJT.update(token, { a: 3 })).to.equal(false);
    expect(await CRUDJT.read(token)).to.equal(null);
  });

  // Read answers as other MessagePack writers produce them.
  const encodings: Array<[string, string, unknown]> = [
    ['fixmap, data then metadata (the published store orders keys)',
      '82a46461746181a16101a86d6574616461746182ac73696c656e63655f7265616405a374746ccd0125',
      { data: { a: 1 }, metadata: { silence_read: 5, ttl: 293 } }],
    ['limits as float64 (msgpack-lite for non-32-bit numbers)',
      '82a86d6574616461746182a374746ccb4014000000000000ac73696c656e63655f72656164cb4000000000000000a46461746181a16101',
      { metadata: { ttl: 5, silence_read: 2 }, data: { a: 1 } }],
    ['limits as uint64 / int64 (0xcf / 0xd3)',
      '82a86d6574616461746182a374746ccf0000000000000005ac73696c656e63655f72656164d30000000000000002a46461746181a16101',
      { metadata: { ttl: 5, silence_read: 2 }, data: { a: 1 } }],
    ['keys as str8 / str16, maps as map16',
      'de0002d9046461746181da0001610a' + 'd9086d65746164617461de0001d903' + Buffer.from('ttl').toString('hex') + '07',
      { data: { a: 10 }, metadata: { ttl: 7 } }],
    ['nil', 'c0', null],
  ];
  for (const [what, hex, expected] of encodings) {
    it(`accepts a read answer with ${what}`, async () => {
      theirs.readAnswerOverride = Buffer.from(hex, 'hex');
      const got = await CRUDJT.read('AAAAAAAAAAAAAAAAAAAAAA');
      expect(got).to.deep.equal(expected);
      if (got && (got as any).metadata) {
        for (const v of Object.values((got as any).metadata)) expect(v).to.be.a('number');
      }
    });
  }

  it('turns a malformed or empty read answer into InternalError (no crash, no hang)', async () => {
    for (const hex of ['', 'c1', '93010203', '81a46461746101', '82a4646174']) {
      theirs.readAnswerOverride = Buffer.from(hex, 'hex');
      let err: unknown = null;
      try {
        await CRUDJT.read('AAAAAAAAAAAAAAAAAAAAAA');
      } catch (e) {
        err = e;
      }
      expect(err, `answer ${hex || '(empty)'}`).to.be.instanceOf(CRUDJT.Errors.InternalError);
    }
  });

  it('turns the published master\'s UNKNOWN "Unknown error" status into InternalError', async () => {
    // The published master throws in its handler when the store fails;
    // grpc-js answers UNKNOWN with the details hidden.
    theirs.failReads = true;
    try {
      let err: unknown = null;
      try {
        await CRUDJT.read('AAAAAAAAAAAAAAAAAAAAAA');
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(CRUDJT.Errors.InternalError);
    } finally {
      theirs.failReads = false;
    }
  });
});
