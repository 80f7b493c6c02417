// Sessions over gRPC (issue 9's wire): subject on create, touch,
// revokeSubject, listSubject and revokeHandle from the client role, batched
// where they fit; against a master without the session RPCs every one of
// them fails with InternalError naming the feature and no subject is ever
// sent to it; and silenceRead 1 as an atomic consume across client processes.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { expect } from 'chai';
import path from 'node:path';
import { CRUDJT, freshStorePath, startTestMaster } from './00.setup';
import { expectReject } from './helpers/assert';
import { RoleChild, useChildMaster } from './helpers/child';
import { withBatchCodec } from '../lib/grpc/batch_codec';
import { GrpcClientBackend } from '../lib/grpc/client';
import { pack, unpack } from '../lib/msgpack';

const { InternalError } = CRUDJT.Errors;
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
 * A master that predates sessions: the four unary RPCs (as a published
 * SDK's), plus Batch and ExecuteBatch when `withBatch` (as an older one of
 * ours). It records every request, so a test can see whether a subject (or
 * any call at all) reached it. grpc-js answers UNIMPLEMENTED for the rest.
 */
class OldMaster {
  readonly server = new grpc.Server();
  readonly calls: string[] = [];
  /** Raw CreateTokenRequest / BatchOp objects as decoded by the old proto's rules. */
  readonly creates: Array<Record<string, unknown>> = [];
  private readonly tokens = new Map<string, Buffer>();
  private next = 0;
  port = 0;

  constructor(private readonly withBatch: boolean) {}

  private create(packed: Buffer): string {
    const t = `old${this.next++}`.padEnd(22, 'x');
    this.tokens.set(t, packed);
    return t;
  }

  async start(): Promise<this> {
    const full = loadProto().TokenService.service;
    const def: Record<string, grpc.MethodDefinition<any, any>> = {
      CreateToken: full.CreateToken,
      ReadToken: full.ReadToken,
      UpdateToken: full.UpdateToken,
      DeleteToken: full.DeleteToken,
    };
    const handlers: grpc.UntypedServiceImplementation = {
      CreateToken: (call: any, cb: any) => {
        this.calls.push('CreateToken');
        this.creates.push(call.request);
        cb(null, { token: this.create(call.request.packed_data) });
      },
      ReadToken: (call: any, cb: any) => {
        this.calls.push('ReadToken');
        const d = this.tokens.get(call.request.token);
        cb(null, { packed_data: d === undefined ? pack(null) : pack({ data: unpack(d) }) });
      },
      UpdateToken: (_call: any, cb: any) => {
        this.calls.push('UpdateToken');
        cb(null, { result: false });
      },
      DeleteToken: (call: any, cb: any) => {
        this.calls.push('DeleteToken');
        cb(null, { result: this.tokens.delete(call.request.token) });
      },
    };
    if (this.withBatch) {
      const batched = withBatchCodec(full);
      def.Batch = batched.Batch;
      handlers.Batch = (call: any) => {
        call.on('data', (req: any) => {
          this.calls.push('Batch');
          const results = req.ops.map((op: any) => {
            // The old master's kinds: anything else is refused, as ours did.
            if (op.kind === 'CREATE') {
              this.creates.push(op);
              return { id: op.id, token: this.create(op.packed_data) };
            }
            if (op.kind === 'READ') {
              const d = this.tokens.get(op.token);
              return { id: op.id, packed_data: d === undefined ? pack(null) : pack({ data: unpack(d) }) };
            }
            if (op.kind === 'DELETE') return { id: op.id, result: this.tokens.delete(op.token) };
            return { id: op.id, error_code: 3, error_class: 'TypeError', error_message: `BatchOp ${op.id} has no kind` };
          });
          call.write({ results });
        });
        call.on('end', () => call.end());
      };
    }
    this.server.addService(def as grpc.ServiceDefinition, handlers);
    this.port = await serve(this.server);
    return this;
  }

  stop(): void {
    this.server.forceShutdown();
  }
}

