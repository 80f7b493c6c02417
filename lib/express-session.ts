// crudjt/express-session: a session store for express-session (and for
// @fastify/session, whose store interface is the same get/set/destroy with
// callbacks). See doc/sessions.md.
//
//   const session = require('express-session');
//   const CrudjtStore = require('crudjt/express-session');
//   const store = new CrudjtStore();                 // CRUDJT started or connected
//   await store.ready();                              // ids reserved before serving
//   app.use(session({ store, genid: store.genid, secret, resave: false, saveUninitialized: false }));
//
// How a session id maps to a crudjt token: it IS one. crudjt looks records up
// only by the tokens it issued (the tree key is a keyed hash of the token; a
// caller can not pick a token), so the store issues the session ids itself:
// `genid` hands out tokens created ahead of time (a small reserve of
// placeholder records, refilled in the background) and `set` writes the
// session into the token express-session was given. The cookie carries the
// signed token; the disk holds its keyed hash and the sealed session, never
// the id in plaintext. A session id that this store did not issue (e.g.
// express-session's default uid-safe ids) can not be stored: `set` calls back
// with an error that says to pass `genid: store.genid`.
//
// The session (minus its cookie, plus a compact cookie) is stored as
// MessagePack in one token: at most 256 bytes. cookie.expires/maxAge gives
// the token's ttl (else options.ttl); touch() slides it. A session that is
// gone (expired, destroyed, revoked) is never re-created by a late set().
import { EventEmitter } from 'events';
import CRUDJT = require('./index');
import { pack } from './msgpack';

type Callback<T = void> = (err?: unknown, value?: T) => void;

interface CrudjtStoreOptions {
  /** Lifetime in seconds of sessions whose cookie has no maxAge/expires (default 86400, one day). */
  ttl?: number;
  /** Session ids kept ready for genid (default 64); refilled when half are used. */
  reserve?: number;
}

/** The token format: 22 characters of base64url. */
const TOKEN_RE = /^[A-Za-z0-9_-]{22}$/;
/** Data of a reserved id that no session was written into yet. */
const RESERVED = { '~r': 1 };
/** A reserved id lives this long (s); the reserve hands it out only while it is young. */
const RESERVED_TTL_S = 300;
const RESERVED_MAX_AGE_MS = 60_000;
const DEFAULT_TTL_S = 86_400;
const MAX_PAYLOAD_BYTES = 256;

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

/** The session (a Session object or plain data) as the record to store. */
function encode(sess: unknown): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(sess ?? {})) as Record<string, unknown>;
  const cookie = (plain.cookie ?? {}) as Record<string, unknown>;
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
  delete plain['~r'];
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

class CrudjtStore extends Base {
  private readonly ttl: number;
  private readonly reserveSize: number;
  private readonly pool: Array<{ token: string; at: number }> = [];
  private filling: Promise<void> | null = null;
  private lastError: unknown = null;

