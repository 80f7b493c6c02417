// crudjt-server migrate --to-cluster (lib/cluster/migrate.ts): the live
// tokens of a stopped single-host store continue in the cluster role with
// their data, remaining lifetime, reads left and subject; expired, deleted
// and exhausted ones stay behind; a second run copies nothing twice; a store
// held by a running master is refused.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { CRUDJT, freshStorePath, onCleanup, OTHER_SECRET, SECRET, sleep, startTestMaster, tempDir } from './00.setup';
import { sharedRedisCluster, type RedisCluster } from './helpers/redis-cluster';
import { openClusterBackend } from '../lib/cluster/index';
import { migrateMain } from '../lib/cluster/migrate';

type Backend = Awaited<ReturnType<typeof openClusterBackend>> & Record<string, any>;

async function quiet<T>(fn: () => Promise<T>): Promise<{ value: T; out: string; err: string }> {
  const log = console.log;
  const error = console.error;
  let out = '';
  let err = '';
  console.log = (...a: unknown[]) => void (out += a.join(' ') + '\n');
  console.error = (...a: unknown[]) => void (err += a.join(' ') + '\n');
  try {
    return { value: await fn(), out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

describe('crudjt-server migrate --to-cluster', function () {
  this.timeout(60_000);
  let rc: RedisCluster;
  let keyFile: string;
  const prefix = `mig${process.pid}:`;

  before(async () => {
    rc = await sharedRedisCluster();
    onCleanup(() => rc.stop());
    keyFile = path.join(tempDir('key'), 'secret_key.txt');
    fs.writeFileSync(keyFile, SECRET + '\n');
  });

  it('copies live tokens with data, ttl, reads left and subject; leaves dead ones; is idempotent', async () => {
    const store = freshStorePath();
    await startTestMaster({ store_jt_path: store });
    const plain = await CRUDJT.create({ user: 1 });
    const limited = await CRUDJT.create({ user: 2, role: 'admin' }, 3600, 5);
    await CRUDJT.read(limited); // 4 reads left
    const withSubject = (CRUDJT as any).touch
      ? await (CRUDJT.create as any)({ user: 3 }, 600, null, { subject: 'user-3' })
      : await CRUDJT.create({ user: 3 }, 600);
    const expiring = await CRUDJT.create({ user: 4 }, 1);
    const deleted = await CRUDJT.create({ user: 5 });
    await CRUDJT.delete(deleted);
    const exhausted = await CRUDJT.create({ user: 6 }, null, 1);
    await CRUDJT.read(exhausted);
    await CRUDJT.Config.shutdownServer();
    await sleep(1100);

    const args = ['--to-cluster', '--store', store, '--secret-key-file', keyFile, '--nodes', rc.nodes.join(','), '--prefix', prefix];
    const first = await quiet(() => migrateMain(args));
    expect(first.value, first.err + first.out).to.equal(0);
    expect(first.out).to.match(/migrate: 3 tokens copied/);
    for (const t of [plain, limited, withSubject]) {
      expect(first.out + first.err).to.not.include(t);
    }

    const b = (await openClusterBackend({ secret_key: SECRET, nodes: rc.nodes, prefix }, null)) as Backend;
    try {
      expect(await b.read(plain)).to.deep.equal({ data: { user: 1 } });
      const l1: any = await b.read(limited);
      expect(l1.data).to.deep.equal({ user: 2, role: 'admin' });
      expect(l1.metadata.silence_read).to.equal(3);
      expect(l1.metadata.ttl).to.be.within(3595, 3599);
      const r: any = await b.read(withSubject);
      expect(r.data).to.deep.equal({ user: 3 });
      expect(r.metadata.ttl).to.be.within(595, 600);
      for (const t of [expiring, deleted, exhausted]) expect(await b.read(t)).to.equal(null);

      // a second run finds everything there and overwrites nothing
      const second = await quiet(() => migrateMain(args));
      expect(second.value, second.err).to.equal(0);
      expect(second.out).to.match(/migrate: 0 tokens copied .* 3 already there/);
      expect(((await b.read(limited)) as any).metadata.silence_read).to.equal(2);

      if ((CRUDJT as any).touch) {
        const list = await b.listSubject('user-3');
        expect(list).to.have.length(1);
        expect(await b.revokeSubject('user-3')).to.equal(1);
        expect(await b.read(withSubject)).to.equal(null);
      }
    } finally {
      await b.close();
    }
  });

  it('refuses a store held by a running master, and bad arguments, with a clear message', async () => {
    const store = freshStorePath();
    await startTestMaster({ store_jt_path: store });
    try {
      const held = await quiet(() => migrateMain(['--to-cluster', '--store', store, '--secret-key-file', keyFile, '--nodes', rc.nodes[0]]));
      expect(held.value).to.equal(1);
      expect(held.err).to.include(store);
    } finally {
      await CRUDJT.Config.shutdownServer();
    }
    const noTarget = await quiet(() => migrateMain(['--store', store, '--secret-key-file', keyFile, '--nodes', rc.nodes[0]]));
    expect(noTarget.value).to.equal(2);
    expect(noTarget.err).to.match(/--to-cluster/);
    const noKey = await quiet(() => migrateMain(['--to-cluster', '--store', store, '--secret-key-file', '/nonexistent/key', '--nodes', rc.nodes[0]]));
    expect(noKey.value).to.equal(2);
    expect(noKey.err).to.match(/cannot read --secret-key-file \/nonexistent\/key/);
    const badNode = await quiet(() => migrateMain(['--to-cluster', '--store', store, '--secret-key-file', keyFile, '--nodes', 'nohostport']));
    expect(badNode.value).to.equal(1);
    expect(badNode.err).to.match(/nodes\[0\] must be a 'host:port' string/);
  });

  it('refuses a cluster prefix whose tokens are hashed under another key (the copies could not be found)', async () => {
    const store = freshStorePath();
    await startTestMaster({ store_jt_path: store });
    const token = await CRUDJT.create({ user: 7 });
    await CRUDJT.Config.shutdownServer();
    const taken = `mig-other${process.pid}:`;
    const other = (await openClusterBackend({ secret_key: OTHER_SECRET, nodes: rc.nodes, prefix: taken }, null)) as Backend;
    await other.close(); // its index key is now the prefix's
    const r = await quiet(() =>
      migrateMain(['--to-cluster', '--store', store, '--secret-key-file', keyFile, '--nodes', rc.nodes.join(','), '--prefix', taken]),
    );
    expect(r.value).to.equal(1);
    expect(r.err).to.match(/hashed under another key/);
    const mine = (await openClusterBackend({ secret_key: SECRET, nodes: rc.nodes, prefix: taken }, null)) as Backend;
    try {
      expect(await mine.read(token)).to.equal(null);
    } finally {
      await mine.close();
    }
  });
});
