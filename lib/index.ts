// crudjt: a file-backed token store for stateful user sessions.
//
//   const CRUDJT = require('crudjt');
//   await CRUDJT.Config.startMaster({ secret_key });   // or connectToMaster()
//   const token = await CRUDJT.create({ user_id: 42 }, 3600, 10);
//   await CRUDJT.read(token);   // { metadata: { ttl: 3600, silence_read: 9 }, data: { user_id: 42 } }
//
// Every function validates its arguments here, in both roles, then
// forwards to the backend of the process's role (see backend.ts). They
// return promises and reject (never throw synchronously) with TypeError,
// RangeError, CRUDJT.Errors.InvalidState or CRUDJT.Errors.InternalError.
// create/read/update/delete are plain functions that return the backend's
// promise (or a rejected one): an async wrapper around it would add
// microtask turns to every call, measurable in the master role where the
// whole call takes a few microseconds.
import type { ReadResult as BackendReadResult, SessionInfo as SessionInfoT, Stats as StatsT } from './backend';
import {
  Config as ConfigObject,
  currentBackend,
  type CacheConfig as CacheConfigT,
  type ConnectOptions as ConnectOptionsT,
  type Logger as LoggerT,
  type MasterInfo as MasterInfoT,
  type StartMasterOptions as StartMasterOptionsT,
} from './config';
import { Errors as ErrorClasses } from './errors';
import {
  MAX_HANDLE_CHARS,
  validateCreateOptions,
  validateData,
  validateHandle,
  validateSilenceRead,
  validateSubject,
  validateToken,
  validateTtl,
} from './validation';

/** create()'s fourth argument. */
interface CreateOptionsT {
  /**
   * Ties the token to a subject (e.g. a user id; 1..128 bytes of UTF-8) for
   * revokeSubject() ("log out everywhere") and listSubject(). Stored as a
   * keyed hash, never in plaintext; update() keeps it.
   */
  subject?: string | null;
}

/** Stores `data` (a plain object, <= 256 bytes of MessagePack) under a new token. */
function create(
  data: Record<string, unknown>,
  ttl: number | null = null,
  silenceRead: number | null = null,
  options?: CreateOptionsT | null,
): Promise<string> {
  try {
    const backend = currentBackend();
    const packed = validateData(data);
    const t = validateTtl(ttl);
    const s = validateSilenceRead(silenceRead);
    const subject = validateCreateOptions(options);
    return subject === null ? backend.create(packed, t, s) : backend.create(packed, t, s, subject);
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * Sliding expiry: the token now expires `ttl` seconds from now (null = never);
 * data, subject and reads left are unchanged. false when it is not live.
 */
async function touch(token: string, ttl: number | null): Promise<boolean> {
  const backend = currentBackend();
  const t = validateToken(token);
  const ttlOk = validateTtl(ttl);
  return backend.touch(t, ttlOk);
}

/** Log out everywhere: deletes every live token of `subject`; how many. */
async function revokeSubject(subject: string): Promise<number> {
  const backend = currentBackend();
  const s = validateSubject(subject);
  return backend.revokeSubject(s);
}

/**
 * The live sessions of `subject`: an opaque handle each (for revokeHandle;
 * it never reveals the token) and the limits left, as read() reports them.
 */
async function listSubject(subject: string): Promise<SessionInfoT[]> {
  const backend = currentBackend();
  const s = validateSubject(subject);
  return backend.listSubject(s);
}

/** Deletes the token behind a listSubject() handle; false when it is not live or not a handle. */
async function revokeHandle(handle: string): Promise<boolean> {
  const backend = currentBackend();
  const h = validateHandle(handle);
  // Handles are 22 base64url characters: a long string, or one with any other
  // character (a lone surrogate could not even travel as protobuf UTF-8), is
  // none: false with no call to the store or the wire.
  if (h.length > MAX_HANDLE_CHARS || !/^[A-Za-z0-9_-]+$/.test(h)) return false;
  return backend.revokeHandle(h);
}

/** The token's data and remaining limits, or null when unknown, expired or exhausted. */
function read<T extends Record<string, unknown> = Record<string, any>>(token: string): Promise<BackendReadResult<T> | null> {
  try {
    const backend = currentBackend();
    const t = validateToken(token);
    return backend.read(t) as Promise<BackendReadResult<T> | null>;
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Replaces data and limits of a live token; false when it is not live. */
function update(token: string, data: Record<string, unknown>, ttl: number | null = null, silenceRead: number | null = null): Promise<boolean> {
  try {
    const backend = currentBackend();
    const t = validateToken(token);
    const packed = validateData(data);
    const ttlOk = validateTtl(ttl);
    const s = validateSilenceRead(silenceRead);
    return backend.update(t, packed, ttlOk, s);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Removes a token; true iff a live token was removed. */
function deleteToken(token: string): Promise<boolean> {
  try {
    const backend = currentBackend();
    const t = validateToken(token);
    return backend.delete(t);
  } catch (e) {
    return Promise.reject(e);
  }
}

const CRUDJT = {
  create,
  read,
  update,
  delete: deleteToken,
  touch,
  revokeSubject,
  listSubject,
  revokeHandle,
  Config: ConfigObject,
  Errors: ErrorClasses,
};

// Types, reachable as CRUDJT.ReadResult etc. (the namespace holds types only).
// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace CRUDJT {
  export type ReadResult<T extends Record<string, unknown> = Record<string, any>> = BackendReadResult<T>;
  export type StartMasterOptions = StartMasterOptionsT;
  export type ConnectOptions = ConnectOptionsT;
  export type MasterInfo = MasterInfoT;
  export type CacheConfig = CacheConfigT;
  export type Logger = LoggerT;
  export type Stats = StatsT;
  export type SessionInfo = SessionInfoT;
  export type CreateOptions = CreateOptionsT;
  export type InvalidState = InstanceType<typeof ErrorClasses.InvalidState>;
  export type InternalError = InstanceType<typeof ErrorClasses.InternalError>;
  export type Unavailable = InstanceType<typeof ErrorClasses.Unavailable>;
}

export = CRUDJT;
