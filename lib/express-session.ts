// crudjt/express-session: a drop-in session store for express-session (and
// for @fastify/session, whose store interface is the same get/set/destroy
// with callbacks). See doc/sessions.md.
//
//   const session = require('express-session');
//   const CrudjtStore = require('crudjt/express-session');
//   app.use(session({ store: new CrudjtStore(), secret, resave: false, saveUninitialized: false }));
//
// Each session is stored under the session id the framework generated: the
// store writes it with the backend's internal put (a record under a token
// the caller chose; never on the public CRUDJT object), so any genid works.
// The crudjt token of a session id is the id itself when it is 22..128
// base64url characters (express-session's default ids are 32; UUIDs are
// 36), else base64url(SHA-256(id)) (43 characters). Either way the disk
// holds only the engine's keyed hash of the token and the sealed session,
// never the id in plaintext.
//
// The session (minus its cookie, plus a compact cookie) is stored as
// MessagePack in one token: at most 256 bytes. cookie.expires/maxAge gives
// the token's ttl (else options.ttl, default one day); touch() slides it.
//
// Roles: a master process (startMaster) and the cluster role
// (connectToCluster) have put. A client process (connectToMaster) needs the
// gRPC client backend to have put, i.e. a wire op for it; until then get,
// touch and destroy work there and set rejects with an InternalError that
// says so.
//
// length/clear/all are deliberately absent (express-session treats them as
// optional): crudjt stores only keyed hashes of tokens, so it can not list
// or count sessions, and clearing would mean deleting the whole store,
// other tokens included.
import crypto from 'node:crypto';
import { EventEmitter } from 'events';
import type { Backend } from './backend';
import { currentBackend } from './config';
import { InternalError } from './errors';
import { pack } from './msgpack';
import { CHOSEN_TOKEN_RE, DATA_TOO_BIG, MAX_PAYLOAD_BYTES, MAX_TTL_SECONDS, validateData } from './validation';

type Callback<T = void> = (err?: unknown, value?: T) => void;

interface CrudjtStoreOptions {
  /** Lifetime in seconds of sessions whose cookie has no maxAge/expires (default 86400, one day). */
  ttl?: number;
}

const DEFAULT_TTL_S = 86_400;
/**
 * More JSON values than this can not fit in 256 bytes of MessagePack (each
 * costs at least a byte): serialising stops there, so a giant (or sparse)
 * array in a session fails fast instead of being stringified.
 */
const MAX_JSON_VALUES = 1024;
/** Strings longer than this stop serialising too (shorter ones get an exact byte count in the error). */
const MAX_JSON_STRING = 65_536;
/** A lone UTF-16 surrogate (would hash as U+FFFD, like any other lone one). */
const LONE_SURROGATE = /\p{Cs}/u;

/** Cookie fields stored under short keys (the rest under their own names). */
const SHORT: Record<string, string> = {
  originalMaxAge: 'o', expires: 'e', maxAge: 'a', secure: 's', httpOnly: 'h', domain: 'd', path: 'p', sameSite: 'm',
  partitioned: 't', priority: 'r', signed: 'g', originalExpires: 'x',
};
/** Cookie fields holding a date: stored as ms since the epoch, restored as ISO strings. */
const DATES = new Set(['expires', 'originalExpires']);
const LONG: Record<string, string> = Object.fromEntries(Object.entries(SHORT).map(([k, v]) => [v, k]));

type BaseCtor = new () => EventEmitter;

/**
 * express-session's Store when the package is installed (express-session
 * needs its load/createSession/regenerate), else a plain EventEmitter,
 * which is all @fastify/session needs.
 */
function baseStore(): BaseCtor {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const mod = require('express-session') as { Store?: BaseCtor };
    if (typeof mod.Store === 'function') return mod.Store;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
  }
  return EventEmitter as unknown as BaseCtor;
}

const Base = baseStore();

function short(id: string): string {
  return id.length > 8 ? `${id.slice(0, 6)}…` : id;
}

/**
 * The crudjt token a session id is stored under: the id itself when it is
 * 22..128 base64url characters, else base64url(SHA-256(id)). Deterministic,
 * so every process (and every role) finds the same session.
 */
function tokenFor(sid: string): string {
  return CHOSEN_TOKEN_RE.test(sid) ? sid : crypto.createHash('sha256').update(sid, 'utf8').digest('base64url');
}

function checkSid(sid: unknown): string {
  if (typeof sid !== 'string' || sid.length === 0) {
    throw new TypeError(`CrudjtStore: a session id must be a non-empty string, got ${sid === '' ? "''" : typeof sid}`);
  }
  if (LONE_SURROGATE.test(sid)) throw new TypeError('CrudjtStore: a session id must not contain lone UTF-16 surrogates');
  return sid;
}

