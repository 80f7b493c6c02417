// Wire compatibility with the published Python SDK's client (crudjt-python
// 1.0.0): a different gRPC stack (grpcio, C-core) with stubs generated from
// proto/token_service.proto at test time, and payloads packed the way the
// SDK packs them (msgpack.packb, None limits sent as -1, answers read with
// msgpack.unpackb). Drives our master, started in-process.
//
// Needs python3 with grpcio, grpc_tools and msgpack (Debian:
// python3-grpcio python3-grpc-tools python3-msgpack). Skips, saying why,
// only when python3 or its grpc module is missing.
import { expect } from 'chai';
import { findPython, PyClient, untype, type ReadAnswer, type Typed } from './interop/python';
import { startOurMaster, type RunningMaster } from './interop/our_master';

const T = {
  int: (v: number): Typed => ({ int: v }),
  float: (v: number): Typed => ({ float: v }),
  str: (v: string): Typed => ({ str: v }),
  bytes: (hex: string): Typed => ({ bytes: hex }),
  nil: (): Typed => ({ nil: null }),
  bool: (v: boolean): Typed => ({ bool: v }),
  list: (...v: Typed[]): Typed => ({ list: v }),
  dict: (entries: Record<string, Typed>): Typed => ({
    dict: Object.entries(entries).map(([k, v]) => [{ str: k }, v] as [Typed, Typed]),
  }),
};

