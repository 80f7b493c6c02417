import { CRUDJT, freshStorePath } from './00.setup';
import { updateBehaviour } from './helpers/api-behaviour';
import { RoleChild } from './helpers/child';

describe('CRUDJT.update() in the client role (master in a child process)', () => {
  let master: RoleChild;
  before(async function () {
    this.timeout(20000);
    master = await RoleChild.master({ store_jt_path: freshStorePath() });
    CRUDJT.Config.connectToMaster({ grpc_port: master.port });
  });
  after(async () => {
    await CRUDJT.Config.shutdownServer();
    await master.stop();
  });

  updateBehaviour();
});
