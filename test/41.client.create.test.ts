import { createBehaviour } from './helpers/api-behaviour';
import { useChildMaster } from './helpers/child';

describe('CRUDJT.create() in the client role (master in a child process)', () => {
  useChildMaster();

  createBehaviour();
});
