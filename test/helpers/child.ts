// Starts test/helpers/master-process.ts as a child process and talks to it
// over IPC, so that tests can run a master (or a client) in another process.
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { CRUDJT, freshStorePath, onCleanup, SECRET } from '../00.setup';

const SCRIPT = path.join(__dirname, 'master-process.ts');

export interface ChildError {
  name: string;
  message: string;
  code?: string;
}

/** Rebuilds an error from the child as the same public class. */
export function reviveError(e: ChildError): Error {
  switch (e.name) {
    case 'TypeError':
      return new TypeError(e.message);
    case 'RangeError':
      return new RangeError(e.message);
    case 'InvalidState':
      return new CRUDJT.Errors.InvalidState(e.message);
    case 'Unavailable':
      return new CRUDJT.Errors.Unavailable(e.message);
    case 'InternalError':
      return new CRUDJT.Errors.InternalError(e.message);
    default:
      return new Error(`${e.name}: ${e.message}`);
  }
}

export class RoleChild {
  readonly proc: ChildProcess;
  port = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  stderr = '';
  private exited: Promise<number | null>;

  private constructor(proc: ChildProcess) {
    this.proc = proc;
    proc.stderr?.on('data', (d) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
    proc.on('message', (msg: { id?: number; ok?: boolean; value?: unknown; error?: ChildError }) => {
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(reviveError(msg.error!));
    });
    onCleanup(() => this.kill('SIGKILL'));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  private static spawn(role: 'master' | 'client', options: object): RoleChild {
    const proc = spawn(process.execPath, ['--require', 'tsx/cjs', SCRIPT], {
      cwd: path.join(__dirname, '..', '..'),
      env: { ...process.env, CRUDJT_TEST_ROLE: role, CRUDJT_TEST_OPTIONS: JSON.stringify(options) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    return new RoleChild(proc);
  }

  /**
   * Starts a master child. Resolves once it serves; rejects with the
   * child's start error (as the same class) if it could not start.
   */
  static async master(options: { store_jt_path: string; grpc_port?: number; secret_key?: string } & Record<string, unknown>): Promise<RoleChild> {
    const child = RoleChild.spawn('master', { secret_key: SECRET, grpc_port: 0, ...options });
    await child.waitReady();
    return child;
  }

  static async client(options: { grpc_port: number } & Record<string, unknown>): Promise<RoleChild> {
    const child = RoleChild.spawn('client', options);
    await child.waitReady();
    return child;
  }

  private waitReady(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onMessage = (msg: { ready?: boolean; port?: number; error?: ChildError }): void => {
        if (msg.ready === undefined) return;
        this.proc.off('message', onMessage);
        if (msg.ready) {
          this.port = msg.port ?? 0;
          resolve();
        } else {
          reject(reviveError(msg.error!));
        }
      };
      this.proc.on('message', onMessage);
      this.proc.once('exit', (code) => reject(new Error(`child exited (${code}) before ready: ${this.stderr}`)));
    });
  }

  call<T = unknown>(op: 'create' | 'read' | 'update' | 'delete', ...args: unknown[]): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, op, args });
    });
  }

  /** Clean shutdown (flush, close the store), then waits for exit. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    await this.exited;
  }

  /** Kills without warning (SIGKILL: nothing is flushed by the process). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill(signal);
    await this.exited;
  }
}

/**
 * Mocha hooks for the enclosing describe(): a master in a child process on a
 * fresh store, and this process connected to it as a client. Returns a
 * getter for the child (valid inside the tests).
 */
export function useChildMaster(): () => RoleChild {
  let master: RoleChild | undefined;
  before(async function () {
    this.timeout(20000);
    master = await RoleChild.master({ store_jt_path: freshStorePath() });
    CRUDJT.Config.connectToMaster({ grpc_port: master.port });
  });
  after(async () => {
    await CRUDJT.Config.shutdownServer();
    await master?.stop();
  });
  return () => {
    if (master === undefined) throw new Error('the child master has not started');
    return master;
  };
}
