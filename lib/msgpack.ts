// MessagePack for every path that packs or unpacks a payload (API, store,
// gRPC master and client).
//
// Encoding is our own small writer for the values validation.ts admits
// (null/undefined -> nil, booleans, numbers, bigints, strings, Buffers and
// Uint8Arrays -> bin, Dates -> timestamp extension -1, arrays, plain
// objects -> maps with the smallest header). Unlike msgpackr it writes
// integers beyond 32 bits as int64/uint64, not float64, so that the ids
// other SDKs (Python, Ruby) send and read keep their integer type.
// Decoding is our own strict reader too: maps -> plain objects with string
// keys, 64-bit integers -> number when safe, bigint otherwise, bin ->
// Buffer (a copy), timestamp extension -> Date; any other extension, the
// reserved byte 0xc1, a length past the end, nesting deeper than
// MAX_DECODED_DEPTH or trailing bytes is a TypeError. It reads untrusted
// bytes from the wire, so every length is checked before it is used, and
// it has no dependency (msgpackr pulls in an optional native package whose
// install script npm 11 warns about in every app that installs crudjt).

/** MessagePack nil: the ReadToken answer for "not found". */
export const NIL = Buffer.from([0xc0]);

class Writer {
  buf = Buffer.allocUnsafe(512);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  header(small: number, smallMax: number, c8: number | null, c16: number, c32: number, n: number): void {
    this.ensure(5);
    if (n <= smallMax && small >= 0) {
      this.buf[this.pos++] = small | n;
    } else if (c8 !== null && n <= 0xff) {
      this.buf[this.pos++] = c8;
      this.buf[this.pos++] = n;
    } else if (n <= 0xffff) {
      this.buf[this.pos++] = c16;
      this.buf.writeUInt16BE(n, this.pos);
      this.pos += 2;
    } else {
      this.buf[this.pos++] = c32;
      this.buf.writeUInt32BE(n, this.pos);
      this.pos += 4;
    }
  }

  int(v: number): void {
    this.ensure(9);
    const b = this.buf;
    if (v >= 0) {
      if (v < 0x80) b[this.pos++] = v;
      else if (v <= 0xff) { b[this.pos++] = 0xcc; b[this.pos++] = v; }
      else if (v <= 0xffff) { b[this.pos++] = 0xcd; b.writeUInt16BE(v, this.pos); this.pos += 2; }
      else if (v <= 0xffffffff) { b[this.pos++] = 0xce; b.writeUInt32BE(v, this.pos); this.pos += 4; }
      else { b[this.pos++] = 0xcf; b.writeBigUInt64BE(BigInt(v), this.pos); this.pos += 8; }
    } else {
      if (v >= -0x20) b[this.pos++] = 0x100 + v;
      else if (v >= -0x80) { b[this.pos++] = 0xd0; b.writeInt8(v, this.pos); this.pos += 1; }
      else if (v >= -0x8000) { b[this.pos++] = 0xd1; b.writeInt16BE(v, this.pos); this.pos += 2; }
      else if (v >= -0x80000000) { b[this.pos++] = 0xd2; b.writeInt32BE(v, this.pos); this.pos += 4; }
      else { b[this.pos++] = 0xd3; b.writeBigInt64BE(BigInt(v), this.pos); this.pos += 8; }
    }
  }

