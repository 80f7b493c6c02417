// MessagePack for every path that packs or unpacks a payload (API, store,
// gRPC master and client).
//
// Encoding is our own small writer for the values validation.ts admits
// (null/undefined -> nil, booleans, numbers, bigints, strings, Buffers and
// Uint8Arrays -> bin, Dates -> timestamp extension -1, arrays, plain
// objects -> maps with the smallest header). Unlike msgpackr it writes
// integers beyond 32 bits as int64/uint64, not float64, so that the ids
// other SDKs (Python, Ruby) send and read keep their integer type.
// Decoding uses msgpackr with fixed options: maps -> plain objects,
// 64-bit integers -> number when safe, bigint otherwise; decoding untrusted
// bytes throws only TypeError.
import { Unpackr } from 'msgpackr';

const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  // 'auto' (number when safe, else bigint) is supported at runtime by
  // msgpackr >= 1.10 but missing from its type declarations.
  int64AsType: 'auto' as 'bigint',
  moreTypes: false,
  structuredClone: false,
  bundleStrings: false,
});

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

/**
 * Unpacks exactly one MessagePack value from `bytes`. Throws TypeError
 * (naming `what`) for malformed input, trailing bytes or values msgpackr
 * cannot represent; never anything else.
 */
export function unpack(bytes: Uint8Array, what = 'packed_data'): unknown {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
    throw new TypeError(`${what} is not valid MessagePack: empty`);
  }
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch (e) {
    throw new TypeError(`${what} is not valid MessagePack: ${e instanceof Error ? e.message : String(e)}`);
  }
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

// Values the decoder may legitimately produce. msgpackr turns the reserved
// byte 0xc1 into a marker object; reject that and anything else unexpected.
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
