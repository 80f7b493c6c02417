// The master role's backend: the native store plus the read cache.
//
// With durability 'background' the engine's synchronous calls are used
// (microseconds of memory work plus one write(); see doc/design.md); with
// 'sync' the *Async variants, so that fsync never blocks the event loop.
//
// runBatch() serves the gRPC master's batch RPCs: with 'background' it is
// one synchronous loop of native calls (no promise per op); with 'sync' the
// ops run concurrently on the thread pool, except that an op on a token
// waits for the previous op on that token (kept across batches), so the
// order of ops on one token is the order they arrived in.
// When the addon has applyBatch, a batch is instead ONE engine call (one
// log append, one wake-up of the flush thread; applyBatchAsync with 'sync':
// one fsync for the batch), and per-token order is the order of the ops in
// the batch and of the batches.
//
// The read cache (cache.ts) never serves a dead token: every write of a
// token (update, delete, touch) evicts it before and after the engine call;
// revokeSubject and revokeHandle know only keyed hashes, not tokens, so they
// clear the whole cache before and after (revocations are rare: logout
// everywhere). The epoch check keeps reads that overlapped a write out.
import type { NativeReadResult, NativeStore } from '../binding';
import {
  Backend,
  BatchOp,
  BatchOutcome,
  buildReadResult,
  ReadResult,
  RPC_NAMES,
  SessionInfo,
  Stats,
  ttlSeconds,
} from './backend';
import { ReadCache, SLOT_HEADER } from './cache';
import { fromNative, InternalError } from './errors';
import { NIL, packReadResult, unpackMapAt } from './msgpack';
import type { Limit } from './validation';

// ---- the addon's additions (contracts.md §1) -------------------------------
// Declared here as well so that this file compiles against an addon built
// before them; each is feature-tested at run time.
type NativeSession = [handle: string, ttlLeftMs: number, readsLeft: number];
type NativeBatchOp =
  | [0, Buffer, number, number, (Buffer | null)?]
  | [1, string]
  | [2, string, Buffer, number, number]
  | [3, string]
  | [4, string, number]
  | [5, string, Buffer, number, number, (Buffer | null)?];
interface NativeBatchError {
  code: string;
  message: string;
}
type NativeBatchResult = string | NativeReadResult | null | boolean | NativeBatchError;
interface NativeStoreAdditions {
  create(payload: Buffer, ttlMs: number, maxReads: number, subject?: Buffer | null): string;
  createAsync(payload: Buffer, ttlMs: number, maxReads: number, subject?: Buffer | null): Promise<string>;
  touch?(token: string, ttlMs: number): boolean;
  touchAsync?(token: string, ttlMs: number): Promise<boolean>;
  revokeSubject?(subject: Buffer): Promise<number>;
  listSubject?(subject: Buffer): NativeSession[];
  revokeHandle?(handle: string): boolean;
  revokeHandleAsync?(handle: string): Promise<boolean>;
  applyBatch?(ops: NativeBatchOp[]): NativeBatchResult[];
  applyBatchAsync?(ops: NativeBatchOp[]): Promise<NativeBatchResult[]>;
  resealPrevious?(): Promise<number>;
  readInto?(token: string, scratch: Uint8Array): number | Buffer;
}
type Native = NativeStore & NativeStoreAdditions;

/** Most ops of one applyBatch call (binding.d.ts). */
const MAX_NATIVE_BATCH = 4096;

/** Handles are 22 characters; anything much longer is not one (no engine call). */
const MAX_HANDLE_CHARS = 64;

function subjectBytes(subject: string | null | undefined): Buffer | null {
  return subject === null || subject === undefined ? null : Buffer.from(subject, 'utf8');
}

function isBatchError(r: NativeBatchResult): r is NativeBatchError {
  return typeof r === 'object' && r !== null && !Array.isArray(r);
}

/** An engine error inside a batch, as the class a thrown one would become. */
function batchError(r: NativeBatchError): Error {
  const e = new Error(String(r.message)) as Error & { code: string };
  e.code = String(r.code);
  return fromNative(e);
}

/** Minimal logger (config.ts Logger). */
interface LoggerLike {
  info(message: string): void;
  warn(message: string): void;
}

const NO_LIMIT = -1;

function ttlToMs(ttl: Limit): number {
  return ttl === null ? NO_LIMIT : ttl * 1000;
}

