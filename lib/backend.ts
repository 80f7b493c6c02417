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

export interface Backend {
  readonly role: 'master' | 'client';
  create(packed: Buffer, ttl: Limit, silenceRead: Limit): Promise<string>;
  read(token: string): Promise<ReadResult | null>;
  /**
   * Optional: read() already encoded as the ReadToken answer (MessagePack of
   * the result with the stored data bytes unchanged), or null. The gRPC
   * master uses it when present, so data round-trips byte for byte.
   */
  readPacked?(token: string): Promise<Buffer | null>;
  update(token: string, packed: Buffer, ttl: Limit, silenceRead: Limit): Promise<boolean>;
  delete(token: string): Promise<boolean>;
  /** Releases the backend (master: flush + close the store; client: the channel). */
  close(): Promise<void>;
}

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
