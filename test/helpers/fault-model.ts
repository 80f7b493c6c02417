// The parent's side of the kill tests: spawns test/helpers/fault-worker.ts,
// collects the lines it acknowledges, and keeps a model of every token it
// was told about, against which a restarted master is checked.
// No mocha here: fault-worker.ts imports this file too.
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

/** The same key as 00.setup's SECRET (children can not import 00.setup). */
export const SECRET_FOR_CHILDREN = Buffer.alloc(48, 0x5a).toString('base64');

/** The data stored under sequence number n (distinct per n, 8..158 bytes). */
export function payloadOf(n: number): Record<string, unknown> {
  return { s: n, p: 'x'.repeat(n % 150) };
}

export const TTL = 3600;

interface TokenState {
  seq: number;
  ttl: number | null;
  left: number | null;
  alive: boolean;
}

type Pending =
  | { op: 'C' }
  | { op: 'U'; token: string; seq: number; ttl: number | null; reads: number | null }
  | { op: 'D'; token: string }
  | { op: 'R'; token: string };

type ReadAnswer = { metadata?: { ttl?: number; silence_read?: number }; data: Record<string, unknown> } | null;

const limit = (s: string): number | null => (s === '-' ? null : Number(s));

export class KillModel {
  readonly tokens = new Map<string, TokenState>();
  readonly expiring = new Map<string, number>();
  /** Answers of the child that disagree with the model while it ran. */
  readonly liveMismatches: string[] = [];
  touched = new Set<string>();
  pending: Pending | null = null;
  acks = 0;
  checkpointsStarted = 0;
  checkpointsDone = 0;
  sweepsStarted = 0;
  sweepsDone = 0;
  inCheckpoint = false;
  inSweep = false;

  /** Applies one complete line from the worker. */
  line(l: string): void {
    const f = l.split(' ');
    switch (f[0]) {
      case 'I':
        if (f[1] === 'C') this.pending = { op: 'C' };
        else if (f[1] === 'U') this.pending = { op: 'U', token: f[2], seq: Number(f[3]), ttl: limit(f[4]), reads: limit(f[5]) };
        else if (f[1] === 'D') this.pending = { op: 'D', token: f[2] };
        else this.pending = { op: 'R', token: f[2] };
        return;
      case 'C':
        this.acks++;
        this.pending = null;
        this.tokens.set(f[1], { seq: Number(f[2]), ttl: limit(f[3]), left: limit(f[4]), alive: true });
        this.touched.add(f[1]);
        return;
      case 'U': {
        this.acks++;
        this.pending = null;
        const st = this.tokens.get(f[1]);
        const ok = f[5] === '1';
        this.touched.add(f[1]);
        if (st === undefined) return;
        if (ok !== st.alive) this.liveMismatches.push(`update ${f[1]} answered ${ok}, model alive=${st.alive}`);
        if (ok) Object.assign(st, { seq: Number(f[2]), ttl: limit(f[3]), left: limit(f[4]), alive: true });
        return;
      }
      case 'D': {
        this.acks++;
        this.pending = null;
        const st = this.tokens.get(f[1]);
        this.touched.add(f[1]);
        if (st === undefined) return;
        if ((f[2] === '1') !== st.alive) this.liveMismatches.push(`delete ${f[1]} answered ${f[2]}, model alive=${st.alive}`);
        st.alive = false;
        return;
      }
      case 'R': {
        this.acks++;
        this.pending = null;
        const st = this.tokens.get(f[1]);
        this.touched.add(f[1]);
        if (st === undefined) return;
        const want = !st.alive ? 'null' : st.left === null ? '-' : String(st.left - 1);
        if (want !== f[2]) this.liveMismatches.push(`read ${f[1]} answered ${f[2]}, model ${want}`);
        this.consumeRead(st);
        return;
      }
      case 'X':
        this.acks++;
        this.expiring.set(f[1], Number(f[2]));
        return;
      case 'K':
        if (f[1] === 'start') this.checkpointsStarted++;
        else this.checkpointsDone++;
        this.inCheckpoint = f[1] === 'start';
        return;
      case 'S':
        if (f[1] === 'start') this.sweepsStarted++;
        else this.sweepsDone++;
        this.inSweep = f[1] === 'start';
        return;
      default:
        return;
    }
  }

