// CRUDJT.Config: the process's role. Idle until startMaster() (this process
// owns the store and serves it over gRPC), connectToMaster() (this process
// calls a master over gRPC) or connectToCluster() (this process keeps its
// tokens in a Redis Cluster, lib/cluster). shutdownServer() (or its alias
// disconnect()) returns to idle.
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import type { NativeBinding, NativeOpenOptions } from '../binding';
import type { Backend, Stats } from './backend';
import { ReadCache } from './cache';
import { fromNative, InternalError, InvalidState, MESSAGES } from './errors';
import { DEFAULT_DEADLINE_MS, GrpcClientBackend } from './grpc/client';
import { removeSocketFile, startGrpcServer, stopGrpcServer, type SocketOptions } from './grpc/server';
import { MasterStore } from './store';
import { resolveStorePath } from './store_path';
import {
  checkOptionNames,
  isBlankSecret,
  validateHost,
  validatePort,
  validatePreviousSecretKeys,
  validateSecretKey,
} from './validation';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

export interface CacheConfig {
  /** Cache reads of tokens without a read limit (default true). */
  enabled?: boolean;
  /** Largest number of cached tokens (default 10000). */
  maxEntries?: number;
}

export interface StartMasterOptions {
  /** Base64 of 32, 48 or 64 random bytes (e.g. `openssl rand -base64 48`). */
  secret_key: string;
  /**
   * Key rotation: keys the store was sealed with before (base64, like
   * secret_key; at most 16). Tokens sealed under them stay readable, are
   * re-sealed under secret_key when written and by a background pass, and a
   * log line says when no record needs them any more.
   */
  previous_secret_keys?: string[];
  /** Store directory; default /var/lib/store_jt when writable, else <project root>/store_jt. */
  store_jt_path?: string;
  /** Interface to serve gRPC on (default 127.0.0.1: same host only). */
  grpc_host?: string;
  /** Port to serve gRPC on (default 50051; 0 = any free port). */
  grpc_port?: number;
  /**
   * Also serve gRPC on this Unix domain socket (an absolute or relative
   * path; clients pass the same path to connectToMaster). The file is made
   * mode grpc_socket_mode, a stale one left by a killed master is replaced,
   * and it is removed on shutdown.
   */
  grpc_socket?: string;
  /** File mode of grpc_socket: 0o600 (default, owner only) or 0o660 (owner and group). */
  grpc_socket_mode?: number;
  /** 'background' (default): fsync every 500 ms; 'sync': fsync before acknowledging. */
  durability?: 'background' | 'sync';
  /** Read cache settings, or false to disable it. */
  cache?: CacheConfig | boolean;
  /** Where the master logs (default console); null silences it. */
  logger?: Logger | null;
}

export interface ConnectOptions {
  grpc_host?: string;
  grpc_port?: number;
  /** The master's Unix domain socket (its grpc_socket); replaces host and port. */
  grpc_socket?: string;
  /** Deadline of every call to the master (default 5000 ms). */
  deadline_ms?: number;
  /**
   * Coalesce concurrent calls into the master's Batch stream (default
   * true); false sends one unary call per operation. Against a master
   * without the Batch RPC the client falls back to unary calls by itself.
   */
  batch?: boolean;
}

export interface MasterInfo {
  store_jt_path: string;
  store_jt_path_source: 'option' | 'system' | 'project';
  grpc_host: string;
  /** The bound port (the real one when 0 was asked). */
  grpc_port: number;
  /** The Unix domain socket served as well, or null. */
  grpc_socket: string | null;
  key_changed: boolean;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 50051;

const START_OPTIONS = [
  'secret_key', 'previous_secret_keys', 'store_jt_path', 'grpc_host', 'grpc_port', 'grpc_socket', 'grpc_socket_mode', 'durability', 'cache', 'logger',
] as const;
const CONNECT_OPTIONS = ['grpc_host', 'grpc_port', 'grpc_socket', 'deadline_ms', 'batch'] as const;

/** Unix socket paths are limited by sockaddr_un (108 bytes on Linux, 104 on macOS). */
const MAX_SOCKET_PATH_BYTES = 103;

function checkSocketPath(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || value.includes('\0')) {
    throw new TypeError('grpc_socket must be a non-empty path string');
  }
  const resolved = path.resolve(value);
  if (Buffer.byteLength(resolved) > MAX_SOCKET_PATH_BYTES) {
    throw new RangeError(`grpc_socket path must be at most ${MAX_SOCKET_PATH_BYTES} bytes, got ${Buffer.byteLength(resolved)} (${resolved})`);
  }
  return resolved;
}

