import { CRUDJT, startTestMaster } from './00.setup';
import { deleteBehaviour } from './helpers/api-behaviour';

describe('CRUDJT.delete() in the master role', () => {
  before(async () => {
    await startTestMaster();
  });
  after(async () => {
    await CRUDJT.Config.shutdownServer();
  });

  deleteBehaviour();
});
