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
    case 'bigint': {
      if (typeof v === 'bigint' && (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))) throw GIVE_UP;
      const w = fastWriter;
      w.buf = scratch;
      w.pos = fastPos;
      if (typeof v === 'number' && !Number.isSafeInteger(v)) {
        scratch[w.pos++] = 0xcb;
        scratch.writeDoubleBE(v, w.pos);
        w.pos += 8;
      } else {
        w.int(Number(v));
      }
      fastPos = w.pos;
      return;
    }
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

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer, private readonly what: string) {}

  fail(why: string): never {
    throw new TypeError(`${this.what} is not valid MessagePack: ${why}`);
  }

  take(n: number): number {
    const at = this.pos;
    if (n > this.buf.length - at) this.fail(`${n} bytes needed at offset ${at}, ${this.buf.length - at} left`);
    this.pos += n;
    return at;
  }

  u8(): number { return this.buf[this.take(1)]; }
  u16(): number { return this.buf.readUInt16BE(this.take(2)); }
  u32(): number { return this.buf.readUInt32BE(this.take(4)); }

  int64(signed: boolean): number | bigint {
    const at = this.take(8);
    const v = signed ? this.buf.readBigInt64BE(at) : this.buf.readBigUInt64BE(at);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  str(n: number): string {
    const at = this.take(n);
    const b = this.buf;
    // Session keys and values are mostly short ASCII: building those in JS
    // saves the native utf8Slice call (~3x faster below ~24 bytes).
    if (n <= 24) {
      let s = '';
      for (let i = at; i < at + n; i++) {
        const c = b[i];
        if (c >= 0x80) return b.toString('utf8', at, at + n);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return b.toString('utf8', at, at + n);
  }

  bin(n: number): Buffer {
    const at = this.take(n);
    return Buffer.from(this.buf.subarray(at, at + n));
  }

  array(n: number, depth: number): unknown[] {
    // Each element takes at least one byte: refuse counts the input can not hold
    // before allocating for them.
    if (n > this.buf.length - this.pos) this.fail(`array of ${n} items in ${this.buf.length - this.pos} bytes`);
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
    return out;
  }

  map(n: number, depth: number): Record<string, unknown> {
    if (n > (this.buf.length - this.pos) / 2) this.fail(`map of ${n} entries in ${this.buf.length - this.pos} bytes`);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const k = this.value(depth + 1);
      if (typeof k !== 'string' && typeof k !== 'number' && typeof k !== 'bigint') this.fail('a map key is not a string or integer');
      const v = this.value(depth + 1);
      const key = String(k);
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

  value(depth: number): unknown {
    if (depth > MAX_DECODED_DEPTH) {
      throw new TypeError(`${this.what} is nested more than ${MAX_DECODED_DEPTH} levels deep`);
    }
    const b = this.u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b >= 0xa0 && b <= 0xbf) return this.str(b & 0x1f);
    if (b >= 0x90 && b <= 0x9f) return this.array(b & 0x0f, depth);
    if (b >= 0x80 && b <= 0x8f) return this.map(b & 0x0f, depth);
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
      default: return this.fail(`byte 0x${b.toString(16)} at offset ${this.pos - 1} is reserved`);
    }
  }
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
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = new Reader(buf, what);
  const value = reader.value(0);
  if (reader.pos !== buf.length) reader.fail(`${buf.length - reader.pos} trailing bytes`);
  return value;
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
  const value = unpack(bytes, what);
  if (!isPlainObject(value)) {
    throw new TypeError('Must be a Hash (Object)');
  }
  checkDecodedValue(value, 0, what);
  return value;
}

const MAX_DECODED_DEPTH = 64;

// Values the decoder may legitimately produce; a second line of defence
// behind Reader, which already refuses anything else.
function checkDecodedValue(v: unknown, depth: number, what: string): void {
  if (depth > MAX_DECODED_DEPTH) {
    throw new TypeError(`${what} is nested more than ${MAX_DECODED_DEPTH} levels deep`);
  }
  if (v === null) return;
  switch (typeof v) {
    case 'boolean':
    case 'number':
    case 'string':
    case 'bigint':
      return;
    case 'object':
      break;
    default:
      throw new TypeError(`${what} holds an unsupported value`);
  }
  if (Array.isArray(v)) {
    for (const item of v) checkDecodedValue(item, depth + 1, what);
    return;
  }
  if (v instanceof Uint8Array || v instanceof Date) return;
  if (isPlainObject(v)) {
    for (const key of Object.keys(v)) checkDecodedValue(v[key], depth + 1, what);
    return;
  }
  throw new TypeError(`${what} holds an unsupported MessagePack value`);
}
