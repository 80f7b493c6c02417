// The interface behind the public API. Each role implements it: the master
// over the native store (store.ts), the client over gRPC (grpc/client.ts);
// a Redis Cluster backend would be a third. Arguments arrive validated
// (validation.ts): `packed` is a MessagePack map of at most 256 bytes,
// limits are positive safe integers or null, tokens non-empty strings.
// Every method returns a Promise and rejects with TypeError, RangeError,
// InvalidState or InternalError (errors.ts), never anything else.
import type { Limit } from './validation';

/** What read() answers for a live token. `metadata` only when a limit is set. */
export interface ReadResult<T extends Record<string, unknown> = Record<string, any>> {
  metadata?: { ttl?: number; silence_read?: number };
  data: T;
}

/**
 * One live session of a subject (listSubject): an opaque handle that
 * revokeHandle() accepts but that never reveals the token, and the limits
 * left (as read() reports them, absent when not set).
 */
export interface SessionInfo {
  handle: string;
  metadata: { ttl?: number; silence_read?: number };
}

export interface Backend {
  readonly role: 'master' | 'client' | 'cluster';
  /**
   * `subject` (1..128 UTF-8 bytes, or null/absent = none) ties the token to
   * e.g. a user id, for revokeSubject/listSubject. Stored as a keyed hash.
   */
  create(packed: Buffer, ttl: Limit, silenceRead: Limit, subject?: string | null): Promise<string>;
  /**
   * Sliding expiry: a new lifetime of `ttl` seconds from now (null = no
   * expiry); data, subject and reads left untouched. false = not live.
   */
  touch(token: string, ttl: Limit): Promise<boolean>;
  /** Deletes every live token of the subject; the count (work ~ their number). */
  revokeSubject(subject: string): Promise<number>;
  /** The subject's live tokens as opaque handles with their limits left. */
  listSubject(subject: string): Promise<SessionInfo[]>;
  /** Deletes the token behind a listSubject handle; false when not live or malformed. */
  revokeHandle(handle: string): Promise<boolean>;
  read(token: string): Promise<ReadResult | null>;
  /**
   * Optional: read() already encoded as the ReadToken answer (MessagePack of
   * the result with the stored data bytes unchanged), or null. The gRPC
   * master uses it when present, so data round-trips byte for byte.
   */
  readPacked?(token: string): Promise<Buffer | null>;
  update(token: string, packed: Buffer, ttl: Limit, silenceRead: Limit): Promise<boolean>;
  /**
   * INTERNAL (the session store, lib/express-session.ts; never on the public
   * CRUDJT object): creates or wholly replaces the record of a token the
   * CALLER chose (22..128 base64url characters, validateChosenToken), with
   * no subject. A chosen token is only as strong as its caller's random
   * source, which is why the public API hands out tokens and never takes
   * one. true when it replaced a live token (false: created). Optional: a
   * client backend whose master has no wire op for it lacks the method.
   */
  put?(token: string, packed: Buffer, ttl: Limit, silenceRead: Limit): Promise<boolean>;
  delete(token: string): Promise<boolean>;
  /**
   * Optional, master side: executes validated ops in order, each answered
   * on its own (one op's error never fails another), with one pass over the
   * store. The gRPC master's Batch/ExecuteBatch use it when present.
   */
  runBatch?(ops: readonly BatchOp[]): BatchOutcome[] | Promise<BatchOutcome[]>;
  /** Optional, master side: counts one call served by the gRPC RPC `rpc` (for stats). */
  countRequest?(rpc: string): void;
  /** Store and server figures (master: local; client: the master's, over gRPC). */
  stats(): Promise<Stats>;
  /** Releases the backend (master: flush + close the store; client: the channel). */
  close(): Promise<void>;
}

/** One validated operation of a batch. */
export type BatchOp =
  | { kind: 'create'; packed: Buffer; ttl: Limit; silenceRead: Limit; subject?: string | null }
  | { kind: 'read'; token: string }
  | { kind: 'update'; token: string; packed: Buffer; ttl: Limit; silenceRead: Limit }
  | { kind: 'delete'; token: string }
  | { kind: 'touch'; token: string; ttl: Limit };

/**
 * What one op of a batch gave: create the token, read the ReadToken answer
 * (MessagePack of the result, nil when not found), update/delete/touch the boolean;
 * or the error (TypeError, RangeError, InvalidState, InternalError).
 */
export type BatchOutcome = { ok: true; value: string | Buffer | boolean } | { ok: false; error: Error };

/** Config.stats(): the same shape in both roles (and StatsResponse on the wire). */
export interface Stats {
  /** Records in the tree (may include expired ones not swept yet). */
  tokens: number;
  page_file_bytes: number;
  log_bytes: number;
  pages_total: number;
  pages_free: number;
  /** Wall-clock ms since the epoch of the last fsync / checkpoint / sweep; 0 = never. */
  last_fsync_ms: number;
  last_checkpoint_ms: number;
  last_sweep_ms: number;
  last_sweep_removed: number;
  cache_enabled: boolean;
  cache_entries: number;
  cache_hits: number;
  cache_misses: number;
  /** hits / (hits + misses); 0 before the first read. */
  cache_hit_rate: number;
  /** Calls served per RPC name (Batch: request messages). */
  requests: Record<string, number>;
  /** Operations executed per kind (create, read, update, delete), over every path. */
  operations: Record<string, number>;
  uptime_ms: number;
}

/** RPC names counted in Stats.requests, in this order. */
export const RPC_NAMES = [
  'CreateToken', 'ReadToken', 'UpdateToken', 'DeleteToken', 'Batch', 'ExecuteBatch', 'Stats',
  'TouchToken', 'RevokeSubject', 'ListSubject', 'RevokeHandle', 'PutToken',
] as const;

/** Builds the read result from engine figures (ms left, reads left; -1 = none). */
export function buildReadResult(data: Record<string, unknown>, ttlLeftMs: number, readsLeft: number): ReadResult {
  if (ttlLeftMs < 0 && readsLeft < 0) return { data };
  const metadata: { ttl?: number; silence_read?: number } = {};
  if (ttlLeftMs >= 0) metadata.ttl = ttlSeconds(ttlLeftMs);
  if (readsLeft >= 0) metadata.silence_read = readsLeft;
  return { metadata, data };
}

/** Remaining whole seconds, rounded up: a live token never shows 0. */
export function ttlSeconds(ttlLeftMs: number): number {
  return Math.max(1, Math.ceil(ttlLeftMs / 1000));
}