  private consumeRead(st: TokenState): void {
    if (!st.alive || st.left === null) return;
    st.left -= 1;
    if (st.left === 0) st.alive = false;
  }

  /** The state `st` would have after the pending operation ran. */
  private afterPending(st: TokenState, p: Pending): TokenState {
    const next = { ...st };
    if (p.op === 'U' && st.alive) Object.assign(next, { seq: p.seq, ttl: p.ttl, left: p.reads, alive: true });
    if (p.op === 'D') next.alive = false;
    if (p.op === 'R') this.consumeRead(next);
    return next;
  }

  private static matches(st: TokenState, r: ReadAnswer): boolean {
    if (!st.alive) return r === null;
    if (r === null) return false;
    if (JSON.stringify(r.data) !== JSON.stringify(payloadOf(st.seq))) return false;
    const md = r.metadata ?? {};
    if ((st.ttl === null) !== (md.ttl === undefined)) return false;
    if (st.ttl !== null && !(md.ttl! <= st.ttl && md.ttl! >= st.ttl - 600)) return false;
    const wantLeft = st.left === null ? undefined : st.left - 1;
    return md.silence_read === wantLeft;
  }

  /**
   * Checks `token` against the model with `read` (which consumes a read, as
   * any read does) and updates the model. Returns an error text or null.
   */
  async check(token: string, read: (t: string) => Promise<ReadAnswer>): Promise<string | null> {
    const st = this.tokens.get(token);
    if (st === undefined) return null;
    const r = await read(token);
    const p = this.pending;
    if (KillModel.matches(st, r)) {
      this.consumeRead(st);
      return null;
    }
    if (p !== null && p.op !== 'C' && p.token === token) {
      const alt = this.afterPending(st, p);
      if (KillModel.matches(alt, r)) {
        Object.assign(st, alt);
        this.consumeRead(st);
        return null;
      }
    }
    return `token ${token}: read ${JSON.stringify(r)}, model ${JSON.stringify(st)}, pending ${JSON.stringify(p)}`;
  }

  /** Called once a round's verification is over. */
  endRound(): void {
    this.pending = null;
    this.touched = new Set();
    this.inCheckpoint = false;
    this.inSweep = false;
  }

  aliveTokens(): string[] {
    const out: string[] = [];
    for (const [t, st] of this.tokens) if (st.alive) out.push(t);
    return out;
  }
}

/** A fault-worker child and the lines it wrote. */
export class WorkerChild {
  readonly proc: ChildProcess;
  private buf = '';
  stderr = '';
  readonly ready: Promise<void>;
  readonly closed: Promise<void>;
  private readonly onLine: (l: string) => void;

  constructor(env: Record<string, string>, onLine: (l: string) => void, wrap?: (argv: string[]) => [string, string[]]) {
    this.onLine = onLine;
    const argv = [process.execPath, '--require', 'tsx/cjs', path.join(__dirname, 'fault-worker.ts')];
    const [cmd, args] = wrap ? wrap(argv) : [argv[0], argv.slice(1)];
    this.proc = spawn(cmd, args, {
      cwd: path.join(__dirname, '..', '..'),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    this.proc.stderr!.on('data', (d) => {
      this.stderr += d.toString();
    });
    this.proc.stdout!.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const l = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        if (l === 'READY') readyResolve();
        else if (l.startsWith('FATAL')) readyReject(new Error(l));
        else this.onLine(l);
      }
    });
    this.closed = new Promise((resolve) => this.proc.on('close', () => resolve()));
    this.proc.on('exit', (code, signal) => readyReject(new Error(`worker exited (${code ?? signal}) before READY: ${this.stderr}`)));
  }

  /** SIGKILL, then waits until every byte it wrote has been read. */
  async kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) resolve({ code: this.proc.exitCode, signal: this.proc.signalCode });
      else this.proc.once('exit', (code, signal) => resolve({ code, signal }));
    });
    this.proc.kill('SIGKILL');
    const r = await exited;
    await this.closed;
    return r;
  }
}
