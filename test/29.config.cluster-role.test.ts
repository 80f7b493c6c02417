// Config.connectToCluster / disconnect / role() wiring (the cluster backend
// itself is tested by test/8x against a real Redis Cluster).
import { expect } from 'chai';
import { CRUDJT, SECRET, startTestMaster } from './00.setup';
import { expectReject } from './helpers/assert';

describe('Config.connectToCluster() and Config.disconnect()', () => {
  afterEach(async () => {
    await CRUDJT.Config.disconnect();
  });

  it('disconnect is shutdownServer', () => {
    expect(CRUDJT.Config.disconnect).to.equal(CRUDJT.Config.shutdownServer);
  });

  it('rejects bad options with TypeError and stays idle', async () => {
    for (const bad of [null, 5, 'x', []]) {
      await expectReject(CRUDJT.Config.connectToCluster(bad as never), TypeError, /connectToCluster options must be an object/);
    }
    await expectReject(CRUDJT.Config.connectToCluster({ secret_key: SECRET, nodes: [] }), TypeError, /nodes/);
    await expectReject(CRUDJT.Config.connectToCluster({ secret_key: SECRET, nodes: ['127.0.0.1:7000'], logger: 5 }), TypeError, /logger/);
    expect(CRUDJT.Config.role()).to.equal(null);
    await expectReject(CRUDJT.read('AAAAAAAAAAAAAAAAAAAAAA'), CRUDJT.Errors.InvalidState, 'CRUDJT has not started');
  });

  it('refuses while another role is active', async () => {
    await startTestMaster();
    await expectReject(
      CRUDJT.Config.connectToCluster({ secret_key: SECRET, nodes: ['127.0.0.1:7000'] }),
      CRUDJT.Errors.InvalidState,
      'CRUDJT already started',
    );
    expect(CRUDJT.Config.role()).to.equal('master');
    await CRUDJT.Config.disconnect();
    expect(CRUDJT.Config.role()).to.equal(null);
  });
});
