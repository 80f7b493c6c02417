import { CRUDJT, startTestMaster } from './00.setup';
import { updateBehaviour } from './helpers/api-behaviour';

describe('CRUDJT.update() in the master role', () => {
  before(async () => {
    await startTestMaster();
  });
  after(async () => {
    await CRUDJT.Config.shutdownServer();
  });

  updateBehaviour();
});
