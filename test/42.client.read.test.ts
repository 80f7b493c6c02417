import { readBehaviour } from './helpers/api-behaviour';
import { useChildMaster } from './helpers/child';

describe('CRUDJT.read() in the client role (master in a child process)', () => {
  useChildMaster();

  readBehaviour();
});