  value(v: unknown): void {
    if (v === null || v === undefined) return this.byte(0xc0);
    switch (typeof v) {
      case 'boolean':
        return this.byte(v ? 0xc3 : 0xc2);
      case 'number':
        if (Number.isSafeInteger(v)) return this.int(v);
        this.ensure(9);
        this.buf[this.pos++] = 0xcb;
        this.buf.writeDoubleBE(v, this.pos);
        this.pos += 8;
        return;
      case 'bigint':
        this.ensure(9);
        if (v >= 0n && v <= 0xffffffffffffffffn) {
          if (v <= BigInt(Number.MAX_SAFE_INTEGER)) return this.int(Number(v));
          this.buf[this.pos++] = 0xcf;
          this.buf.writeBigUInt64BE(v, this.pos);
        } else if (v < 0n && v >= -0x8000000000000000n) {
          if (v >= BigInt(Number.MIN_SAFE_INTEGER)) return this.int(Number(v));
          this.buf[this.pos++] = 0xd3;
          this.buf.writeBigInt64BE(v, this.pos);
        } else {
          throw new TypeError(`the bigint ${v} does not fit in 64 bits`);
        }
        this.pos += 8;
        return;
      case 'string': {
        const n = Buffer.byteLength(v, 'utf8');
        this.header(0xa0, 31, 0xd9, 0xda, 0xdb, n);
        this.ensure(n);
        this.pos += this.buf.write(v, this.pos, 'utf8');
        return;
      }
      case 'object':
        break;
      default:
        throw new TypeError(`can not encode a ${typeof v} as MessagePack`);
    }
    if (Array.isArray(v)) {
      this.header(0x90, 15, null, 0xdc, 0xdd, v.length);
      for (const item of v) this.value(item);
      return;
    }
    if (v instanceof Uint8Array) {
      this.header(-1, -1, 0xc4, 0xc5, 0xc6, v.length);
      this.bytes(v);
      return;
    }
    if (v instanceof Date) return this.timestamp(v);
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj);
    this.header(0x80, 15, null, 0xde, 0xdf, keys.length);
    for (const k of keys) {
      this.value(k);
      this.value(obj[k]);
    }
  }

  // Timestamp extension (type -1): timestamp32 for whole seconds in
  // [0, 2^32), else timestamp96.
  timestamp(d: Date): void {
    const ms = d.getTime();
    if (!Number.isFinite(ms)) throw new TypeError('can not encode an invalid Date');
    const sec = Math.floor(ms / 1000);
    const nsec = (ms - sec * 1000) * 1e6;
    this.ensure(15);
    if (nsec === 0 && sec >= 0 && sec <= 0xffffffff) {
      this.buf[this.pos++] = 0xd6;
      this.buf[this.pos++] = 0xff;
      this.buf.writeUInt32BE(sec, this.pos);
      this.pos += 4;
      return;
    }
    this.buf[this.pos++] = 0xc7;
    this.buf[this.pos++] = 12;
    this.buf[this.pos++] = 0xff;
    this.buf.writeUInt32BE(nsec, this.pos);
    this.buf.writeBigInt64BE(BigInt(sec), this.pos + 4);
    this.pos += 12;
  }

  result(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

// The fast path of validation.ts's validateData: one pass that checks and
// encodes a session's data into a fixed scratch buffer. It handles what
// sessions hold (plain objects, arrays, strings, numbers, booleans, null,
// Buffers, valid Dates, safe bigints) and gives up (returns null) on
// anything else: a limit crossed, a non-plain object, a throwing getter or
// Proxy trap, a cycle (found as depth). validateData then runs its exact
// walk, whose error messages are the contract; the fast path never decides
// an error, so the two can not disagree. Measured on the bench payloads
// (40-256 bytes): 0.6-0.9 us against 5.9 us for walk + pack.
const FAST_LIMIT = 256;
const FAST_DEPTH = 32;
const scratch = Buffer.allocUnsafe(FAST_LIMIT + 64);
let fastPos = 0;
// A getter inside the data may itself call create(): the inner call must
// not reuse the scratch the outer one is filling.
let fastBusy = false;

class GiveUp {}
const GIVE_UP = new GiveUp();

function fastString(v: string): void {
  const n = v.length;
  if (n > FAST_LIMIT) throw GIVE_UP;
  const b = scratch;
  let p = fastPos;
  // Header for the ASCII length first; redone below if a byte is wider.
  const head = n <= 31 ? 1 : 2;
  if (p + head + n > FAST_LIMIT) throw GIVE_UP;
  let q = p + head;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c >= 0x80) {
      // Not ASCII: let Buffer do UTF-8 (lone surrogates included).
      const len = Buffer.byteLength(v, 'utf8');
      if (len > FAST_LIMIT) throw GIVE_UP;
      const h = len <= 31 ? 1 : 2;
      if (p + h + len > FAST_LIMIT) throw GIVE_UP;
      if (h === 1) b[p++] = 0xa0 | len;
      else { b[p++] = 0xd9; b[p++] = len; }
      b.write(v, p, 'utf8');
      fastPos = p + len;
      return;
    }
    b[q++] = c;
  }
  if (head === 1) b[p] = 0xa0 | n;
  else { b[p] = 0xd9; b[p + 1] = n; }
  fastPos = q;
}

