// Argument checks of the public API and of the gRPC master. Everything is
// checked here, before a value crosses into C++ or onto the wire; the addon
// checks again (never trust the caller). Messages name the argument and why.
import { isPlainObject, pack, packSessionData, unpackMap } from './msgpack';

/** Largest MessagePack encoding of a token's data (cpp kMaxPayloadBytes). */
export const MAX_PAYLOAD_BYTES = 256;
/** Largest ttl in seconds: ttl * 1000 must stay a safe integer (cpp kMaxTtlMs). */
export const MAX_TTL_SECONDS = Math.floor(Number.MAX_SAFE_INTEGER / 1000);
/** Largest silence_read (cpp kMaxReads). */
export const MAX_READS = Number.MAX_SAFE_INTEGER;
/** Nesting deeper than this is refused (it cannot fit in 256 bytes anyway). */
export const MAX_DEPTH = 64;

export const DATA_NOT_HASH = 'Must be a Hash (Object)';
export const DATA_EMPTY = 'Hash can not be empty';
export const DATA_TOO_BIG = `Hash can not be bigger than ${MAX_PAYLOAD_BYTES} bytesize`;
export const TOKEN_INVALID = 'token must be a non-empty String';

export type Limit = number | null;

/** Bounds of a token the caller chose (Backend.put): as long as ours at least, as the engine allows at most. */
export const MIN_CHOSEN_TOKEN_CHARS = 22;
export const MAX_CHOSEN_TOKEN_CHARS = 128;
export const CHOSEN_TOKEN_RE = /^[A-Za-z0-9_-]{22,128}$/;
export const CHOSEN_TOKEN_INVALID =
  `a chosen token must be ${MIN_CHOSEN_TOKEN_CHARS} to ${MAX_CHOSEN_TOKEN_CHARS} base64url characters (A-Z a-z 0-9 - _)`;

function describe(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)}`;
  if (typeof v === 'bigint') return `the bigint ${v}n`;
  if (typeof v === 'number') return String(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/**
 * data: a non-empty plain object of MessagePack-representable values whose
 * encoding is at most 256 bytes. Returns the encoding.
 */
export function validateData(data: unknown): Buffer {
  // Common session data in one pass; anything unusual (and every error)
  // goes through the exact walk below, whose messages are the contract.
  const fast = packSessionData(data);
  if (fast !== null) return fast;
  let packed: Buffer;
  try {
    // Inside the try: a Proxy's getPrototypeOf/ownKeys traps may throw too.
    if (!isPlainObject(data)) throw new TypeError(DATA_NOT_HASH);
    if (Object.keys(data).length === 0) throw new TypeError(DATA_EMPTY);
    walkData(data);
    packed = pack(data);
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) throw e;
    // e.g. a getter or a Proxy trap that throws
    throw new TypeError(`data can not be encoded as MessagePack: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (packed.length > MAX_PAYLOAD_BYTES) throw new RangeError(DATA_TOO_BIG);
  return packed;
}

// Iterative walk with an explicit stack: no recursion, so a cyclic or very
// deep object gives a TypeError instead of a stack overflow. Every key and
// value costs at least one byte of MessagePack, so more than 256 of them
// means the data is too big without encoding it.
function walkData(root: Record<string, unknown>): void {
  const ancestors = new Set<object>();
  type Frame = { obj: object; values: unknown[]; index: number; depth: number };
  const stack: Frame[] = [];
  let budget = MAX_PAYLOAD_BYTES;
  const enter = (obj: object, depth: number): void => {
    if (ancestors.has(obj)) throw new TypeError('data must not contain circular references');
    if (depth > MAX_DEPTH) throw new TypeError(`data is nested more than ${MAX_DEPTH} levels deep`);
    ancestors.add(obj);
    let values: unknown[];
    if (Array.isArray(obj)) {
      values = obj;
    } else {
      const keys = Object.keys(obj);
      budget -= keys.length;
      for (const k of keys) if (k.length > MAX_PAYLOAD_BYTES) throw new RangeError(DATA_TOO_BIG);
      values = keys.map((k) => (obj as Record<string, unknown>)[k]);
    }
    stack.push({ obj, values, index: 0, depth });
  };
  enter(root, 1);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.index >= top.values.length) {
      ancestors.delete(top.obj);
      stack.pop();
      continue;
    }
    const v = top.values[top.index++];
    if (--budget < 0) throw new RangeError(DATA_TOO_BIG);
    if (v === null || v === undefined) continue;
    switch (typeof v) {
      case 'string':
        // At least one byte per character: refuse before encoding.
        if (v.length > MAX_PAYLOAD_BYTES) throw new RangeError(DATA_TOO_BIG);
        continue;
      case 'boolean':
      case 'number':
      case 'bigint':
        continue;
      case 'object':
        break;
      default:
        throw new TypeError(`data can not hold ${describe(v)}: only null, booleans, numbers, strings, arrays, Buffers, Dates and plain objects`);
    }
    if (v instanceof Uint8Array) {
      if (v.length > MAX_PAYLOAD_BYTES) throw new RangeError(DATA_TOO_BIG);
      continue;
    }
    if (v instanceof Date) {
      if (Number.isNaN(v.getTime())) throw new TypeError('data can not hold an invalid Date');
      continue;
    }
    if (Array.isArray(v) || isPlainObject(v)) {
      enter(v, top.depth + 1);
      continue;
    }
    const ctor = (v as object).constructor?.name ?? 'object';
    throw new TypeError(`data can not hold a ${ctor}: only null, booleans, numbers, strings, arrays, Buffers, Dates and plain objects`);
  }
}