function readsToNative(silenceRead: Limit): number {
  return silenceRead === null ? NO_LIMIT : silenceRead;
}

export interface MasterStoreOptions {
  sync: boolean;
  cache: ReadCache | null;
  /** Test hook: payload bytes of the read scratch (default READ_SCRATCH_PAYLOAD). */
  readScratchBytes?: number;
}

/** readInto's scratch: ttlLeftMs and readsLeft as float64, then the payload (binding.d.ts). */
const READ_HEADER = SLOT_HEADER;
/** Payload room of the read scratch: every payload fits (the engine's limit is 256). */
const READ_SCRATCH_PAYLOAD = 1024;

export class MasterStore implements Backend {
  readonly role = 'master' as const;
  private readonly native: Native;
  private readonly sync: boolean;
  readonly cache: ReadCache | null;
  private readonly startedAt = Date.now();
  /** Operations executed per kind, over every path (for stats). */
  private readonly ops = { create: 0, read: 0, update: 0, delete: 0 };
  /** gRPC calls served per RPC name (counted by the server). */
  private readonly requests: Record<string, number> = Object.fromEntries(RPC_NAMES.map((n) => [n, 0]));
  /** 'sync' batches: the last pending op per token (see runBatch). */
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Set by close(): background work stops reporting. */
  private closing = false;

  // The synchronous read's scratch (null when the addon lacks readInto):
  // the engine copies a read's payload and limits into it and JS decodes
  // from it at once, so a read allocates no Buffer and no result array.
  // Nothing that runs between readInto and the decode can call back into
  // user code, so one scratch per store is enough; a copy is made only for
  // the cache.
  private readonly scratch: Buffer | null = null;
  private readonly scratchMeta: Float64Array | null = null;
  /** readIntoCached()'s last answer: where the payload lies and its limits. */
  private readonly into: { dest: Buffer; ttlLeftMs: number; readsLeft: number } = { dest: Buffer.alloc(0), ttlLeftMs: 0, readsLeft: 0 };

  constructor(native: NativeStore, options: MasterStoreOptions) {
    this.native = native as Native;
    this.sync = options.sync;
    this.cache = options.cache;
    if (typeof this.native.readInto === 'function') {
      const ab = new ArrayBuffer(READ_HEADER + (options.readScratchBytes ?? READ_SCRATCH_PAYLOAD));
      this.scratch = Buffer.from(ab);
      this.scratchMeta = new Float64Array(ab, 0, 2);
    }
  }

  // create/update/delete with 'background' durability and no subject are
  // plain functions around one synchronous engine call that return a settled
  // promise: an async function (and each await in it) costs microtask turns
  // that were measurable next to a few-microsecond engine call.
  create(packed: Buffer, ttl: Limit, silenceRead: Limit, subject: string | null = null): Promise<string> {
    if (this.sync || subject !== null) return this.createGeneral(packed, ttl, silenceRead, subject);
    this.ops.create++;
    try {
      return Promise.resolve(this.native.create(packed, ttlToMs(ttl), readsToNative(silenceRead)));
    } catch (e) {
      return Promise.reject(fromNative(e));
    }
  }

  private async createGeneral(packed: Buffer, ttl: Limit, silenceRead: Limit, subject: string | null = null): Promise<string> {
    this.ops.create++;
    const subj = subjectBytes(subject);
    try {
      if (subj === null) {
        return this.sync
          ? await this.native.createAsync(packed, ttlToMs(ttl), readsToNative(silenceRead))
          : this.native.create(packed, ttlToMs(ttl), readsToNative(silenceRead));
      }
      this.requireNative('listSubject', 'a subject');
      return this.sync
        ? await this.native.createAsync(packed, ttlToMs(ttl), readsToNative(silenceRead), subj)
        : this.native.create(packed, ttlToMs(ttl), readsToNative(silenceRead), subj);
    } catch (e) {
      throw fromNative(e);
    }
  }

  async touch(token: string, ttl: Limit): Promise<boolean> {
    this.requireNative('touch', 'touch()');
    this.ops.update++; // a touch is a write; stats count it with updates
    this.cache?.evict(token);
    try {
      return this.sync ? await this.native.touchAsync!(token, ttlToMs(ttl)) : this.native.touch!(token, ttlToMs(ttl));
    } catch (e) {
      throw fromNative(e);
    } finally {
      this.cache?.evict(token);
    }
  }

