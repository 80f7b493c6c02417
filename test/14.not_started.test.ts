import { expect } from 'chai';
import { CRUDJT, startTestMaster } from './00.setup';
import { notStartedBehaviour } from './helpers/api-behaviour';

describe('CRUDJT before start', () => {
  it('exports create, read, update, delete, touch, revokeSubject, listSubject, revokeHandle, Config and Errors', () => {
    expect(Object.keys(CRUDJT).sort()).to.deep.equal([
      'Config', 'Errors', 'create', 'delete', 'listSubject', 'read', 'revokeHandle', 'revokeSubject', 'touch', 'update',
    ]);
    expect(CRUDJT.Config.role()).to.equal(null);
  });

  notStartedBehaviour();

  describe('after shutdownServer()', () => {
    before(async () => {
      await startTestMaster();
      await CRUDJT.Config.shutdownServer();
    });
    notStartedBehaviour();
  });
});