/** A thrown value as one of the errors the store rejects with (TypeError unless already typed). */
function typed(e: unknown, what: string): Error {
  if (e instanceof TypeError || e instanceof RangeError || e instanceof InternalError) return e;
  let why: string;
  try {
    why = e instanceof Error ? e.message : String(e);
  } catch {
    why = 'an unprintable error';
  }
  return new TypeError(`CrudjtStore: ${what}: ${why}`);
}

/** The session as JSON would store it, stopping early when it can not fit. */
function toPlain(sess: unknown): Record<string, unknown> {
  let values = 0;
  const bounded = (_key: string, v: unknown): unknown => {
    if (++values > MAX_JSON_VALUES || (typeof v === 'string' && v.length > MAX_JSON_STRING)) throw new RangeError(DATA_TOO_BIG);
    return v;
  };
  let plain: unknown;
  try {
    const json = JSON.stringify(sess ?? {}, bounded);
    plain = json === undefined ? undefined : JSON.parse(json);
  } catch (e) {
    // Ours, or V8's for a giant string or nesting: all mean "can not fit".
    if (e instanceof RangeError) throw new RangeError(DATA_TOO_BIG);
    throw typed(e, 'the session can not be stored (it must serialise as JSON)');
  }
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    throw new TypeError('CrudjtStore: a session must be an object');
  }
  return plain as Record<string, unknown>;
}

/** The session (a Session object or plain data) as the record to store. */
function encode(sess: unknown): Record<string, unknown> {
  const plain = toPlain(sess);
  const rawCookie = plain.cookie;
  const cookie = (typeof rawCookie === 'object' && rawCookie !== null && !Array.isArray(rawCookie) ? rawCookie : {}) as Record<string, unknown>;
  const c: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cookie)) {
    if (v === undefined || v === null) continue;
    if (DATES.has(k)) {
      const ms = typeof v === 'string' || typeof v === 'number' ? new Date(v).getTime() : NaN;
      if (!Number.isNaN(ms)) c[SHORT[k]] = ms;
      continue;
    }
    c[SHORT[k] ?? k] = v;
  }
  delete plain.cookie;
  return { ...plain, cookie: c };
}

/** A stored record back as the session data both frameworks restore from. */
function decode(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...data };
  const c = (data.cookie ?? {}) as Record<string, unknown>;
  const cookie: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) {
    const name = LONG[k] ?? k;
    cookie[name] = DATES.has(name) && typeof v === 'number' ? new Date(v).toISOString() : v;
  }
  out.cookie = cookie;
  return out;
}

/** ms the cookie has left, or null when it has no lifetime (a browser-session cookie). */
function cookieMsLeft(sess: unknown): number | null {
  const cookie = (sess as { cookie?: Record<string, unknown> } | null)?.cookie;
  if (cookie === undefined || cookie === null) return null;
  const expires = cookie.expires;
  if (expires instanceof Date || typeof expires === 'string' || typeof expires === 'number') {
    const ms = new Date(expires as string).getTime();
    if (!Number.isNaN(ms)) return ms - Date.now();
  }
  const maxAge = typeof cookie.maxAge === 'number' ? cookie.maxAge : cookie.originalMaxAge;
  return typeof maxAge === 'number' && Number.isFinite(maxAge) ? maxAge : null;
}

function settle<T>(p: Promise<T>, cb: Callback<T> | undefined): Promise<T> {
  if (typeof cb === 'function') {
    p.then((v) => cb(null, v), (e) => cb(e));
  }
  return p;
}

/** The backend's put, or the InternalError of a backend without one (a client of a master without the wire op). */
function putOf(backend: Backend): NonNullable<Backend['put']> {
  if (typeof backend.put !== 'function') {
    throw new InternalError(
      `CrudjtStore can not save sessions in the ${backend.role} role: it needs a master with put support ` +
        '(a record under the session id) on the wire, which this client backend does not have. ' +
        'Use the store in the master process (startMaster) or the cluster role (connectToCluster), ' +
        'or upgrade crudjt on both sides once the wire has put.',
    );
  }
  return backend.put.bind(backend);
}

class CrudjtStore extends Base {
  private readonly ttl: number;

