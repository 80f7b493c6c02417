import { expect } from 'chai';
import { CRUDJT, freePort, freshStorePath, startTestMaster } from './00.setup';
import { expectReject } from './helpers/assert';
import { RoleChild } from './helpers/child';

const { InvalidState, InternalError, Unavailable } = CRUDJT.Errors;

describe('CRUDJT.Config.connectToMaster()', () => {
  afterEach(async () => {
    await CRUDJT.Config.shutdownServer();
  });

  it('switches the process to the client role synchronously', () => {
    const r = CRUDJT.Config.connectToMaster({ grpc_port: 1 });
    expect(r).to.equal(undefined);
    expect(CRUDJT.Config.role()).to.equal('client');
  });

  it('rejects misspelled options and bad values with TypeError / RangeError', () => {
    expect(() => CRUDJT.Config.connectToMaster({ grpc_prt: 1 } as never)).to.throw(TypeError, /'grpc_prt'/);
    expect(() => CRUDJT.Config.connectToMaster({ grpc_port: 0 })).to.throw(RangeError, /grpc_port/);
    expect(() => CRUDJT.Config.connectToMaster({ grpc_port: '50051' as never })).to.throw(TypeError, /grpc_port/);
    expect(() => CRUDJT.Config.connectToMaster({ grpc_host: '' })).to.throw(TypeError, /grpc_host/);
    expect(() => CRUDJT.Config.connectToMaster({ deadline_ms: 0 })).to.throw(TypeError, /deadline_ms/);
    expect(CRUDJT.Config.role()).to.equal(null);
  });

  it('refuses startMaster() while this process is a client', async () => {
    CRUDJT.Config.connectToMaster({ grpc_port: 1 });
    await expectReject(startTestMaster(), InvalidState, 'CRUDJT already started');
  });

  it('fails fast with Unavailable naming host:port when no master listens', async () => {
    const port = await freePort();
    CRUDJT.Config.connectToMaster({ grpc_port: port, deadline_ms: 1000 });
    const started = Date.now();
    const err = await expectReject(CRUDJT.create({ a: 1 }), Unavailable, new RegExp(`127\\.0\\.0\\.1:${port}`));
    expect(err).to.be.instanceOf(InternalError);
    expect((err as CRUDJT.InternalError).code).to.equal('XX000');
    expect(Date.now() - started).to.be.below(1500);
    await expectReject(CRUDJT.read('AAAAAAAAAAAAAAAAAAAAAA'), Unavailable);
    await expectReject(CRUDJT.update('AAAAAAAAAAAAAAAAAAAAAA', { a: 1 }), Unavailable);
    await expectReject(CRUDJT.delete('AAAAAAAAAAAAAAAAAAAAAA'), Unavailable);
  });

  it('validates arguments locally before calling the master', async () => {
    const port = await freePort();
    CRUDJT.Config.connectToMaster({ grpc_port: port, deadline_ms: 1000 });
    // Not Unavailable: the bad argument is caught before the wire.
    await expectReject(CRUDJT.create([] as never), TypeError, 'Must be a Hash (Object)');
    await expectReject(CRUDJT.read(''), TypeError, 'token must be a non-empty String');
  });

  it('shutdownServer() closes the channel and returns to idle', async () => {
    CRUDJT.Config.connectToMaster({ grpc_port: 1 });
    await CRUDJT.Config.shutdownServer();
    expect(CRUDJT.Config.role()).to.equal(null);
    await expectReject(CRUDJT.read('x'), InvalidState, 'CRUDJT has not started');
  });

  it('can reconnect to another master by calling it again', async function () {
    this.timeout(20000);
    const a = await RoleChild.master({ store_jt_path: freshStorePath() });
    const b = await RoleChild.master({ store_jt_path: freshStorePath() });
    try {
      CRUDJT.Config.connectToMaster({ grpc_port: a.port });
      const token = await CRUDJT.create({ on: 'a' });
      CRUDJT.Config.connectToMaster({ grpc_port: b.port });
      expect(await CRUDJT.read(token)).to.equal(null);
      CRUDJT.Config.connectToMaster({ grpc_port: a.port });
      expect(await CRUDJT.read(token)).to.deep.equal({ data: { on: 'a' } });
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
