import { expect } from 'chai';
import { CRUDJT, freshStorePath, startTestMaster } from './00.setup';
import { expectReject } from './helpers/assert';
import { RoleChild } from './helpers/child';
import { GrpcClientBackend } from '../lib/grpc/client';
import { pack } from '../lib/msgpack';

describe('master and client roles together', () => {
  describe('client here, master in a child process', () => {
    let master: RoleChild;
    before(async function () {
      this.timeout(20000);
      master = await RoleChild.master({ store_jt_path: freshStorePath() });
      CRUDJT.Config.connectToMaster({ grpc_port: master.port });
    });
    after(async () => {
      await CRUDJT.Config.shutdownServer();
      await master.stop();
    });

    it('a token created by the client is read by the master', async () => {
      const token = await CRUDJT.create({ from: 'client' }, 60, 3);
      expect(await master.call('read', token)).to.deep.equal({ metadata: { ttl: 60, silence_read: 2 }, data: { from: 'client' } });
      expect(await CRUDJT.read(token)).to.deep.equal({ metadata: { ttl: 60, silence_read: 1 }, data: { from: 'client' } });
    });

    it('a token created by the master is read by the client', async () => {
      const token = await master.call<string>('create', { from: 'master' });
      expect(await CRUDJT.read(token)).to.deep.equal({ data: { from: 'master' } });
    });

    it("the client's update and delete are visible to the master's (cached) reads at once", async () => {
      const token = await master.call<string>('create', { v: 1 });
      expect(await master.call('read', token)).to.deep.equal({ data: { v: 1 } });
      expect(await master.call('read', token)).to.deep.equal({ data: { v: 1 } });
      expect(await CRUDJT.update(token, { v: 2 })).to.equal(true);
      expect(await master.call('read', token)).to.deep.equal({ data: { v: 2 } });
      expect(await CRUDJT.delete(token)).to.equal(true);
      expect(await master.call('read', token)).to.equal(null);
    });

    it('errors raised in the master come back as the same class and message', async () => {
      // Bypass the client's own validation to make the master refuse.
      const raw = new GrpcClientBackend('127.0.0.1', master.port, 5000);
      try {
        await expectReject(raw.create(Buffer.from([0x92, 0x01, 0x02]), null, null), TypeError, 'Must be a Hash (Object)');
        await expectReject(raw.create(Buffer.from([0x80]), null, null), TypeError, 'Hash can not be empty');
        await expectReject(raw.create(pack({ a: 'x'.repeat(300) }), null, null), RangeError, 'Hash can not be bigger than 256 bytesize');
        await expectReject(raw.create(pack({ a: 1 }), -5 as never, null), RangeError, /^ttl /);
        await expectReject(raw.read(''), TypeError, 'token must be a non-empty String');
      } finally {
        await raw.close();
      }
    });

    it("the master's update is visible to the client at once", async () => {
      const token = await CRUDJT.create({ v: 1 });
      expect(await CRUDJT.read(token)).to.deep.equal({ data: { v: 1 } });
      expect(await master.call('update', token, { v: 2 }, 30)).to.equal(true);
      expect(await CRUDJT.read(token)).to.deep.equal({ metadata: { ttl: 30 }, data: { v: 2 } });
    });
  });

  describe('master here, client in a child process', () => {
    let client: RoleChild;
    before(async function () {
      this.timeout(20000);
      const info = await startTestMaster();
      client = await RoleChild.client({ grpc_port: info.grpc_port });
    });
    after(async () => {
      await client.stop();
      await CRUDJT.Config.shutdownServer();
    });

    it('tokens flow both ways', async () => {
      const mine = await CRUDJT.create({ by: 'master' }, null, 2);
      expect(await client.call('read', mine)).to.deep.equal({ metadata: { silence_read: 1 }, data: { by: 'master' } });
      const theirs = await client.call<string>('create', { by: 'client' });
      expect(await CRUDJT.read(theirs)).to.deep.equal({ data: { by: 'client' } });
    });

    it('errors from the client child keep their class', async () => {
      await expectReject(client.call('create', {}), TypeError, 'Hash can not be empty');
      await expectReject(client.call('create', { a: 'x'.repeat(300) }), RangeError, 'Hash can not be bigger than 256 bytesize');
    });
  });
});
