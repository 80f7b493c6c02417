// A JavaScript model of the native store's contract (contracts.md §1), for
// testing MasterStore's own logic (read cache, batch mapping, ordering)
// without the addon: it keeps tokens in a Map and counts calls. Tokens
// named 'FAIL...' make their op fail with CRUDJT_IO_ERROR.
import crypto from 'node:crypto';
import type { NativeStore } from '../../binding';

interface Rec {
  payload: Buffer;
  expiresAt: number | null;
  reads: number;
  subject: string | null;
}

type Op = [number, ...unknown[]];

export class FakeNative {
  readonly recs = new Map<string, Rec>();
  readonly calls: Record<string, number> = {};
  /** Resolve async calls after a random number of macrotasks (reordering between calls). */
  jitter = false;
  withBatch = true;

  private count(name: string): void {
    this.calls[name] = (this.calls[name] ?? 0) + 1;
  }

  private live(token: string): Rec | undefined {
    const r = this.recs.get(token);
    if (r === undefined) return undefined;
    if (r.expiresAt !== null && r.expiresAt <= Date.now()) {
      this.recs.delete(token);
      return undefined;
    }
    return r;
  }

  private fail(token: string): void {
    if (token.startsWith('FAIL')) {
      const e = new Error(`I/O error on ${token}`) as Error & { code: string };
      e.code = 'CRUDJT_IO_ERROR';
      throw e;
    }
  }

  static handleOf(token: string): string {
    return crypto.createHash('sha256').update('h').update(token).digest('base64url').slice(0, 22);
  }

  private later<T>(fn: () => T): Promise<T> {
    return new Promise((resolve, reject) => {
      const run = (): void => {
        try {
          resolve(fn());
        } catch (e) {
          reject(e);
        }
      };
      if (!this.jitter) return void setImmediate(run);
      let n = Math.floor(Math.random() * 4);
      const step = (): void => (n-- > 0 ? void setImmediate(step) : run());
      step();
    });
  }

  create(payload: Buffer, ttlMs: number, maxReads: number, subject?: Buffer | null): string {
    this.count('create');
    const token = crypto.randomBytes(16).toString('base64url');
    this.recs.set(token, {
      payload: Buffer.from(payload),
      expiresAt: ttlMs < 0 ? null : Date.now() + ttlMs,
      reads: maxReads,
      subject: subject == null ? null : subject.toString('utf8'),
    });
    return token;
  }

  read(token: string): [Buffer, number, number] | null {
    this.count('read');
    this.fail(token);
    const r = this.live(token);
    if (r === undefined) return null;
    if (r.reads >= 0) {
      r.reads--;
      if (r.reads === 0) this.recs.delete(token);
    }
    return [r.payload, r.expiresAt === null ? -1 : r.expiresAt - Date.now(), r.reads];
  }

  update(token: string, payload: Buffer, ttlMs: number, maxReads: number): boolean {
    this.count('update');
    this.fail(token);
    const r = this.live(token);
    if (r === undefined) return false;
    r.payload = Buffer.from(payload);
    r.expiresAt = ttlMs < 0 ? null : Date.now() + ttlMs;
    r.reads = maxReads;
    return true;
  }

  remove(token: string): boolean {
    this.count('remove');
    this.fail(token);
    return this.live(token) !== undefined && this.recs.delete(token);
  }

  touch(token: string, ttlMs: number): boolean {
    this.count('touch');
    this.fail(token);
    const r = this.live(token);
    if (r === undefined) return false;
    r.expiresAt = ttlMs < 0 ? null : Date.now() + ttlMs;
    return true;
  }

  revokeSubject(subject: Buffer): Promise<number> {
    this.count('revokeSubject');
    const s = subject.toString('utf8');
    return this.later(() => {
      let n = 0;
      for (const [t, r] of [...this.recs]) {
        if (r.subject === s && this.live(t) !== undefined) {
          this.recs.delete(t);
          n++;
        }
      }
      return n;
    });
  }

  listSubject(subject: Buffer): Array<[string, number, number]> {
    this.count('listSubject');
    const s = subject.toString('utf8');
    const out: Array<[string, number, number]> = [];
    for (const [t, r] of [...this.recs]) {
      if (r.subject === s && this.live(t) !== undefined) {
        out.push([FakeNative.handleOf(t), r.expiresAt === null ? -1 : r.expiresAt - Date.now(), r.reads]);
      }
    }
    return out;
  }

  revokeHandle(handle: string): boolean {
    this.count('revokeHandle');
    for (const t of this.recs.keys()) {
      if (FakeNative.handleOf(t) === handle) return this.live(t) !== undefined && this.recs.delete(t);
    }
    return false;
  }

  applyBatchImpl(ops: Op[]): unknown[] {
    return ops.map((op) => {
      try {
        switch (op[0]) {
          case 0:
            return this.create(op[1] as Buffer, op[2] as number, op[3] as number, op[4] as Buffer | null);
          case 1:
            return this.read(op[1] as string);
          case 2:
            return this.update(op[1] as string, op[2] as Buffer, op[3] as number, op[4] as number);
          case 3:
            return this.remove(op[1] as string);
          case 4:
            return this.touch(op[1] as string, op[2] as number);
          default:
            return { code: 'CRUDJT_INVALID_ARGUMENT', message: `bad op ${String(op[0])}` };
        }
      } catch (e) {
        return { code: (e as { code: string }).code, message: (e as Error).message };
      }
    });
  }

  createAsync(p: Buffer, t: number, m: number, s?: Buffer | null): Promise<string> {
    return this.later(() => this.create(p, t, m, s));
  }
  readAsync(token: string): Promise<[Buffer, number, number] | null> {
    return this.later(() => this.read(token));
  }
  updateAsync(token: string, p: Buffer, t: number, m: number): Promise<boolean> {
    return this.later(() => this.update(token, p, t, m));
  }
  removeAsync(token: string): Promise<boolean> {
    return this.later(() => this.remove(token));
  }
  touchAsync(token: string, t: number): Promise<boolean> {
    return this.later(() => this.touch(token, t));
  }
  revokeHandleAsync(handle: string): Promise<boolean> {
    return this.later(() => this.revokeHandle(handle));
  }

  stats(): Record<string, number> {
    return {
      liveTokens: this.recs.size, pageFileBytes: 0, logBytes: 0, pagesTotal: 0, pagesFree: 0, cacheBytes: 0,
      lastFsyncMs: 0, lastCheckpointMs: 0, lastSweepMs: 0, lastSweepRemoved: 0, previousKeyRecords: 0,
    };
  }

  async close(): Promise<void> {
    this.count('close');
  }

  /** As the addon's NativeStore; applyBatch/applyBatchAsync only when withBatch. */
  asNative(): NativeStore {
    const self = this as unknown as Record<string, unknown>;
    if (this.withBatch) {
      self.applyBatch = (ops: Op[]) => {
        this.count('applyBatch');
        return this.applyBatchImpl(ops);
      };
      self.applyBatchAsync = (ops: Op[]) => {
        this.count('applyBatchAsync');
        return this.later(() => this.applyBatchImpl(ops));
      };
    }
    return this as unknown as NativeStore;
  }
}