// Writer.int() for a safe integer, byte by byte into the scratch (no
// Buffer#writeUInt32BE and its argument checks; the same bytes).
function fastInt(v: number): void {
  const b = scratch;
  let p = fastPos;
  if (v >= 0) {
    if (v < 0x80) {
      b[p++] = v;
    } else if (v <= 0xff) {
      b[p++] = 0xcc;
      b[p++] = v;
    } else if (v <= 0xffff) {
      b[p++] = 0xcd;
      b[p++] = v >>> 8;
      b[p++] = v & 0xff;
    } else if (v <= 0xffffffff) {
      b[p++] = 0xce;
      p = fastU32(b, p, v);
    } else {
      b[p++] = 0xcf;
      p = fastU32(b, p, Math.floor(v / 0x100000000));
      p = fastU32(b, p, v >>> 0);
    }
  } else if (v >= -0x20) {
    b[p++] = 0x100 + v;
  } else if (v >= -0x80) {
    b[p++] = 0xd0;
    b[p++] = v & 0xff;
  } else if (v >= -0x8000) {
    b[p++] = 0xd1;
    b[p++] = (v >> 8) & 0xff;
    b[p++] = v & 0xff;
  } else if (v >= -0x80000000) {
    b[p++] = 0xd2;
    p = fastU32(b, p, v >>> 0);
  } else {
    // Two's complement of 64 bits: high word floor(v / 2^32), low word the rest.
    const hi = Math.floor(v / 0x100000000);
    b[p++] = 0xd3;
    p = fastU32(b, p, hi >>> 0);
    p = fastU32(b, p, (v - hi * 0x100000000) >>> 0);
  }
  fastPos = p;
}

function fastU32(b: Buffer, p: number, u: number): number {
  b[p] = u >>> 24;
  b[p + 1] = (u >>> 16) & 0xff;
  b[p + 2] = (u >>> 8) & 0xff;
  b[p + 3] = u & 0xff;
  return p + 4;
}

// fixarray/fixmap (`fix | n`) up to 15 entries, else array16/map16 (`c16`).
function fastContainerHeader(n: number, fix: number, c16: number): void {
  if (n <= 15) {
    scratch[fastPos++] = fix | n;
    return;
  }
  if (n > FAST_LIMIT) throw GIVE_UP;
  scratch[fastPos++] = c16;
  scratch[fastPos++] = n >> 8;
  scratch[fastPos++] = n & 0xff;
}

function fastValue(v: unknown, depth: number): void {
  if (fastPos >= FAST_LIMIT) throw GIVE_UP;
  if (v === null || v === undefined) {
    scratch[fastPos++] = 0xc0;
    return;
  }
  switch (typeof v) {
    case 'boolean':
      scratch[fastPos++] = v ? 0xc3 : 0xc2;
      return;
    case 'string':
      fastString(v);
      return;
    case 'number':
      if (Number.isSafeInteger(v)) {
        fastInt(v);
      } else {
        scratch[fastPos++] = 0xcb;
        scratch.writeDoubleBE(v, fastPos);
        fastPos += 8;
      }
      return;
    case 'bigint':
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw GIVE_UP;
      fastInt(Number(v));
      return;
    case 'object':
      break;
    default:
      throw GIVE_UP;
  }
  if (depth >= FAST_DEPTH) throw GIVE_UP;
  if (Array.isArray(v)) {
    const n = v.length;
    fastContainerHeader(n, 0x90, 0xdc);
    for (let i = 0; i < n; i++) fastValue(v[i], depth + 1);
    return;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) {
    if (v instanceof Uint8Array) {
      const n = v.length;
      if (fastPos + 2 + n > FAST_LIMIT) throw GIVE_UP;
      scratch[fastPos++] = 0xc4;
      scratch[fastPos++] = n;
      scratch.set(v, fastPos);
      fastPos += n;
      return;
    }
    if (v instanceof Date && !Number.isNaN(v.getTime())) {
      const w = fastWriter;
      w.buf = scratch;
      w.pos = fastPos;
      w.timestamp(v);
      fastPos = w.pos;
      return;
    }
    throw GIVE_UP;
  }
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj);
  const n = keys.length;
  fastContainerHeader(n, 0x80, 0xde);
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    fastString(k);
    fastValue(obj[k], depth + 1);
  }
}

