// The master role's backend: the native store plus the read cache.
//
// With durability 'background' the engine's synchronous calls are used
// (microseconds of memory work plus one write(); see doc/design.md); with
// 'sync' the *Async variants, so that fsync never blocks the event loop.
import type { NativeReadResult, NativeStore } from '../binding';
import { Backend, buildReadResult, ReadResult, ttlSeconds } from './backend';
import { ReadCache } from './cache';
import { fromNative, InternalError } from './errors';
import { packReadResult, unpackMap } from './msgpack';
import type { Limit } from './validation';

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
}

export class MasterStore implements Backend {
  readonly role = 'master' as const;
  private readonly native: NativeStore;
  private readonly sync: boolean;
  readonly cache: ReadCache | null;

  constructor(native: NativeStore, options: MasterStoreOptions) {
    this.native = native;
    this.sync = options.sync;
    this.cache = options.cache;
  }

  async create(packed: Buffer, ttl: Limit, silenceRead: Limit): Promise<string> {
    try {
      return this.sync
        ? await this.native.createAsync(packed, ttlToMs(ttl), readsToNative(silenceRead))
        : this.native.create(packed, ttlToMs(ttl), readsToNative(silenceRead));
    } catch (e) {
      throw fromNative(e);
    }
  }

  async read(token: string): Promise<ReadResult | null> {
    const r = await this.readRaw(token);
    if (r === null) return null;
    return buildReadResult(decodePayload(r.payload, token), r.ttlLeftMs, r.readsLeft);
  }

  async readPacked(token: string): Promise<Buffer | null> {
    const r = await this.readRaw(token);
    if (r === null) return null;
    return packReadResult(
      r.payload,
      r.ttlLeftMs < 0 ? null : ttlSeconds(r.ttlLeftMs),
      r.readsLeft < 0 ? null : r.readsLeft,
    );
  }

  // The engine's answer (or the cache's, for unlimited tokens): payload
  // bytes, ms left (-1 = none), reads left (-1 = none).
  private async readRaw(token: string): Promise<{ payload: Buffer; ttlLeftMs: number; readsLeft: number } | null> {
    const cache = this.cache;
    if (cache !== null) {
      const now = Date.now();
      const hit = cache.get(token, now);
      if (hit !== undefined) {
        return { payload: hit.payload, ttlLeftMs: hit.expiresAt === null ? NO_LIMIT : hit.expiresAt - now, readsLeft: NO_LIMIT };
      }
    }
    const epoch = cache?.epoch() ?? 0;
    // Taken before the engine's own clock reading, so that the cached
    // expiry (startedAt + ttlLeftMs) is never later than the engine's.
    const startedAt = Date.now();
    let r: NativeReadResult | null;
    try {
      r = this.sync ? await this.native.readAsync(token) : this.native.read(token);
    } catch (e) {
      throw fromNative(e);
    }
    if (r === null) return null;
    const [payload, ttlLeftMs, readsLeft] = r;
    if (cache !== null && readsLeft < 0) {
      cache.fill(token, epoch, payload, ttlLeftMs < 0 ? null : startedAt + ttlLeftMs);
    }
    return { payload, ttlLeftMs, readsLeft };
  }

  async update(token: string, packed: Buffer, ttl: Limit, silenceRead: Limit): Promise<boolean> {
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

  async delete(token: string): Promise<boolean> {
    this.cache?.evict(token);
    try {
      return this.sync ? await this.native.removeAsync(token) : this.native.remove(token);
    } catch (e) {
      throw fromNative(e);
    } finally {
      this.cache?.evict(token);
    }
  }

  async close(): Promise<void> {
    this.cache?.clear();
    try {
      await this.native.close();
    } catch (e) {
      throw fromNative(e);
    }
  }
}

function decodePayload(payload: Buffer, token: string): Record<string, unknown> {
  try {
    return unpackMap(payload, 'stored payload');
  } catch (e) {
    // The engine authenticates payloads, so this means a bug or a payload
    // written by an incompatible SDK; report it, never crash.
    throw new InternalError(`the stored data of token ${token.slice(0, 32)} can not be decoded: ${(e as Error).message}`);
  }
}
