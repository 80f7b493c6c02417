import { CRUDJT, startTestMaster } from './00.setup';
import { readBehaviour } from './helpers/api-behaviour';

describe('CRUDJT.read() in the master role', () => {
  before(async () => {
    await startTestMaster();
  });
  after(async () => {
    await CRUDJT.Config.shutdownServer();
  });

  readBehaviour();
});
