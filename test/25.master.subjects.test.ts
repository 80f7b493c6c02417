import { CRUDJT, startTestMaster } from './00.setup';
import { subjectBehaviour } from './helpers/api-behaviour';

describe('subjects (log out everywhere) in the master role', () => {
  describe("durability 'background'", () => {
    before(async () => {
      await startTestMaster();
    });
    after(async () => {
      await CRUDJT.Config.shutdownServer();
    });
    subjectBehaviour();
  });

  describe("durability 'sync' (async engine calls)", () => {
    before(async () => {
      await startTestMaster({ durability: 'sync' });
    });
    after(async () => {
      await CRUDJT.Config.shutdownServer();
    });
    subjectBehaviour();
  });

  describe('without the read cache', () => {
    before(async () => {
      await startTestMaster({ cache: false });
    });
    after(async () => {
      await CRUDJT.Config.shutdownServer();
    });
    subjectBehaviour();
  });
});
