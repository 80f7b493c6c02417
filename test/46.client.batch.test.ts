// The client role coalesces concurrent calls into the master's Batch stream
// (lib/grpc/client.ts): per-token order is kept, every call gets its own
// result or its own typed error, deadlines still apply, and against a
// master without the Batch RPC it falls back to the four unary RPCs.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { CRUDJT, freshStorePath, sleep, startTestMaster } from './00.setup';
import { expectReject } from './helpers/assert';
import { RoleChild } from './helpers/child';
import {
  decodeBatchRequest,
  decodeBatchResponse,
  encodeBatchRequest,
  encodeBatchResponse,
} from '../lib/grpc/batch_codec';
import { GrpcClientBackend, STREAM_IDLE_MS } from '../lib/grpc/client';
import { pack, unpack } from '../lib/msgpack';

const { InternalError, Unavailable } = CRUDJT.Errors;
const PROTO = path.join(__dirname, '..', 'proto', 'token_service.proto');

function loadProto(): any {
  const def = protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
  return (grpc.loadPackageDefinition(def) as any).token;
}

async function serve(server: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
  });
}

/**
 * A master that knows only the four unary RPCs (as a published SDK's or an
 * older one of ours): grpc-js answers UNIMPLEMENTED for Batch and Stats.
 */
class UnaryOnlyMaster {
  readonly server = new grpc.Server();
  readonly calls: Record<string, number> = { CreateToken: 0, ReadToken: 0, UpdateToken: 0, DeleteToken: 0 };
  readonly order: string[] = [];
  private readonly tokens = new Map<string, Buffer>();
  private next = 0;
  port = 0;

  async start(): Promise<this> {
    const token = loadProto();
    // A service definition with only the four unary methods, as in the
    // published SDKs' proto.
    const full = token.TokenService.service;
    const unaryOnly: grpc.ServiceDefinition = {
      CreateToken: full.CreateToken,
      ReadToken: full.ReadToken,
      UpdateToken: full.UpdateToken,
      DeleteToken: full.DeleteToken,
    };
    this.server.addService(unaryOnly, {
      CreateToken: (call: any, cb: any) => {
        this.calls.CreateToken++;
        const t = `tok${this.next++}`.padEnd(22, 'x');
        this.tokens.set(t, call.request.packed_data);
        this.order.push(`C ${t}`);
        cb(null, { token: t });
      },
      ReadToken: (call: any, cb: any) => {
        this.calls.ReadToken++;
        this.order.push(`R ${call.request.token}`);
        const d = this.tokens.get(call.request.token);
        cb(null, { packed_data: d === undefined ? pack(null) : pack({ data: unpack(d) }) });
      },
      UpdateToken: (call: any, cb: any) => {
        this.calls.UpdateToken++;
        this.order.push(`U ${call.request.token}`);
        const live = this.tokens.has(call.request.token);
        if (live) this.tokens.set(call.request.token, call.request.packed_data);
        cb(null, { result: live });
      },
      DeleteToken: (call: any, cb: any) => {
        this.calls.DeleteToken++;
        this.order.push(`D ${call.request.token}`);
        cb(null, { result: this.tokens.delete(call.request.token) });
      },
    });
    this.port = await serve(this.server);
    return this;
  }

  stop(): void {
    this.server.forceShutdown();
  }
}

