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
}

/** [payload, ttlLeftMs (-1 = none), readsLeft (-1 = none)] */
export type NativeReadResult = [payload: Buffer, ttlLeftMs: number, readsLeft: number];

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
  create(payload: Buffer, ttlMs: number, maxReads: number): string;
  read(token: string): NativeReadResult | null;
  update(token: string, payload: Buffer, ttlMs: number, maxReads: number): boolean;
  remove(token: string): boolean;

  createAsync(payload: Buffer, ttlMs: number, maxReads: number): Promise<string>;
  readAsync(token: string): Promise<NativeReadResult | null>;
  updateAsync(token: string, payload: Buffer, ttlMs: number, maxReads: number): Promise<boolean>;
  removeAsync(token: string): Promise<boolean>;

  sweep(): Promise<number>;
  flush(): Promise<void>;
  checkpoint(): Promise<void>;
  stats(): NativeStats;
  /** Idempotent; stops background threads, checkpoints, releases the lock. */
  close(): Promise<void>;
}

export interface NativeBinding {
  readonly constants: NativeConstants;
  /**
   * Opens (creating if needed) the store in `dir`. `secretKey` is the raw
   * key (32/48/64 bytes). Runs off the main thread (recovery may read).
   */
  open(dir: string, secretKey: Buffer, options?: NativeOpenOptions): Promise<{ store: NativeStore; info: NativeOpenInfo }>;
}

declare const binding: NativeBinding;
export default binding;
