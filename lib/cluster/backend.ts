// The cluster role's backend: the public API on a Redis Cluster, so that
// every process of every host sees the same tokens (no master).
//
//   Redis key   = <prefix>t:<base64url of the token's tree key>
//                 (the engine's keyed hash: no token on the cluster)
//   Redis value = the engine's sealed record (payload encrypted with the
//                 tree key as associated data: no payload on the cluster)
//   expiry      = Redis' own (PX / PEXPIRE, millisecond clock); read
//                 reports PTTL rounded up to whole seconds, as a master does
//
// Each operation is one round trip: a plain SET NX for create, a plain GET
// for a read of a token without a read limit, one Lua script (scripts.ts)
// for the other reads and for update/delete/touch, so limits are enforced
// atomically on the node that owns the key. ioredis coalesces concurrent
// calls per node (auto-pipelining).
//
// Client CPU per call is what this file adds to a plain Redis session
// store's: one native call to hash the token (tokenHandle: the key's handle
// as a string, no Buffer), one to open the record into a reused buffer
// (openInto), the MessagePack decode; a create is one native call
// (sealNew).
//
// Key rotation: the codec holds the current and the previous secrets; the
// token hash key comes from <prefix>m:index-key (index.ts adoptIndexKey).
//
// Faults: every call races a deadline; a node that is down, a cluster
// without quorum (CLUSTERDOWN) or a command timeout rejects with an
// InternalError naming the node (host:port) that owns the key. ioredis keeps
// reconnecting and refreshing the slot map, so calls succeed again once the
// node (or its promoted replica) is back. A write that timed out may still
// have been applied: the error says the outcome is unknown.
//
// Durability: Redis replicates asynchronously; with durability 'replicated'
// every write (create, update, delete, touch, a read that decrements) is
// followed by WAIT 1 on the same node connection, and rejects unless one
// replica acknowledged it within half the deadline.
import type { Cluster, Redis } from 'ioredis';
import type { Backend, ReadResult, SessionInfo, Stats } from '../backend';
import { buildReadResult } from '../backend';
import { fromNative, InternalError } from '../errors';
import { unpackMap } from '../msgpack';
import { CHOSEN_TOKEN_INVALID, CHOSEN_TOKEN_RE, type Limit } from '../validation';
import type { NativeRecordCodec, TreeKey } from './codec';
import * as scripts from './scripts';

const NO_LIMIT = -1;
/** Attempts at a fresh token when SET NX finds one taken (2^-128 each). */
const CREATE_ATTEMPTS = 4;

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

export interface ClusterBackendOptions {
  prefix: string;
  deadlineMs: number;
  replicated: boolean;
  logger: Logger | null;
}

/** The script commands defined on the ioredis Cluster (see defineScripts). */
interface ScriptCommands {
  crudjtReadBuffer(key: string, ids: string): Promise<[Buffer, number, number] | null>;
  crudjtPeek(key: string, ids: string): Promise<[number, number] | null>;
  crudjtUpdate(key: string, ids: string, record: Buffer, ttlMs: number): Promise<number>;
  crudjtPut(key: string, ids: string, record: Buffer, ttlMs: number): Promise<number>;
  crudjtDelete(key: string, ids: string): Promise<number>;
  crudjtTouch(key: string, ids: string, ttlMs: number, expiresAtMs: number): Promise<number>;
  crudjtSubjectAdd(key: string, member: string, ttlMs: number): Promise<number>;
}

/** Defines the Lua scripts as commands (EVALSHA, EVAL on NOSCRIPT). */
export function defineScripts(cluster: Cluster): void {
  cluster.defineCommand('crudjtRead', { numberOfKeys: 1, lua: scripts.READ });
  cluster.defineCommand('crudjtPeek', { numberOfKeys: 1, lua: scripts.PEEK });
  cluster.defineCommand('crudjtUpdate', { numberOfKeys: 1, lua: scripts.UPDATE });
  cluster.defineCommand('crudjtPut', { numberOfKeys: 1, lua: scripts.PUT });
  cluster.defineCommand('crudjtDelete', { numberOfKeys: 1, lua: scripts.DELETE });
  cluster.defineCommand('crudjtTouch', { numberOfKeys: 1, lua: scripts.TOUCH });
  cluster.defineCommand('crudjtSubjectAdd', { numberOfKeys: 1, lua: scripts.SUBJECT_ADD });
  cluster.defineCommand('crudjtIndexKey', { numberOfKeys: 1, lua: scripts.INDEX_KEY });
}