describe('sessions over gRPC (client role)', () => {
  describe('against our master in another process', () => {
    const master = useChildMaster();

    it('create with a subject, listSubject, revokeHandle and revokeSubject', async () => {
      const a = await CRUDJT.create({ n: 1 }, 60, 5, { subject: 'user-51a' });
      const b = await CRUDJT.create({ n: 2 }, null, null, { subject: 'user-51a' });
      const other = await CRUDJT.create({ n: 3 }, null, null, { subject: 'user-51b' });
      const plain = await CRUDJT.create({ n: 4 });
      const list = await CRUDJT.listSubject('user-51a');
      expect(list).to.have.length(2);
      for (const s of list) {
        expect(s.handle).to.be.a('string').and.not.equal('');
        expect(s.handle).to.not.equal(a);
        expect(s.handle).to.not.equal(b);
      }
      const metas = list.map((s) => s.metadata).sort((x, y) => (x.ttl ?? 0) - (y.ttl ?? 0));
      expect(metas[0]).to.deep.equal({});
      expect(metas[1]).to.deep.equal({ ttl: 60, silence_read: 5 });
      // The master sees the same sessions.
      expect(await master().call('read', a)).to.deep.equal({ metadata: { ttl: 60, silence_read: 4 }, data: { n: 1 } });

      const withLimits = list.find((s) => s.metadata.ttl === 60)!;
      expect(await CRUDJT.revokeHandle(withLimits.handle)).to.equal(true);
      expect(await CRUDJT.revokeHandle(withLimits.handle)).to.equal(false);
      expect(await CRUDJT.revokeHandle('not-a-handle')).to.equal(false);
      expect(await CRUDJT.read(a)).to.equal(null);

      expect(await CRUDJT.revokeSubject('user-51a')).to.equal(1);
      expect(await CRUDJT.read(b)).to.equal(null);
      expect(await CRUDJT.listSubject('user-51a')).to.deep.equal([]);
      expect(await CRUDJT.revokeSubject('user-51a')).to.equal(0);
      expect(await CRUDJT.read(other)).to.deep.equal({ data: { n: 3 } });
      expect(await CRUDJT.read(plain)).to.deep.equal({ data: { n: 4 } });
    });

    it('update keeps the subject; a UTF-8 subject of 128 bytes works', async () => {
      const subject = 'é'.repeat(64); // 128 bytes
      const t = await CRUDJT.create({ v: 1 }, null, null, { subject });
      expect(await CRUDJT.update(t, { v: 2 })).to.equal(true);
      expect(await CRUDJT.listSubject(subject)).to.have.length(1);
      expect(await CRUDJT.revokeSubject(subject)).to.equal(1);
      expect(await CRUDJT.read(t)).to.equal(null);
    });

    it('touch sets a new lifetime and answers false for a dead token', async () => {
      const t = await CRUDJT.create({ v: 1 }, 10);
      expect(await CRUDJT.touch(t, 500)).to.equal(true);
      expect(await CRUDJT.read(t)).to.deep.equal({ metadata: { ttl: 500 }, data: { v: 1 } });
      expect(await CRUDJT.touch(t, null)).to.equal(true);
      expect(await CRUDJT.read(t)).to.deep.equal({ data: { v: 1 } });
      expect(await CRUDJT.delete(t)).to.equal(true);
      expect(await CRUDJT.touch(t, 60)).to.equal(false);
      expect(await CRUDJT.touch('AAAAAAAAAAAAAAAAAAAAAA', 60)).to.equal(false);
    });

    it('batches creates with subjects and touches into a few Batch messages', async () => {
      const before = await CRUDJT.Config.stats();
      const tokens = await Promise.all(
        Array.from({ length: 200 }, (_, i) => CRUDJT.create({ i }, 30, null, { subject: `batch-51-${i % 4}` })),
      );
      const touched = await Promise.all(tokens.map((t) => CRUDJT.touch(t, 90)));
      expect(touched.every((x) => x === true)).to.equal(true);
      const after = await CRUDJT.Config.stats();
      expect(after.requests.CreateToken).to.equal(before.requests.CreateToken);
      expect(after.requests.TouchToken ?? 0).to.equal(before.requests.TouchToken ?? 0);
      expect(after.requests.Batch - before.requests.Batch).to.be.at.most(20);
      expect(after.operations.create - before.operations.create).to.equal(200);
      for (let k = 0; k < 4; k++) {
        const list = await CRUDJT.listSubject(`batch-51-${k}`);
        expect(list).to.have.length(50);
        expect(list.every((s) => s.metadata.ttl! > 30)).to.equal(true);
      }
      expect(await CRUDJT.revokeSubject('batch-51-0')).to.equal(50);
    });

    it('the unary RPCs carry the subject and touch too (batch: false)', async () => {
      const raw = new GrpcClientBackend('127.0.0.1', master().port, 5000, { batch: false });
      try {
        const t = await raw.create(pack({ u: 1 }), null, null, 'unary-51');
        expect(await raw.touch(t, 77)).to.equal(true);
        expect(await raw.listSubject('unary-51')).to.deep.equal([
          { handle: (await raw.listSubject('unary-51'))[0].handle, metadata: { ttl: 77 } },
        ]);
        expect(await raw.revokeSubject('unary-51')).to.equal(1);
        expect(await raw.touch(t, 77)).to.equal(false);
      } finally {
        await raw.close();
      }
    });

    it('put (PutToken) creates or replaces the record under a token the client chose', async () => {
      const raw = new GrpcClientBackend('127.0.0.1', master().port, 5000);
      try {
        const sid = 'session-id-chosen-by-the-app-0123456789';
        expect(await raw.put(sid, pack({ v: 1 }), 60, null)).to.equal(false);
        expect(await master().call('read', sid)).to.deep.equal({ metadata: { ttl: 60 }, data: { v: 1 } });
        expect(await raw.put(sid, pack({ v: 2 }), null, null)).to.equal(true);
        expect(await CRUDJT.read(sid)).to.deep.equal({ data: { v: 2 } });
        await expectReject(raw.put('short', pack({ v: 1 }), null, null), TypeError);
        await expectReject(raw.put('x'.repeat(129), pack({ v: 1 }), null, null), TypeError);
        await expectReject(raw.put(sid, Buffer.from([0x90]), null, null), TypeError, 'Must be a Hash (Object)');
        expect(await CRUDJT.delete(sid)).to.equal(true);
      } finally {
        await raw.close();
      }
    });

    it("the master validates what the wire carries (the client's own checks bypassed)", async () => {
      for (const batch of [true, false]) {
        const raw = new GrpcClientBackend('127.0.0.1', master().port, 5000, { batch });
        try {
          await expectReject(raw.create(pack({ a: 1 }), null, null, 'x'.repeat(129)), RangeError, /subject/);
          await expectReject(raw.touch('', 5), TypeError, /token/);
          await expectReject(raw.touch('AAAAAAAAAAAAAAAAAAAAAA', -7 as never), RangeError, /ttl/);
          await expectReject(raw.revokeSubject(''), TypeError, /subject/);
          await expectReject(raw.listSubject('y'.repeat(300)), RangeError, /subject/);
          await expectReject(raw.revokeHandle(''), TypeError, /handle/);
        } finally {
          await raw.close();
        }
      }
    });
  });

  for (const withBatch of [false, true]) {
    describe(`against a master without the session RPCs (${withBatch ? 'an older one of ours, with Batch' : 'four unary RPCs only'})`, () => {
      let old: OldMaster;
      beforeEach(async () => {
        old = await new OldMaster(withBatch).start();
        CRUDJT.Config.connectToMaster({ grpc_port: old.port });
      });
      afterEach(async () => {
        await CRUDJT.Config.shutdownServer();
        old.stop();
      });

      it('create with a subject fails with InternalError and nothing reaches the master', async () => {
        await expectReject(CRUDJT.create({ a: 1 }, null, null, { subject: 'u1' }), InternalError, /does not support create with a subject/);
        // Many at once (they would be batched): still none sent.
        const all = await Promise.allSettled(Array.from({ length: 20 }, () => CRUDJT.create({ a: 1 }, null, null, { subject: 'u1' })));
        expect(all.every((r) => r.status === 'rejected' && r.reason instanceof InternalError)).to.equal(true);
        expect(old.creates).to.deep.equal([]);
        expect(old.calls.filter((c) => c !== 'ListSubject')).to.deep.equal([]);
      });

      it('touch, revokeSubject, listSubject and revokeHandle fail with InternalError naming the feature', async () => {
        await expectReject(CRUDJT.touch('AAAAAAAAAAAAAAAAAAAAAA', 5), InternalError, /does not support touch/);
        await expectReject(CRUDJT.revokeSubject('u1'), InternalError, /does not support revokeSubject/);
        await expectReject(CRUDJT.listSubject('u1'), InternalError, /does not support listSubject/);
        await expectReject(CRUDJT.revokeHandle('h'), InternalError, /does not support revokeHandle/);
        const raw = new GrpcClientBackend('127.0.0.1', old.port, 5000);
        try {
          await expectReject(raw.put('a'.repeat(22), pack({ a: 1 }), null, null), InternalError, /does not support put/);
        } finally {
          await raw.close();
        }
      });

      it('plain creates, reads and deletes keep working', async () => {
        await expectReject(CRUDJT.create({ a: 1 }, null, null, { subject: 'u1' }), InternalError);
        const t = await CRUDJT.create({ a: 2 });
        expect(await CRUDJT.read(t)).to.deep.equal({ data: { a: 2 } });
        expect(await CRUDJT.delete(t)).to.equal(true);
        expect(old.creates).to.have.length(1);
        expect(old.creates[0].subject ?? '').to.equal('');
      });
    });
  }

  describe('silenceRead 1 is an atomic consume across client processes', () => {
    const clients: RoleChild[] = [];
    before(async function () {
      this.timeout(30000);
      const info = await startTestMaster();
      for (let i = 0; i < 4; i++) clients.push(await RoleChild.client({ grpc_port: info.grpc_port }));
    });
    after(async () => {
      await Promise.all(clients.map((c) => c.stop()));
      await CRUDJT.Config.shutdownServer();
    });

    it('4 processes read the same token at once, 200 rounds: exactly one gets the data each round', async function () {
      this.timeout(120000);
      // Warm every client's channel and stream first.
      await Promise.all(clients.map((c) => c.call('read', 'AAAAAAAAAAAAAAAAAAAAAA')));
      const winners = [0, 0, 0, 0];
      for (let round = 0; round < 200; round++) {
        const token = await CRUDJT.create({ round }, null, 1);
        const got = await Promise.all(clients.map((c) => c.call<unknown>('read', token)));
        const hits = got.filter((g) => g !== null);
        expect(hits, `round ${round}`).to.have.length(1);
        expect(hits[0]).to.deep.equal({ metadata: { silence_read: 0 }, data: { round } });
        winners[got.findIndex((g) => g !== null)]++;
        expect(await CRUDJT.read(token)).to.equal(null);
      }
      expect(winners.reduce((a, b) => a + b, 0)).to.equal(200);
    });
  });

  it('a master started here answers the session RPCs to a raw client too (store_jt on disk)', async () => {
    const info = await startTestMaster({ store_jt_path: freshStorePath() });
    const raw = new GrpcClientBackend('127.0.0.1', info.grpc_port, 5000);
    try {
      const t = await raw.create(pack({ z: 1 }), null, null, 'here-51');
      expect((await raw.listSubject('here-51')).length).to.equal(1);
      expect(await CRUDJT.revokeSubject('here-51')).to.equal(1);
      expect(await CRUDJT.read(t)).to.equal(null);
    } finally {
      await raw.close();
      await CRUDJT.Config.shutdownServer();
    }
  });
});
