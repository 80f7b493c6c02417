// Types of the native addon (src/), loaded once by lib/binding.ts through
// node-gyp-build. The addon is deliberately thin: it converts types, calls
// the C++ engine (cpp/include/crudjt/store.h) and converts its Status into a
// thrown error. All argument validation with user-facing messages happens in
// TypeScript first (lib/validation.ts); the addon re-checks and throws a
// TypeError for anything the engine would reject, never aborting.

/** Limits the engine enforces; TypeScript validates against these. */
export interface NativeConstants {
  readonly MAX_PAYLOAD_BYTES: number;   // 256
  readonly TOKEN_CHARS: number;         // 22
  readonly MAX_TOKEN_CHARS: number;     // longer tokens are never found
  readonly MAX_TTL_MS: number;
  readonly MAX_READS: number;
  readonly NO_LIMIT: number;            // -1
}

export interface NativeOpenOptions {
  durability?: 'background' | 'sync';
  flushIntervalMs?: number;
  checkpointLogBytes?: number;
  pageCacheBytes?: number;
  sweepOnOpen?: boolean;
  sweepIntervalMs?: number;
  /** Key rotation: raw 32/48/64-byte secrets used before the current one. */
  previousSecretKeys?: Buffer[];
}

export interface NativeOpenInfo {
  keyChanged: boolean;
  recoveredRecords: number;
  droppedTailBytes: number;
}

export interface NativeStats {
  liveTokens: number;
  pageFileBytes: number;
  logBytes: number;
  pagesTotal: number;
  pagesFree: number;
  cacheBytes: number;
  lastFsyncMs: number;
  lastCheckpointMs: number;
  lastSweepMs: number;
  lastSweepRemoved: number;
  /** Token records still sealed under a previous key (exact across restarts); 0 = old keys can go. */
  previousKeyRecords: number;
}

/** [payload, ttlLeftMs (-1 = none), readsLeft (-1 = none)] */
export type NativeReadResult = [payload: Buffer, ttlLeftMs: number, readsLeft: number];

/** [handle (22-char base64url of the 16-byte tree key), ttlLeftMs (-1 = none), readsLeft (-1 = none)] */
export type NativeSession = [handle: string, ttlLeftMs: number, readsLeft: number];

/** One op of applyBatch. subject: UTF-8 bytes, 1..128, or null/absent = none. */
export type NativeBatchOp =
  | [0, payload: Buffer, ttlMs: number, maxReads: number, subject?: Buffer | null]   // create
  | [1, token: string]                                                             // read
  | [2, token: string, payload: Buffer, ttlMs: number, maxReads: number]           // update (keeps the subject)
  | [3, token: string]                                                             // remove
  | [4, token: string, ttlMs: number]                                              // touch
  /**
   * put: create or wholly replace the record of a token the caller chose
   * (22..128 base64url characters, e.g. an express-session id; only its
   * keyed hash is stored). Result: true when it replaced a live token.
   * A token outside those bounds fails the op with CRUDJT_INVALID_ARGUMENT.
   */
  | [5, token: string, payload: Buffer, ttlMs: number, maxReads: number, subject?: Buffer | null];

/** An op's failure inside a batch (other ops are unaffected). */
export interface NativeBatchError { code: string /* CRUDJT_... as thrown errors */; message: string }
/** create: token string; read: NativeReadResult | null; update/remove/touch/put: boolean; or NativeBatchError. */
export type NativeBatchResult = string | NativeReadResult | null | boolean | NativeBatchError;

/**
 * An open store. The per-token methods are synchronous: each is a few
 * microseconds of memory work plus one write() to the log (fsync happens on
 * the engine's flush thread), cheaper than a thread-pool hop. With
 * durability 'sync' use the async variants so fsync never blocks the loop.
 * Errors thrown carry `code`: 'CRUDJT_CORRUPTION' | 'CRUDJT_IO_ERROR' |
 * 'CRUDJT_INVALID_ARGUMENT' | 'CRUDJT_BUSY' | 'CRUDJT_NOT_SUPPORTED' |
 * 'CRUDJT_CLOSED'.
 */
export interface NativeStore {
  /** subject: UTF-8 bytes, 1..128 (absent/null = none), for revokeSubject/listSubject. */
  create(payload: Buffer, ttlMs: number, maxReads: number, subject?: Buffer | null): string;
  read(token: string): NativeReadResult | null;
  /**
   * read() without allocating: copies ttlLeftMs and readsLeft (-1 = none)
   * as two float64 in host byte order into scratch[0..16) and the payload
   * into scratch[16..), and answers its length; -1 when not found. A payload
   * longer than scratch.byteLength - 16 is answered as a Buffer of its own
   * (the limits still in scratch[0..16)). TypeError when scratch is not a
   * Uint8Array of at least 16 bytes. Optional: absent from addons built
   * before it (lib/store.ts falls back to read()).
   */
  readInto?(token: string, scratch: Uint8Array): number | Buffer;
  update(token: string, payload: Buffer, ttlMs: number, maxReads: number): boolean;
  remove(token: string): boolean;