/** CRC16 slot of a key, as Redis computes it (cluster-key-slot ships with ioredis). */
let slotOf: ((key: string) => number) | null = null;
function keySlot(key: string): number {
  if (slotOf === null) {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    slotOf = require('cluster-key-slot') as (key: string) => number;
  }
  return slotOf(key);
}

class Timeout extends Error {}

/** A call waiting for its answer (see ClusterBackend.call). */
interface Waiting {
  /** Date.now() after which it fails. */
  at: number;
  settled: boolean;
  expire(): void;
}

export class ClusterBackend implements Backend {
  readonly role = 'cluster' as const;
  private readonly cluster: Cluster;
  private readonly commands: ScriptCommands;
  /** The current secret and the previous ones (records of any of them open). */
  private readonly codec: NativeRecordCodec;
  /** The key ids accepted, as hex (ARGV[1] of every script, see scripts.ts). */
  private readonly keyIds: string;
  private readonly prefix: string;
  /** `${prefix}t:`, the start of every token key. */
  private readonly tokenPrefix: string;
  /** openInto's output: a read's payload, unpacked before the next read can run. */
  private readonly plain = Buffer.alloc(256);
  private readonly deadlineMs: number;
  private readonly replicated: boolean;
  private readonly startedAt = Date.now();
  private readonly ops: Record<string, number> = { create: 0, read: 0, update: 0, delete: 0, touch: 0 };
  private closed = false;
  /**
   * Calls waiting for an answer, oldest first (from waitingHead). They all
   * have the same deadline length, so their deadlines are in this order
   * too: one timer, set for the oldest one, expires them, instead of a
   * timer and a Promise.race per call. Answered calls leave from the head
   * as soon as everything older has left, so the array stays about as long
   * as the number of calls in flight.
   */
  private readonly waiting: Waiting[] = [];
  private waitingHead = 0;
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(cluster: Cluster, codec: NativeRecordCodec, options: ClusterBackendOptions) {
    this.cluster = cluster;
    this.commands = cluster as unknown as ScriptCommands;
    this.codec = codec;
    this.keyIds = codec.keyIds.toString('hex');
    this.prefix = options.prefix;
    this.tokenPrefix = `${options.prefix}t:`;
    this.deadlineMs = options.deadlineMs;
    this.replicated = options.replicated;
  }

  // ---- keys ----------------------------------------------------------------

  /** The Redis key of a tree key's handle (see treeKeyOf). */
  private tokenKey(handle: string): string {
    return this.tokenPrefix + handle;
  }

  private subjectKey(subject: string): string {
    const hash = this.codec.hashSubject(Buffer.from(subject, 'utf8'));
    return `${this.prefix}s:${hash.toString('base64url')}`;
  }

  /**
   * The handle (base64url of the tree key) behind a token, or null when no
   * token can have it. A string, not the 16 bytes: it is what the Redis key
   * holds, and the codec takes it back without a Buffer per call.
   */
  private treeKeyOf(token: string): string | null {
    return this.codec.tokenHandle(token);
  }

  /** The master node (host:port) that owns `key`, as ioredis last saw the slot map. */
  nodeOf(key: string): string {
    const slot = keySlot(key);
    const owners = (this.cluster as unknown as { slots?: string[][] }).slots?.[slot];
    return owners && owners.length > 0 ? owners[0] : `(no node known for slot ${slot})`;
  }

  // ---- calls ---------------------------------------------------------------

