// Starts and stops our master in-process through the public API (via the
// shared test setup: a fresh store under the run's temp root, a free port
// of 127.0.0.1, no logging).
import { CRUDJT, startTestMaster } from '../00.setup';

export { CRUDJT };

export interface RunningMaster {
  address: string;
  port: number;
  storeDir: string;
  stop(): Promise<void>;
}

export async function startOurMaster(): Promise<RunningMaster> {
  const info = await startTestMaster({ grpc_host: '127.0.0.1' });
  return {
    address: `127.0.0.1:${info.grpc_port}`,
    port: info.grpc_port,
    storeDir: info.store_jt_path,
    async stop() {
      await CRUDJT.Config.shutdownServer();
    },
  };
}