// Number and Date encoding reuse Writer's methods on the scratch buffer;
// the scratch keeps 64 spare bytes past FAST_LIMIT so they never grow it.
const fastWriter = new Writer();

/**
 * The MessagePack of a session's data when it is a non-empty plain object
 * of common values encoding to at most 256 bytes; null when anything is
 * unusual (the caller then validates the slow, exact way).
 */
export function packSessionData(data: unknown): Buffer | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data) || fastBusy) return null;
  fastPos = 0;
  fastBusy = true;
  try {
    const proto = Object.getPrototypeOf(data);
    if (proto !== Object.prototype && proto !== null) return null;
    if (Object.keys(data).length === 0) return null;
    fastValue(data, 1);
  } catch {
    // GIVE_UP, or a getter / Proxy trap threw: the slow path reports it.
    return null;
  } finally {
    fastBusy = false;
  }
  if (fastPos > FAST_LIMIT) return null;
  const out = Buffer.allocUnsafe(fastPos);
  scratch.copy(out, 0, 0, fastPos);
  return out;
}

/**
 * Packs a value; the caller has validated its shape (see validation.ts).
 * Throws TypeError for a value MessagePack can not hold.
 */
export function pack(value: unknown): Buffer {
  const w = new Writer();
  w.value(value);
  return w.result();
}

/**
 * The MessagePack of a read result, {metadata?: {ttl?, silence_read?}, data},
 * with the stored payload bytes spliced in unchanged as `data`: what a
 * client sent is what it reads back, byte for byte.
 */
export function packReadResult(payload: Uint8Array, ttl: number | null, silenceRead: number | null): Buffer {
  const w = new Writer();
  const limits = (ttl !== null ? 1 : 0) + (silenceRead !== null ? 1 : 0);
  w.byte(limits > 0 ? 0x82 : 0x81);
  if (limits > 0) {
    w.value('metadata');
    w.byte(0x80 | limits);
    if (ttl !== null) {
      w.value('ttl');
      w.int(ttl);
    }
    if (silenceRead !== null) {
      w.value('silence_read');
      w.int(silenceRead);
    }
  }
  w.value('data');
  w.bytes(payload);
  return w.result();
}

// Buffer's UTF-8 decoder without toString()'s argument handling (public on
// Buffer.prototype since Node 0.x, absent from @types/node).
type Utf8Slicer = { utf8Slice(start: number, end: number): string };

const fcc = String.fromCharCode;