describe('client batching (Batch stream)', () => {
  describe('against our master in another process', () => {
    let master: RoleChild;

    before(async () => {
      master = await RoleChild.master({ store_jt_path: freshStorePath() });
    });
    beforeEach(() => {
      CRUDJT.Config.connectToMaster({ grpc_port: master.port });
    });
    afterEach(async () => {
      await CRUDJT.Config.shutdownServer();
    });
    after(async () => {
      await master.stop();
    });

    it('sends 500 concurrent calls in a few Batch messages, not 500 unary calls', async () => {
      const token = await CRUDJT.create({ user_id: 1 });
      const before = await CRUDJT.Config.stats();
      const results = await Promise.all(Array.from({ length: 500 }, () => CRUDJT.read(token)));
      for (const r of results) expect(r).to.deep.equal({ data: { user_id: 1 } });
      const after = await CRUDJT.Config.stats();
      expect(after.requests.ReadToken).to.equal(before.requests.ReadToken);
      const messages = after.requests.Batch - before.requests.Batch;
      expect(messages).to.be.at.least(2); // at most 256 ops per message
      expect(messages).to.be.at.most(10);
      expect(after.operations.read - before.operations.read).to.equal(500);
    });

    it('keeps the order of calls on one token (issued without awaiting)', async () => {
      const tokens = await Promise.all(Array.from({ length: 40 }, (_, i) => CRUDJT.create({ i })));
      const runs = tokens.map((t, i) => [
        CRUDJT.update(t, { i, v: 1 }),
        CRUDJT.read(t),
        CRUDJT.update(t, { i, v: 2 }, 60),
        CRUDJT.read(t),
        CRUDJT.delete(t),
        CRUDJT.read(t),
        CRUDJT.update(t, { i, v: 3 }),
        CRUDJT.delete(t),
      ]);
      const answers = await Promise.all(runs.map((r) => Promise.all(r)));
      answers.forEach((a, i) => {
        expect(a).to.deep.equal([true, { data: { i, v: 1 } }, true, { metadata: { ttl: 60 }, data: { i, v: 2 } }, true, null, false, false]);
      });
    });

    it('counts silence_read down in call order for reads sent in one batch', async () => {
      const token = await CRUDJT.create({ once: true }, null, 5);
      const reads = await Promise.all(Array.from({ length: 7 }, () => CRUDJT.read(token)));
      expect(reads.map((r) => (r === null ? null : r.metadata!.silence_read))).to.deep.equal([4, 3, 2, 1, 0, null, null]);
    });

    it('gives each call its own error: bad arguments fail alone, their neighbours succeed', async () => {
      const token = await CRUDJT.create({ a: 1 });
      const calls: Array<Promise<unknown>> = [
        CRUDJT.read(token),
        CRUDJT.create({}),
        CRUDJT.create({ b: 2 }, 0 as never),
        CRUDJT.update(token, { a: 2 }),
        CRUDJT.read(''),
        CRUDJT.read(token),
        CRUDJT.create({ big: 'x'.repeat(300) }),
        CRUDJT.delete('AAAAAAAAAAAAAAAAAAAAAA'),
      ];
      const settled = await Promise.allSettled(calls);
      const kinds = settled.map((s) => (s.status === 'fulfilled' ? 'ok' : (s.reason as Error).constructor.name));
      expect(kinds).to.deep.equal(['ok', 'TypeError', 'RangeError', 'ok', 'TypeError', 'ok', 'RangeError', 'ok']);
      expect((settled[0] as PromiseFulfilledResult<unknown>).value).to.deep.equal({ data: { a: 1 } });
      expect((settled[5] as PromiseFulfilledResult<unknown>).value).to.deep.equal({ data: { a: 2 } });
      expect((settled[7] as PromiseFulfilledResult<unknown>).value).to.equal(false);
    });

    it('passes the master’s per-op errors back as the same class, one batch message for all', async () => {
      // The backend takes packed bytes as they are: the master validates them.
      const backend = new GrpcClientBackend('127.0.0.1', master.port, 5000);
      try {
        await backend.read('AAAAAAAAAAAAAAAAAAAAAA'); // opens the stream
        const before = (await backend.stats()).requests.Batch;
        const settled = await Promise.allSettled([
          backend.create(pack({ ok: 1 }), null, null),
          backend.create(Buffer.from([0xc1]), null, null), // reserved byte: not MessagePack
          backend.create(pack([1, 2]), null, null), // not a map
          backend.create(pack({ ok: 2 }), 5, 3),
          backend.update('AAAAAAAAAAAAAAAAAAAAAA', Buffer.alloc(300, 0x90), null, null), // over 256 bytes
          backend.read('AAAAAAAAAAAAAAAAAAAAAA'),
        ]);
        expect((await backend.stats()).requests.Batch - before).to.equal(1);
        const [a, bad1, bad2, b, bad3, r] = settled;
        expect(a.status).to.equal('fulfilled');
        expect(b.status).to.equal('fulfilled');
        expect((r as PromiseFulfilledResult<unknown>).value).to.equal(null);
        expect((bad1 as PromiseRejectedResult).reason).to.be.instanceOf(TypeError);
        expect((bad2 as PromiseRejectedResult).reason).to.be.instanceOf(TypeError);
        expect((bad2 as PromiseRejectedResult).reason.message).to.equal('Must be a Hash (Object)');
        expect((bad3 as PromiseRejectedResult).reason).to.be.instanceOf(RangeError);
        const tb = (b as PromiseFulfilledResult<string>).value;
        expect(await backend.read(tb)).to.deep.equal({ metadata: { ttl: 5, silence_read: 2 }, data: { ok: 2 } });
      } finally {
        await backend.close();
      }
    });

    it('sends one unary call per operation with batch: false', async () => {
      CRUDJT.Config.connectToMaster({ grpc_port: master.port, batch: false });
      const token = await CRUDJT.create({ a: 1 });
      const before = await CRUDJT.Config.stats();
      await Promise.all(Array.from({ length: 20 }, () => CRUDJT.read(token)));
      const after = await CRUDJT.Config.stats();
      expect(after.requests.ReadToken - before.requests.ReadToken).to.equal(20);
      expect(after.requests.Batch).to.equal(before.requests.Batch);
    });

    it('sends a token too big for a batch as a unary call (it reads as null)', async () => {
      const before = await CRUDJT.Config.stats();
      expect(await CRUDJT.read('a'.repeat(10 * 1024))).to.equal(null);
      expect(await CRUDJT.delete('a'.repeat(10 * 1024))).to.equal(false);
      const after = await CRUDJT.Config.stats();
      expect(after.requests.ReadToken - before.requests.ReadToken).to.equal(1);
      expect(after.requests.DeleteToken - before.requests.DeleteToken).to.equal(1);
    });

    it('spreads 2000 concurrent creates over messages of at most 256 ops and under 64 KiB', async () => {
      const before = await CRUDJT.Config.stats();
      const data = { a: 'x'.repeat(250) }; // 256 bytes packed
      const tokens = await Promise.all(Array.from({ length: 2000 }, () => CRUDJT.create(data)));
      expect(new Set(tokens).size).to.equal(2000);
      const after = await CRUDJT.Config.stats();
      expect(after.requests.Batch - before.requests.Batch).to.be.at.least(Math.ceil(2000 / 256));
      const reads = await Promise.all(tokens.map((t) => CRUDJT.read(t)));
      for (const r of reads) expect(r).to.deep.equal({ data });
    });

    it('closes an idle stream, so that a client process exits by itself', async function () {
      this.timeout(20000);
      const script = `
        const CRUDJT = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'index.ts'))});
        CRUDJT.Config.connectToMaster({ grpc_port: ${master.port} });
        (async () => {
          const t = await CRUDJT.create({ a: 1 });
          const r = await Promise.all([CRUDJT.read(t), CRUDJT.read(t)]);
          process.stdout.write(JSON.stringify(r));
          globalThis.doneAt = Date.now();
          process.on('exit', () => process.stderr.write(String(Date.now() - globalThis.doneAt)));
        })();`;
      const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code).to.equal(0);
      expect(JSON.parse(out)).to.deep.equal([{ data: { a: 1 } }, { data: { a: 1 } }]);
      // Exits once the idle stream is closed: STREAM_IDLE_MS plus scheduling.
      expect(Number(err.trim().split('\n').pop())).to.be.below(STREAM_IDLE_MS + 2000);
    });

    it('works again after the master restarts (a new stream)', async function () {
      this.timeout(30000);
      const store = freshStorePath();
      const m2 = await RoleChild.master({ store_jt_path: store });
      try {
        CRUDJT.Config.connectToMaster({ grpc_port: m2.port, deadline_ms: 2000 });
        const t = await CRUDJT.create({ a: 1 });
        await m2.stop();
        await expectReject(CRUDJT.read(t), Unavailable, new RegExp(`127\\.0\\.0\\.1:${m2.port}`));
        const m3 = await RoleChild.master({ store_jt_path: store, grpc_port: m2.port });
        try {
          let r: unknown = undefined;
          for (let i = 0; i < 50 && r === undefined; i++) {
            r = await CRUDJT.read(t).catch(() => undefined);
            if (r === undefined) await sleep(100);
          }
          expect(r).to.deep.equal({ data: { a: 1 } });
        } finally {
          await m3.stop();
        }
      } finally {
        await m2.stop().catch(() => undefined);
      }
    });
  });

  describe("against a master with durability 'sync' (async engine calls)", () => {
    let master: RoleChild;

    before(async () => {
      master = await RoleChild.master({ store_jt_path: freshStorePath(), durability: 'sync' });
      CRUDJT.Config.connectToMaster({ grpc_port: master.port });
    });
    after(async () => {
      await CRUDJT.Config.shutdownServer();
      await master.stop();
    });

    it('still keeps the order of calls on one token, across batch messages', async () => {
      const tokens = await Promise.all(Array.from({ length: 30 }, (_, i) => CRUDJT.create({ i }, null, 100)));
      const runs = tokens.map((t, i) => [
        CRUDJT.read(t),
        CRUDJT.update(t, { i, v: 1 }),
        CRUDJT.read(t),
        CRUDJT.delete(t),
        CRUDJT.read(t),
      ]);
      // A second wave on the same tokens, issued on a later turn (another message).
      await new Promise((r) => setImmediate(r));
      const late = tokens.map((t) => CRUDJT.update(t, { again: true }));
      const answers = await Promise.all(runs.map((r) => Promise.all(r)));
      answers.forEach((a, i) => {
        expect(a).to.deep.equal([{ metadata: { silence_read: 99 }, data: { i } }, true, { data: { i, v: 1 } }, true, null]);
      });
      expect(await Promise.all(late)).to.deep.equal(tokens.map(() => false));
    });
  });

  describe('against a master without the Batch RPC', () => {
    let old: UnaryOnlyMaster;

    before(async () => {
      old = await new UnaryOnlyMaster().start();
    });
    after(() => {
      old.stop();
    });
    afterEach(async () => {
      await CRUDJT.Config.shutdownServer();
    });

    it('falls back to the unary RPCs once, with every call answered', async () => {
      const backend = new GrpcClientBackend('127.0.0.1', old.port, 5000);
      try {
        expect(backend.mode).to.equal('batch');
        const tokens = await Promise.all(Array.from({ length: 30 }, (_, i) => backend.create(pack({ i }), null, null)));
        expect(backend.mode).to.equal('unary');
        expect(old.calls.CreateToken).to.equal(30);
        const reads = await Promise.all(tokens.map((t) => backend.read(t)));
        reads.forEach((r, i) => expect(r).to.deep.equal({ data: { i } }));
        expect(old.calls.ReadToken).to.equal(30);
      } finally {
        await backend.close();
      }
    });

    it('keeps per-token order through the public API after the fallback', async () => {
      CRUDJT.Config.connectToMaster({ grpc_port: old.port });
      const t = await CRUDJT.create({ v: 0 });
      old.order.length = 0;
      const r = await Promise.all([CRUDJT.update(t, { v: 1 }), CRUDJT.read(t), CRUDJT.delete(t), CRUDJT.read(t)]);
      expect(r).to.deep.equal([true, { data: { v: 1 } }, true, null]);
      expect(old.order).to.deep.equal([`U ${t}`, `R ${t}`, `D ${t}`, `R ${t}`]);
    });

    it('answers Config.stats() with InternalError naming the missing RPC', async () => {
      CRUDJT.Config.connectToMaster({ grpc_port: old.port });
      await expectReject(CRUDJT.Config.stats(), InternalError, /does not implement Stats/);
    });
  });

  describe('deadlines', () => {
    let server: grpc.Server;
    let port = 0;
    let batchStreams = 0;

    before(async () => {
      // A master that takes Batch requests and never answers them.
      const token = loadProto();
      server = new grpc.Server();
      server.addService(token.TokenService.service, {
        Batch: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
          batchStreams++;
          call.on('data', () => undefined);
        },
      } as never);
      port = await serve(server);
    });
    after(() => {
      server.forceShutdown();
    });
    afterEach(async () => {
      await CRUDJT.Config.shutdownServer();
    });

    it('fails each batched call with Unavailable once its deadline passes, and the next call opens a new stream', async () => {
      CRUDJT.Config.connectToMaster({ grpc_port: port, deadline_ms: 300 });
      const started = Date.now();
      const settled = await Promise.allSettled([CRUDJT.create({ a: 1 }), CRUDJT.read('AAAAAAAAAAAAAAAAAAAAAA'), CRUDJT.delete('x')]);
      const took = Date.now() - started;
      for (const s of settled) {
        expect(s.status).to.equal('rejected');
        expect((s as PromiseRejectedResult).reason).to.be.instanceOf(Unavailable);
        expect((s as PromiseRejectedResult).reason.message).to.match(new RegExp(`127\\.0\\.0\\.1:${port} did not answer within 300 ms`));
      }
      expect(took).to.be.within(250, 2000);
      const streams = batchStreams;
      await expectReject(CRUDJT.read('AAAAAAAAAAAAAAAAAAAAAA'), Unavailable, /did not answer within 300 ms/);
      expect(batchStreams).to.equal(streams + 1);
    });
  });

  describe('ExecuteBatch and Batch over raw gRPC', () => {
    let client: any;

    before(async () => {
      const info = await startTestMaster();
      client = new (loadProto().TokenService)(`127.0.0.1:${info.grpc_port}`, grpc.credentials.createInsecure());
    });
    after(async () => {
      client.close();
      await CRUDJT.Config.shutdownServer();
    });

    const unary = (method: string, req: object): Promise<any> =>
      new Promise((resolve, reject) => client[method](req, { deadline: Date.now() + 5000 }, (e: unknown, r: unknown) => (e ? reject(e) : resolve(r))));

    it('answers mixed valid and invalid ops each under its own id', async () => {
      const res = await unary('ExecuteBatch', {
        ops: [
          { id: 7, kind: 'CREATE', packed_data: pack({ a: 1 }), ttl: -1, silence_read: 2 },
          { id: 8, kind: 'CREATE', packed_data: Buffer.from([0x81, 0xa1]) }, // truncated map
          { id: 9, kind: 'READ', token: '' },
          { id: 10, kind: 'KIND_UNSPECIFIED' },
          { id: 11, kind: 'CREATE', packed_data: pack({ a: 1 }), ttl: -7 },
          { id: 12, kind: 'DELETE', token: 'AAAAAAAAAAAAAAAAAAAAAA' },
        ],
      });
      const byId = new Map<number, any>(res.results.map((r: any) => [r.id, r]));
      expect([...byId.keys()].sort((a, b) => a - b)).to.deep.equal([7, 8, 9, 10, 11, 12]);
      expect(byId.get(7).error_code).to.equal(0);
      expect(byId.get(7).token).to.match(/^[A-Za-z0-9_-]{22}$/);
      for (const id of [8, 9, 10, 11]) {
        expect(byId.get(id).error_code, `op ${id}`).to.equal(grpc.status.INVALID_ARGUMENT);
        expect(byId.get(id).error_class, `op ${id}`).to.be.oneOf(['TypeError', 'RangeError']);
        expect(byId.get(id).error_message, `op ${id}`).to.not.equal('');
      }
      expect(byId.get(9).error_message).to.equal('token must be a non-empty String');
      expect(byId.get(12)).to.include({ error_code: 0, result: false });
      const read = await unary('ExecuteBatch', { ops: [{ id: 1, kind: 'READ', token: byId.get(7).token }] });
      expect(unpack(read.results[0].packed_data)).to.deep.equal({ metadata: { silence_read: 1 }, data: { a: 1 } });
    });

    it('refuses more than 256 ops in one request with INVALID_ARGUMENT', async () => {
      const ops = Array.from({ length: 257 }, (_, i) => ({ id: i, kind: 'READ', token: 'AAAAAAAAAAAAAAAAAAAAAA' }));
      const err = await unary('ExecuteBatch', { ops }).then(() => null, (e) => e);
      expect(err?.code).to.equal(grpc.status.INVALID_ARGUMENT);
    });

    it('answers every message of a Batch stream and ends when the client half-closes', async () => {
      const call = client.Batch();
      const results: any[] = [];
      call.on('data', (m: any) => results.push(...m.results));
      const status = new Promise<any>((resolve) => call.on('status', resolve));
      call.write({ ops: [{ id: 1, kind: 'CREATE', packed_data: pack({ s: 1 }) }] });
      call.write({ ops: [{ id: 2, kind: 'READ', token: 'nope' }, { id: 3, kind: 'UPDATE', token: 'nope', packed_data: pack({ s: 2 }) }] });
      call.end();
      expect((await status).code).to.equal(grpc.status.OK);
      expect(results.map((r) => r.id)).to.deep.equal([1, 2, 3]);
      expect(unpack(results[1].packed_data)).to.equal(null);
      expect(results[2].result).to.equal(false);
    });

    it('an old-style unary client still works beside the stream', async () => {
      const { token } = await unary('CreateToken', { packed_data: pack({ old: true }), ttl: -1, silence_read: -1 });
      const res = await unary('ReadToken', { token });
      expect(unpack(res.packed_data)).to.deep.equal({ data: { old: true } });
    });
  });

  describe('the hand-written Batch codec', () => {
    // protobufjs through proto-loader, as any other client would encode.
    const def = protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
    const Req = def['token.BatchRequest'] as any;
    const Res = def['token.BatchResponse'] as any;
    const ops: any[] = [
      { id: 1, kind: 'CREATE', packed_data: pack({ a: 'ü', n: 2 ** 40 }), ttl: -1, silence_read: 5 },
      { id: 4294967295, kind: 'READ', token: 'токен🔑' },
      { id: 3, kind: 'UPDATE', token: 'AAAAAAAAAAAAAAAAAAAAAA', packed_data: pack({ b: 1 }), ttl: 2 ** 53 - 1, silence_read: -7 },
      { id: 4, kind: 'DELETE', token: 'x'.repeat(300) },
      { id: 0, kind: 'KIND_UNSPECIFIED' },
      { id: 6, kind: 'READ', ttl: -(2 ** 40) },
    ];
    const results: any[] = [
      { id: 1, token: 'abc' },
      { id: 2, packed_data: pack({ data: { a: 1 } }) },
      { id: 3, result: true },
      { id: 4, result: false },
      { id: 5, error_code: 3, error_message: 'Hash can not be empty — ü', error_class: 'TypeError' },
    ];

    it('writes the bytes protobufjs reads back, and reads what protobufjs writes', () => {
      const ours = encodeBatchRequest({ ops });
      const theirs = Req.deserialize(ours);
      expect(theirs.ops.map((o: any) => ({ ...o, packed_data: Buffer.from(o.packed_data) }))).to.deep.equal(decodeBatchRequest(ours).ops.map((o) => ({ ...o, packed_data: Buffer.from(o.packed_data) })));
      expect(theirs.ops[2].silence_read).to.equal(-7);
      expect(theirs.ops[5].ttl).to.equal(-(2 ** 40));
      expect(theirs.ops[1].token).to.equal('токен🔑');
      const back = decodeBatchRequest(Req.serialize({ ops }));
      expect(back.ops.length).to.equal(ops.length);
      back.ops.forEach((o, i) => {
        expect(o.id).to.equal(ops[i].id);
        expect(o.kind).to.equal(ops[i].kind);
        expect(o.token).to.equal(ops[i].token ?? '');
        expect(Buffer.from(o.packed_data).equals(ops[i].packed_data ?? Buffer.alloc(0))).to.equal(true);
        expect(o.ttl).to.equal(ops[i].ttl ?? 0);
        expect(o.silence_read).to.equal(ops[i].silence_read ?? 0);
      });
    });

    it('agrees with protobufjs at varint boundaries (1, 2, 3 and 5 bytes) over many ops in one message', () => {
      const edges = [0, 1, 127, 128, 16383, 16384, 2097151, 2097152, 4294967295];
      const lens = [0, 1, 127, 128, 300, 16383, 16384];
      const many: any[] = [];
      for (const id of edges) {
        for (const len of lens) {
          many.push({ id, kind: 'UPDATE', token: 't'.repeat(len), packed_data: Buffer.alloc(len % 1000, 7), ttl: id, silence_read: -id });
        }
      }
      const ours = encodeBatchRequest({ ops: many });
      // (protobufjs also writes fields set to 0 or empty: compare values, not bytes)
      const fields = (o: any): unknown[] => [o.id, o.kind, o.token.length, o.packed_data.length, o.ttl, o.silence_read];
      const want = many.map((o) => [o.id, o.kind, o.token.length, o.packed_data.length, o.ttl, -o.id || 0]);
      expect(decodeBatchRequest(ours).ops.map(fields)).to.deep.equal(want);
      expect(Req.deserialize(ours).ops.map(fields)).to.deep.equal(want);
      expect(decodeBatchRequest(Req.serialize({ ops: many })).ops.map(fields)).to.deep.equal(want);
      const rs = many.map((o) => ({ id: o.id, token: o.token, packed_data: o.packed_data, error_code: o.id % 17 }));
      const rb = encodeBatchResponse({ results: rs });
      const rfields = (r: any): unknown[] => [r.id, r.token.length, r.packed_data.length, r.error_code];
      const rwant = rs.map(rfields);
      expect(decodeBatchResponse(rb).results.map(rfields)).to.deep.equal(rwant);
      expect(decodeBatchResponse(Res.serialize({ results: rs })).results.map(rfields)).to.deep.equal(rwant);
      expect(Res.deserialize(rb).results.map(rfields)).to.deep.equal(rwant);
      // An op whose length ends inside its last field fails; it never reads into the next op.
      const cut = Buffer.from([0x0a, 0x03, 0x1a, 0x05, 0x41, 0x0a, 0x02, 0x08, 0x01]);
      expect(() => decodeBatchRequest(cut)).to.throw(Error, /malformed protobuf/);
    });

    it('round-trips BatchResponse both ways', () => {
      const ours = encodeBatchResponse({ results });
      expect(decodeBatchResponse(Res.serialize({ results })).results.map((r) => ({ ...r, packed_data: Buffer.from(r.packed_data) }))).to.deep.equal(
        decodeBatchResponse(ours).results.map((r) => ({ ...r, packed_data: Buffer.from(r.packed_data) })),
      );
      const theirs = Res.deserialize(ours);
      const mine = decodeBatchResponse(ours);
      expect(mine.results.map((r) => ({ ...r, packed_data: Buffer.from(r.packed_data) }))).to.deep.equal(
        theirs.results.map((r: any) => ({ ...r, packed_data: Buffer.from(r.packed_data) })),
      );
    });

    it('skips unknown fields and throws (never crashes) on malformed bytes', () => {
      // ops[0] = {id: 9, unknown field 15 (varint), unknown field 16 (bytes)}, then an unknown top-level fixed32.
      const withUnknown = Buffer.from([0x0a, 0x08, 0x08, 0x09, 0x78, 0x01, 0x82, 0x01, 0x01, 0x00, 0x15, 1, 2, 3, 4]);
      const d = decodeBatchRequest(withUnknown);
      expect(d.ops.length).to.equal(1);
      expect(d.ops[0].id).to.equal(9);
      for (const bad of [[0x0a, 0x05, 0x08], [0x0a, 0x02, 0x08, 0x80], [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], [0x0f], [0x00]]) {
        expect(() => decodeBatchRequest(Buffer.from(bad)), JSON.stringify(bad)).to.throw(Error, /malformed protobuf/);
        expect(() => decodeBatchResponse(Buffer.from(bad)), JSON.stringify(bad)).to.throw(Error, /malformed protobuf/);
      }
    });

    it('decodes 5000 random byte strings without anything but its own Error escaping', () => {
      let seed = 12345;
      const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
      for (let i = 0; i < 5000; i++) {
        const buf = Buffer.from(Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256)));
        for (const decode of [decodeBatchRequest, decodeBatchResponse]) {
          try {
            decode(buf);
          } catch (e) {
            expect((e as Error).message).to.match(/^malformed protobuf/);
          }
        }
      }
    });

    it('a malformed BatchRequest on the wire fails only that call; the master keeps serving', async () => {
      const info = await startTestMaster();
      try {
        const client = new grpc.Client(`127.0.0.1:${info.grpc_port}`, grpc.credentials.createInsecure());
        const err = await new Promise<any>((resolve) => {
          client.makeUnaryRequest('/token.TokenService/ExecuteBatch', (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0x0a, 0x05, 0x08]), { deadline: Date.now() + 5000 }, (e) => resolve(e));
        });
        expect(err?.code).to.be.oneOf([grpc.status.INTERNAL, grpc.status.INVALID_ARGUMENT]);
        client.close();
        expect(await CRUDJT.read(await CRUDJT.create({ still: 1 }))).to.deep.equal({ data: { still: 1 } });
      } finally {
        await CRUDJT.Config.shutdownServer();
      }
    });
  });
});