  /**
   * Runs one cluster call for `key` under the deadline. Every failure
   * becomes an InternalError naming the node; a late answer or rejection
   * of an abandoned call is swallowed (no unhandled rejection).
   */
  private call<T>(key: string, what: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new InternalError('CRUDJT cluster connection is closed'));
    let p: Promise<T>;
    try {
      p = fn();
    } catch (e) {
      return Promise.reject(this.failure(key, what, e));
    }
    return new Promise<T>((resolve, reject) => {
      const w: Waiting = {
        at: Date.now() + this.deadlineMs,
        settled: false,
        expire: () => {
          p.catch(() => undefined);
          reject(this.failure(key, what, new Timeout()));
        },
      };
      p.then(
        (v) => {
          if (w.settled) return;
          w.settled = true;
          this.leave();
          resolve(v);
        },
        (e) => {
          if (w.settled) return;
          w.settled = true;
          this.leave();
          reject(this.failure(key, what, e));
        },
      );
      this.waiting.push(w);
      if (this.sweepTimer === null) this.armSweep(w.at - Date.now());
    });
  }

  /** Drops answered calls from the head of `waiting`. */
  private leave(): void {
    const q = this.waiting;
    let i = this.waitingHead;
    while (i < q.length && q[i].settled) i++;
    if (i === q.length) {
      q.length = 0;
      i = 0;
    } else if (i >= 1024 && i * 2 >= q.length) {
      q.splice(0, i);
      i = 0;
    }
    this.waitingHead = i;
  }

  // Unref'd: the cluster's sockets keep the process alive while calls wait.
  private armSweep(ms: number): void {
    this.sweepTimer = setTimeout(this.sweep, Math.max(1, ms));
    this.sweepTimer.unref();
  }

  /** Fails every waiting call whose deadline has passed; re-arms for the next. */
  private readonly sweep = (): void => {
    this.sweepTimer = null;
    const now = Date.now();
    const q = this.waiting;
    for (let i = this.waitingHead; i < q.length && q[i].at <= now; i++) {
      const w = q[i];
      if (w.settled) continue;
      w.settled = true;
      w.expire();
    }
    this.leave();
    if (this.waitingHead < q.length) this.armSweep(q[this.waitingHead].at - now);
  };

  private failure(key: string, what: string, e: unknown): InternalError {
    const deadlineMs = this.deadlineMs;
    const node = this.nodeOf(key);
    const write = what !== 'read' && what !== 'list';
    const unknown = write ? '; whether the write was applied is unknown' : '';
    if (e instanceof Timeout || (e instanceof Error && /timed out/i.test(e.message))) {
      return new InternalError(`CRUDJT cluster node ${node} did not answer ${what} within ${deadlineMs} ms${unknown}`);
    }
    const message = e instanceof Error ? e.message : String(e);
    return new InternalError(`CRUDJT cluster node ${node} failed ${what}: ${message}${unknown}`);
  }

  /** durability 'replicated': WAIT 1 on the connection that just wrote `key`. */
  private async replicate(key: string, what: string): Promise<void> {
    if (!this.replicated) return;
    const nodeKey = this.nodeOf(key);
    const node = this.cluster.nodes('master').find((n: Redis) => `${n.options.host}:${n.options.port}` === nodeKey);
    if (node === undefined) {
      throw new InternalError(`CRUDJT cluster node ${nodeKey} is not connected: ${what} could not be confirmed on a replica`);
    }
    // WAIT's own timeout stays under the command timeout, so that its answer
    // (how many replicas confirmed) arrives instead of a timeout.
    const waitMs = Math.max(1, Math.floor(this.deadlineMs / 2));
    const acked = await this.call(key, `${what} (WAIT)`, () => node.wait(1, waitMs));
    if (!(acked >= 1)) {
      throw new InternalError(
        `CRUDJT cluster node ${nodeKey}: no replica acknowledged ${what} within ${waitMs} ms ` +
          `(durability 'replicated'); the write is on the master only`,
      );
    }
  }

  /**
   * The data of a record, or null for a record of a secret this process
   * was not given (current or previous: the codec picks the record's).
   */
  private openData(token: string, handle: string, record: Buffer, key: string): Record<string, unknown> | null {
    let n: number;
    try {
      n = this.codec.openInto(handle, record, this.plain);
    } catch (e) {
      const err = fromNative(e);
      throw new InternalError(`CRUDJT cluster node ${this.nodeOf(key)}: the record under ${key} is corrupt: ${err.message}`);
    }
    return n < 0 ? null : this.unpackStored(token, this.plain.subarray(0, n));
  }

  // ---- the Backend interface -------------------------------------------------

  async create(packed: Buffer, ttl: Limit, silenceRead: Limit, subject?: string | null): Promise<string> {
    this.ops.create++;
    const ttlMs = ttl === null ? NO_LIMIT : ttl * 1000;
    const reads = silenceRead === null ? NO_LIMIT : silenceRead;
    const codec = this.codec;
    const setKey = subject === undefined || subject === null ? null : this.subjectKey(subject);
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
      let token: string;
      let handle: string;
      let record: Buffer;
      try {
        [token, handle, record] = codec.sealNew(packed, ttlMs === NO_LIMIT ? 0 : Date.now() + ttlMs, reads);
      } catch (e) {
        throw fromNative(e);
      }
      const key = this.tokenKey(handle);
      // The subject's set first: a member whose token never got written is
      // pruned later, while a token missing from its set would survive
      // revokeSubject.
      if (setKey !== null) {
        const member = handle;
        await this.call(setKey, 'create (subject)', () => this.commands.crudjtSubjectAdd(setKey, member, ttlMs));
        await this.replicate(setKey, 'create (subject)');
      }
      const r = await this.call(key, 'create', () =>
        ttlMs === NO_LIMIT ? this.cluster.set(key, record, 'NX') : this.cluster.set(key, record, 'PX', ttlMs, 'NX'),
      );
      if (r === 'OK') {
        await this.replicate(key, 'create');
        return token;
      }
    }
    throw new InternalError(`CRUDJT cluster: ${CREATE_ATTEMPTS} fresh tokens were all taken (broken random source?)`);
  }

  async read(token: string): Promise<ReadResult | null> {
    this.ops.read++;
    const handle = this.treeKeyOf(token);
    if (handle === null) return null;
    const key = this.tokenPrefix + handle;
    // Most session tokens have no read limit: then a read changes nothing,
    // and a plain GET is the whole step (a Lua script costs the node ~10x a
    // GET). The record carries its expiry (touch rewrites it), so the ttl
    // comes from it. A token with a limit takes the READ script, which
    // decrements and deletes atomically (one more round trip for those).
    const plain = await this.call(key, 'read', () => this.cluster.getBuffer(key));
    if (plain === null) return null;
    if (plain.length >= 20 && plain.readBigInt64LE(8) === -1n) {
      const expiresAt = plain.readUIntLE(0, 6) + plain[6] * 2 ** 48;
      const ttlLeft = expiresAt === 0 ? NO_LIMIT : expiresAt - Date.now();
      if (ttlLeft !== NO_LIMIT && ttlLeft <= 0) return null;
      const data = this.openData(token, handle, plain, key);
      if (data === null) return null; // a record of a secret this process lacks
      return ttlLeft === NO_LIMIT ? { data } : buildReadResult(data, ttlLeft, NO_LIMIT);
    }
    const r = await this.call(key, 'read', () => this.commands.crudjtReadBuffer(key, this.keyIds));
    if (r === null) return null;
    const [record, pttl, readsLeft] = r;
    if (readsLeft !== NO_LIMIT) await this.replicate(key, 'read');
    const data = this.openData(token, handle, record, key);
    if (data === null) return null;
    return buildReadResult(data, pttl < 0 ? NO_LIMIT : pttl, Number(readsLeft));
  }

  /** A record under the current secret for a write with these limits (ttlMs: NO_LIMIT or ms). */
  private sealNew(treeKey: TreeKey, packed: Buffer, ttlMs: number, silenceRead: Limit): Buffer {
    try {
      return this.codec.seal(treeKey, packed, ttlMs === NO_LIMIT ? 0 : Date.now() + ttlMs, silenceRead ?? NO_LIMIT);
    } catch (e) {
      throw fromNative(e);
    }
  }

  private unpackStored(token: string, payload: Buffer): Record<string, unknown> {
    try {
      return unpackMap(payload, 'stored payload');
    } catch (e) {
      throw new InternalError(`the stored data of token ${token.slice(0, 32)} can not be decoded: ${(e as Error).message}`);
    }
  }

  async update(token: string, packed: Buffer, ttl: Limit, silenceRead: Limit): Promise<boolean> {
    this.ops.update++;
    const treeKey = this.treeKeyOf(token);
    if (treeKey === null) return false;
    const key = this.tokenKey(treeKey);
    const ttlMs = ttl === null ? NO_LIMIT : ttl * 1000;
    const record = this.sealNew(treeKey, packed, ttlMs, silenceRead);
    const r = await this.call(key, 'update', () => this.commands.crudjtUpdate(key, this.keyIds, record, ttlMs));
    if (r !== 1) return false;
    await this.replicate(key, 'update');
    return true;
  }

  /**
   * Backend.put (internal: the session store's write under an id the
   * framework chose): one PUT script, SET without NX, with PX for a ttl and
   * no expiry otherwise; true when it replaced a live record.
   *
   * Subjects: put never gives a token a subject. The cluster keeps a
   * subject as a set of handles, and a record does not say which set holds
   * it, so a put over a token that create() tied to a subject leaves its
   * handle in that set: listSubject still lists it and revokeSubject still
   * deletes it (revocation errs on the side of logging out). The session
   * store never puts over a token from create() (its ids are the
   * framework's), so this does not arise there. The file store, which knows
   * the record's subject, drops it from the subject instead.
   */
  async put(token: string, packed: Buffer, ttl: Limit, silenceRead: Limit): Promise<boolean> {
    this.ops.update++;
    if (typeof token !== 'string' || !CHOSEN_TOKEN_RE.test(token)) throw new TypeError(CHOSEN_TOKEN_INVALID);
    const treeKey = this.treeKeyOf(token);
    if (treeKey === null) throw new TypeError(CHOSEN_TOKEN_INVALID);
    const key = this.tokenKey(treeKey);
    const ttlMs = ttl === null ? NO_LIMIT : ttl * 1000;
    const record = this.sealNew(treeKey, packed, ttlMs, silenceRead);
    const r = await this.call(key, 'put', () => this.commands.crudjtPut(key, this.keyIds, record, ttlMs));
    await this.replicate(key, 'put');
    return r === 1;
  }

  async delete(token: string): Promise<boolean> {
    this.ops.delete++;
    const treeKey = this.treeKeyOf(token);
    if (treeKey === null) return false;
    return this.deleteKey(this.tokenKey(treeKey), 'delete');
  }

  private async deleteKey(key: string, what: string): Promise<boolean> {
    const r = await this.call(key, what, () => this.commands.crudjtDelete(key, this.keyIds));
    if (r !== 1) return false;
    await this.replicate(key, what);
    return true;
  }

  async touch(token: string, ttl: Limit): Promise<boolean> {
    this.ops.touch++;
    const treeKey = this.treeKeyOf(token);
    if (treeKey === null) return false;
    const key = this.tokenKey(treeKey);
    const ttlMs = ttl === null ? NO_LIMIT : ttl * 1000;
    const expiresAt = ttlMs === NO_LIMIT ? 0 : Date.now() + ttlMs;
    const r = await this.call(key, 'touch', () => this.commands.crudjtTouch(key, this.keyIds, ttlMs, expiresAt));
    if (r !== 1) return false;
    await this.replicate(key, 'touch');
    return true;
  }

  /** The handles in a subject's set (a set may hold members whose token is gone). */
  private async members(setKey: string, what: string): Promise<string[]> {
    return this.call(setKey, what, () => this.cluster.smembers(setKey));
  }

  private handleKey(handle: string): string | null {
    if (!/^[A-Za-z0-9_-]{22}$/.test(handle)) return null;
    const raw = Buffer.from(handle, 'base64url');
    if (raw.length !== 16 || raw.toString('base64url') !== handle) return null;
    return `${this.prefix}t:${handle}`;
  }

  async revokeSubject(subject: string): Promise<number> {
    const setKey = this.subjectKey(subject);
    const handles = await this.members(setKey, 'revokeSubject');
    const removed = await Promise.all(
      handles.map((h) => {
        const key = this.handleKey(h);
        return key === null ? false : this.deleteKey(key, 'revokeSubject');
      }),
    );
    if (handles.length > 0) {
      await this.call(setKey, 'revokeSubject', () => this.cluster.srem(setKey, ...handles));
      await this.replicate(setKey, 'revokeSubject');
    }
    return removed.filter((x) => x).length;
  }

  async listSubject(subject: string): Promise<SessionInfo[]> {
    const setKey = this.subjectKey(subject);
    const handles = await this.members(setKey, 'list');
    const peeks = await Promise.all(
      handles.map(async (h) => {
        const key = this.handleKey(h);
        if (key === null) return null;
        return this.call(key, 'list', () => this.commands.crudjtPeek(key, this.keyIds));
      }),
    );
    const out: SessionInfo[] = [];
    const gone: string[] = [];
    handles.forEach((h, i) => {
      const p = peeks[i];
      if (p === null) {
        gone.push(h);
        return;
      }
      const [pttl, reads] = p;
      const metadata = buildReadResult({}, pttl < 0 ? NO_LIMIT : pttl, Number(reads)).metadata ?? {};
      out.push({ handle: h, metadata });
    });
    if (gone.length > 0) {
      // Pruning is housekeeping: a failure here does not fail the listing.
      await this.call(setKey, 'list (prune)', () => this.cluster.srem(setKey, ...gone)).catch(() => undefined);
    }
    out.sort((a, b) => (a.handle < b.handle ? -1 : a.handle > b.handle ? 1 : 0));
    return out;
  }

  async revokeHandle(handle: string): Promise<boolean> {
    const key = this.handleKey(handle);
    if (key === null) return false;
    return this.deleteKey(key, 'revokeHandle');
  }

  async stats(): Promise<Stats> {
    let keys = 0;
    const masters = this.cluster.nodes('master');
    const sizes = await Promise.all(
      masters.map(async (n: Redis) => {
        const name = `${n.options.host}:${n.options.port}`;
        let timer: NodeJS.Timeout | undefined;
        const p = n.dbsize();
        try {
          return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Timeout()), this.deadlineMs)))]);
        } catch (e) {
          p.catch(() => undefined);
          const why = e instanceof Timeout ? `did not answer within ${this.deadlineMs} ms` : (e as Error).message;
          throw new InternalError(`CRUDJT cluster node ${name} failed stats: ${why}`);
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    for (const s of sizes) keys += s;
    return {
      tokens: keys,
      page_file_bytes: 0,
      log_bytes: 0,
      pages_total: 0,
      pages_free: 0,
      last_fsync_ms: 0,
      last_checkpoint_ms: 0,
      last_sweep_ms: 0,
      last_sweep_removed: 0,
      cache_enabled: false,
      cache_entries: 0,
      cache_hits: 0,
      cache_misses: 0,
      cache_hit_rate: 0,
      requests: {},
      operations: { ...this.ops },
      uptime_ms: Date.now() - this.startedAt,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweepTimer !== null) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    let timer: NodeJS.Timeout | undefined;
    const quit = this.cluster.quit().catch(() => undefined);
    await Promise.race([quit, new Promise((r) => (timer = setTimeout(r, this.deadlineMs)))]);
    clearTimeout(timer);
    this.cluster.disconnect();
  }
}
