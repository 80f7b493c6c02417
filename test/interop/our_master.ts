// Starts and stops our master in-process through the public API, on a
// fresh store directory and a free port of 127.0.0.1.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import CRUDJT = require('../../lib/index');

export { CRUDJT };

export interface RunningMaster {
  address: string;
  port: number;
  storeDir: string;
  stop(): Promise<void>;
}

export async function startOurMaster(): Promise<RunningMaster> {
  const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crudjt-interop-'));
  const info = await CRUDJT.Config.startMaster({
    secret_key: randomBytes(32).toString('base64'),
    store_jt_path: storeDir,
    grpc_host: '127.0.0.1',
    grpc_port: 0,
    logger: null,
  });
  const port = info.grpc_port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    storeDir,
    async stop() {
      await CRUDJT.Config.shutdownServer();
      fs.rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