  constructor(options: CrudjtStoreOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('CrudjtStore options must be an object');
    for (const k of Object.keys(options)) {
      if (k !== 'ttl' && k !== 'reserve') throw new TypeError(`CrudjtStore: unknown option '${k}' (allowed: ttl, reserve)`);
    }
    const ttl = options.ttl ?? DEFAULT_TTL_S;
    if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl <= 0) {
      throw new TypeError(`CrudjtStore: ttl must be a positive whole number of seconds, got ${String(ttl)}`);
    }
    const reserve = options.reserve ?? 64;
    if (typeof reserve !== 'number' || !Number.isSafeInteger(reserve) || reserve < 1 || reserve > 4096) {
      throw new TypeError(`CrudjtStore: reserve must be an integer in 1..4096, got ${String(reserve)}`);
    }
    this.ttl = ttl;
    this.reserveSize = reserve;
  }

  /**
   * Resolves once session ids are reserved (CRUDJT must be started or
   * connected). Await it before serving requests.
   */
  async ready(): Promise<void> {
    await this.fill();
    if (this.pool.length === 0) {
      throw new Error(`CrudjtStore: could not reserve session ids: ${(this.lastError as Error)?.message ?? 'unknown error'}`);
    }
  }

  /**
   * Pass as express-session's `genid` (or @fastify/session's `idGenerator`):
   * a new session id, which is a crudjt token reserved for the session.
   * Throws when none is reserved (ready() not awaited, or the master is down).
   */
  readonly genid = (): string => {
    const now = Date.now();
    while (this.pool.length > 0 && now - this.pool[0].at > RESERVED_MAX_AGE_MS) this.pool.shift();
    const next = this.pool.shift();
    if (this.pool.length <= this.reserveSize / 2) void this.fill();
    if (next === undefined) {
      const why = this.lastError instanceof Error ? `: ${this.lastError.message}` : ' (await store.ready() before serving requests)';
      throw new Error(`CrudjtStore: no session id is reserved${why}`);
    }
    return next.token;
  };

  private fill(): Promise<void> {
    if (this.filling !== null) return this.filling;
    const want = this.reserveSize - this.pool.length;
    if (want <= 0) return Promise.resolve();
    this.filling = (async () => {
      try {
        const tokens = await Promise.all(Array.from({ length: want }, () => CRUDJT.create(RESERVED, RESERVED_TTL_S)));
        const at = Date.now();
        for (const token of tokens) this.pool.push({ token, at });
        this.lastError = null;
      } catch (e) {
        this.lastError = e;
      } finally {
        this.filling = null;
      }
    })();
    return this.filling;
  }

  /** The session stored under `sid`, or null (unknown, expired, destroyed, never saved). */
  get(sid: string, cb?: Callback<Record<string, unknown> | null>): Promise<Record<string, unknown> | null> {
    return settle((async () => {
      if (typeof sid !== 'string' || !TOKEN_RE.test(sid)) return null;
      const r = await CRUDJT.read(sid);
      if (r === null || r.data['~r'] !== undefined) return null;
      return decode(r.data);
    })(), cb);
  }

  /**
   * Writes the session into its token, with the cookie's remaining lifetime
   * as ttl. A token that is gone is not re-created (a revoked session stays
   * revoked); the call still succeeds and the next request has no session.
   */
  set(sid: string, sess: unknown, cb?: Callback): Promise<void> {
    return settle((async () => {
      if (typeof sid !== 'string' || !TOKEN_RE.test(sid)) {
        throw new TypeError(
          `CrudjtStore: session id ${JSON.stringify(short(String(sid)))} was not issued by this store: ` +
            'pass genid: store.genid to express-session (idGenerator: store.genid for @fastify/session)',
        );
      }
      const left = cookieMsLeft(sess);
      if (left !== null && left <= 0) {
        await CRUDJT.delete(sid);
        return;
      }
      const ttl = left === null ? this.ttl : Math.max(1, Math.ceil(left / 1000));
      const data = encode(sess);
      try {
        await CRUDJT.update(sid, data, ttl);
      } catch (e) {
        throw explainSize(e, sid, data);
      }
    })(), cb);
  }

  /** Slides the session's lifetime to the cookie's (express-session calls it when the session is unchanged). */
  touch(sid: string, sess: unknown, cb?: Callback): Promise<void> {
    return settle((async () => {
      if (typeof sid !== 'string' || !TOKEN_RE.test(sid)) return;
      const left = cookieMsLeft(sess);
      if (left !== null && left <= 0) {
        await CRUDJT.delete(sid);
        return;
      }
      await CRUDJT.touch(sid, left === null ? this.ttl : Math.max(1, Math.ceil(left / 1000)));
    })(), cb);
  }

  /** Deletes the session (logout). */
  destroy(sid: string, cb?: Callback): Promise<void> {
    return settle((async () => {
      if (typeof sid === 'string' && TOKEN_RE.test(sid)) await CRUDJT.delete(sid);
    })(), cb);
  }
}

/** The size error of crudjt, explained for session users. */
function explainSize(e: unknown, sid: string, data: Record<string, unknown>): unknown {
  if (!(e instanceof RangeError) || !/256/.test(e.message)) return e;
  let bytes = '';
  try {
    bytes = `${pack(data).length} bytes`;
  } catch {
    bytes = 'too many bytes';
  }
  const keys = Object.keys(data).filter((k) => k !== 'cookie').join(', ');
  return new RangeError(
    `CrudjtStore: session ${short(sid)} is ${bytes} of MessagePack (its cookie included), over crudjt's ` +
      `${MAX_PAYLOAD_BYTES}-byte limit per token (session keys: ${keys || 'none'}). Keep only small ` +
      'identifiers in the session (e.g. a user id) and load the rest from your database.',
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