  async revokeSubject(subject: string): Promise<number> {
    this.requireNative('revokeSubject', 'revokeSubject()');
    this.cache?.clear();
    try {
      return await this.native.revokeSubject!(Buffer.from(subject, 'utf8'));
    } catch (e) {
      throw fromNative(e);
    } finally {
      this.cache?.clear();
    }
  }

  async listSubject(subject: string): Promise<SessionInfo[]> {
    this.requireNative('listSubject', 'listSubject()');
    let rows: NativeSession[];
    try {
      rows = this.native.listSubject!(Buffer.from(subject, 'utf8'));
    } catch (e) {
      throw fromNative(e);
    }
    return rows.map(([handle, ttlLeftMs, readsLeft]) => {
      const metadata: SessionInfo['metadata'] = {};
      if (ttlLeftMs >= 0) metadata.ttl = ttlSeconds(ttlLeftMs);
      if (readsLeft >= 0) metadata.silence_read = readsLeft;
      return { handle, metadata };
    });
  }

  async revokeHandle(handle: string): Promise<boolean> {
    this.requireNative('revokeHandle', 'revokeHandle()');
    if (handle.length > MAX_HANDLE_CHARS) return false;
    this.cache?.clear();
    try {
      return this.sync ? await this.native.revokeHandleAsync!(handle) : this.native.revokeHandle!(handle);
    } catch (e) {
      throw fromNative(e);
    } finally {
      this.cache?.clear();
    }
  }

  /** Records still sealed under a previous key (0 when the addon does not say). */
  private previousKeyRecords(): number {
    const st = this.native.stats() as { previousKeyRecords?: number };
    return typeof st.previousKeyRecords === 'number' ? st.previousKeyRecords : 0;
  }

  // InternalError when the loaded addon predates a method (a stale build).
  private requireNative(method: keyof NativeStoreAdditions, what: string): void {
    if (typeof this.native[method] !== 'function') {
      throw new InternalError(`CRUDJT native addon does not support ${what} (it lacks ${String(method)}; rebuild it with npm run build:native)`);
    }
  }

  /**
   * Key rotation: re-seals, in the background, every record still sealed
   * under a previous key, then says once (logger.info) that the previous
   * keys can be dropped when none is left. Never throws; errors are logged.
   */
  startReseal(logger: LoggerLike | null): Promise<void> {
    const run = async (): Promise<void> => {
      if (typeof this.native.resealPrevious !== 'function') {
        logger?.warn('CRUDJT: this native addon can not re-seal records under the new secret key (rebuild it with npm run build:native)');
        return;
      }
      // A record written under a previous key by nobody can appear after
      // the pass, so a few passes are enough; normally the first one is.
      for (let pass = 0; pass < 3 && !this.closing; pass++) {
        const resealed = await this.native.resealPrevious();
        if (this.closing) return;
        const left = this.previousKeyRecords();
        if (left === 0) {
          logger?.info(
            `CRUDJT: no record is sealed under a previous secret key any more (${resealed} re-sealed under the current key): ` +
              'previous_secret_keys can be dropped',
          );
          return;
        }
        await new Promise((r) => setTimeout(r, 1000).unref());
      }
      if (!this.closing) {
        const left = this.previousKeyRecords();
        logger?.warn(`CRUDJT: ${left} records are still sealed under a previous secret key; keep previous_secret_keys`);
      }
    };
    return run().catch((e) => {
      if (!this.closing) logger?.warn(`CRUDJT: re-sealing records under the current secret key failed: ${(e as Error).message}`);
    });
  }