// A short string, built in JS when it is ASCII: up to 16 bytes,
// String.fromCharCode with one argument per byte beats the native
// utf8Slice call (measured: ~40 ns for 12 bytes, ~70 for 16, against
// ~120 for utf8Slice; the concatenation loop used before cost 150-290 ns
// for 8-22 bytes).
function shortString(b: Buffer, at: number, n: number): string {
  let or = 0;
  for (let i = at; i < at + n; i++) or |= b[i];
  if (or >= 0x80) return (b as unknown as Utf8Slicer).utf8Slice(at, at + n);
  switch (n) {
    case 0: return '';
    case 1: return fcc(b[at]);
    case 2: return fcc(b[at], b[at + 1]);
    case 3: return fcc(b[at], b[at + 1], b[at + 2]);
    case 4: return fcc(b[at], b[at + 1], b[at + 2], b[at + 3]);
    case 5: return fcc(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4]);
    case 6: return fcc(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5]);
    case 7: return fcc(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6]);
    case 8: return fcc(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7]);
    case 9: return fcc(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8]);
    case 10: return fcc(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9]);
    case 11: return fcc(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9], b[at + 10]);
    case 12: return fcc(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9], b[at + 10], b[at + 11]);
    case 13: return fcc(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9], b[at + 10], b[at + 11], b[at + 12]);
    case 14: return fcc(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9], b[at + 10], b[at + 11], b[at + 12], b[at + 13]);
    case 15: return fcc(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9], b[at + 10], b[at + 11], b[at + 12], b[at + 13], b[at + 14]);
    default: return fcc(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5], b[at + 6], b[at + 7], b[at + 8], b[at + 9], b[at + 10], b[at + 11], b[at + 12], b[at + 13], b[at + 14], b[at + 15]);
  }
}

const SHORT_STRING = 16;

function stringAt(b: Buffer, at: number, n: number): string {
  return n <= SHORT_STRING ? shortString(b, at, n) : (b as unknown as Utf8Slicer).utf8Slice(at, at + n);
}

// Map keys: a session's keys repeat on every read, so the strings made for
// fixstr keys of 1..16 bytes are kept in a small direct-mapped table keyed by
// their bytes (a hit is a hash and a compare, no allocation). The kept string
// is the engine's internalized copy, so that setting it as a property needs
// no string-table lookup. Any bytes may be cached: the string is a pure
// function of them; a collision only replaces the slot.
const KEY_SLOTS = 1024; // a power of 2
const KEY_MAX = 16;
const keyStrings: Array<string | null> = new Array<string | null>(KEY_SLOTS).fill(null);
const keyLens = new Uint8Array(KEY_SLOTS);
const keyBytes = new Uint8Array(KEY_SLOTS * KEY_MAX);

function internalized(s: string): string {
  if (s === '__proto__') return s; // would set the prototype of the probe
  const probe: Record<string, number> = {};
  probe[s] = 0;
  for (const k in probe) return k;
  return s;
}

function keyString(b: Buffer, at: number, n: number): string {
  if (n > KEY_MAX || n === 0) return stringAt(b, at, n);
  let h = n;
  for (let i = at; i < at + n; i++) h = Math.imul(h, 31) + b[i];
  const slot = (h ^ (h >>> 11)) & (KEY_SLOTS - 1);
  const base = slot * KEY_MAX;
  const kept = keyStrings[slot];
  if (kept !== null && keyLens[slot] === n) {
    let i = 0;
    while (i < n && keyBytes[base + i] === b[at + i]) i++;
    if (i === n) return kept;
  }
  const s = internalized(stringAt(b, at, n));
  keyStrings[slot] = s;
  keyLens[slot] = n;
  for (let i = 0; i < n; i++) keyBytes[base + i] = b[at + i];
  return s;
}

const TWO_32 = 0x100000000;

// Reads one value from buf[start, end). Offsets in messages are relative to
// `start`.
class Reader {
  pos: number;
  constructor(
    private readonly buf: Buffer,
    private readonly start: number,
    private readonly end: number,
    private readonly what: string,
  ) {
    this.pos = start;
  }

  fail(why: string): never {
    throw new TypeError(`${this.what} is not valid MessagePack: ${why}`);
  }

  short(n: number, at: number): never {
    return this.fail(`${n} bytes needed at offset ${at - this.start}, ${this.end - at} left`);
  }

  take(n: number): number {
    const at = this.pos;
    if (n > this.end - at) this.short(n, at);
    this.pos = at + n;
    return at;
  }

  u8(): number { return this.buf[this.take(1)]; }
  u16(): number { return this.buf.readUInt16BE(this.take(2)); }
  u32(): number { return this.buf.readUInt32BE(this.take(4)); }

