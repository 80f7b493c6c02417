import { expect } from 'chai';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CRUDJT, freePort, freshStorePath, OTHER_SECRET, SECRET, startTestMaster, tempDir } from './00.setup';
import { callAsync, expectReject } from './helpers/assert';
import { RoleChild } from './helpers/child';

const { InvalidState, InternalError } = CRUDJT.Errors;

function recordingLogger(): { info: string[]; warn: string[]; logger: CRUDJT.Logger } {
  const info: string[] = [];
  const warn: string[] = [];
  return { info, warn, logger: { info: (m) => info.push(m), warn: (m) => warn.push(m) } };
}

describe('CRUDJT.Config.startMaster()', () => {
  afterEach(async () => {
    await CRUDJT.Config.shutdownServer();
  });

  for (const [label, opts] of [
    ['no options', undefined],
    ['no secret_key', { store_jt_path: '/nonexistent' }],
    ['an empty secret_key', { secret_key: '' }],
    ['a whitespace secret_key', { secret_key: '   ' }],
    ['a null secret_key', { secret_key: null }],
  ] as Array<[string, unknown]>) {
    it(`rejects ${label} with InvalidState 'Secret key is blank'`, async () => {
      const err = await expectReject(callAsync(() => CRUDJT.Config.startMaster(opts as never)), InvalidState, 'Secret key is blank');
      expect((err as CRUDJT.InvalidState).code).to.equal('55JT01');
    });
  }

  it("rejects a key that is not strict base64 with TypeError ''secret_key' must be a valid Base64 string'", async () => {
    await expectReject(CRUDJT.Config.startMaster({ secret_key: 'not*base64', logger: null }), TypeError, "'secret_key' must be a valid Base64 string");
  });

  it('rejects a key of the wrong size naming the size', async () => {
    await expectReject(
      CRUDJT.Config.startMaster({ secret_key: Buffer.alloc(16).toString('base64'), logger: null }),
      TypeError,
      "'secret_key' must be exactly 32, 48, or 64 bytes. Got 16 bytes",
    );
  });

  it('rejects a misspelled option with a TypeError naming it', async () => {
    await expectReject(
      CRUDJT.Config.startMaster({ secret_key: SECRET, grpc_prot: 1 } as never),
      TypeError,
      /'grpc_prot'/,
    );
    expect(CRUDJT.Config.role()).to.equal(null);
  });

  it('rejects a bad durability and a bad port', async () => {
    await expectReject(CRUDJT.Config.startMaster({ secret_key: SECRET, durability: 'never' as never }), TypeError, /durability/);
    await expectReject(CRUDJT.Config.startMaster({ secret_key: SECRET, grpc_port: 70000 }), RangeError, /grpc_port/);
  });

  it("rejects a second start with InvalidState 'CRUDJT already started'", async () => {
    await startTestMaster();
    await expectReject(startTestMaster(), InvalidState, 'CRUDJT already started');
    // A blank key is reported first, as the published SDKs do.
    await expectReject(CRUDJT.Config.startMaster({ secret_key: '' }), InvalidState, 'Secret key is blank');
  });

  it('rejects two concurrent starts: one wins', async () => {
    const results = await Promise.allSettled([startTestMaster(), startTestMaster()]);
    expect(results.map((r) => r.status).sort()).to.deep.equal(['fulfilled', 'rejected']);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).to.be.instanceOf(InvalidState);
    expect(rejected.reason.message).to.equal('CRUDJT already started');
  });

  it('resolves with the store path and the bound port, and serves the API', async () => {
    const store = freshStorePath();
    const info = await startTestMaster({ store_jt_path: store });
    expect(info.store_jt_path).to.equal(store);
    expect(info.store_jt_path_source).to.equal('option');
    expect(info.grpc_host).to.equal('127.0.0.1');
    expect(info.grpc_port).to.be.greaterThan(0);
    expect(CRUDJT.Config.role()).to.equal('master');
    const token = await CRUDJT.create({ a: 1 });
    expect(await CRUDJT.read(token)).to.deep.equal({ data: { a: 1 } });
  });

  it('binds the requested port', async () => {
    const port = await freePort();
    const info = await startTestMaster({ grpc_port: port });
    expect(info.grpc_port).to.equal(port);
  });

  it('logs the chosen store path once through the logger', async () => {
    const rec = recordingLogger();
    const store = freshStorePath();
    await startTestMaster({ store_jt_path: store, logger: rec.logger });
    expect(rec.info).to.have.length(1);
    expect(rec.info[0]).to.contain(store);
    expect(rec.warn).to.have.length(0);
  });

  it('fails with InternalError naming host:port when the port is taken, and releases the store', async () => {
    const blocker = net.createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)));
    const store = freshStorePath();
    try {
      await expectReject(startTestMaster({ store_jt_path: store, grpc_port: port }), InternalError, new RegExp(`127\\.0\\.0\\.1:${port}`));
      expect(CRUDJT.Config.role()).to.equal(null);
    } finally {
      blocker.close();
    }
    // The store was closed (its lock released): it opens again at once.
    await startTestMaster({ store_jt_path: store });
    expect(CRUDJT.Config.role()).to.equal('master');
  });

  it('starts again after shutdownServer(), keeping the tokens', async () => {
    const store = freshStorePath();
    await startTestMaster({ store_jt_path: store });
    const token = await CRUDJT.create({ kept: true }, 3600, 5);
    await CRUDJT.read(token);
    await CRUDJT.Config.shutdownServer();
    expect(CRUDJT.Config.role()).to.equal(null);
    await startTestMaster({ store_jt_path: store });
    expect(await CRUDJT.read(token)).to.deep.equal({ metadata: { ttl: 3600, silence_read: 3 }, data: { kept: true } });
  });

  it('shutdownServer() is harmless when nothing runs', async () => {
    await CRUDJT.Config.shutdownServer();
    await CRUDJT.Config.shutdownServer();
  });

  it('warns when the secret key differs from the store\'s, and old tokens read as null / false', async () => {
    const store = freshStorePath();
    await startTestMaster({ store_jt_path: store });
    const token = await CRUDJT.create({ a: 1 });
    await CRUDJT.Config.shutdownServer();
    const rec = recordingLogger();
    const info = await startTestMaster({ store_jt_path: store, secret_key: OTHER_SECRET, logger: rec.logger });
    expect(info.key_changed).to.equal(true);
    expect(rec.warn).to.have.length(1);
    expect(rec.warn[0]).to.match(/secret key differs/);
    expect(await CRUDJT.read(token)).to.equal(null);
    expect(await CRUDJT.update(token, { a: 2 })).to.equal(false);
    expect(await CRUDJT.delete(token)).to.equal(false);
  });

  it('works with durability "sync"', async () => {
    await startTestMaster({ durability: 'sync' });
    const token = await CRUDJT.create({ a: 1 }, 60, 3);
    expect(await CRUDJT.read(token)).to.deep.equal({ metadata: { ttl: 60, silence_read: 2 }, data: { a: 1 } });
    expect(await CRUDJT.update(token, { a: 2 })).to.equal(true);
    expect(await CRUDJT.read(token)).to.deep.equal({ data: { a: 2 } });
    expect(await CRUDJT.delete(token)).to.equal(true);
    expect(await CRUDJT.read(token)).to.equal(null);
  });

  it('works with the cache disabled', async () => {
    await startTestMaster({ cache: false });
    const token = await CRUDJT.create({ a: 1 });
    expect(await CRUDJT.read(token)).to.deep.equal({ data: { a: 1 } });
    expect(await CRUDJT.read(token)).to.deep.equal({ data: { a: 1 } });
  });

  it('refuses connectToMaster() while this process is the master', async () => {
    await startTestMaster();
    expect(() => CRUDJT.Config.connectToMaster({ grpc_port: 1 })).to.throw(InvalidState, 'CRUDJT already started');
  });

  it('fails with InternalError naming the path when the store path is a file', async () => {
    const file = path.join(tempDir(), 'not-a-dir');
    fs.writeFileSync(file, 'x');
    await expectReject(startTestMaster({ store_jt_path: file }), InternalError, new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    expect(CRUDJT.Config.role()).to.equal(null);
  });

  it('fails with InternalError naming the file when the page file is corrupt', async () => {
    const store = freshStorePath();
    await startTestMaster({ store_jt_path: store });
    await CRUDJT.create({ a: 1 });
    await CRUDJT.Config.shutdownServer();
    const pages = fs.readdirSync(store).find((f) => f.endsWith('.pages'));
    expect(pages, 'a page file').to.be.a('string');
    const file = path.join(store, pages!);
    fs.writeFileSync(file, Buffer.alloc(fs.statSync(file).size, 0xab));
    const err = await expectReject(startTestMaster({ store_jt_path: store }), InternalError);
    expect(err.message).to.contain(file);
    expect((err as CRUDJT.InternalError).code).to.equal('XX000');
    expect(CRUDJT.Config.role()).to.equal(null);
  });

  it('refuses a store locked by another master with InvalidState naming the path and the pid', async function () {
    this.timeout(20000);
    const store = freshStorePath();
    const child = await RoleChild.master({ store_jt_path: store });
    try {
      const err = await expectReject(startTestMaster({ store_jt_path: store }), InvalidState);
      expect(err.message).to.contain(store);
      expect(err.message).to.contain(String(child.pid));
      expect(CRUDJT.Config.role()).to.equal(null);
    } finally {
      await child.stop();
    }
    // Once the other master is gone the store opens.
    await startTestMaster({ store_jt_path: store });
  });
});
