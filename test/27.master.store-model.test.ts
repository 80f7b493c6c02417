// MasterStore's own logic over a JavaScript model of the addon
// (helpers/fake-native.ts): the read cache around touch and revocations,
// and runBatch as ONE applyBatch call per batch with per-op outcomes equal
// to the op-by-op path, per-token order across concurrent 'sync' batches.
// The same rules run against the real addon in test/25, 26 and 46.
import { expect } from 'chai';
import fc from 'fast-check';
import './00.setup';
import type { BatchOp, BatchOutcome } from '../lib/backend';
import { ReadCache } from '../lib/cache';
import { InternalError } from '../lib/errors';
import { NIL, pack, unpack } from '../lib/msgpack';
import { MasterStore } from '../lib/store';
import { FakeNative } from './helpers/fake-native';

function storeOver(fake: FakeNative, sync: boolean, cache = true): MasterStore {
  return new MasterStore(fake.asNative(), { sync, cache: cache ? new ReadCache() : null });
}

const P = (o: Record<string, unknown>): Buffer => pack(o);

/** An outcome in a comparable form (tokens of creates are random). */
function shape(o: BatchOutcome): unknown {
  if (!o.ok) return { error: o.error.constructor.name, message: o.error.message };
  if (typeof o.value === 'string') return 'token';
  if (Buffer.isBuffer(o.value)) return o.value.equals(NIL) ? null : unpack(o.value);
  return o.value;
}