  createAsync(payload: Buffer, ttlMs: number, maxReads: number, subject?: Buffer | null): Promise<string>;
  readAsync(token: string): Promise<NativeReadResult | null>;
  updateAsync(token: string, payload: Buffer, ttlMs: number, maxReads: number): Promise<boolean>;
  removeAsync(token: string): Promise<boolean>;

  /** New lifetime from now (ttlMs 1..MAX_TTL_MS, or -1 = no expiry); payload and reads untouched. false = not live. */
  touch(token: string, ttlMs: number): boolean;
  touchAsync(token: string, ttlMs: number): Promise<boolean>;
  /** Deletes every live token of the subject; the count. Work proportional to the subject's tokens. */
  revokeSubject(subject: Buffer): Promise<number>;
  /** The subject's live tokens (expired/exhausted ones excluded), as handles that never reveal the token. */
  listSubject(subject: Buffer): NativeSession[];
  /** Deletes the token behind a handle from listSubject; false when it is not live or the handle is malformed. */
  revokeHandle(handle: string): boolean;
  revokeHandleAsync(handle: string): Promise<boolean>;
  /** Runs the ops in order under one lock hold with ONE log append (one write) and one flush-thread wake-up. At most 4096 ops (else TypeError). */
  applyBatch(ops: NativeBatchOp[]): NativeBatchResult[];
  /** Same, off the main thread, with one fsync for the whole batch under durability 'sync'. */
  applyBatchAsync(ops: NativeBatchOp[]): Promise<NativeBatchResult[]>;
  /** Re-seals, in small batches without blocking callers, every record still sealed under a previous key; the count. */
  resealPrevious(): Promise<number>;
  /** Export for `crudjt-server migrate`: up to `limit` live records after `afterKey` (null = from the start), in key order. */
  exportRecords(afterKey: Buffer | null, limit: number): Array<[treeKey: Buffer, record: Buffer]>;

  sweep(): Promise<number>;
  flush(): Promise<void>;
  checkpoint(): Promise<void>;
  stats(): NativeStats;
  /** Idempotent; stops background threads, checkpoints, releases the lock. */
  close(): Promise<void>;
}

/**
 * A tree key: 16 bytes, or its handle (the 22-character base64url of them,
 * which the read path passes instead of allocating a Buffer).
 */
export type RecordCodecTreeKey = Buffer | string;

/** The engine's token hash and record sealing without a store (the Redis Cluster role). */
export interface NativeRecordCodec {
  /** The 16-byte tree key, or null for a string that can never be a token. */
  hashToken(token: string): Buffer | null;
  /** The tree key's handle (base64url, 22 chars), or null as hashToken. */
  tokenHandle(token: string): string | null;
  /** Keyed hash of a subject (1..128 UTF-8 bytes), apart from token hashes. */
  hashSubject(subject: Buffer): Buffer;
  newToken(): [token: string, treeKey: Buffer];
  /** newToken() and seal() in one call: the token, its handle and its record. */
  sealNew(payload: Buffer, expiresAtMs: number, readsLeft: number): [token: string, handle: string, record: Buffer];
  /** Under the current secret. expiresAtMs: 0 = never; readsLeft: -1 = unlimited. */
  seal(treeKey: RecordCodecTreeKey, payload: Buffer, expiresAtMs: number, readsLeft: number): Buffer;
  /** null: sealed under a secret the codec was not given. Throws code CRUDJT_CORRUPTION when altered. */
  open(treeKey: RecordCodecTreeKey, record: Buffer): [payload: Buffer, expiresAtMs: number, readsLeft: number] | null;
  /** open() into `out` (>= 256 bytes): the payload's length, or -1 for another secret's record. */
  openInto(treeKey: RecordCodecTreeKey, record: Buffer, out: Buffer): number;
  /** The current secret's key id (u32 at record offset 16). */
  readonly keyId: number;
  /** The key ids it opens (u32 LE each): the current one, then previous ones'. */
  readonly keyIds: Buffer;
  /** The index key (token and subject hashes) wrapped under the current secret (72 bytes). */
  wrapIndexKey(): Buffer;
  /** Takes the index key inside `wrapped` when one of its secrets opens it; false otherwise. */
  adoptIndexKey(wrapped: Buffer): boolean;
}

export interface NativeBinding {
  readonly constants: NativeConstants;
  /**
   * Opens (creating if needed) the store in `dir`. `secretKey` is the raw
   * key (32/48/64 bytes). Runs off the main thread (recovery may read).
   */
  open(dir: string, secretKey: Buffer, options?: NativeOpenOptions): Promise<{ store: NativeStore; info: NativeOpenInfo }>;
  /**
   * A codec for the raw secret (32/48/64 bytes) and previous secrets whose
   * records still open; its index key is the oldest secret's until
   * adoptIndexKey().
   */
  RecordCodec: new (secret: Buffer, previous?: Buffer[]) => NativeRecordCodec;
}

declare const binding: NativeBinding;
export default binding;