/**
 * ttl / silenceRead from the API: null or undefined = no limit, else a
 * positive safe integer no larger than `max`.
 */
export function validateLimit(value: unknown, name: string, max: number): Limit {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a positive integer or null, got ${describe(value)}`);
  }
  if (!Number.isFinite(value)) {
    throw new RangeError(`${name} must be a finite positive integer, got ${value}`);
  }
  if (!Number.isInteger(value)) {
    throw new RangeError(`${name} must be a whole number, got ${value}`);
  }
  if (value <= 0) {
    throw new RangeError(`${name} must be greater than 0 (use null for no limit), got ${value}`);
  }
  if (value > max) {
    throw new RangeError(`${name} must be at most ${max}, got ${value}`);
  }
  return value;
}

export function validateTtl(ttl: unknown, name = 'ttl'): Limit {
  return validateLimit(ttl, name, MAX_TTL_SECONDS);
}

export function validateSilenceRead(silenceRead: unknown, name = 'silenceRead'): Limit {
  return validateLimit(silenceRead, name, MAX_READS);
}

/**
 * A limit from the wire (int64 decoded as a Number): -1 and 0 mean "none"
 * (the published SDKs send either); anything else must be a valid limit.
 * Values beyond 2^53 arrive rounded and are never safe integers.
 */
export function validateWireLimit(value: unknown, name: string, max: number): Limit {
  if (value === -1 || value === 0 || value === undefined || value === null) return null;
  return validateLimit(value, name, max);
}

/** Converts a validated limit to the wire: -1 for none. */
export function limitToWire(limit: Limit): number {
  return limit === null ? -1 : limit;
}

/** A token the caller chose, for Backend.put (internal). TypeError when out of bounds. */
export function validateChosenToken(token: unknown): string {
  if (typeof token !== 'string' || !CHOSEN_TOKEN_RE.test(token)) throw new TypeError(CHOSEN_TOKEN_INVALID);
  return token;
}

/** token: a non-empty string (unknown or malformed strings are not errors). */
export function validateToken(token: unknown): string {
  if (typeof token !== 'string' || token.length === 0) throw new TypeError(TOKEN_INVALID);
  return token;
}

/**
 * packed_data from the wire: at most 256 bytes holding exactly one
 * non-empty MessagePack map. Returns the bytes (owned copy) to store.
 */
export function validatePackedData(bytes: unknown): Buffer {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(DATA_NOT_HASH);
  if (bytes.length > MAX_PAYLOAD_BYTES) throw new RangeError(DATA_TOO_BIG);
  const map = unpackMap(bytes);
  if (Object.keys(map).length === 0) throw new TypeError(DATA_EMPTY);
  return Buffer.from(bytes);
}

const BASE64_STRICT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const SECRET_KEY_SIZES = [32, 48, 64];

/** True when the secret key is absent, empty or whitespace only. */
export function isBlankSecret(key: unknown): boolean {
  return key === undefined || key === null || key === '' || (typeof key === 'string' && key.trim() === '');
}

/** secret_key: canonical, padded standard base64 of 32, 48 or 64 bytes. */
export function validateSecretKey(key: unknown): Buffer {
  if (typeof key !== 'string' || !BASE64_STRICT.test(key)) {
    throw new TypeError(`'secret_key' must be a valid Base64 string`);
  }
  const raw = Buffer.from(key, 'base64');
  if (raw.toString('base64') !== key) {
    throw new TypeError(`'secret_key' must be a valid Base64 string`);
  }
  if (!SECRET_KEY_SIZES.includes(raw.length)) {
    throw new TypeError(`'secret_key' must be exactly 32, 48, or 64 bytes. Got ${raw.length} bytes`);
  }
  return raw;
}

/** Rejects option names not in `allowed` (catches misspellings). */
export function checkOptionNames(options: object, allowed: readonly string[], fn: string): void {
  for (const name of Object.keys(options)) {
    if (!allowed.includes(name)) {
      throw new TypeError(`${fn}: unknown option '${name}' (allowed: ${allowed.join(', ')})`);
    }
  }
}

export function validateHost(host: unknown, name = 'grpc_host'): string {
  if (typeof host !== 'string' || host.trim() === '') {
    throw new TypeError(`${name} must be a non-empty string, got ${describe(host)}`);
  }
  return host;
}

export function validatePort(port: unknown, allowZero: boolean, name = 'grpc_port'): number {
  if (typeof port !== 'number' || !Number.isInteger(port)) {
    throw new TypeError(`${name} must be an integer, got ${describe(port)}`);
  }
  const min = allowZero ? 0 : 1;
  if (port < min || port > 65535) {
    throw new RangeError(`${name} must be between ${min} and 65535, got ${port}`);
  }
  return port;
}

/** Largest subject (e.g. a user id) in UTF-8 bytes (cpp kMaxSubjectBytes). */
export const MAX_SUBJECT_BYTES = 128;
export const HANDLE_INVALID = 'handle must be a non-empty String';
/** Handles are 22 characters (listSubject); longer strings are never one. */
export const MAX_HANDLE_CHARS = 64;

// A lone surrogate would be encoded as U+FFFD, so two different strings
// would name the same subject: refuse them instead.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * subject: a non-empty, well-formed string of at most 128 UTF-8 bytes
 * (e.g. a user id). `name` says which argument it was.
 */
export function validateSubject(subject: unknown, name = 'subject'): string {
  if (typeof subject !== 'string' || subject.length === 0) {
    throw new TypeError(`${name} must be a non-empty String, got ${describe(subject)}`);
  }
  // Every character is at least one byte: refuse giant strings before encoding.
  if (subject.length > MAX_SUBJECT_BYTES) {
    throw new RangeError(`${name} can not be bigger than ${MAX_SUBJECT_BYTES} bytes of UTF-8, got ${subject.length} characters`);
  }
  if (LONE_SURROGATE.test(subject)) {
    throw new TypeError(`${name} must be well-formed Unicode (it holds a lone surrogate)`);
  }
  const bytes = Buffer.byteLength(subject, 'utf8');
  if (bytes > MAX_SUBJECT_BYTES) {
    throw new RangeError(`${name} can not be bigger than ${MAX_SUBJECT_BYTES} bytes of UTF-8, got ${bytes} bytes`);
  }
  return subject;
}

/**
 * create()'s fourth argument: undefined/null, or a plain object whose only
 * key is `subject` (a subject, or null/undefined for none). The subject or null.
 */
export function validateCreateOptions(options: unknown): string | null {
  if (options === undefined || options === null) return null;
  let subject: unknown;
  try {
    if (!isPlainObject(options)) {
      throw new TypeError(`create options must be an object { subject }, got ${describe(options)}`);
    }
    for (const key of Object.keys(options)) {
      if (key !== 'subject') throw new TypeError(`create: unknown option '${key.slice(0, 40)}' (allowed: subject)`);
    }
    subject = (options as { subject?: unknown }).subject;
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) throw e;
    // a getter or a Proxy trap that throws
    throw new TypeError(`create options can not be read: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (subject === undefined || subject === null) return null;
  return validateSubject(subject, 'options.subject');
}

