// The cluster role when nodes fail: calls settle within the deadline with an
// InternalError naming the node (no hang, no unhandled rejection), and work
// again once the node is back (restarted) or replaced (its replica promoted).
// durability 'replicated' refuses a write no replica confirmed, and a write it
// acknowledged survives the failover of its master.
import { expect } from 'chai';
import { CRUDJT, onCleanup, SECRET, sleep } from './00.setup';
import { startRedisCluster, type RedisCluster } from './helpers/redis-cluster';
import { openClusterBackend } from '../lib/cluster/index';
import { pack } from '../lib/msgpack';

type Backend = Awaited<ReturnType<typeof openClusterBackend>> & Record<string, any>;

const DEADLINE = 1000;

function trackUnhandled(): { count: () => number; stop: () => void } {
  let n = 0;
  const onUnhandled = (): void => {
    n++;
  };
  process.on('unhandledRejection', onUnhandled);
  return { count: () => n, stop: () => process.off('unhandledRejection', onUnhandled) };
}

/** Runs `op` until it succeeds (or `ms` pass); the last error otherwise. */
async function eventually<T>(ms: number, op: () => Promise<T>): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  while (Date.now() < until) {
    try {
      return await op();
    } catch (e) {
      last = e;
      await sleep(100);
    }
  }
  throw last;
}

describe('cluster role: a master killed under load, then restarted', function () {
  this.timeout(90_000);
  let rc: RedisCluster;
  let backend: Backend;

  before(async () => {
    rc = await startRedisCluster({ masters: 3, nodeTimeoutMs: 1000 });
    onCleanup(() => rc.stop());
    backend = (await openClusterBackend({ secret_key: SECRET, nodes: rc.nodes, deadline_ms: DEADLINE }, null)) as Backend;
  });
  after(async () => {
    await backend?.close();
    await rc?.stop();
  });

  it("durability 'replicated' without replicas: InternalError naming the node, within the deadline", async () => {
    const strict = (await openClusterBackend(
      { secret_key: SECRET, nodes: rc.nodes, deadline_ms: 300, durability: 'replicated' },
      null,
    )) as Backend;
    try {
      const started = Date.now();
      let err: Error | null = null;
      try {
        await strict.create(pack({ a: 1 }), null, null);
      } catch (e) {
        err = e as Error;
      }
      expect(err).to.be.instanceOf(CRUDJT.Errors.InternalError);
      expect(err!.message).to.match(/CRUDJT cluster node 127\.0\.0\.1:\d+: no replica acknowledged create within 150 ms/);
      expect(Date.now() - started).to.be.below(2000);
    } finally {
      await strict.close();
    }
  });

  it('a node that stops answering but keeps its connections open: calls fail within the deadline, then work again', async () => {
    const quick = (await openClusterBackend({ secret_key: SECRET, nodes: rc.nodes, deadline_ms: 200 }, null)) as Backend;
    const unhandled = trackUnhandled();
    try {
      const tokens: string[] = [];
      for (let i = 0; i < 30; i++) tokens.push(await quick.create(pack({ i }), 60, null));
      const port = rc.ports[0];
      // A script that spins for 0.8 s blocks the node (under its 1 s
      // node timeout, so the cluster does not mark it failed): its sockets
      // stay open, nothing answers.
      const spin = `local t = redis.call('TIME') local t0 = t[1] * 1000000 + t[2]
        repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - t0 > 800000 return 1`;
      const busy = rc.cli(port, 'EVAL', spin, '0');
      await sleep(100);
      const t0 = Date.now();
      const results = await Promise.allSettled(tokens.map((t) => quick.read(t)));
      const elapsed = Date.now() - t0;
      await busy;
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
      expect(failed.length, 'reads of tokens on the blocked node').to.be.above(0);
      expect(failed.length).to.be.below(tokens.length);
      for (const e of failed) {
        expect(e).to.be.instanceOf(CRUDJT.Errors.InternalError);
        expect(e.message).to.equal(`CRUDJT cluster node 127.0.0.1:${port} did not answer read within 200 ms`);
      }
      expect(elapsed, 'all settled within the deadline plus timer slack').to.be.below(200 + 250);
      await eventually(5000, async () => {
        for (const t of tokens) expect(await quick.read(t)).to.not.equal(null);
      });
      expect(unhandled.count()).to.equal(0);
    } finally {
      unhandled.stop();
      await quick.close();
    }
  });

  it('calls fail with InternalError naming the dead node within the deadline, then work again after a restart', async () => {
    const unhandled = trackUnhandled();
    try {
      // Load: 16 lanes of create + read, each call timed.
      let stop = false;
      const errors: Error[] = [];
      let slowest = 0;
      let ok = 0;
      const lane = async (id: number): Promise<void> => {
        let i = 0;
        while (!stop) {
          const started = Date.now();
          try {
            const t = await backend.create(pack({ id, i: i++ }), 60, null);
            await backend.read(t);
            ok++;
          } catch (e) {
            errors.push(e as Error);
            await sleep(20);
          }
          slowest = Math.max(slowest, Date.now() - started);
        }
      };
      const lanes = Array.from({ length: 16 }, (_, id) => lane(id));
      await sleep(500);
      expect(ok, 'ops before the kill').to.be.above(0);
      const victim = rc.ports[1];
      await rc.kill(victim);
      await sleep(3000);
      const okWhileDown = ok;
      await rc.restart(victim);
      await rc.waitOk(20_000);
      // every lane works again
      await eventually(15_000, async () => {
        const before = ok;
        await sleep(500);
        if (ok - before < 16) throw new Error(`only ${ok - before} ops in 500 ms after the restart`);
      });
      stop = true;
      await Promise.all(lanes);

      expect(errors.length, 'errors while the node was down').to.be.above(0);
      for (const e of errors) {
        expect(e, String(e)).to.be.instanceOf(CRUDJT.Errors.InternalError);
        expect(e.message).to.match(/^CRUDJT cluster node 127\.0\.0\.1:\d+ /);
      }
      expect(errors.some((e) => e.message.includes(`127.0.0.1:${victim}`)), 'an error names the dead node').to.equal(true);
      // create + read: two calls, each bounded by the deadline (plus timer slack)
      expect(slowest).to.be.below(2 * DEADLINE + 1000);
      expect(okWhileDown).to.be.above(0);
      expect(unhandled.count()).to.equal(0);
    } finally {
      unhandled.stop();
    }
  });
});

