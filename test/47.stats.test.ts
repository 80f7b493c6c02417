// CRUDJT.Config.stats() in both roles, the Stats RPC, and
// `crudjt-server stats`.
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { CRUDJT, freshStorePath, sleep, startTestMaster } from './00.setup';
import { expectReject } from './helpers/assert';
import { RoleChild } from './helpers/child';
import { tokenProto } from '../lib/grpc/proto';

const { InvalidState, InternalError } = CRUDJT.Errors;
const CLI = path.join(__dirname, '..', 'lib', 'cli', 'crudjt-server.ts');

const NUMBER_FIELDS = [
  'tokens', 'page_file_bytes', 'log_bytes', 'pages_total', 'pages_free', 'last_fsync_ms', 'last_checkpoint_ms',
  'last_sweep_ms', 'last_sweep_removed', 'cache_entries', 'cache_hits', 'cache_misses', 'cache_hit_rate', 'uptime_ms',
];
const RPCS = ['CreateToken', 'ReadToken', 'UpdateToken', 'DeleteToken', 'Batch', 'ExecuteBatch', 'Stats', 'TouchToken', 'RevokeSubject', 'ListSubject', 'RevokeHandle', 'PutToken'];

function expectShape(st: CRUDJT.Stats): void {
  expect(Object.keys(st).sort()).to.deep.equal([...NUMBER_FIELDS, 'cache_enabled', 'requests', 'operations'].sort());
  for (const f of NUMBER_FIELDS) {
    const v = (st as unknown as Record<string, number>)[f];
    expect(v, f).to.be.a('number');
    expect(v >= 0, f).to.equal(true);
  }
  expect(st.cache_enabled).to.be.a('boolean');
  expect(st.cache_hit_rate).to.be.within(0, 1);
  expect(Object.keys(st.requests).sort()).to.deep.equal([...RPCS].sort());
  expect(Object.keys(st.operations).sort()).to.deep.equal(['create', 'delete', 'read', 'update']);
}

