// A bounded LRU of token reads in the master role.
//
// Only tokens without a read limit are cached: a read of a limited token
// must reach the engine, which decrements the counter durably. An entry
// keeps the payload bytes (decoded afresh on every hit, so callers may
// mutate results) and the absolute expiry, from which the remaining ttl is
// recomputed. Entries are filled only after a successful engine read and
// evicted before every update/delete of the token (and after a failed one),
// so a cached read answers what the engine would.
//
// With async engine calls (durability 'sync') a read may complete after a
// write of the same token was issued; `writeEpoch` detects that, and such a
// read does not fill the cache.

export interface CacheOptions {
  /** Largest number of cached tokens (default 10000). */
  maxEntries?: number;
}

export interface CachedRead {
  payload: Buffer;
  /** Absolute expiry (ms since epoch, Date.now() clock) or null. */
  expiresAt: number | null;
}

export const DEFAULT_MAX_ENTRIES = 10000;

export class ReadCache {
  private readonly entries = new Map<string, CachedRead>();
  private readonly maxEntries: number;
  private writeEpoch = 0;
  hits = 0;
  misses = 0;

  constructor(options: CacheOptions = {}) {
    const max = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`cache.maxEntries must be a positive integer, got ${String(max)}`);
    }
    this.maxEntries = max;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The cached read of `token` at time `now`, or undefined. An entry whose
   * expiry has come is dropped (the engine gives the authoritative answer).
   */
  get(token: string, now: number): CachedRead | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) {
      this.misses++;
      return undefined;
    }
    if (entry.expiresAt !== null && entry.expiresAt - now <= 0) {
      this.entries.delete(token);
      this.misses++;
      return undefined;
    }
    // Refresh recency: Map iteration order is insertion order.
    this.entries.delete(token);
    this.entries.set(token, entry);
    this.hits++;
    return entry;
  }

  /** Snapshot to pass to fill() after the engine call. */
  epoch(): number {
    return this.writeEpoch;
  }

  /** Caches an engine read that started at `epoch`, unless a write intervened. */
  fill(token: string, epoch: number, payload: Buffer, expiresAt: number | null): void {
    if (epoch !== this.writeEpoch) return;
    this.entries.delete(token);
    this.entries.set(token, { payload, expiresAt });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  /** Drops `token`; called before and after every write of it. */
  evict(token: string): void {
    this.writeEpoch++;
    this.entries.delete(token);
  }

  clear(): void {
    this.writeEpoch++;
    this.entries.clear();
  }
}
