// Where the master keeps its store when store_jt_path is not given, in the
// order the published SDKs use: the system location when it is writable
// (or can be created), else `store_jt` in the project root, the directory
// of the nearest package.json above the working directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type StorePathSource = 'option' | 'system' | 'project';

export interface ResolvedStorePath {
  path: string;
  source: StorePathSource;
}

export function systemStorePath(platform: NodeJS.Platform = os.platform()): string | null {
  switch (platform) {
    case 'linux':
      return '/var/lib/store_jt';
    case 'darwin':
      return '/usr/local/var/store_jt';
    case 'win32':
      return 'C:\\Program Files\\store_jt';
    default:
      return null;
  }
}

/** True when `dir` exists and is writable, or can be created. */
export function isWritableOrCreatable(dir: string): boolean {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The directory of the nearest package.json at or above `cwd`, else cwd. */
export function projectRoot(cwd: string = process.cwd()): string {
  let dir = path.resolve(cwd);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(cwd);
    dir = parent;
  }
}

export function resolveStorePath(
  explicit: string | undefined,
  env: { platform?: NodeJS.Platform; cwd?: string; systemPath?: string | null } = {},
): ResolvedStorePath {
  if (explicit !== undefined) {
    return { path: path.resolve(env.cwd ?? process.cwd(), explicit), source: 'option' };
  }
  const system = env.systemPath !== undefined ? env.systemPath : systemStorePath(env.platform);
  if (system !== null && isWritableOrCreatable(system)) {
    return { path: system, source: 'system' };
  }
  return { path: path.join(projectRoot(env.cwd), 'store_jt'), source: 'project' };
}