function cli(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', CLI, ...args], { encoding: 'utf8', timeout: 20000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('CRUDJT.Config.stats()', () => {
  afterEach(async () => {
    await CRUDJT.Config.shutdownServer();
  });

  it('rejects with InvalidState before start/connect', async () => {
    await expectReject(CRUDJT.Config.stats(), InvalidState, 'CRUDJT has not started');
  });

  it('master: counts tokens, operations and read-cache hits', async () => {
    await startTestMaster();
    const st0 = await CRUDJT.Config.stats();
    expectShape(st0);
    expect(st0.tokens).to.equal(0);
    expect(st0.cache_enabled).to.equal(true);
    expect(st0.cache_hit_rate).to.equal(0);
    expect(st0.page_file_bytes).to.be.above(0);

    const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => CRUDJT.create({ i })));
    const limited = await CRUDJT.create({ limited: true }, null, 3);
    for (const t of tokens) {
      await CRUDJT.read(t); // miss, fills the cache
      await CRUDJT.read(t); // hit
    }
    await CRUDJT.read(limited); // never cached
    await CRUDJT.update(tokens[0], { i: 'u' });
    await CRUDJT.delete(tokens[1]);

    const st = await CRUDJT.Config.stats();
    expectShape(st);
    expect(st.tokens).to.equal(10);
    expect(st.operations).to.deep.equal({ create: 11, read: 21, update: 1, delete: 1 });
    expect(st.cache_hits).to.equal(10);
    expect(st.cache_misses).to.equal(11);
    expect(st.cache_hit_rate).to.be.closeTo(10 / 21, 1e-9);
    expect(st.cache_entries).to.equal(8); // 10 filled, 2 evicted by update/delete
    expect(st.log_bytes).to.be.above(st0.log_bytes);
    expect(st.uptime_ms).to.be.above(st0.uptime_ms - 1);
    // In-process calls are not RPCs.
    for (const rpc of RPCS) expect(st.requests[rpc], rpc).to.equal(0);
  });

  it('master: reports the time of the last fsync once the flush thread ran', async function () {
    this.timeout(10000);
    await startTestMaster();
    await CRUDJT.create({ a: 1 });
    const before = Date.now();
    let st = await CRUDJT.Config.stats();
    for (let i = 0; i < 40 && st.last_fsync_ms === 0; i++) {
      await sleep(100);
      st = await CRUDJT.Config.stats();
    }
    expect(st.last_fsync_ms).to.be.above(before - 5000);
    expect(st.last_fsync_ms).to.be.at.most(Date.now());
    // The store opened with a checkpoint and a first sweep after start.
    expect(st.last_checkpoint_ms === 0 || st.last_checkpoint_ms <= Date.now()).to.equal(true);
    expect(st.last_sweep_removed).to.equal(0);
  });

  it('master: shows the cache as disabled with cache: false', async () => {
    await startTestMaster({ cache: false });
    const t = await CRUDJT.create({ a: 1 });
    await CRUDJT.read(t);
    await CRUDJT.read(t);
    const st = await CRUDJT.Config.stats();
    expect(st).to.include({ cache_enabled: false, cache_entries: 0, cache_hits: 0, cache_misses: 0, cache_hit_rate: 0 });
  });

  describe('client role (master in another process)', () => {
    let master: RoleChild;

    before(async () => {
      master = await RoleChild.master({ store_jt_path: freshStorePath() });
    });
    after(async () => {
      await master.stop();
    });

    it('answers the master’s figures, with the requests it served per RPC', async () => {
      CRUDJT.Config.connectToMaster({ grpc_port: master.port, batch: false });
      const st0 = await CRUDJT.Config.stats();
      expectShape(st0);
      const t = await CRUDJT.create({ a: 1 });
      await CRUDJT.read(t);
      await CRUDJT.update(t, { a: 2 });
      await CRUDJT.delete(t);
      const st1 = await CRUDJT.Config.stats();
      expect(st1.requests.CreateToken - st0.requests.CreateToken).to.equal(1);
      expect(st1.requests.ReadToken - st0.requests.ReadToken).to.equal(1);
      expect(st1.requests.UpdateToken - st0.requests.UpdateToken).to.equal(1);
      expect(st1.requests.DeleteToken - st0.requests.DeleteToken).to.equal(1);
      expect(st1.requests.Stats - st0.requests.Stats).to.equal(1);
      expect(st1.operations.create - st0.operations.create).to.equal(1);

      CRUDJT.Config.connectToMaster({ grpc_port: master.port });
      const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => CRUDJT.create({ i })));
      const st2 = await CRUDJT.Config.stats();
      expect(st2.requests.Batch - st1.requests.Batch).to.be.within(1, 5);
      expect(st2.requests.CreateToken).to.equal(st1.requests.CreateToken);
      expect(st2.operations.create - st1.operations.create).to.equal(50);
      expect(st2.tokens).to.equal(st1.tokens + 50);
      expect(tokens.length).to.equal(50);
    });

    it('fails with Unavailable naming host:port when the master is down', async () => {
      CRUDJT.Config.connectToMaster({ grpc_port: 1, deadline_ms: 1000 });
      await expectReject(CRUDJT.Config.stats(), CRUDJT.Errors.Unavailable, /127\.0\.0\.1:1/);
    });

    it('is InternalError, not a crash, when the reply is not from a crudjt master', async () => {
      CRUDJT.Config.connectToMaster({ grpc_port: master.port });
      // Sanity: the normal answer works.
      expectShape(await CRUDJT.Config.stats());
      // A server with no TokenService at all answers UNIMPLEMENTED.
      const server = new grpc.Server();
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
      try {
        CRUDJT.Config.connectToMaster({ grpc_port: port });
        await expectReject(CRUDJT.Config.stats(), InternalError, /does not implement Stats/);
      } finally {
        server.forceShutdown();
      }
    });
  });

  describe('the Stats RPC over raw gRPC', () => {
    it('answers every field, int64 counters as numbers', async () => {
      const info = await startTestMaster();
      const TokenService = tokenProto().TokenService;
      const client = new TokenService(`127.0.0.1:${info.grpc_port}`, grpc.credentials.createInsecure());
      try {
        await CRUDJT.create({ a: 1 });
        const res = await new Promise<any>((resolve, reject) =>
          client.Stats({}, { deadline: Date.now() + 5000 }, (e, r) => (e ? reject(e) : resolve(r))));
        expect(res.tokens).to.equal(1);
        expect(res.operations.create).to.equal(1);
        expect(res.requests.Stats).to.equal(1);
        expect(res.cache_enabled).to.equal(true);
      } finally {
        client.close();
      }
    });
  });
});

describe('crudjt-server stats', function () {
  this.timeout(60000);
  let master: RoleChild;

  before(async () => {
    master = await RoleChild.master({ store_jt_path: freshStorePath() });
    await master.call('create', { a: 1 });
  });
  after(async () => {
    await master.stop();
  });

  it('prints the master’s figures', () => {
    const r = cli(['stats', '--port', String(master.port)]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(new RegExp(`^master\\s+127\\.0\\.0\\.1:${master.port} \\(up `, 'm'));
    expect(r.out).to.match(/^tokens\s+1$/m);
    expect(r.out).to.match(/^read cache\s+\d+ entries, hit rate/m);
    expect(r.out).to.match(/^requests\s+CreateToken 0, ReadToken 0, .*Stats 1/m);
    expect(r.out).to.match(/^operations\s+create 1, read 0, update 0, delete 0$/m);
  });

  it('prints JSON with --json', () => {
    const r = cli(['stats', `--port=${master.port}`, '--host', '127.0.0.1', '--json']);
    expect(r.code, r.err).to.equal(0);
    const st = JSON.parse(r.out);
    expectShape(st);
    expect(st.tokens).to.equal(1);
  });

  it('exits 1 naming the address when no master answers, 2 on bad usage', () => {
    const down = cli(['stats', '--port', '1']);
    expect(down.code).to.equal(1);
    expect(down.err).to.match(/stats from 127\.0\.0\.1:1: .*unavailable|did not answer/);
    const bad = cli(['stats', '--bogus']);
    expect(bad.code).to.equal(2);
    expect(bad.err).to.match(/unknown argument '--bogus'/);
    expect(cli(['stats', '--port', 'x']).code).to.equal(2);
  });
});
