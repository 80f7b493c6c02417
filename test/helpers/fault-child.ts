// Parent side of test/helpers/fault-master.ts: a master child with an IPC
// channel for calls and memory figures. `wrap` may run it under a shell
// (e.g. `ulimit -f` for a full disk). `--expose-gc` lets 'rss' collect first.
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { SECRET_FOR_CHILDREN } from './fault-model';

export interface FaultMasterOptions {
  store_jt_path: string;
  [k: string]: unknown;
}

export class ChildCallError extends Error {
  constructor(
    readonly childName: string,
    message: string,
  ) {
    super(message);
    this.name = childName;
  }
}

export class FaultMaster {
  readonly proc: ChildProcess;
  port = 0;
  stderr = '';
  stdout = '';
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(proc: ChildProcess) {
    this.proc = proc;
    proc.stderr?.on('data', (d) => (this.stderr += d.toString()));
    proc.stdout?.on('data', (d) => (this.stdout += d.toString()));
    this.exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
    proc.on('message', (msg: { id?: number; ok?: boolean; value?: unknown; error?: { name: string; message: string } }) => {
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new ChildCallError(msg.error!.name, msg.error!.message));
    });
    void this.exited.then(() => {
      for (const p of this.pending.values()) p.reject(new Error(`master child exited: ${this.stderr}`));
      this.pending.clear();
    });
  }

  static async start(
    options: FaultMasterOptions,
    extra: { wrap?: (argv: string[]) => [string, string[]]; env?: Record<string, string> } = {},
  ): Promise<FaultMaster> {
    const argv = [process.execPath, '--expose-gc', '--require', 'tsx/cjs', path.join(__dirname, 'fault-master.ts')];
    const [cmd, args] = extra.wrap ? extra.wrap(argv) : [argv[0], argv.slice(1)];
    const proc = spawn(cmd, args, {
      cwd: path.join(__dirname, '..', '..'),
      env: { ...process.env, ...extra.env, FAULT_OPTIONS: JSON.stringify({ secret_key: SECRET_FOR_CHILDREN, grpc_port: 0, ...options }) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const child = new FaultMaster(proc);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (msg: { ready?: boolean; port?: number; error?: { name: string; message: string } }): void => {
        if (msg.ready === undefined) return;
        proc.off('message', onMessage);
        if (msg.ready) {
          child.port = msg.port ?? 0;
          resolve();
        } else {
          reject(new ChildCallError(msg.error!.name, msg.error!.message));
        }
      };
      proc.on('message', onMessage);
      void child.exited.then((r) => reject(new Error(`master child exited (${r.code ?? r.signal}) before ready: ${child.stderr}`)));
    });
    return child;
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  call<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (!this.alive) {
        reject(new Error(`master child is not running: ${this.stderr}`));
        return;
      }
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, op, args });
    });
  }

  rss(): Promise<number> {
    return this.call<number>('rss');
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    this.proc.kill('SIGTERM');
    await this.exited;
  }

  async kill(): Promise<void> {
    if (!this.alive) return;
    this.proc.kill('SIGKILL');
    await this.exited;
  }
}
