// A bounded LRU of token reads in the master role.
//
// Only tokens without a read limit are cached: a read of a limited token
// must reach the engine, which decrements the counter durably. An entry
// keeps the payload bytes (decoded afresh on every hit, so callers may
// mutate results; a copy of the engine's bytes in a slot that the entry's
// node reuses) and the absolute expiry, from which the remaining ttl is
// recomputed. Entries are filled only after a successful engine read and
// evicted before every update/delete of the token (and after a failed one),
// so a cached read answers what the engine would.
//
// Once the cache is full, admit() lets a token in only on its second miss
// (scan resistance; see admit()).
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

const DOORKEEPER_SLOTS = 4096; // a power of 2

/**
 * A cached read without a copy: the payload is bytes[offset, offset +
 * length), valid until the next call that changes the cache (a fill may
 * reuse the memory of an evicted entry).
 */
export interface CacheEntry {
  readonly bytes: Buffer;
  readonly offset: number;
  readonly length: number;
  /** Absolute expiry (ms since epoch, Date.now() clock) or null. */
  readonly expiresAt: number | null;
}

/**
 * Where the next engine read may put its answer (binding.d.ts readInto):
 * slot[0..16) the limits, read as meta[metaIndex] and meta[metaIndex + 1],
 * then up to SLOT_BYTES of payload. commitSlot() makes it an entry with no
 * copy; until then it belongs to no entry.
 */
export interface ReadSlot {
  readonly slot: Buffer;
  readonly meta: Float64Array;
  readonly metaIndex: number;
}

/** The limits before the payload in a ReadSlot (two float64). */
export const SLOT_HEADER = 16;
// Payloads up to SLOT_BYTES (the engine's limit: every payload) live in the
// node's slot; a longer one (none is) gets a Buffer of its own.
const SLOT_BYTES = 256;
const SLOT_SIZE = SLOT_HEADER + SLOT_BYTES; // a multiple of 8
const SLAB_SLOTS = 64;

// One cached token in the recency list. A node keeps its slot for life and
// is reused when its entry is dropped, so that a fill into a full cache (the
// steady state) allocates nothing; the engine's read is written straight
// into the slot of the node that will hold it (readSlot/commitSlot), so a
// fill copies nothing either. Measured on reads of 40,000 distinct tokens
// (bench/profile.js), the allocation and the copy were most of a fill.
class Node implements CacheEntry, ReadSlot {
  bytes: Buffer;
  offset = SLOT_HEADER;
  length = 0;
  expiresAt: number | null = null;
  newer: Node | null = null;
  older: Node | null = null;
  constructor(
    public token: string,
    readonly slot: Buffer,
    readonly meta: Float64Array,
    readonly metaIndex: number,
  ) {
    this.bytes = slot;
  }
}

