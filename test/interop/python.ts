// Drives test/interop/py_client.py (a crudjt client on Python's C-core gRPC
// stack) from a mocha test: finds an interpreter that has grpcio, spawns the
// driver, and exchanges one JSON line per request.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const DRIVER = path.join(__dirname, 'py_client.py');
const PROTO_DIR = path.join(REPO_ROOT, 'proto');

/** An interpreter that can import grpc, or why none could. */
export type PythonProbe = { python: string } | { skip: string };

/**
 * Skips only for a missing python3 or grpc module; a missing msgpack or
 * grpc_tools then fails the test with the driver's message (CI installs
 * all four Debian packages).
 * Candidates in order: $CRUDJT_PYTHON, `python3` on PATH, /usr/bin/python3
 * (Debian's python3-grpcio installs for the system interpreter, which a
 * pyenv/venv `python3` earlier on PATH does not see).
 */
export function findPython(): PythonProbe {
  const candidates = [process.env.CRUDJT_PYTHON, 'python3', '/usr/bin/python3']
    .filter((c): c is string => typeof c === 'string' && c.length > 0)
    .filter((c, i, all) => all.indexOf(c) === i);
  const tried: string[] = [];
  let anyPython = false;
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import grpc'], { encoding: 'utf8', timeout: 20000 });
    if (r.error) {
      tried.push(`${python}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`);
      continue;
    }
    anyPython = true;
    if (r.status === 0) return { python };
    const last = (r.stderr || '').trim().split('\n').pop() ?? '';
    tried.push(`${python}: ${last}`);
  }
  const why = anyPython ? 'the grpc module is missing' : 'python3 not found';
  return { skip: `${why} (${tried.join('; ')}); install python3-grpcio python3-grpc-tools python3-msgpack` };
}

/** One value as py_client.py tags it with its Python type. */
export type Typed =
  | { nil: null }
  | { bool: boolean }
  | { int: number }
  | { float: number }
  | { str: string }
  | { bytes: string }
  | { dict: Array<[Typed, Typed]> }
  | { list: Typed[] }
  | { other: string };

export type PyAnswer =
  | { id: number; ok: true; result: any }
  | { id: number; ok: false; code: string; details: string; trailing?: Array<[string, string]> };

export interface ReadAnswer {
  raw_hex: string;
  value?: Typed;
  unpack_error?: string;
}

/** Converts a typed value back to plain JSON (dict keys must be str). */
export function untype(t: Typed): unknown {
  if ('nil' in t) return null;
  if ('bool' in t) return t.bool;
  if ('int' in t) return t.int;
  if ('float' in t) return t.float;
  if ('str' in t) return t.str;
  if ('bytes' in t) return Buffer.from(t.bytes, 'hex');
  if ('list' in t) return t.list.map(untype);
  if ('dict' in t) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of t.dict) {
      if (!('str' in k)) throw new Error(`non-str dict key ${JSON.stringify(k)}`);
      out[k.str] = untype(v);
    }
    return out;
  }
  throw new Error(`unexpected python value ${JSON.stringify(t)}`);
}

export class PyClient {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, (a: PyAnswer) => void>();
  private nextId = 1;
  private stderr = '';
  private exited: string | null = null;
  readonly ready: Promise<Record<string, unknown>>;

  constructor(python: string, target: string) {
    this.child = spawn(python, [DRIVER, '--proto', PROTO_DIR, '--target', target], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (s: string) => {
      this.stderr += s;
    });
    const lines = readline.createInterface({ input: this.child.stdout });
    let onReady: (v: Record<string, unknown>) => void;
    let onFail: (e: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      onReady = resolve;
      onFail = reject;
    });
    let first = true;
    lines.on('line', (line) => {
      const msg = JSON.parse(line);
      if (first) {
        first = false;
        if (msg.ready) onReady(msg);
        else onFail(new Error(`py_client not ready: ${JSON.stringify(msg)} ${this.stderr}`));
        return;
      }
      const resolve = this.pending.get(msg.id);
      if (resolve) {
        this.pending.delete(msg.id);
        resolve(msg as PyAnswer);
      }
    });
    this.child.on('exit', (code, signal) => {
      this.exited = `py_client exited (code ${code}, signal ${signal}): ${this.stderr}`;
      if (first) onFail(new Error(this.exited));
      for (const resolve of this.pending.values()) {
        resolve({ id: -1, ok: false, code: 'DRIVER_EXITED', details: this.exited });
      }
      this.pending.clear();
    });
  }

  /** Sends one request; resolves with the driver's answer (never rejects). */
  call(req: Record<string, unknown>): Promise<PyAnswer> {
    if (this.exited) return Promise.resolve({ id: -1, ok: false, code: 'DRIVER_EXITED', details: this.exited });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.stdin.write(JSON.stringify({ ...req, id }) + '\n');
    });
  }

  /** Like call() but throws unless the RPC succeeded; returns the result. */
  async ok(req: Record<string, unknown>): Promise<any> {
    const a = await this.call(req);
    if (!a.ok) throw new Error(`python ${String(req.op)} failed: ${a.code} ${a.details}`);
    return a.result;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.child.kill('SIGKILL');
      }, 5000);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.stdin.end();
    });
  }
}