for (const sync of [false, true]) {
  describe(`MasterStore over a model of the addon (${sync ? "'sync'" : "'background'"})`, () => {
    describe('the read cache never serves a dead token', () => {
      it('create with subject, read (cached), revokeSubject, read -> null', async () => {
        const fake = new FakeNative();
        const store = storeOver(fake, sync);
        const t = await store.create(P({ a: 1 }), null, null, 'user-1');
        const other = await store.create(P({ b: 2 }), null, null);
        expect(await store.read(t)).to.deep.equal({ data: { a: 1 } });
        expect(await store.read(other)).to.deep.equal({ data: { b: 2 } });
        const engineReads = fake.calls.read ?? 0;
        expect(await store.read(t)).to.deep.equal({ data: { a: 1 } });
        expect(fake.calls.read ?? 0, 'second read served by the cache').to.equal(engineReads);
        expect(await store.revokeSubject('user-1')).to.equal(1);
        expect(await store.read(t)).to.equal(null);
        expect(await store.read(other)).to.deep.equal({ data: { b: 2 } });
      });

      it('revokeHandle: the cached token reads null afterwards', async () => {
        const fake = new FakeNative();
        const store = storeOver(fake, sync);
        const t = await store.create(P({ a: 1 }), null, null, 'u');
        await store.read(t);
        await store.read(t);
        const [s] = await store.listSubject('u');
        expect(s.handle).to.equal(FakeNative.handleOf(t));
        expect(await store.revokeHandle(s.handle)).to.equal(true);
        expect(await store.read(t)).to.equal(null);
        expect(await store.revokeHandle(s.handle)).to.equal(false);
        expect(await store.revokeHandle('x'.repeat(1000))).to.equal(false);
      });

      it('touch replaces the cached expiry', async () => {
        const fake = new FakeNative();
        const store = storeOver(fake, sync);
        const t = await store.create(P({ a: 1 }), null, null);
        await store.read(t);
        expect(await store.read(t)).to.deep.equal({ data: { a: 1 } });
        expect(await store.touch(t, 30)).to.equal(true);
        expect(await store.read(t)).to.deep.equal({ metadata: { ttl: 30 }, data: { a: 1 } });
        expect(await store.touch(t, null)).to.equal(true);
        expect(await store.read(t)).to.deep.equal({ data: { a: 1 } });
        await store.delete(t);
        expect(await store.touch(t, 30)).to.equal(false);
      });

      it('reads racing a revocation: once revokeSubject resolved, nothing reads the token', async () => {
        const fake = new FakeNative();
        fake.jitter = true;
        const store = storeOver(fake, sync);
        for (let round = 0; round < 100; round++) {
          const t = await store.create(P({ r: round }), null, null, `s${round}`);
          await store.read(t);
          const racing = Array.from({ length: 8 }, () => store.read(t));
          const revoked = store.revokeSubject(`s${round}`);
          const more = Array.from({ length: 8 }, () => store.read(t));
          expect(await revoked).to.equal(1);
          await Promise.all([...racing, ...more]);
          expect(await store.read(t), `round ${round}`).to.equal(null);
        }
      });

      it('listSubject maps the engine rows to { handle, metadata }', async () => {
        const fake = new FakeNative();
        const store = storeOver(fake, sync);
        await store.create(P({ a: 1 }), 100, 5, 'u');
        await store.create(P({ a: 2 }), null, null, 'u');
        const list = await store.listSubject('u');
        expect(list.map((s) => s.metadata)).to.deep.equal([{ ttl: 100, silence_read: 5 }, {}]);
        expect(await store.listSubject('nobody')).to.deep.equal([]);
      });
    });

    describe('runBatch', () => {
      it('makes one engine call per batch', async () => {
        const fake = new FakeNative();
        const store = storeOver(fake, sync);
        const t = await store.create(P({ a: 1 }), null, null);
        fake.calls.read = 0;
        const ops: BatchOp[] = [
          { kind: 'create', packed: P({ n: 1 }), ttl: 60, silenceRead: null, subject: 'u' },
          { kind: 'read', token: t },
          { kind: 'update', token: t, packed: P({ a: 2 }), ttl: null, silenceRead: null },
          { kind: 'touch', token: t, ttl: 50 },
          { kind: 'read', token: t },
          { kind: 'delete', token: t },
          { kind: 'read', token: t },
        ];
        const out = await store.runBatch(ops);
        expect(fake.calls[sync ? 'applyBatchAsync' : 'applyBatch']).to.equal(1);
        expect(out.map(shape)).to.deep.equal([
          'token', { data: { a: 1 } }, true, true, { metadata: { ttl: 50 }, data: { a: 2 } }, true, null,
        ]);
        expect(await store.listSubject('u')).to.have.length(1);
      });

      it('a read after a write in the same batch sees it, and the cache keeps no stale copy', async () => {
        const fake = new FakeNative();
        const store = storeOver(fake, sync);
        const t = await store.create(P({ v: 1 }), null, null);
        await store.read(t);
        await store.read(t); // cached now
        const out = await store.runBatch([
          { kind: 'read', token: t },
          { kind: 'update', token: t, packed: P({ v: 2 }), ttl: null, silenceRead: null },
          { kind: 'read', token: t },
        ]);
        expect(out.map(shape)).to.deep.equal([{ data: { v: 1 } }, true, { data: { v: 2 } }]);
        expect(await store.read(t)).to.deep.equal({ data: { v: 2 } });
        expect(await store.read(t)).to.deep.equal({ data: { v: 2 } });
      });

      it('serves reads of tokens the batch does not write from the cache', async () => {
        const fake = new FakeNative();
        const store = storeOver(fake, sync);
        const t = await store.create(P({ v: 1 }), null, null);
        await store.read(t);
        fake.calls.read = 0;
        const out = await store.runBatch([{ kind: 'read', token: t }, { kind: 'read', token: t }]);
        expect(out.map(shape)).to.deep.equal([{ data: { v: 1 } }, { data: { v: 1 } }]);
        expect(fake.calls.read).to.equal(0);
      });

      it("an op's engine error fails that op only, as the class a thrown error would be", async () => {
        const fake = new FakeNative();
        const store = storeOver(fake, sync);
        const t = await store.create(P({ v: 1 }), null, null);
        const out = await store.runBatch([
          { kind: 'read', token: 'FAIL1' },
          { kind: 'read', token: t },
          { kind: 'delete', token: 'FAIL2' },
        ]);
        expect(out.map(shape)).to.deep.equal([
          { error: 'InternalError', message: 'I/O error on FAIL1' },
          { data: { v: 1 } },
          { error: 'InternalError', message: 'I/O error on FAIL2' },
        ]);
      });

      it('a batch call that throws fails every op of it with the typed error, and nothing more', async () => {
        const fake = new FakeNative();
        const native = fake.asNative() as unknown as Record<string, unknown>;
        const boom = (): never => {
          const e = new Error('store closed') as Error & { code: string };
          e.code = 'CRUDJT_CLOSED';
          throw e;
        };
        native.applyBatch = boom;
        native.applyBatchAsync = () => Promise.reject(Object.assign(new Error('store closed'), { code: 'CRUDJT_CLOSED' }));
        const store = new MasterStore(native as never, { sync, cache: new ReadCache() });
        const out = await store.runBatch([
          { kind: 'create', packed: P({ a: 1 }), ttl: null, silenceRead: null },
          { kind: 'read', token: 'AAAAAAAAAAAAAAAAAAAAAA' },
        ]);
        for (const o of out) {
          expect(o.ok).to.equal(false);
          expect((o as { error: Error }).error).to.be.instanceOf(InternalError);
          expect((o as { error: Error }).error.message).to.equal('store closed');
        }
      });

      it('answers exactly as the op-by-op path over random batches (fast-check)', async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.array(
              fc.array(
                fc.record({
                  kind: fc.constantFrom('create', 'read', 'update', 'delete', 'touch', 'read'),
                  which: fc.nat(7),
                  v: fc.nat(1000),
                  ttl: fc.constantFrom(null, 3600, 7200),
                  reads: fc.constantFrom(null, 1, 2, 3),
                  subject: fc.constantFrom(null, 'a', 'b'),
                  fail: fc.boolean(),
                }),
                { minLength: 1, maxLength: 12 },
              ),
              { minLength: 1, maxLength: 6 },
            ),
            async (batches) => {
              const fakes = [new FakeNative(), new FakeNative()];
              fakes[1].withBatch = false;
              const stores = fakes.map((f) => storeOver(f, sync));
              const tokens: string[][] = [[], []];
              for (const batch of batches) {
                const results: unknown[][] = [];
                for (let s = 0; s < 2; s++) {
                  const ops: BatchOp[] = batch.map((g): BatchOp => {
                    const pool = tokens[s];
                    const token = g.fail && g.which === 0 ? 'FAIL' : pool.length === 0 ? 'AAAAAAAAAAAAAAAAAAAAAA' : pool[g.which % pool.length];
                    switch (g.kind) {
                      case 'create':
                        return { kind: 'create', packed: P({ v: g.v }), ttl: g.ttl, silenceRead: g.reads, subject: g.subject };
                      case 'update':
                        return { kind: 'update', token, packed: P({ u: g.v }), ttl: g.ttl, silenceRead: g.reads };
                      case 'touch':
                        return { kind: 'touch', token, ttl: g.ttl };
                      default:
                        return { kind: g.kind as 'read' | 'delete', token };
                    }
                  });
                  const out = await stores[s].runBatch(ops);
                  for (const o of out) if (o.ok && typeof o.value === 'string') tokens[s].push(o.value);
                  results.push(out.map(shape));
                }
                expect(results[0]).to.deep.equal(results[1]);
                expect(fakes[0].calls[sync ? 'applyBatchAsync' : 'applyBatch'] ?? 0).to.be.greaterThan(0);
              }
              for (const subject of ['a', 'b']) {
                expect(await stores[0].revokeSubject(subject)).to.equal(await stores[1].revokeSubject(subject));
              }
            },
          ),
          { numRuns: 200 },
        );
      });

      if (sync) {
        it('keeps per-token order across concurrent batches (engine calls finishing out of order)', async () => {
          const fake = new FakeNative();
          fake.jitter = true;
          const store = storeOver(fake, true);
          for (let round = 0; round < 50; round++) {
            const t = await store.create(P({ v: 0 }), null, null);
            const other = await store.create(P({ o: 0 }), null, null);
            const runs = [];
            for (let v = 1; v <= 5; v++) {
              runs.push(store.runBatch([
                { kind: 'update', token: t, packed: P({ v }), ttl: null, silenceRead: null },
                { kind: 'read', token: other },
              ]));
            }
            const last = store.runBatch([{ kind: 'read', token: t }]);
            await Promise.all(runs);
            expect(shape((await last)[0]), `round ${round}`).to.deep.equal({ data: { v: 5 } });
          }
        });
      }
    });
  });
}
