// crudjt: a file-backed token store for stateful user sessions.
//
//   const CRUDJT = require('crudjt');
//   await CRUDJT.Config.startMaster({ secret_key });   // or connectToMaster()
//   const token = await CRUDJT.create({ user_id: 42 }, 3600, 10);
//   await CRUDJT.read(token);   // { metadata: { ttl: 3600, silence_read: 9 }, data: { user_id: 42 } }
//
// Every function validates its arguments here, in both roles, then
// forwards to the backend of the process's role (see backend.ts). They are
// async and reject (never throw synchronously) with TypeError, RangeError,
// CRUDJT.Errors.InvalidState or CRUDJT.Errors.InternalError.
import type { ReadResult as BackendReadResult, Stats as StatsT } from './backend';
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
import { validateData, validateSilenceRead, validateToken, validateTtl } from './validation';

/** Stores `data` (a plain object, <= 256 bytes of MessagePack) under a new token. */
async function create(data: Record<string, unknown>, ttl: number | null = null, silenceRead: number | null = null): Promise<string> {
  const backend = currentBackend();
  const packed = validateData(data);
  const t = validateTtl(ttl);
  const s = validateSilenceRead(silenceRead);
  return backend.create(packed, t, s);
}

/** The token's data and remaining limits, or null when unknown, expired or exhausted. */
async function read<T extends Record<string, unknown> = Record<string, any>>(token: string): Promise<BackendReadResult<T> | null> {
  const backend = currentBackend();
  const t = validateToken(token);
  return (await backend.read(t)) as BackendReadResult<T> | null;
}

/** Replaces data and limits of a live token; false when it is not live. */
async function update(token: string, data: Record<string, unknown>, ttl: number | null = null, silenceRead: number | null = null): Promise<boolean> {
  const backend = currentBackend();
  const t = validateToken(token);
  const packed = validateData(data);
  const ttlOk = validateTtl(ttl);
  const s = validateSilenceRead(silenceRead);
  return backend.update(t, packed, ttlOk, s);
}

/** Removes a token; true iff a live token was removed. */
async function deleteToken(token: string): Promise<boolean> {
  const backend = currentBackend();
  const t = validateToken(token);
  return backend.delete(t);
}

const CRUDJT = {
  create,
  read,
  update,
  delete: deleteToken,
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
  export type InvalidState = InstanceType<typeof ErrorClasses.InvalidState>;
  export type InternalError = InstanceType<typeof ErrorClasses.InternalError>;
  export type Unavailable = InstanceType<typeof ErrorClasses.Unavailable>;
}

export = CRUDJT;