/** A typed dict as a key -> typed value map (order-free comparison). */
function entries(t: Typed | undefined): Record<string, Typed> {
  expect(t, 'a dict').to.be.an('object').that.has.property('dict');
  const out: Record<string, Typed> = {};
  for (const [k, v] of (t as { dict: Array<[Typed, Typed]> }).dict) {
    expect(k, 'dict keys unpack as Python str').to.have.property('str');
    out[(k as { str: string }).str] = v;
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe('interop: Python grpcio client (as crudjt-python 1.0.0 sends) -> our master', function () {
  this.timeout(60000);
  let master: RunningMaster | null = null;
  let py: PyClient | null = null;

  before(async function () {
    const probe = findPython();
    if ('skip' in probe) {
      console.log(`      skipped: ${probe.skip}`);
      this.skip();
      return;
    }
    master = await startOurMaster();
    py = new PyClient(probe.python, master.address);
    const versions = await py.ready;
    console.log(`      python client: ${JSON.stringify(versions)}`);
  });

  after(async () => {
    if (py) await py.close();
    if (master) await master.stop();
  });

  const client = (): PyClient => py as PyClient;

  async function read(token: string): Promise<ReadAnswer> {
    return (await client().ok({ op: 'read', token })) as ReadAnswer;
  }

  it('creates without limits; the read unpacks to {"data": ...} only, keys str and ints int', async () => {
    const token = await client().ok({ op: 'create', data: { user_id: 42, role: 11 }, ttl: null, silence_read: null });
    expect(token).to.be.a('string').that.matches(/^[A-Za-z0-9_-]{22}$/);
    const answer = await read(token);
    expect(answer.unpack_error).to.equal(undefined);
    const top = entries(answer.value);
    expect(Object.keys(top)).to.deep.equal(['data']);
    expect(entries(top.data)).to.deep.equal({ user_id: T.int(42), role: T.int(11) });
  });

  it('creates with ttl and silence_read; metadata holds both as ints and counts down', async () => {
    const token = await client().ok({ op: 'create', data: { user_id: 7 }, ttl: 60, silence_read: 3 });
    for (const left of [2, 1, 0]) {
      const top = entries((await read(token)).value);
      expect(Object.keys(top).sort()).to.deep.equal(['data', 'metadata']);
      const md = entries(top.metadata);
      expect(Object.keys(md).sort()).to.deep.equal(['silence_read', 'ttl']);
      expect(md.silence_read).to.deep.equal(T.int(left));
      expect(md.ttl).to.have.property('int').that.is.within(59, 60);
      expect(entries(top.data)).to.deep.equal({ user_id: T.int(7) });
    }
    const gone = await read(token);
    expect(gone.raw_hex, 'the fourth read: nil').to.equal('c0');
    expect(gone.value).to.deep.equal(T.nil());
  });

  it('reports only the limit that is set (ttl alone, silence_read alone)', async () => {
    const withTtl = await client().ok({ op: 'create', data: { a: 1 }, ttl: 5, silence_read: null });
    const md1 = entries(entries((await read(withTtl)).value).metadata);
    expect(md1).to.deep.equal({ ttl: T.int(5) });

    const withReads = await client().ok({ op: 'create', data: { a: 1 }, ttl: null, silence_read: 10 });
    const md2 = entries(entries((await read(withReads)).value).metadata);
    expect(md2).to.deep.equal({ silence_read: T.int(9) });
  });

  it('expires a ttl=1 token: nil after one second', async () => {
    const token = await client().ok({ op: 'create', data: { a: 1 }, ttl: 1 });
    expect(entries(entries((await read(token)).value).metadata)).to.deep.equal({ ttl: T.int(1) });
    await sleep(1100);
    expect((await read(token)).raw_hex).to.equal('c0');
    expect(await client().ok({ op: 'update', token, data: { a: 2 } })).to.equal(false);
    expect(await client().ok({ op: 'delete', token })).to.equal(false);
  });

  it('round-trips the MessagePack types Python sends (bin, float, nil, bool, list, nested map, str8)', async () => {
    const long = 'k'.repeat(40); // str8 (0xd9) when packed
    const sent = T.dict({
      bin: T.bytes('00ff10'),
      f: T.float(1.5),
      n: T.nil(),
      t: T.bool(true),
      l: T.list(T.int(1), T.str('x'), T.int(-3)),
      nested: T.dict({ deep: T.dict({ x: T.int(1) }) }),
      [long]: T.str('é✓ unicode'),
      u32: T.int(2 ** 32 - 1),
      i32: T.int(-(2 ** 31)),
    });
    const token = await client().ok({ op: 'create', data_typed: sent });
    const top = entries((await read(token)).value);
    expect(entries(top.data)).to.deep.equal(entries(sent));
  });

  it('keeps Python ints beyond 32 bits ints (int64 in, int64 out), not floats', async () => {
    // e.g. snowflake-style user ids: Python code indexes and formats them as
    // ints, so a float64 answer (1099511627776.0) is not the same value.
    const sent = T.dict({ big: T.int(2 ** 40), neg: T.int(-(2 ** 33)), max: T.int(Number.MAX_SAFE_INTEGER) });
    const token = await client().ok({ op: 'create', data_typed: sent });
    const top = entries((await read(token)).value);
    expect(entries(top.data)).to.deep.equal(entries(sent));
  });

  it('keeps a float with an integral value (2.0) a float, byte for byte', async () => {
    // Our master answers reads with the stored data bytes spliced in, so
    // Python's float64 2.0 is not turned into the int 2 by a re-encoding.
    const token = await client().ok({ op: 'create', data_typed: T.dict({ score: T.float(2.0) }) });
    const answer = await read(token);
    expect(entries(entries(answer.value).data)).to.deep.equal({ score: T.float(2.0) });
    expect(answer.raw_hex).to.contain('a573636f7265cb4000000000000000'); // "score": float64 2.0
  });

  it('updates data and limits; an update without limits drops the metadata', async () => {
    const token = await client().ok({ op: 'create', data: { role: 1 }, ttl: 100, silence_read: 50 });
    expect(await client().ok({ op: 'update', token, data: { role: 8 }, ttl: 30, silence_read: 4 })).to.equal(true);
    let top = entries((await read(token)).value);
    expect(entries(top.data)).to.deep.equal({ role: T.int(8) });
    expect(entries(top.metadata)).to.deep.equal({ ttl: T.int(30), silence_read: T.int(3) });

    expect(await client().ok({ op: 'update', token, data: { role: 9 }, ttl: null, silence_read: null })).to.equal(true);
    top = entries((await read(token)).value);
    expect(Object.keys(top)).to.deep.equal(['data']);
    expect(entries(top.data)).to.deep.equal({ role: T.int(9) });
  });

  it('deletes: true once, then false; the read after is nil', async () => {
    const token = await client().ok({ op: 'create', data: { a: 1 } });
    expect(await client().ok({ op: 'delete', token })).to.equal(true);
    expect(await client().ok({ op: 'delete', token })).to.equal(false);
    expect((await read(token)).raw_hex).to.equal('c0');
    expect(await client().ok({ op: 'update', token, data: { a: 2 } })).to.equal(false);
  });

  it('answers unknown tokens (ours, published-style, long, odd bytes) with nil / false, not an error', async () => {
    for (const token of ['AAAAAAAAAAAAAAAAAAAAAA', 'qx2GuTDWUdUdU+adr+h+Mw', 'x'.repeat(1000), 'not a token ✓', '\u0000']) {
      const answer = await read(token);
      expect(answer.raw_hex, token.slice(0, 30)).to.equal('c0');
      expect(await client().ok({ op: 'update', token, data: { a: 1 } })).to.equal(false);
      expect(await client().ok({ op: 'delete', token })).to.equal(false);
    }
  });

  it('treats limits of 0 (the proto3 default) as "none", as -1', async () => {
    const token = await client().ok({
      op: 'raw',
      method: 'CreateToken',
      fields: { packed_data_hex: '81a16101', ttl: 0, silence_read: 0 },
    });
    const top = entries((await read(token)).value);
    expect(Object.keys(top)).to.deep.equal(['data']);
  });

  it('refuses malformed or out-of-contract requests with INVALID_ARGUMENT and keeps serving', async () => {
    const bad: Array<[string, Record<string, unknown>]> = [
      ['reserved byte 0xc1', { packed_data_hex: 'c1' }],
      ['truncated map', { packed_data_hex: '82a161' }],
      ['not a map (array)', { packed_data_hex: '93010203' }],
      ['not a map (int)', { packed_data_hex: '2a' }],
      ['trailing bytes', { packed_data_hex: '81a16101ff' }],
      ['empty bytes', { packed_data_hex: '' }],
      ['empty map', { packed_data_hex: '80' }],
      ['map16 claiming 65535 entries', { packed_data_hex: 'deffff' }],
      ['str32 claiming 4 GiB', { packed_data_hex: '81a161dbffffffff' }],
      ['negative ttl', { packed_data_hex: '81a16101', ttl: -5 }],
      ['negative silence_read', { packed_data_hex: '81a16101', silence_read: -2 }],
      ['ttl beyond 2^53', { packed_data_hex: '81a16101', ttl: 2 ** 62 }],
    ];
    for (const [why, fields] of bad) {
      const a = await client().call({ op: 'raw', method: 'CreateToken', fields });
      expect(a.ok, why).to.equal(false);
      if (!a.ok) expect(a.code, `${why}: ${a.details}`).to.equal('INVALID_ARGUMENT');
    }
    // Over 256 bytes of MessagePack.
    const big = await client().call({ op: 'create', data: { s: 'x'.repeat(300) } });
    expect(big.ok).to.equal(false);
    if (!big.ok) {
      expect(big.code).to.equal('INVALID_ARGUMENT');
      expect(big.details).to.contain('256');
    }
    // An update carries the same checks.
    const token = await client().ok({ op: 'create', data: { a: 1 } });
    const upd = await client().call({ op: 'raw', method: 'UpdateToken', fields: { token, packed_data_hex: 'c1' } });
    expect(upd.ok).to.equal(false);
    // An empty token is an argument error, not a lookup.
    const empty = await client().call({ op: 'raw', method: 'ReadToken', fields: { token: '' } });
    expect(empty.ok).to.equal(false);
    if (!empty.ok) expect(empty.code).to.equal('INVALID_ARGUMENT');

    // Still serving, and the token survived the bad update.
    const top = entries((await read(token)).value);
    expect(entries(top.data)).to.deep.equal({ a: T.int(1) });
    const again = await client().ok({ op: 'create', data: { ok: true } });
    expect(entries(entries((await read(again)).value).data)).to.deep.equal({ ok: T.bool(true) });
  });

  it('serves 200 concurrent creates and then 200 concurrent reads from one C-core channel', async () => {
    const r = await client().ok({ op: 'burst', n: 200 });
    expect(r).to.deep.equal({ unique_tokens: 200, reads_matching: 200 });
  });

  it('names the error class in the crudjt-error trailing metadata (for our client; others ignore it)', async () => {
    const a = await client().call({ op: 'raw', method: 'CreateToken', fields: { packed_data_hex: 'c1' } });
    expect(a.ok).to.equal(false);
    if (!a.ok) {
      const trailing = Object.fromEntries(a.trailing ?? []);
      expect(trailing['crudjt-error']).to.equal('TypeError');
    }
  });
});
