// Backend.put in the master role (internal: the express-session store's
// write under an id the framework chose; engine op [5, ...] of applyBatch).
import { CRUDJT, startTestMaster } from './00.setup';
import { putBehaviour } from './helpers/api-behaviour';

describe('MasterStore.put (a record under a chosen token)', function () {
  this.timeout(60_000);
  describe("durability 'background'", () => {
    before(async () => {
      await startTestMaster();
    });
    after(async () => {
      await CRUDJT.Config.shutdownServer();
    });
    putBehaviour({ engineSubjects: true });
  });

  describe("durability 'sync' (applyBatchAsync)", () => {
    before(async () => {
      await startTestMaster({ durability: 'sync' });
    });
    after(async () => {
      await CRUDJT.Config.shutdownServer();
    });
    putBehaviour({ engineSubjects: true });
  });

  describe('without the read cache', () => {
    before(async () => {
      await startTestMaster({ cache: false });
    });
    after(async () => {
      await CRUDJT.Config.shutdownServer();
    });
    putBehaviour({ engineSubjects: true });
  });
});