type State =
  | { kind: 'idle' }
  | { kind: 'starting' }
  | { kind: 'master'; backend: Backend; server: grpc.Server; info: MasterInfo }
  | { kind: 'client'; backend: Backend; address: string }
  | { kind: 'cluster'; backend: Backend }
  | { kind: 'stopping' };

let state: State = { kind: 'idle' };
let transition: Promise<unknown> | null = null;

/** The backend of the current role; InvalidState before start/connect. */
export function currentBackend(): Backend {
  if (state.kind === 'master' || state.kind === 'client' || state.kind === 'cluster') return state.backend;
  throw new InvalidState(MESSAGES.NOT_STARTED);
}

function loadBinding(): NativeBinding {
  try {
    // Loaded on first start only: the client role never needs the addon.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const mod = require('./binding');
    return (mod.default ?? mod) as NativeBinding;
  } catch (e) {
    throw new InternalError(`CRUDJT native addon could not be loaded: ${(e as Error).message}`);
  }
}

function checkLogger(logger: unknown): Logger | null {
  if (logger === undefined) return console;
  if (logger === null) return null;
  if (typeof logger !== 'object' || typeof (logger as Logger).info !== 'function' || typeof (logger as Logger).warn !== 'function') {
    throw new TypeError('logger must be null or an object with info() and warn() methods');
  }
  return logger as Logger;
}

function checkCache(cache: unknown): ReadCache | null {
  if (cache === undefined || cache === true) return new ReadCache();
  if (cache === false) return null;
  if (typeof cache !== 'object' || cache === null) {
    throw new TypeError('cache must be a boolean or an object { enabled?, maxEntries? }');
  }
  checkOptionNames(cache, ['enabled', 'maxEntries'], 'startMaster cache');
  const c = cache as CacheConfig;
  if (c.enabled !== undefined && typeof c.enabled !== 'boolean') {
    throw new TypeError('cache.enabled must be a boolean');
  }
  if (c.enabled === false) return null;
  return new ReadCache({ maxEntries: c.maxEntries });
}

async function startMaster(options: StartMasterOptions): Promise<MasterInfo> {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError('startMaster options must be an object');
  }
  const opts = (options ?? {}) as Partial<StartMasterOptions>;
  if (isBlankSecret(opts.secret_key)) throw new InvalidState(MESSAGES.SECRET_KEY_BLANK);
  if (state.kind !== 'idle') throw new InvalidState(MESSAGES.ALREADY_STARTED);
  const secret = validateSecretKey(opts.secret_key);
  checkOptionNames(opts, START_OPTIONS, 'startMaster');
  const previous = validatePreviousSecretKeys(opts.previous_secret_keys);
  if (opts.store_jt_path !== undefined && (typeof opts.store_jt_path !== 'string' || opts.store_jt_path === '')) {
    throw new TypeError('store_jt_path must be a non-empty string');
  }
  const host = validateHost(opts.grpc_host ?? DEFAULT_HOST);
  const port = validatePort(opts.grpc_port ?? DEFAULT_PORT, true);
  const durability = opts.durability ?? 'background';
  if (durability !== 'background' && durability !== 'sync') {
    throw new TypeError(`durability must be 'background' or 'sync', got ${String(durability)}`);
  }
  const cache = checkCache(opts.cache);
  const logger = checkLogger(opts.logger);
  const socketPath = checkSocketPath(opts.grpc_socket);
  const socketMode = opts.grpc_socket_mode ?? 0o600;
  if (socketMode !== 0o600 && socketMode !== 0o660) {
    throw new TypeError(`grpc_socket_mode must be 0o600 or 0o660, got ${typeof socketMode === 'number' ? '0o' + socketMode.toString(8) : String(socketMode)}`);
  }
  const socket: SocketOptions | undefined = socketPath === undefined ? undefined : { path: socketPath, mode: socketMode };

  state = { kind: 'starting' };
  const work = doStart(secret, previous, opts.store_jt_path, host, port, socket, durability, cache, logger);
  transition = work;
  try {
    const result = await work;
    return result;
  } catch (e) {
    state = { kind: 'idle' };
    throw e;
  } finally {
    transition = null;
  }
}