  int64(signed: boolean): number | bigint {
    const at = this.take(8);
    const b = this.buf;
    const lo = b.readUInt32BE(at + 4);
    // |value| < 2^53 (a safe integer) whenever the high word is in
    // (-2^21, 2^21): no BigInt needed.
    const hi = signed ? b.readInt32BE(at) : b.readUInt32BE(at);
    if (hi > -0x200000 && hi < 0x200000) return hi * TWO_32 + lo;
    const v = signed ? b.readBigInt64BE(at) : b.readBigUInt64BE(at);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  str(n: number): string {
    const at = this.pos;
    if (n > this.end - at) this.short(n, at);
    this.pos = at + n;
    return stringAt(this.buf, at, n);
  }

  bin(n: number): Buffer {
    const at = this.take(n);
    const out = Buffer.allocUnsafe(n);
    this.buf.copy(out, 0, at, at + n);
    return out;
  }

  array(n: number, depth: number): unknown[] {
    // Each element takes at least one byte: refuse counts the input can not hold
    // before allocating for them.
    if (n > this.end - this.pos) this.fail(`array of ${n} items in ${this.end - this.pos} bytes`);
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
    return out;
  }

  map(n: number, depth: number): Record<string, unknown> {
    if (n > (this.end - this.pos) / 2) this.fail(`map of ${n} entries in ${this.end - this.pos} bytes`);
    if (n > 0 && depth + 1 > MAX_DECODED_DEPTH) this.nested();
    const out: Record<string, unknown> = {};
    const b = this.buf;
    for (let i = 0; i < n; i++) {
      let key: string;
      const at = this.pos;
      const c = at < this.end ? b[at] : 0;
      if (c >= 0xa0 && c <= 0xbf) {
        // A fixstr key: the common case, without the generic value().
        const len = c & 0x1f;
        if (len > this.end - at - 1) this.short(len, at + 1);
        this.pos = at + 1 + len;
        key = keyString(b, at + 1, len);
      } else {
        const k = this.value(depth + 1);
        if (typeof k !== 'string' && typeof k !== 'number' && typeof k !== 'bigint') this.fail('a map key is not a string or integer');
        key = String(k);
      }
      // Values that are a fixstr or a positive fixint (most of a session)
      // without the generic value().
      let v: unknown;
      const vat = this.pos;
      const d = vat < this.end ? b[vat] : 0xc1;
      if (d >= 0xa0 && d <= 0xbf) {
        const len = d & 0x1f;
        if (len > this.end - vat - 1) this.short(len, vat + 1);
        this.pos = vat + 1 + len;
        v = stringAt(b, vat + 1, len);
      } else if (d <= 0x7f) {
        this.pos = vat + 1;
        v = d;
      } else {
        v = this.value(depth + 1);
      }
      // A key named __proto__ must stay data, never change the object's prototype.
      if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
    }
    return out;
  }

  ext(n: number): Date {
    const type = this.buf.readInt8(this.take(1));
    if (type !== -1) this.fail(`extension type ${type} is not supported`);
    const at = this.take(n);
    let ms: number;
    if (n === 4) {
      ms = this.buf.readUInt32BE(at) * 1000;
    } else if (n === 8) {
      const hi = this.buf.readUInt32BE(at);
      const lo = this.buf.readUInt32BE(at + 4);
      const nsec = Math.floor(hi / 4);
      const sec = (hi % 4) * 0x100000000 + lo;
      ms = sec * 1000 + Math.floor(nsec / 1e6);
    } else if (n === 12) {
      const nsec = this.buf.readUInt32BE(at);
      const sec = Number(this.buf.readBigInt64BE(at + 4));
      ms = sec * 1000 + Math.floor(nsec / 1e6);
    } else {
      this.fail(`a timestamp of ${n} bytes`);
    }
    const d = new Date(ms);
    if (!Number.isFinite(d.getTime())) this.fail('a timestamp out of range');
    return d;
  }

  nested(): never {
    throw new TypeError(`${this.what} is nested more than ${MAX_DECODED_DEPTH} levels deep`);
  }

  value(depth: number): unknown {
    if (depth > MAX_DECODED_DEPTH) this.nested();
    const at = this.pos;
    if (at >= this.end) this.short(1, at);
    this.pos = at + 1;
    const b = this.buf[at];
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b >= 0xa0 && b <= 0xbf) return this.str(b & 0x1f);
    if (b <= 0x8f) return this.map(b & 0x0f, depth);
    if (b <= 0x9f) return this.array(b & 0x0f, depth);
    const buf = this.buf;
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return this.bin(this.u8());
      case 0xc5: return this.bin(this.u16());
      case 0xc6: return this.bin(this.u32());
      case 0xc7: return this.ext(this.u8());
      case 0xc8: return this.ext(this.u16());
      case 0xc9: return this.ext(this.u32());
      case 0xca: return buf.readFloatBE(this.take(4));
      case 0xcb: return buf.readDoubleBE(this.take(8));
      case 0xcc: return this.u8();
      case 0xcd: return this.u16();
      case 0xce: return this.u32();
      case 0xcf: return this.int64(false);
      case 0xd0: return buf.readInt8(this.take(1));
      case 0xd1: return buf.readInt16BE(this.take(2));
      case 0xd2: return buf.readInt32BE(this.take(4));
      case 0xd3: return this.int64(true);
      case 0xd4: return this.ext(1);
      case 0xd5: return this.ext(2);
      case 0xd6: return this.ext(4);
      case 0xd7: return this.ext(8);
      case 0xd8: return this.ext(16);
      case 0xd9: return this.str(this.u8());
      case 0xda: return this.str(this.u16());
      case 0xdb: return this.str(this.u32());
      case 0xdc: return this.array(this.u16(), depth);
      case 0xdd: return this.array(this.u32(), depth);
      case 0xde: return this.map(this.u16(), depth);
      case 0xdf: return this.map(this.u32(), depth);
      default: return this.fail(`byte 0x${b.toString(16)} at offset ${at - this.start} is reserved`);
    }
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// Exactly one value in buf[start, end), or TypeError.
function unpackRange(buf: Buffer, start: number, end: number, what: string): unknown {
  if (end <= start) throw new TypeError(`${what} is not valid MessagePack: empty`);
  const reader = new Reader(buf, start, end, what);
  const value = reader.value(0);
  if (reader.pos !== end) reader.fail(`${end - reader.pos} trailing bytes`);
  return value;
}

/**
 * Unpacks exactly one MessagePack value from `bytes`. Throws TypeError
 * (naming `what`) for malformed input, trailing bytes or values this reader
 * does not produce; never anything else.
 */
export function unpack(bytes: Uint8Array, what = 'packed_data'): unknown {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
    throw new TypeError(`${what} is not valid MessagePack: empty`);
  }
  return unpackRange(asBuffer(bytes), 0, bytes.length, what);
}

/** True for an object whose prototype is Object.prototype or null. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Unpacks untrusted bytes that must hold a MessagePack map (a token's data).
 * TypeError unless the bytes are exactly one map of plain values.
 */
export function unpackMap(bytes: Uint8Array, what = 'packed_data'): Record<string, unknown> {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
    throw new TypeError(`${what} is not valid MessagePack: empty`);
  }
  return unpackMapAt(asBuffer(bytes), 0, bytes.length, what);
}

/**
 * unpackMap() of buf[start, end) without a view of it (the master's read
 * decodes straight from its scratch buffer).
 */
export function unpackMapAt(buf: Buffer, start: number, end: number, what = 'packed_data'): Record<string, unknown> {
  const value = unpackRange(buf, start, end, what);
  // Reader makes only null, booleans, numbers, bigints, strings, Buffers,
  // Dates, arrays and plain objects (with data properties), nested at most
  // MAX_DECODED_DEPTH deep: nothing else to check than that it is a map.
  if (!isPlainObject(value)) {
    throw new TypeError('Must be a Hash (Object)');
  }
  return value;
}

const MAX_DECODED_DEPTH = 64;