  constructor(options: CrudjtStoreOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('CrudjtStore options must be an object');
    for (const k of Object.keys(options)) {
      if (k !== 'ttl') throw new TypeError(`CrudjtStore: unknown option '${k}' (allowed: ttl)`);
    }
    const ttl = options.ttl ?? DEFAULT_TTL_S;
    if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl <= 0 || ttl > MAX_TTL_SECONDS) {
      throw new TypeError(`CrudjtStore: ttl must be a positive whole number of seconds, got ${String(ttl)}`);
    }
    this.ttl = ttl;
  }

  /**
   * The crudjt token a session id is stored under (the id itself, or
   * base64url(SHA-256(id)) for ids that are not 22..128 base64url
   * characters): e.g. CRUDJT.delete(CrudjtStore.tokenFor(sid)) ends a
   * session from anywhere.
   */
  static tokenFor(sid: string): string {
    return tokenFor(checkSid(sid));
  }

  /** ttl in seconds for a session's cookie; null = the cookie has already expired. */
  private ttlOf(sess: unknown): number | null {
    let left: number | null;
    try {
      left = cookieMsLeft(sess);
    } catch (e) {
      throw typed(e, "the session's cookie can not be read");
    }
    if (left === null) return this.ttl;
    if (left <= 0) return null;
    return Math.min(MAX_TTL_SECONDS, Math.max(1, Math.ceil(left / 1000)));
  }

  /** The session stored under `sid`, or null (unknown, expired, destroyed). */
  get(sid: string, cb?: Callback<Record<string, unknown> | null>): Promise<Record<string, unknown> | null> {
    return settle((async () => {
      if (typeof sid !== 'string' || sid.length === 0 || LONE_SURROGATE.test(sid)) return null;
      const r = await currentBackend().read(tokenFor(sid));
      return r === null ? null : decode(r.data);
    })(), cb);
  }

  /**
   * Stores the session under `sid` (creating or replacing it), with the
   * cookie's remaining lifetime as ttl (options.ttl for a cookie without
   * one). A cookie that has already expired deletes the session.
   */
  set(sid: string, sess: unknown, cb?: Callback): Promise<void> {
    return settle((async () => {
      const token = tokenFor(checkSid(sid));
      const backend = currentBackend();
      const ttl = this.ttlOf(sess);
      if (ttl === null) {
        await backend.delete(token);
        return;
      }
      let data: Record<string, unknown> | null = null;
      let packed: Buffer;
      try {
        data = encode(sess);
        packed = validateData(data);
      } catch (e) {
        throw explainSize(e, sid, data, sess);
      }
      await putOf(backend)(token, packed, ttl, null);
    })(), cb);
  }

  /** Slides the session's lifetime to the cookie's (express-session calls it when the session is unchanged). */
  touch(sid: string, sess: unknown, cb?: Callback): Promise<void> {
    return settle((async () => {
      const token = tokenFor(checkSid(sid));
      const backend = currentBackend();
      const ttl = this.ttlOf(sess);
      if (ttl === null) await backend.delete(token);
      else await backend.touch(token, ttl);
    })(), cb);
  }

  /** Deletes the session (logout). */
  destroy(sid: string, cb?: Callback): Promise<void> {
    return settle((async () => {
      await currentBackend().delete(tokenFor(checkSid(sid)));
    })(), cb);
  }
}

/** crudjt's size error, explained for session users. */
function explainSize(e: unknown, sid: string, data: Record<string, unknown> | null, sess: unknown): unknown {
  if (!(e instanceof RangeError) || e.message !== DATA_TOO_BIG) return typed(e, 'the session can not be stored');
  let bytes = 'more than 256 bytes';
  let keys = '';
  try {
    if (data !== null) bytes = `${pack(data).length} bytes`;
    keys = Object.keys(data ?? (sess as object)).filter((k) => k !== 'cookie').join(', ');
  } catch {
    // keep the generic wording
  }
  return new RangeError(
    `CrudjtStore: session ${short(sid)} is ${bytes} of MessagePack (its cookie included), over crudjt's ` +
      `${MAX_PAYLOAD_BYTES}-byte limit per token (session keys: ${keys || 'none'}). crudjt keeps each session ` +
      'in one sealed record of at most 256 bytes so that reads stay one lookup; keep only small identifiers ' +
      'in the session (e.g. a user id) and load the rest from your database.',
  );
}

// CommonJS: require('crudjt/express-session') is the class; .CrudjtStore
// and .default name it too (ESM and TypeScript default imports).
// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace CrudjtStore {
  export type Options = CrudjtStoreOptions;
}
Object.defineProperty(CrudjtStore, 'CrudjtStore', { value: CrudjtStore });
Object.defineProperty(CrudjtStore, 'default', { value: CrudjtStore });
export = CrudjtStore;