async function doStart(
  secret: Buffer,
  previous: Buffer[],
  explicitPath: string | undefined,
  host: string,
  port: number,
  socket: SocketOptions | undefined,
  durability: 'background' | 'sync',
  cache: ReadCache | null,
  logger: Logger | null,
): Promise<MasterInfo> {
  const where = resolveStorePath(explicitPath);
  logger?.info(`CRUDJT: store_jt_path ${where.path} (${where.source === 'option' ? 'store_jt_path option' : where.source === 'system' ? 'system location' : 'project root'})`);
  const binding = loadBinding();
  const openOptions: NativeOpenOptions & { previousSecretKeys?: Buffer[] } = { durability };
  if (previous.length > 0) openOptions.previousSecretKeys = previous;
  let opened;
  try {
    opened = await binding.open(where.path, secret, openOptions);
  } catch (e) {
    throw fromNative(e);
  } finally {
    secret.fill(0);
    for (const k of previous) k.fill(0);
  }
  const { store, info } = opened;
  if (info.keyChanged) {
    logger?.warn(`CRUDJT: the secret key differs from the one that sealed the store at ${where.path}; tokens created under the old key read as null`);
  }
  const backend = new MasterStore(store, { sync: durability === 'sync', cache });
  let bound: { server: grpc.Server; port: number };
  try {
    bound = await startGrpcServer(backend, host, port, socket);
  } catch (e) {
    try {
      await store.close();
    } catch {
      // The bind failure is the error to report.
    }
    if (e instanceof InvalidState) throw e;
    const where = socket === undefined ? `${host}:${port}` : `${host}:${port} and unix:${socket.path}`;
    throw new InternalError(`CRUDJT could not serve gRPC on ${where}: ${(e as Error).message}`);
  }
  const masterInfo: MasterInfo = {
    store_jt_path: where.path,
    store_jt_path_source: where.source,
    grpc_host: host,
    grpc_port: bound.port,
    grpc_socket: socket?.path ?? null,
    key_changed: info.keyChanged,
  };
  state = { kind: 'master', backend, server: bound.server, info: masterInfo };
  // Key rotation: re-seal old records in the background (never blocks the
  // start; errors are logged, not thrown).
  if (previous.length > 0) void backend.startReseal(logger);
  return masterInfo;
}

function connectToMaster(options: ConnectOptions = {}): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('connectToMaster options must be an object');
  }
  checkOptionNames(options, CONNECT_OPTIONS, 'connectToMaster');
  const host = validateHost(options.grpc_host ?? DEFAULT_HOST);
  const port = validatePort(options.grpc_port ?? DEFAULT_PORT, false);
  const socket = checkSocketPath(options.grpc_socket);
  const deadline = options.deadline_ms ?? DEFAULT_DEADLINE_MS;
  if (typeof deadline !== 'number' || !Number.isSafeInteger(deadline) || deadline <= 0) {
    throw new TypeError(`deadline_ms must be a positive integer, got ${String(deadline)}`);
  }
  if (options.batch !== undefined && typeof options.batch !== 'boolean') {
    throw new TypeError(`batch must be a boolean, got ${String(options.batch)}`);
  }
  if (state.kind === 'client') {
    void state.backend.close().catch(() => undefined);
  } else if (state.kind !== 'idle') {
    throw new InvalidState(MESSAGES.ALREADY_STARTED);
  }
  const backend = new GrpcClientBackend(host, port, deadline, { socket, batch: options.batch });
  state = { kind: 'client', backend, address: backend.address };
}

