import { expect } from 'chai';
import { CRUDJT, freePort, freshStorePath, sleep, startTestMaster } from './00.setup';
import { expectReject } from './helpers/assert';
import { RoleChild } from './helpers/child';

const { Unavailable } = CRUDJT.Errors;

/** Retries `fn` until it resolves or `ms` pass. */
async function eventually<T>(fn: () => Promise<T>, ms: number): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > until) throw e;
      await sleep(100);
    }
  }
}

describe('restarts', () => {
  afterEach(async () => {
    await CRUDJT.Config.shutdownServer();
  });

  it('a master restarted on the same store keeps tokens, limits and deletions', async () => {
    const store = freshStorePath();
    await startTestMaster({ store_jt_path: store });
    const plain = await CRUDJT.create({ n: 1 });
    const limited = await CRUDJT.create({ n: 2 }, 3600, 4);
    const gone = await CRUDJT.create({ n: 3 });
    const updated = await CRUDJT.create({ n: 4 });
    await CRUDJT.read(limited);
    await CRUDJT.delete(gone);
    await CRUDJT.update(updated, { n: 5 }, null, 9);
    await CRUDJT.Config.shutdownServer();

    await startTestMaster({ store_jt_path: store });
    expect(await CRUDJT.read(plain)).to.deep.equal({ data: { n: 1 } });
    expect(await CRUDJT.read(limited)).to.deep.equal({ metadata: { ttl: 3600, silence_read: 2 }, data: { n: 2 } });
    expect(await CRUDJT.read(gone)).to.equal(null);
    expect(await CRUDJT.read(updated)).to.deep.equal({ metadata: { silence_read: 8 }, data: { n: 5 } });
  });

  it('a master killed with SIGKILL loses no acknowledged write', async function () {
    this.timeout(20000);
    const store = freshStorePath();
    const child = await RoleChild.master({ store_jt_path: store });
    const tokens: string[] = [];
    for (let i = 0; i < 20; i++) tokens.push(await child.call<string>('create', { i }, null, 10));
    await child.call('read', tokens[0]);
    await child.call('delete', tokens[1]);
    await child.kill('SIGKILL');

    await startTestMaster({ store_jt_path: store });
    expect(await CRUDJT.read(tokens[0])).to.deep.equal({ metadata: { silence_read: 8 }, data: { i: 0 } });
    expect(await CRUDJT.read(tokens[1])).to.equal(null);
    for (let i = 2; i < 20; i++) {
      expect(await CRUDJT.read(tokens[i])).to.deep.equal({ metadata: { silence_read: 9 }, data: { i } });
    }
  });

  it('a client gets Unavailable within its deadline while the master is down, and works again after it restarts', async function () {
    this.timeout(30000);
    const store = freshStorePath();
    const port = await freePort();
    let master = await RoleChild.master({ store_jt_path: store, grpc_port: port });
    CRUDJT.Config.connectToMaster({ grpc_port: port, deadline_ms: 1000 });
    const token = await CRUDJT.create({ survives: true });
    await master.kill('SIGKILL');

    const started = Date.now();
    await expectReject(CRUDJT.read(token), Unavailable, new RegExp(`127\\.0\\.0\\.1:${port}`));
    expect(Date.now() - started).to.be.below(2000);

    master = await RoleChild.master({ store_jt_path: store, grpc_port: port });
    try {
      const r = await eventually(() => CRUDJT.read(token), 5000);
      expect(r).to.deep.equal({ data: { survives: true } });
    } finally {
      await master.stop();
    }
  });
});
