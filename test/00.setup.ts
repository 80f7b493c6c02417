// Shared test setup: fresh temp directories, free ports, fixed keys, and a
// root `after` hook that removes the directories and stops child processes.
// Every test file imports from here (mocha loads only *.test.ts).
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import CRUDJT = require('../lib/index');

export { CRUDJT };

/** Fixed keys so that parent and child processes agree. */
export const SECRET = Buffer.alloc(48, 0x5a).toString('base64');
export const OTHER_SECRET = Buffer.alloc(32, 0x17).toString('base64');

const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'crudjt-test-'));
const cleanups: Array<() => Promise<void> | void> = [];

/** A fresh, empty directory under the run's temp root. */
export function tempDir(label = 'store'): string {
  return fs.mkdtempSync(path.join(ROOT, `${label}-`));
}

/** A store directory path that does not exist yet. */
export function freshStorePath(): string {
  return path.join(tempDir(), 'store_jt');
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function randomKey(bytes = 32): string {
  return crypto.randomBytes(bytes).toString('base64');
}

/** Registers work for the root after-hook (e.g. killing a child). */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

/** Starts the in-process master on a fresh store and a free port, silently. */
export async function startTestMaster(
  options: Partial<CRUDJT.StartMasterOptions> = {},
): Promise<CRUDJT.MasterInfo> {
  return CRUDJT.Config.startMaster({
    secret_key: SECRET,
    store_jt_path: freshStorePath(),
    grpc_port: 0,
    logger: null,
    ...options,
  });
}

after(async function () {
  this.timeout(20000);
  await CRUDJT.Config.shutdownServer().catch(() => undefined);
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch {
      // best effort
    }
  }
  fs.rmSync(ROOT, { recursive: true, force: true });
});