// The recency order is an explicit doubly linked list, not Map insertion
// order: V8 leaves a hole for each Map deletion and keys().next() walks
// over them, so evicting "the first key" of a busy 10,000-entry Map cost
// ~9 us per fill (measured by bench/profile.js), against O(1) here.
export class ReadCache {
  private readonly nodes = new Map<string, Node>();
  private newest: Node | null = null;
  private oldest: Node | null = null;
  /** Nodes of dropped entries, for reuse. */
  private spare: Node[] = [];
  /** The node handed out by readSlot(), in no entry. */
  private next: Node | null = null;
  private slab: ArrayBuffer | null = null;
  private slabMeta: Float64Array | null = null;
  private slabUsed = SLAB_SLOTS;
  private readonly maxEntries: number;
  private writeEpoch = 0;
  /** admit()'s doorkeeper: the last token that knocked, per hash slot. */
  private readonly knocked: Array<string | null> = new Array<string | null>(DOORKEEPER_SLOTS).fill(null);
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
    const e = this.lookup(token, now);
    return e === undefined ? undefined : { payload: e.bytes.subarray(e.offset, e.offset + e.length), expiresAt: e.expiresAt };
  }

  /** get() without a copy or a view (see CacheEntry for how long it is valid). */
  lookup(token: string, now: number): CacheEntry | undefined {
    const node = this.nodes.get(token);
    if (node === undefined) {
      this.misses++;
      return undefined;
    }
    if (node.expiresAt !== null && node.expiresAt - now <= 0) {
      this.remove(node);
      this.misses++;
      return undefined;
    }
    if (node !== this.newest) {
      this.unlink(node);
      this.pushNewest(node);
    }
    this.hits++;
    return node;
  }

  /**
   * Whether an engine read of `token` should be cached. While the cache has
   * room, always. Once it is full, a token is admitted on its second miss
   * within a while (a doorkeeper: one slot per hash of the token, holding
   * the last token that missed there), so that tokens read once (a scan,
   * or most sessions of a busy site) do not each evict an entry that may be
   * read again. Measured on 40,000 tokens read once each, admitting every
   * miss into a full 10,000-entry cache cost ~0.5-1 us per read (the Map
   * insert and delete and the relinking, all on cold memory). Only which
   * reads are cached depends on this, never what a read answers.
   */
  admit(token: string): boolean {
    if (this.nodes.size < this.maxEntries) return true;
    const n = token.length;
    // A cheap hash of a few characters: tokens are random base64url; a
    // collision only delays an admission.
    let h = n;
    const step = n > 8 ? n >> 3 : 1;
    for (let i = 0; i < n; i += step) h = Math.imul(h, 31) + token.charCodeAt(i);
    const slot = (h ^ (h >>> 13)) & (DOORKEEPER_SLOTS - 1);
    if (this.knocked[slot] === token) {
      this.knocked[slot] = null;
      return true;
    }
    this.knocked[slot] = token;
    return false;
  }

  /** Snapshot to pass to fill() after the engine call. */
  epoch(): number {
    return this.writeEpoch;
  }

  /** Caches (a copy of) an engine read that started at `epoch`, unless a write intervened. */
  fill(token: string, epoch: number, payload: Buffer, expiresAt: number | null): void {
    if (epoch !== this.writeEpoch) return;
    const node = this.readSlot() as Node;
    const n = payload.length;
    if (n <= SLOT_BYTES) {
      payload.copy(node.slot, SLOT_HEADER);
      this.commit(node, token, node.slot, SLOT_HEADER, n, expiresAt);
    } else {
      this.commit(node, token, Buffer.from(payload), 0, n, expiresAt);
    }
  }

  /**
   * The slot for the next engine read (the same one until commitSlot()).
   * Valid until the next call that changes the cache.
   */
  readSlot(): ReadSlot {
    if (this.next === null) this.next = this.spare.pop() ?? this.newNode();
    return this.next;
  }

  /**
   * Caches the read that readSlot()'s slot holds (payload of `length`
   * bytes at SLOT_HEADER), if it started at `epoch` and no write
   * intervened; the cache then owns the slot and readSlot() hands out
   * another.
   */
  commitSlot(token: string, epoch: number, length: number, expiresAt: number | null): void {
    const node = this.next;
    if (epoch !== this.writeEpoch || node === null || length > SLOT_BYTES) return;
    this.commit(node, token, node.slot, SLOT_HEADER, length, expiresAt);
  }

  // Makes `node` (this.next) the entry of `token`, newest.
  private commit(node: Node, token: string, bytes: Buffer, offset: number, length: number, expiresAt: number | null): void {
    this.next = null;
    const old = this.nodes.get(token);
    if (old !== undefined) {
      this.remove(old);
    } else if (this.nodes.size >= this.maxEntries && this.oldest !== null) {
      const victim = this.oldest;
      this.nodes.delete(victim.token);
      this.unlink(victim);
      this.release(victim);
    }
    node.token = token;
    node.bytes = bytes;
    node.offset = offset;
    node.length = length;
    node.expiresAt = expiresAt;
    this.nodes.set(token, node);
    this.pushNewest(node);
  }

  /** Drops `token`; called before and after every write of it. */
  evict(token: string): void {
    this.writeEpoch++;
    const node = this.nodes.get(token);
    if (node !== undefined) this.remove(node);
  }

  clear(): void {
    this.writeEpoch++;
    this.knocked.fill(null);
    this.nodes.clear();
    this.newest = this.oldest = null;
    this.spare = [];
    this.next = null;
    this.slab = null;
    this.slabMeta = null;
    this.slabUsed = SLAB_SLOTS;
  }

  private newNode(): Node {
    if (this.slab === null || this.slabMeta === null || this.slabUsed === SLAB_SLOTS) {
      this.slab = new ArrayBuffer(SLAB_SLOTS * SLOT_SIZE);
      this.slabMeta = new Float64Array(this.slab);
      this.slabUsed = 0;
    }
    const at = SLOT_SIZE * this.slabUsed++;
    return new Node('', Buffer.from(this.slab, at, SLOT_SIZE), this.slabMeta, at / 8);
  }

  private remove(node: Node): void {
    this.nodes.delete(node.token);
    this.unlink(node);
    this.release(node);
  }

  // A dropped entry's node, for reuse (the next readSlot() first).
  private release(node: Node): void {
    node.token = '';
    node.bytes = node.slot;
    if (this.next === null) this.next = node;
    else this.spare.push(node);
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
