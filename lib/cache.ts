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

// One cached token in the recency list.
interface Node {
  token: string;
  entry: CachedRead;
  newer: Node | null;
  older: Node | null;
}

// The recency order is an explicit doubly linked list, not Map insertion
// order: V8 leaves a hole for each Map deletion and keys().next() walks
// over them, so evicting "the first key" of a busy 10,000-entry Map cost
// ~9 us per fill (measured by bench/profile.js), against O(1) here.
export class ReadCache {
  private readonly nodes = new Map<string, Node>();
  private newest: Node | null = null;
  private oldest: Node | null = null;
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
    return this.nodes.size;
  }

  /**
   * The cached read of `token` at time `now`, or undefined. An entry whose
   * expiry has come is dropped (the engine gives the authoritative answer).
   */
  get(token: string, now: number): CachedRead | undefined {
    const node = this.nodes.get(token);
    if (node === undefined) {
      this.misses++;
      return undefined;
    }
    if (node.entry.expiresAt !== null && node.entry.expiresAt - now <= 0) {
      this.remove(node);
      this.misses++;
      return undefined;
    }
    if (node !== this.newest) {
      this.unlink(node);
      this.pushNewest(node);
    }
    this.hits++;
    return node.entry;
  }

  /** Snapshot to pass to fill() after the engine call. */
  epoch(): number {
    return this.writeEpoch;
  }

  /** Caches an engine read that started at `epoch`, unless a write intervened. */
  fill(token: string, epoch: number, payload: Buffer, expiresAt: number | null): void {
    if (epoch !== this.writeEpoch) return;
    const entry = { payload, expiresAt };
    const node = this.nodes.get(token);
    if (node !== undefined) {
      node.entry = entry;
      this.unlink(node);
      this.pushNewest(node);
      return;
    }
    const added: Node = { token, entry, newer: null, older: null };
    this.nodes.set(token, added);
    this.pushNewest(added);
    if (this.nodes.size > this.maxEntries && this.oldest !== null) this.remove(this.oldest);
  }

  /** Drops `token`; called before and after every write of it. */
  evict(token: string): void {
    this.writeEpoch++;
    const node = this.nodes.get(token);
    if (node !== undefined) this.remove(node);
  }

  clear(): void {
    this.writeEpoch++;
    this.nodes.clear();
    this.newest = this.oldest = null;
  }

  private remove(node: Node): void {
    this.nodes.delete(node.token);
    this.unlink(node);
  }

  private unlink(node: Node): void {
    if (node.newer !== null) node.newer.older = node.older;
    else this.newest = node.older;
    if (node.older !== null) node.older.newer = node.newer;
    else this.oldest = node.newer;
    node.newer = node.older = null;
  }

  private pushNewest(node: Node): void {
    node.older = this.newest;
    node.newer = null;
    if (this.newest !== null) this.newest.newer = node;
    this.newest = node;
    if (this.oldest === null) this.oldest = node;
  }
}
