import { deleteBehaviour } from './helpers/api-behaviour';
import { useChildMaster } from './helpers/child';

describe('CRUDJT.delete() in the client role (master in a child process)', () => {
  useChildMaster();

  deleteBehaviour();
});
