import { CRUDJT, startTestMaster } from './00.setup';
import { touchBehaviour } from './helpers/api-behaviour';

describe('CRUDJT.touch() (sliding expiry) in the master role', function () {
  this.timeout(60_000);
  describe("durability 'background'", () => {
    before(async () => {
      await startTestMaster();
    });
    after(async () => {
      await CRUDJT.Config.shutdownServer();
    });
    touchBehaviour();
  });

  describe("durability 'sync' (async engine calls)", () => {
    before(async () => {
      await startTestMaster({ durability: 'sync' });
    });
    after(async () => {
      await CRUDJT.Config.shutdownServer();
    });
    touchBehaviour();
  });
});
