import { CRUDJT, startTestMaster } from './00.setup';
import { createBehaviour } from './helpers/api-behaviour';

describe('CRUDJT.create() in the master role', () => {
  before(async () => {
    await startTestMaster();
  });
  after(async () => {
    await CRUDJT.Config.shutdownServer();
  });

  createBehaviour();
});
