import { updateBehaviour } from './helpers/api-behaviour';
import { useChildMaster } from './helpers/child';

describe('CRUDJT.update() in the client role (master in a child process)', () => {
  useChildMaster();

  updateBehaviour();
});