describe("cluster role: failover to a replica with durability 'replicated'", function () {
  this.timeout(90_000);
  let rc: RedisCluster;
  let backend: Backend;

  before(async () => {
    rc = await startRedisCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1000 });
    onCleanup(() => rc.stop());
    backend = (await openClusterBackend(
      { secret_key: SECRET, nodes: rc.nodes, deadline_ms: 2000, durability: 'replicated' },
      null,
    )) as Backend;
  });
  after(async () => {
    await backend?.close();
    await rc?.stop();
  });

  it('acknowledged tokens survive the loss of their master; calls work again after the promotion', async () => {
    const unhandled = trackUnhandled();
    try {
      const tokens: string[] = [];
      for (let i = 0; i < 200; i++) tokens.push(await backend.create(pack({ i }), 3600, 1000));
      for (const t of tokens.slice(0, 20)) expect(await backend.read(t)).to.not.equal(null);
      const masters = new Set<number>();
      for (let slot = 0; slot < 16384; slot += 4096) masters.add(await rc.masterOfSlot(slot));
      const victim = [...masters][0];
      await rc.kill(victim);
      // until the replica is promoted, calls to its slots fail clearly
      const errors: Error[] = [];
      const results = await Promise.allSettled(tokens.map((t) => backend.read(t)));
      for (const r of results) if (r.status === 'rejected') errors.push(r.reason as Error);
      for (const e of errors) {
        expect(e).to.be.instanceOf(CRUDJT.Errors.InternalError);
        expect(e.message).to.match(/^CRUDJT cluster node 127\.0\.0\.1:\d+ /);
      }
      await rc.waitOk(20_000);
      // every acknowledged token is still there, on the promoted replica
      const relaxed = (await openClusterBackend({ secret_key: SECRET, nodes: rc.nodes, deadline_ms: 2000 }, null)) as Backend;
      try {
        for (const t of tokens) {
          const r = await eventually(10_000, () => relaxed.read(t));
          expect(r, t).to.not.equal(null);
          expect(r!.metadata!.silence_read).to.be.within(996, 999);
        }
      } finally {
        await relaxed.close();
      }
      // The promoted node has no replica yet: 'replicated' writes to its
      // slots are refused clearly. The old master rejoins as its replica.
      await rc.restart(victim);
      await rc.waitOk(20_000);
      for (let i = 0; i < 20; i++) {
        const t = await eventually(10_000, () => backend.create(pack({ after: i }), null, null));
        expect(await backend.read(t)).to.deep.equal({ data: { after: i } });
      }
      expect(unhandled.count()).to.equal(0);
    } finally {
      unhandled.stop();
    }
  });
});
