// A real Redis Cluster for the 8x tests and bench/cluster.js: `redis-server
// --cluster-enabled yes` per node on free loopback ports, joined with
// `redis-cli --cluster create`, stopped by the pids started here.
//
//   const rc = await startRedisCluster({ masters: 3, replicasPerMaster: 0 });
//   rc.nodes        // ['127.0.0.1:P1', ...] seeds for connectToCluster
//   await rc.kill(port); await rc.restart(port);   // fault tests
//   await rc.stop();
import { ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface RedisClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** cluster-node-timeout (ms): how soon a dead master is failed over. */
  nodeTimeoutMs?: number;
  /** Directory for node configs and logs (default: a fresh temp dir). */
  dir?: string;
}

export interface RedisCluster {
  /** 'host:port' of every node, masters first. */
  readonly nodes: string[];
  readonly ports: number[];
  readonly dir: string;
  /** SIGKILLs the node on `port` (it keeps its slots until failover). */
  kill(port: number): Promise<void>;
  /** Starts the node on `port` again with its saved cluster config. */
  restart(port: number): Promise<void>;
  /** Resolves when every live node reports cluster_state:ok. */
  waitOk(timeoutMs?: number): Promise<void>;
  /** The port of the master serving `slot`, from CLUSTER SLOTS of a live node. */
  masterOfSlot(slot: number): Promise<number>;
  /** redis-cli against one node; stdout. */
  cli(port: number, ...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[], timeoutMs = 20000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}\n${stdout}`));
      else resolve(stdout);
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** `count` ports P whose cluster bus port P + 10000 is free too. */
async function freeClusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count && tries < 2000; tries++) {
    const p = 20000 + Math.floor(Math.random() * 35000);
    if (ports.includes(p) || ports.includes(p + 10000) || ports.includes(p - 10000)) continue;
    if ((await portFree(p)) && (await portFree(p + 10000))) ports.push(p);
  }
  if (ports.length < count) throw new Error('no free port pairs for a Redis Cluster');
  return ports;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 0;
  const nodeTimeout = options.nodeTimeoutMs ?? 2000;
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'crudjt-redis-cluster-'));
  const ownDir = options.dir === undefined;
  const ports = await freeClusterPorts(masters * (1 + replicas));
  const procs = new Map<number, ChildProcess>();

  const startNode = async (port: number): Promise<void> => {
    const log = fs.openSync(path.join(dir, `redis-${port}.log`), 'a');
    const child = spawn('redis-server', [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--cluster-enabled', 'yes',
      '--cluster-config-file', `nodes-${port}.conf`,
      '--cluster-node-timeout', String(nodeTimeout),
      '--dir', dir,
      '--dbfilename', `dump-${port}.rdb`,
      '--save', '',
      '--appendonly', 'no',
      '--repl-diskless-sync-delay', '0',
      '--protected-mode', 'no',
      '--daemonize', 'no',
    ], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    procs.set(port, child);
    child.once('exit', () => {
      if (procs.get(port) === child) procs.delete(port);
    });
    for (let i = 0; i < 200; i++) {
      try {
        if ((await run('redis-cli', ['-p', String(port), 'ping'], 2000)).trim() === 'PONG') return;
      } catch {
        // not up yet
      }
      await sleep(25);
    }
    throw new Error(`redis-server on port ${port} did not start (log: ${path.join(dir, `redis-${port}.log`)})`);
  };

  const cli = (port: number, ...args: string[]): Promise<string> => run('redis-cli', ['-p', String(port), ...args]);

  const waitOk = async (timeoutMs = 20000): Promise<void> => {
    const until = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < until) {
      let ok = true;
      for (const port of procs.keys()) {
        try {
          const info = await cli(port, 'cluster', 'info');
          if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) {
            ok = false;
            last = `${port}: ${info.split('\n').slice(0, 3).join(' ')}`;
          }
          const repl = await cli(port, 'info', 'replication');
          if (/role:slave/.test(repl) && !/master_link_status:up/.test(repl)) {
            ok = false;
            last = `${port}: replica link not up`;
          }
        } catch (e) {
          ok = false;
          last = `${port}: ${(e as Error).message}`;
        }
      }
      if (ok) return;
      await sleep(100);
    }
    throw new Error(`Redis Cluster not ok within ${timeoutMs} ms (${last})`);
  };

  const stop = async (): Promise<void> => {
    const all = [...procs.values()];
    procs.clear();
    await Promise.all(
      all.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    if (ownDir) fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    await Promise.all(ports.map(startNode));
    await run('redis-cli', [
      '--cluster', 'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas', String(replicas),
      '--cluster-yes',
    ], 60000);
    await waitOk();
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    nodes: ports.map((p) => `127.0.0.1:${p}`),
    ports,
    dir,
    cli,
    waitOk,
    stop,
    async kill(port: number): Promise<void> {
      const child = procs.get(port);
      if (child === undefined) return;
      procs.delete(port);
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    },
    async restart(port: number): Promise<void> {
      if (procs.has(port)) return;
      await startNode(port);
    },
    async masterOfSlot(slot: number): Promise<number> {
      for (const port of procs.keys()) {
        try {
          const out = await cli(port, '--json', 'cluster', 'slots');
          const ranges = JSON.parse(out) as Array<[number, number, [string, number, string]]>;
          for (const r of ranges) if (slot >= r[0] && slot <= r[1]) return Number(r[2][1]);
        } catch {
          // try the next node
        }
      }
      throw new Error(`no live node knows slot ${slot}`);
    },
  };
}

// ---- the cluster role in another process ------------------------------------

type ChildReply = { id: number; ok: boolean; value?: unknown; error?: { name: string; message: string } };

function reviveChildError(e: { name: string; message: string }): Error {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { InvalidState, InternalError } = require('../../lib/errors') as typeof import('../../lib/errors');
  switch (e.name) {
    case 'TypeError':
      return new TypeError(e.message);
    case 'RangeError':
      return new RangeError(e.message);
    case 'InvalidState':
      return new InvalidState(e.message);
    case 'InternalError':
      return new InternalError(e.message);
    default:
      return new Error(`${e.name}: ${e.message}`);
  }
}

/**
 * A child process holding its own cluster backend (openClusterBackend), driven
 * over IPC: call('create', packedBase64, ttl, silenceRead, subject),
 * call('read', token), call('readMany', tokens) -> Array<boolean> (got data).
 */
export class ClusterChild {
  private readonly proc: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  stderr = '';

  private constructor(proc: ChildProcess) {
    this.proc = proc;
    proc.stderr?.on('data', (d) => (this.stderr += d.toString()));
    proc.on('message', (msg: ChildReply) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(reviveChildError(msg.error!));
    });
    proc.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`cluster child exited (${code}): ${this.stderr}`));
      this.pending.clear();
    });
  }

  static async start(options: Record<string, unknown>): Promise<ClusterChild> {
    const proc = spawn(process.execPath, ['--require', 'tsx/cjs', __filename], {
      cwd: path.join(__dirname, '..', '..'),
      env: { ...process.env, CRUDJT_CLUSTER_CHILD: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const child = new ClusterChild(proc);
    await child.call('open', options);
    return child;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  call<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, op, args });
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    await this.call('close').catch(() => undefined);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}

async function childMain(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { openClusterBackend } = require('../../lib/cluster/index') as typeof import('../../lib/cluster/index');
  type B = {
    create(p: Buffer, t: number | null, s: number | null, subject?: string | null): Promise<string>;
    read(t: string): Promise<unknown>;
    close(): Promise<void>;
  };
  let backend: B | null = null;
  const ops: Record<string, (...args: any[]) => Promise<unknown>> = {
    async open(options: Record<string, unknown>) {
      backend = (await openClusterBackend(options, null)) as unknown as B;
      return true;
    },
    create: (packed: string, ttl: number | null, sr: number | null, subject?: string | null) =>
      backend!.create(Buffer.from(packed, 'base64'), ttl, sr, subject ?? null),
    read: (token: string) => backend!.read(token),
    async readMany(tokens: string[]) {
      const results = await Promise.all(tokens.map((t) => backend!.read(t)));
      return results.map((r) => r !== null);
    },
    async close() {
      await backend?.close();
      backend = null;
      setImmediate(() => process.exit(0));
      return true;
    },
  };
  process.on('message', (msg: { id: number; op: string; args: unknown[] }) => {
    const fn = ops[msg.op];
    const p = fn ? fn(...msg.args) : Promise.reject(new Error(`unknown op ${msg.op}`));
    p.then(
      (value) => process.send!({ id: msg.id, ok: true, value }),
      (e: Error) => process.send!({ id: msg.id, ok: false, error: { name: e?.name ?? 'Error', message: e?.message ?? String(e) } }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}

if (require.main === module && process.env.CRUDJT_CLUSTER_CHILD === '1') {
  void childMain();
}

// ---- one cluster for the whole mocha run -------------------------------------

let shared: Promise<RedisCluster> | null = null;

/**
 * A 3-master cluster started once per process and reused by the 8x files
 * that do not kill nodes. The caller registers `stop` with onCleanup.
 */
export function sharedRedisCluster(): Promise<RedisCluster> {
  if (shared === null) shared = startRedisCluster({ masters: 3 });
  return shared;
}

// ---- the public API over a cluster backend ----------------------------------

type Api = Record<string, unknown> & { Config: Record<string, unknown> };
type AnyBackend = {
  create(p: Buffer, t: number | null, s: number | null, subject?: string | null): Promise<string>;
  read(t: string): Promise<unknown>;
  update(t: string, p: Buffer, ttl: number | null, s: number | null): Promise<boolean>;
  delete(t: string): Promise<boolean>;
  touch(t: string, ttl: number | null): Promise<boolean>;
  revokeSubject(s: string): Promise<number>;
  listSubject(s: string): Promise<unknown[]>;
  revokeHandle(h: string): Promise<boolean>;
};

/**
 * Points CRUDJT.create/read/update/delete/touch/revokeSubject/listSubject/
 * revokeHandle at `backend` with the same argument checks, in the same
 * order, as lib/index.ts; `createVia` (another process) may serve create.
 * For use until Config.connectToCluster is wired; returns the undo.
 */
export function installClusterApi(
  api: Api,
  backend: AnyBackend,
  createVia?: (packed: Buffer, ttl: number | null, silenceRead: number | null, subject: string | null) => Promise<string>,
): () => void {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const v = require('../../lib/validation') as Record<string, (...a: unknown[]) => any>;
  const saved: Record<string, unknown> = {};
  const names = ['create', 'read', 'update', 'delete', 'touch', 'revokeSubject', 'listSubject', 'revokeHandle'];
  for (const n of names) saved[n] = api[n];
  const subjectOf = (options: unknown): string | null =>
    typeof v.validateCreateOptions === 'function' ? v.validateCreateOptions(options) : null;
  Object.assign(api, {
    async create(data: unknown, ttl: unknown = null, silenceRead: unknown = null, options?: unknown) {
      const packed = v.validateData(data) as Buffer;
      const t = v.validateTtl(ttl);
      const s = v.validateSilenceRead(silenceRead);
      const subject = subjectOf(options);
      return createVia ? createVia(packed, t, s, subject) : backend.create(packed, t, s, subject);
    },
    async read(token: unknown) {
      return backend.read(v.validateToken(token));
    },
    async update(token: unknown, data: unknown, ttl: unknown = null, silenceRead: unknown = null) {
      const t = v.validateToken(token);
      const packed = v.validateData(data) as Buffer;
      const ttlOk = v.validateTtl(ttl);
      const s = v.validateSilenceRead(silenceRead);
      return backend.update(t, packed, ttlOk, s);
    },
    async delete(token: unknown) {
      return backend.delete(v.validateToken(token));
    },
    async touch(token: unknown, ttl: unknown) {
      const t = v.validateToken(token);
      return backend.touch(t, v.validateTtl(ttl));
    },
    async revokeSubject(subject: unknown) {
      return backend.revokeSubject(v.validateSubject(subject));
    },
    async listSubject(subject: unknown) {
      return backend.listSubject(v.validateSubject(subject));
    },
    async revokeHandle(handle: unknown) {
      return backend.revokeHandle(v.validateHandle(handle));
    },
  });
  return () => Object.assign(api, saved);
}
