// MessagePack with fixed options, shared by every path that packs or
// unpacks a payload (API, store, gRPC master and client).
//
// Encoding: plain MessagePack maps (no msgpackr records or structured-clone
// extensions), compact map headers (fixmap for small objects, as other
// SDKs write them), undefined -> nil.
// Decoding: maps -> plain objects, 64-bit integers -> number when safe,
// bigint otherwise; decoding untrusted bytes throws only TypeError.
import { Packr, Unpackr } from 'msgpackr';

const packr = new Packr({
  useRecords: false,
  variableMapSize: true,
  encodeUndefinedAsNil: true,
  moreTypes: false,
  structuredClone: false,
  bundleStrings: false,
});

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

/** Packs a value; the caller has validated its shape (see validation.ts). */
export function pack(value: unknown): Buffer {
  return packr.pack(value);
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