/** What lib/cluster/index.ts exports (loaded on first use: the other roles never need ioredis). */
type ClusterModule = { openClusterBackend(options: unknown, logger: Logger | null): Promise<Backend> };

function loadCluster(): ClusterModule {
  let mod: Partial<ClusterModule>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    mod = require('./cluster/index') as Partial<ClusterModule>;
  } catch (e) {
    throw new InternalError(`CRUDJT cluster backend could not be loaded: ${(e as Error).message}`);
  }
  if (typeof mod.openClusterBackend !== 'function') {
    throw new InternalError('CRUDJT cluster backend could not be loaded: lib/cluster has no openClusterBackend');
  }
  return mod as ClusterModule;
}

/**
 * Switches this process to the cluster role: tokens live in a Redis Cluster
 * (lib/cluster validates the options: secret_key, nodes, prefix, password,
 * tls, durability, deadline_ms, previous_secret_keys). `logger` (default
 * console; null silences it) is taken here. Resolves once connected.
 */
async function connectToCluster(options: Record<string, unknown>): Promise<void> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError('connectToCluster options must be an object');
  }
  const { logger: loggerOption, ...clusterOptions } = options;
  const logger = checkLogger(loggerOption);
  if (state.kind !== 'idle') throw new InvalidState(MESSAGES.ALREADY_STARTED);
  const cluster = loadCluster();
  state = { kind: 'starting' };
  const work = cluster.openClusterBackend(clusterOptions, logger);
  transition = work;
  try {
    const backend = await work;
    state = { kind: 'cluster', backend };
  } catch (e) {
    state = { kind: 'idle' };
    throw e;
  } finally {
    transition = null;
  }
}

async function shutdownServer(): Promise<void> {
  while (transition !== null) {
    await transition.catch(() => undefined);
  }
  const current = state;
  if (current.kind === 'client' || current.kind === 'cluster') {
    state = { kind: 'idle' };
    await current.backend.close();
    return;
  }
  if (current.kind !== 'master') return;
  state = { kind: 'stopping' };
  const work = (async () => {
    try {
      await stopGrpcServer(current.server);
    } finally {
      if (current.info.grpc_socket !== null) removeSocketFile(current.info.grpc_socket);
      await current.backend.close();
    }
  })();
  transition = work;
  try {
    await work;
  } finally {
    state = { kind: 'idle' };
    transition = null;
  }
}

/** 'master', 'client', 'cluster' or null (idle). */
function role(): 'master' | 'client' | 'cluster' | null {
  return state.kind === 'master' || state.kind === 'client' || state.kind === 'cluster' ? state.kind : null;
}

/** The master's settings (store path, bound port), or null when not the master. */
function masterInfo(): MasterInfo | null {
  return state.kind === 'master' ? { ...state.info } : null;
}

/**
 * Store and server figures: in the master from its own store, in a client
 * from the master (Stats RPC). InvalidState when idle.
 */
async function stats(): Promise<Stats> {
  return currentBackend().stats();
}

export const Config = {
  /** Opens the store and serves it over gRPC. Resolves with where it went. */
  startMaster,
  /** Switches this process to the client role (synchronous; connects lazily). */
  connectToMaster,
  /** Connects this process to a Redis Cluster holding the tokens (resolves once connected). */
  connectToCluster,
  /** Stops serving, flushes and closes the store (or closes the client channel or cluster connection). */
  shutdownServer,
  /** Alias of shutdownServer(), reads better in the client and cluster roles. */
  disconnect: shutdownServer,
  role,
  masterInfo,
  /** Tokens, file sizes, last fsync/checkpoint/sweep, cache hit rate, requests per RPC. */
  stats,
};