  read(token: string): Promise<ReadResult | null> {
    this.ops.read++;
    if (this.sync) return this.readAsyncDurable(token);
    try {
      return Promise.resolve(this.readSync(token));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  // read() with 'sync' durability: the engine call runs on the pool.
  private async readAsyncDurable(token: string): Promise<ReadResult | null> {
    const now = Date.now();
    const hit = this.cachedResult(token, now);
    if (hit !== undefined) return hit;
    const r = await this.readEngineAsync(token);
    if (r === null) return null;
    return buildReadResult(decodePayload(r.payload, token), r.ttlLeftMs, r.readsLeft);
  }

  // The cache's answer, decoded at once (the entry's bytes may be reused by
  // the next fill), or undefined.
  private cachedResult(token: string, now: number): ReadResult | undefined {
    const cache = this.cache;
    if (cache === null) return undefined;
    const e = cache.lookup(token, now);
    if (e === undefined) return undefined;
    const data = decodePayloadAt(e.bytes, e.offset, e.offset + e.length, token);
    return buildReadResult(data, e.expiresAt === null ? NO_LIMIT : e.expiresAt - now, NO_LIMIT);
  }

  // read() with the synchronous engine call ('background' durability).
  private readSync(token: string): ReadResult | null {
    const scratch = this.scratch;
    if (scratch === null) {
      const r = this.readRawSync(token);
      return r === null ? null : buildReadResult(decodePayload(r.payload, token), r.ttlLeftMs, r.readsLeft);
    }
    const cache = this.cache;
    // One clock reading: the hit's ttl, and the start of the engine call
    // (so that a cached expiry, now + ttlLeftMs, is never later than the
    // engine's); without a cache neither is needed.
    const now = cache === null ? 0 : Date.now();
    let epoch = 0;
    if (cache !== null) {
      const hit = this.cachedResult(token, now);
      if (hit !== undefined) return hit;
      epoch = cache.epoch();
    }
    const r = this.readIntoCached(token, scratch, now, epoch);
    if (r === -1) return null;
    const { dest, ttlLeftMs, readsLeft } = this.into;
    const data =
      typeof r === 'number' ? decodePayloadAt(dest, READ_HEADER, READ_HEADER + r, token) : decodePayload(r, token);
    return buildReadResult(data, ttlLeftMs, readsLeft);
  }

  readPacked(token: string): Promise<Buffer | null> {
    this.ops.read++;
    if (this.sync) return this.readRaw(token).then((r) => (r === null ? null : packRaw(r)));
    try {
      const r = this.readRawSync(token);
      return Promise.resolve(r === null ? null : packRaw(r));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  // The engine's answer (or the cache's, for unlimited tokens): payload
  // bytes, ms left (-1 = none), reads left (-1 = none).
  private async readRaw(token: string): Promise<RawRead | null> {
    if (!this.sync) return this.readRawSync(token, true);
    const hit = this.cacheHit(token, true);
    if (hit !== undefined) return hit;
    return this.readEngineAsync(token);
  }

  // The engine's read on the pool ('sync' durability), filling the cache.
  private async readEngineAsync(token: string): Promise<RawRead | null> {
    const epoch = this.cache?.epoch() ?? 0;
    const startedAt = Date.now();
    let r: NativeReadResult | null;
    try {
      r = await this.native.readAsync(token);
    } catch (e) {
      throw fromNative(e);
    }
    return this.engineRead(token, epoch, startedAt, r);
  }

  // readRaw() with the synchronous engine call ('background' durability).
  // `copy`: see cacheHit().
  private readRawSync(token: string, copy = false): RawRead | null {
    const hit = this.cacheHit(token, copy);
    if (hit !== undefined) return hit;
    if (this.scratch !== null && !copy) return this.readIntoRaw(token, this.scratch);
    const epoch = this.cache?.epoch() ?? 0;
    const startedAt = Date.now();
    let r: NativeReadResult | null;
    try {
      r = this.native.read(token);
    } catch (e) {
      throw fromNative(e);
    }
    return this.engineRead(token, epoch, startedAt, r);
  }

  // readRawSync() through readInto (as readSync() does): the payload is a
  // view of the scratch or of the cache slot, to be packed at once.
  private readIntoRaw(token: string, scratch: Buffer): RawRead | null {
    const cache = this.cache;
    const now = cache === null ? 0 : Date.now();
    const epoch = cache === null ? 0 : cache.epoch();
    const r = this.readIntoCached(token, scratch, now, epoch);
    if (r === -1) return null;
    const { dest, ttlLeftMs, readsLeft } = this.into;
    const payload = typeof r === 'number' ? dest.subarray(READ_HEADER, READ_HEADER + r) : r;
    return { payload, ttlLeftMs, readsLeft };
  }

  // The engine's read through readInto, shared by readSync and readIntoRaw.
  // With a cache, the engine writes into the slot that will hold the entry
  // (no copy when it is admitted), else into the store's scratch; an
  // admitted token's entry is committed here. Answers -1 (not found), the
  // payload's length (at READ_HEADER in this.into.dest), or a Buffer of the
  // addon's own for a payload larger than the scratch; the limits are in
  // this.into (one object, reused: a read allocates no result).
  private readIntoCached(token: string, scratch: Buffer, now: number, epoch: number): number | Buffer {
    const cache = this.cache;
    const slot = cache === null ? null : cache.readSlot();
    const dest = slot === null ? scratch : slot.slot;
    let r: number | Buffer;
    try {
      r = this.native.readInto!(token, dest);
    } catch (e) {
      throw fromNative(e);
    }
    if (r === -1) return -1;
    const meta = slot === null ? this.scratchMeta! : slot.meta;
    const at = slot === null ? 0 : slot.metaIndex;
    const into = this.into;
    into.dest = dest;
    into.ttlLeftMs = meta[at];
    into.readsLeft = meta[at + 1];
    if (cache !== null && into.readsLeft < 0 && cache.admit(token)) {
      const expiresAt = into.ttlLeftMs < 0 ? null : now + into.ttlLeftMs;
      if (typeof r === 'number') {
        cache.commitSlot(token, epoch, r, expiresAt);
      } else {
        cache.fill(token, epoch, r, expiresAt);
      }
    }
    return r;
  }

  // The cache's answer. Its payload is a view of the entry, whose memory a
  // later fill reuses: fine for a caller that packs or decodes it at once;
  // `copy` for one that uses it after an await.
  private cacheHit(token: string, copy: boolean): RawRead | undefined {
    const cache = this.cache;
    if (cache === null) return undefined;
    const now = Date.now();
    const hit = cache.get(token, now);
    if (hit === undefined) return undefined;
    const payload = copy ? Buffer.from(hit.payload) : hit.payload;
    return { payload, ttlLeftMs: hit.expiresAt === null ? NO_LIMIT : hit.expiresAt - now, readsLeft: NO_LIMIT };
  }

  // The engine's read, cached when it has no read limit. `epoch` and
  // `startedAt` are taken before the engine call: the epoch so that a write
  // that overtook the read keeps it out of the cache, the time so that the
  // cached expiry (startedAt + ttlLeftMs) is never later than the engine's.
  private engineRead(token: string, epoch: number, startedAt: number, r: NativeReadResult | null): RawRead | null {
    if (r === null) return null;
    const [payload, ttlLeftMs, readsLeft] = r;
    if (this.cache !== null && readsLeft < 0 && this.cache.admit(token)) {
      this.cache.fill(token, epoch, payload, ttlLeftMs < 0 ? null : startedAt + ttlLeftMs);
    }
    return { payload, ttlLeftMs, readsLeft };
  }

  update(token: string, packed: Buffer, ttl: Limit, silenceRead: Limit): Promise<boolean> {
    if (this.sync) return this.updateDurable(token, packed, ttl, silenceRead);
    this.ops.update++;
    this.cache?.evict(token);
    try {
      return Promise.resolve(this.native.update(token, packed, ttlToMs(ttl), readsToNative(silenceRead)));
    } catch (e) {
      return Promise.reject(fromNative(e));
    } finally {
      this.cache?.evict(token);
    }
  }

  private async updateDurable(token: string, packed: Buffer, ttl: Limit, silenceRead: Limit): Promise<boolean> {
    this.ops.update++;
    this.cache?.evict(token);
    try {
      return this.sync
        ? await this.native.updateAsync(token, packed, ttlToMs(ttl), readsToNative(silenceRead))
        : this.native.update(token, packed, ttlToMs(ttl), readsToNative(silenceRead));
    } catch (e) {
      throw fromNative(e);
    } finally {
      this.cache?.evict(token);
    }
  }

  /**
   * Backend.put (internal: the session store's write under an id the
   * framework chose). One applyBatch op [5, ...] ('sync': applyBatchAsync,
   * one fsync); the token is evicted from the read cache before and after,
   * as for update. Stats count it with updates.
   */
  async put(token: string, packed: Buffer, ttl: Limit, silenceRead: Limit): Promise<boolean> {
    this.requireNative(this.sync ? 'applyBatchAsync' : 'applyBatch', 'put (a record under a chosen token)');
    this.ops.update++;
    this.cache?.evict(token);
    const op: NativeBatchOp = [5, token, packed, ttlToMs(ttl), readsToNative(silenceRead)];
    let r: NativeBatchResult | undefined;
    try {
      r = (this.sync ? await this.native.applyBatchAsync!([op]) : this.native.applyBatch!([op]))[0];
    } catch (e) {
      // An addon from before put refuses the op type (TypeError "0..4").
      if (e instanceof TypeError && /op type 0\.\.4\b/.test(e.message)) {
        throw new InternalError('CRUDJT native addon does not support put (rebuild it with npm run build:native)');
      }
      throw fromNative(e);
    } finally {
      this.cache?.evict(token);
    }
    if (r !== undefined && r !== null && isBatchError(r)) throw batchError(r);
    if (typeof r !== 'boolean') throw new InternalError('the engine answered a put without a boolean');
    return r;
  }

  delete(token: string): Promise<boolean> {
    if (this.sync) return this.deleteDurable(token);
    this.ops.delete++;
    this.cache?.evict(token);
    try {
      return Promise.resolve(this.native.remove(token));
    } catch (e) {
      return Promise.reject(fromNative(e));
    } finally {
      this.cache?.evict(token);
    }
  }

  private async deleteDurable(token: string): Promise<boolean> {
    this.ops.delete++;
    this.cache?.evict(token);
    try {
      return this.sync ? await this.native.removeAsync(token) : this.native.remove(token);
    } catch (e) {
      throw fromNative(e);
    } finally {
      this.cache?.evict(token);
    }
  }

  runBatch(ops: readonly BatchOp[]): BatchOutcome[] | Promise<BatchOutcome[]> {
    const native = this.native;
    // The engine takes at most MAX_NATIVE_BATCH ops per call; a larger batch
    // (none of our clients sends one) goes op by op.
    const fits = ops.length <= MAX_NATIVE_BATCH;
    if (this.sync) {
      return fits && typeof native.applyBatchAsync === 'function' ? this.runBatchNativeAsync(ops) : this.runBatchAsync(ops);
    }
    return fits && typeof native.applyBatch === 'function' ? this.runNativeBatch(ops, false) as BatchOutcome[] : this.runBatchSync(ops);
  }

  // 'sync' durability with applyBatchAsync: one engine call (one fsync) per
  // batch, off the main thread. A batch waits for the batches still running
  // that share a token with it (kept in `tails`), so the order of ops on one
  // token is the order they arrived in; disjoint batches run side by side.
  private runBatchNativeAsync(ops: readonly BatchOp[]): Promise<BatchOutcome[]> {
    const tokens = new Set<string>();
    for (const op of ops) if (op.kind !== 'create') tokens.add(op.token);
    const waits: Array<Promise<unknown>> = [];
    for (const t of tokens) {
      const tail = this.tails.get(t);
      if (tail !== undefined) waits.push(tail);
    }
    const done: Promise<BatchOutcome[]> = waits.length === 0
      ? (this.runNativeBatch(ops, true) as Promise<BatchOutcome[]>)
      : Promise.all(waits).then(() => this.runNativeBatch(ops, true));
    for (const t of tokens) this.tails.set(t, done);
    void done.then(() => {
      for (const t of tokens) if (this.tails.get(t) === done) this.tails.delete(t);
    });
    return done;
  }

  // One applyBatch (or applyBatchAsync) call for the whole batch; never
  // throws or rejects: each op gets its own outcome. Reads of tokens that no
  // op of the batch writes may be answered by the cache; tokens written by
  // the batch are evicted before and after the engine call (as update()
  // does), and engine reads fill the cache only when no write intervened.
  private runNativeBatch(ops: readonly BatchOp[], useAsync: boolean): BatchOutcome[] | Promise<BatchOutcome[]> {
    const out: BatchOutcome[] = new Array(ops.length);
    const cache = this.cache;
    const written = new Set<string>();
    for (const op of ops) if (op.kind === 'update' || op.kind === 'delete' || op.kind === 'touch') written.add(op.token);
    if (cache !== null) for (const t of written) cache.evict(t);
    const nativeOps: NativeBatchOp[] = [];
    const index: number[] = []; // nativeOps[j] answers ops[index[j]]
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      switch (op.kind) {
        case 'create':
          this.ops.create++;
          nativeOps.push([0, op.packed, ttlToMs(op.ttl), readsToNative(op.silenceRead), subjectBytes(op.subject)]);
          break;
        case 'read': {
          this.ops.read++;
          if (!written.has(op.token)) {
            const hit = this.cacheHit(op.token, false); // packed at once
            if (hit !== undefined) {
              out[i] = { ok: true, value: packRaw(hit) };
              continue;
            }
          }
          nativeOps.push([1, op.token]);
          break;
        }
        case 'update':
          this.ops.update++;
          nativeOps.push([2, op.token, op.packed, ttlToMs(op.ttl), readsToNative(op.silenceRead)]);
          break;
        case 'delete':
          this.ops.delete++;
          nativeOps.push([3, op.token]);
          break;
        case 'touch':
          this.ops.update++; // a touch is a write; stats count it with updates
          nativeOps.push([4, op.token, ttlToMs(op.ttl)]);
          break;
        default:
          out[i] = { ok: false, error: new TypeError('unknown batch operation') };
          continue;
      }
      index.push(i);
    }
    const epoch = cache?.epoch() ?? 0;
    const startedAt = Date.now();
    const finish = (results: NativeBatchResult[] | null, error: unknown): BatchOutcome[] => {
      for (let j = 0; j < index.length; j++) {
        const i = index[j];
        if (results === null) {
          out[i] = { ok: false, error: fromNative(error) };
          continue;
        }
        out[i] = this.batchOutcome(ops[i], nativeOps[j][0], results[j], epoch, startedAt);
      }
      if (results !== null && results.length !== index.length) {
        for (let j = results.length; j < index.length; j++) {
          out[index[j]] = { ok: false, error: new InternalError(`the engine answered ${results.length} of ${index.length} batch operations`) };
        }
      }
      if (cache !== null) for (const t of written) cache.evict(t);
      return out;
    };
    if (nativeOps.length === 0) return useAsync ? Promise.resolve(out) : out;
    if (!useAsync) {
      let results: NativeBatchResult[];
      try {
        results = this.native.applyBatch!(nativeOps);
      } catch (e) {
        return finish(null, e);
      }
      return finish(results, null);
    }
    let p: Promise<NativeBatchResult[]>;
    try {
      p = this.native.applyBatchAsync!(nativeOps);
    } catch (e) {
      return Promise.resolve(finish(null, e));
    }
    return p.then((r) => finish(r, null), (e) => finish(null, e));
  }

  // One engine answer of a batch as the op's outcome.
  private batchOutcome(op: BatchOp, kind: number, r: NativeBatchResult | undefined, epoch: number, startedAt: number): BatchOutcome {
    if (r === undefined) return { ok: false, error: new InternalError('the engine did not answer a batch operation') };
    if (isBatchError(r)) return { ok: false, error: batchError(r) };
    if (kind === 0) {
      return typeof r === 'string' ? { ok: true, value: r } : { ok: false, error: new InternalError('the engine answered a create without a token') };
    }
    if (kind === 1) {
      if (r !== null && !Array.isArray(r)) return { ok: false, error: new InternalError('the engine answered a read with a non-record') };
      const raw = this.engineRead((op as { token: string }).token, epoch, startedAt, r);
      return { ok: true, value: raw === null ? NIL : packRaw(raw) };
    }
    return typeof r === 'boolean' ? { ok: true, value: r } : { ok: false, error: new InternalError('the engine answered a write without a boolean') };
  }

  // One pass of synchronous native calls. Each op is answered on its own.
  private runBatchSync(ops: readonly BatchOp[]): BatchOutcome[] {
    const out: BatchOutcome[] = new Array(ops.length);
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      try {
        out[i] = { ok: true, value: this.runOneSync(op) };
      } catch (e) {
        out[i] = { ok: false, error: fromNative(e) };
      }
    }
    return out;
  }

  private runOneSync(op: BatchOp): string | Buffer | boolean {
    const native = this.native;
    switch (op.kind) {
      case 'create': {
        this.ops.create++;
        const subj = subjectBytes(op.subject);
        if (subj === null) return native.create(op.packed, ttlToMs(op.ttl), readsToNative(op.silenceRead));
        this.requireNative('listSubject', 'a subject');
        return native.create(op.packed, ttlToMs(op.ttl), readsToNative(op.silenceRead), subj);
      }
      case 'read': {
        this.ops.read++;
        const r = this.readRawSync(op.token);
        return r === null ? NIL : packRaw(r);
      }
      case 'update':
        this.ops.update++;
        this.cache?.evict(op.token);
        try {
          return native.update(op.token, op.packed, ttlToMs(op.ttl), readsToNative(op.silenceRead));
        } finally {
          this.cache?.evict(op.token);
        }
      case 'delete':
        this.ops.delete++;
        this.cache?.evict(op.token);
        try {
          return native.remove(op.token);
        } finally {
          this.cache?.evict(op.token);
        }
      case 'touch':
        this.ops.update++;
        this.requireNative('touch', 'touch()');
        this.cache?.evict(op.token);
        try {
          return native.touch!(op.token, ttlToMs(op.ttl));
        } finally {
          this.cache?.evict(op.token);
        }
      default:
        throw new TypeError('unknown batch operation');
    }
  }

  // 'sync' durability: concurrent async calls, chained per token.
  private runBatchAsync(ops: readonly BatchOp[]): Promise<BatchOutcome[]> {
    const results: Array<Promise<BatchOutcome>> = new Array(ops.length);
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      const run = (): Promise<BatchOutcome> => this.runOneAsync(op).then(
        (value): BatchOutcome => ({ ok: true, value }),
        (error): BatchOutcome => ({ ok: false, error: fromNative(error) }),
      );
      if (op.kind === 'create') {
        results[i] = run();
        continue;
      }
      const token = op.token;
      const previous = this.tails.get(token);
      const p = previous === undefined ? run() : previous.then(run);
      this.tails.set(token, p);
      void p.then(() => {
        if (this.tails.get(token) === p) this.tails.delete(token);
      });
      results[i] = p;
    }
    return Promise.all(results);
  }

  private async runOneAsync(op: BatchOp): Promise<string | Buffer | boolean> {
    switch (op.kind) {
      case 'create':
        return this.create(op.packed, op.ttl, op.silenceRead, op.subject ?? null);
      case 'read':
        return (await this.readPacked(op.token)) ?? NIL;
      case 'update':
        return this.update(op.token, op.packed, op.ttl, op.silenceRead);
      case 'delete':
        return this.delete(op.token);
      case 'touch':
        return this.touch(op.token, op.ttl);
      default:
        throw new TypeError('unknown batch operation');
    }
  }

  countRequest(rpc: string): void {
    this.requests[rpc] = (this.requests[rpc] ?? 0) + 1;
  }

  async stats(): Promise<Stats> {
    let st;
    try {
      st = this.native.stats();
    } catch (e) {
      throw fromNative(e);
    }
    const cache = this.cache;
    const hits = cache?.hits ?? 0;
    const misses = cache?.misses ?? 0;
    return {
      tokens: st.liveTokens,
      page_file_bytes: st.pageFileBytes,
      log_bytes: st.logBytes,
      pages_total: st.pagesTotal,
      pages_free: st.pagesFree,
      last_fsync_ms: st.lastFsyncMs,
      last_checkpoint_ms: st.lastCheckpointMs,
      last_sweep_ms: st.lastSweepMs,
      last_sweep_removed: st.lastSweepRemoved,
      cache_enabled: cache !== null,
      cache_entries: cache?.size ?? 0,
      cache_hits: hits,
      cache_misses: misses,
      cache_hit_rate: hits + misses === 0 ? 0 : hits / (hits + misses),
      requests: { ...this.requests },
      operations: { ...this.ops },
      uptime_ms: Date.now() - this.startedAt,
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    this.cache?.clear();
    try {
      await this.native.close();
    } catch (e) {
      throw fromNative(e);
    }
  }
}

interface RawRead {
  payload: Buffer;
  ttlLeftMs: number;
  readsLeft: number;
}

/** The ReadToken answer for an engine (or cache) read. */
function packRaw(r: RawRead): Buffer {
  return packReadResult(
    r.payload,
    r.ttlLeftMs < 0 ? null : ttlSeconds(r.ttlLeftMs),
    r.readsLeft < 0 ? null : r.readsLeft,
  );
}

function decodePayload(payload: Buffer, token: string): Record<string, unknown> {
  return decodePayloadAt(payload, 0, payload.length, token);
}

function decodePayloadAt(buf: Buffer, start: number, end: number, token: string): Record<string, unknown> {
  try {
    return unpackMapAt(buf, start, end, 'stored payload');
  } catch (e) {
    // The engine authenticates payloads, so this means a bug or a payload
    // written by an incompatible SDK; report it, never crash.
    throw new InternalError(`the stored data of token ${token.slice(0, 32)} can not be decoded: ${(e as Error).message}`);
  }
}