/** handle (from listSubject): a non-empty string; unknown or malformed ones are not errors. */
export function validateHandle(handle: unknown): string {
  if (typeof handle !== 'string' || handle.length === 0) throw new TypeError(HANDLE_INVALID);
  return handle;
}

/** previous_secret_keys: an array of keys, each checked like secret_key. Raw keys. */
export function validatePreviousSecretKeys(keys: unknown): Buffer[] {
  if (keys === undefined || keys === null) return [];
  if (!Array.isArray(keys)) {
    throw new TypeError(`'previous_secret_keys' must be an array of Base64 strings, got ${describe(keys)}`);
  }
  if (keys.length > 16) {
    throw new RangeError(`'previous_secret_keys' can hold at most 16 keys, got ${keys.length}`);
  }
  const out: Buffer[] = [];
  for (let i = 0; i < keys.length; i++) {
    const key: unknown = keys[i];
    const name = `previous_secret_keys[${i}]`;
    if (typeof key !== 'string' || !BASE64_STRICT.test(key)) throw new TypeError(`'${name}' must be a valid Base64 string`);
    const raw = Buffer.from(key, 'base64');
    if (raw.toString('base64') !== key) throw new TypeError(`'${name}' must be a valid Base64 string`);
    if (!SECRET_KEY_SIZES.includes(raw.length)) {
      throw new TypeError(`'${name}' must be exactly 32, 48, or 64 bytes. Got ${raw.length} bytes`);
    }
    out.push(raw);
  }
  return out;
}
