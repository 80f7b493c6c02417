// Config.connectToCluster(options): the cluster role. Every process of every
// host connects this way to one Redis Cluster; there is no master.
//
//   await CRUDJT.Config.connectToCluster({
//     secret_key,                         // the same key in every process
//     previous_secret_keys: [...],        // older keys whose tokens still read
//     nodes: ['10.0.0.1:7000', '10.0.0.2:7000'],   // any reachable nodes
//     prefix: 'crudjt:',                  // key prefix (default)
//     password, tls,                      // passed to ioredis
//     durability: 'async' | 'replicated', // 'replicated': WAIT for a replica
//     deadline_ms: 5000,                  // per call; then InternalError naming the node
//   });
//
// ioredis is required lazily, so the master and client roles never load it.
import type { Cluster, ClusterOptions } from 'ioredis';
import type { Backend } from '../backend';
import { InternalError, InvalidState, MESSAGES } from '../errors';
import { checkOptionNames, isBlankSecret, validatePreviousSecretKeys, validateSecretKey } from '../validation';
import { ClusterBackend, defineScripts, type Logger } from './backend';
import { newRecordCodec, type NativeRecordCodec } from './codec';

export { ClusterBackend } from './backend';

export interface ClusterConnectOptions {
  /** Base64 of 32, 48 or 64 bytes: the same key in every process. */
  secret_key: string;
  /**
   * Key rotation: earlier secret keys (newest first, at most 16). Tokens
   * sealed under them still read; a write reseals under secret_key.
   */
  previous_secret_keys?: string[];
  /** 'host:port' of one or more cluster nodes (the rest are discovered). */
  nodes: string[];
  /** Prefix of every Redis key (default 'crudjt:'); no '{' or '}'. */
  prefix?: string;
  /** AUTH password of the nodes. */
  password?: string;
  /** Username (Redis ACL), with password. */
  username?: string;
  /** true, or tls.connect() options, to reach the nodes over TLS. */
  tls?: boolean | Record<string, unknown>;
  /** 'async' (default): acknowledged by the master node; 'replicated': also by one replica (WAIT). */
  durability?: 'async' | 'replicated';
  /** Deadline of every call (default 5000 ms). */
  deadline_ms?: number;
}

export const DEFAULT_PREFIX = 'crudjt:';
export const DEFAULT_DEADLINE_MS = 5000;
const OPTIONS = [
  'secret_key', 'previous_secret_keys', 'nodes', 'prefix', 'password', 'username', 'tls', 'durability', 'deadline_ms',
  // Config.connectToCluster's own option (it hands the logger over separately).
  'logger',
] as const;
const MAX_NODES = 1000;
const MAX_PREFIX_BYTES = 64;

export interface ParsedNode {
  host: string;
  port: number;
}

/** 'host:port' or '[v6]:port' -> { host, port }; TypeError/RangeError otherwise. */
export function parseNode(value: unknown, index: number): ParsedNode {
  const name = `nodes[${index}]`;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`${name} must be a 'host:port' string, got ${value === null ? 'null' : typeof value}`);
  }
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(value);
  if (m === null) throw new TypeError(`${name} must be a 'host:port' string, got ${JSON.stringify(value.slice(0, 80))}`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new RangeError(`${name} port must be between 1 and 65535, got ${port}`);
  return { host: m[1] ?? m[2], port };
}

export interface ParsedClusterOptions {
  secret: Buffer;
  /** Raw previous secrets, newest first (wiped after use, like secret). */
  previous: Buffer[];
  nodes: ParsedNode[];
  prefix: string;
  password?: string;
  username?: string;
  tls?: boolean | Record<string, unknown>;
  replicated: boolean;
  deadlineMs: number;
}

/** Validates connectToCluster's options (TypeError/RangeError/InvalidState with clear messages). */
export function parseClusterOptions(options: unknown): ParsedClusterOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError('connectToCluster options must be an object');
  }
  const o = options as Partial<Record<(typeof OPTIONS)[number], unknown>>;
  if (isBlankSecret(o.secret_key)) throw new InvalidState(MESSAGES.SECRET_KEY_BLANK);
  const secret = validateSecretKey(o.secret_key);
  checkOptionNames(o, OPTIONS, 'connectToCluster');
  const previous = validatePreviousSecretKeys(o.previous_secret_keys);
  if (!Array.isArray(o.nodes) || o.nodes.length === 0) {
    throw new TypeError("nodes must be a non-empty array of 'host:port' strings");
  }
  if (o.nodes.length > MAX_NODES) throw new RangeError(`nodes can hold at most ${MAX_NODES} entries, got ${o.nodes.length}`);
  const nodes = o.nodes.map((n, i) => parseNode(n, i));
  const prefix = o.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== 'string') throw new TypeError(`prefix must be a string, got ${typeof prefix}`);
  if (Buffer.byteLength(prefix) > MAX_PREFIX_BYTES) {
    throw new RangeError(`prefix can not be bigger than ${MAX_PREFIX_BYTES} bytes, got ${Buffer.byteLength(prefix)}`);
  }
  if (/[{}]/.test(prefix)) {
    throw new TypeError("prefix must not contain '{' or '}' (a hash tag would put every token on one node)");
  }
  for (const name of ['password', 'username'] as const) {
    const v = o[name];
    if (v !== undefined && (typeof v !== 'string' || v === '')) throw new TypeError(`${name} must be a non-empty string`);
  }
  const tls = o.tls;
  if (tls !== undefined && typeof tls !== 'boolean' && (typeof tls !== 'object' || tls === null || Array.isArray(tls))) {
    throw new TypeError('tls must be a boolean or an object of tls.connect() options');
  }
  const durability = o.durability ?? 'async';
  if (durability !== 'async' && durability !== 'replicated') {
    throw new TypeError(`durability must be 'async' or 'replicated', got ${String(durability)}`);
  }
  const deadline = o.deadline_ms ?? DEFAULT_DEADLINE_MS;
  if (typeof deadline !== 'number' || !Number.isSafeInteger(deadline) || deadline <= 0 || deadline > 3_600_000) {
    throw new TypeError(`deadline_ms must be an integer in 1..3600000, got ${String(deadline)}`);
  }
  return {
    secret,
    previous,
    nodes,
    prefix,
    password: o.password as string | undefined,
    username: o.username as string | undefined,
    tls: tls as ParsedClusterOptions['tls'],
    replicated: durability === 'replicated',
    deadlineMs: deadline,
  };
}

type IoRedis = { Cluster: new (nodes: ParsedNode[], options: ClusterOptions) => Cluster };

function loadIoRedis(): IoRedis {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require('ioredis') as IoRedis;
  } catch (e) {
    throw new InternalError(
      `CRUDJT cluster role needs the 'ioredis' package (npm install ioredis@^6): ${(e as Error).message}`,
    );
  }
}

/** An ioredis Cluster with the settings the backend relies on (not connected yet). */
export function newCluster(p: ParsedClusterOptions, logger: Logger | null): Cluster {
  const { Cluster: ClusterClass } = loadIoRedis();
  const tls = p.tls === true ? {} : p.tls === false ? undefined : p.tls;
  const cluster = new ClusterClass(p.nodes, {
    lazyConnect: true,
    enableAutoPipelining: true,
    enableOfflineQueue: true,
    enableReadyCheck: true,
    scaleReads: 'master',
    // Keep trying for ever: calls fail by their own deadline, and work
    // again as soon as the node (or its promoted replica) is back.
    clusterRetryStrategy: (times: number) => Math.min(100 * times, 1000),
    retryDelayOnClusterDown: 100,
    retryDelayOnFailover: 100,
    retryDelayOnTryAgain: 100,
    maxRedirections: 16,
    slotsRefreshTimeout: Math.min(p.deadlineMs, 2000),
    slotsRefreshInterval: 2000,
    redisOptions: {
      password: p.password,
      username: p.username,
      tls: tls as never,
      connectTimeout: Math.min(p.deadlineMs, 10000),
      commandTimeout: p.deadlineMs,
      maxRetriesPerRequest: 1,
    },
  });
  // An 'error' event without a listener would crash the host process.
  let lastWarn = 0;
  cluster.on('error', (err: Error) => {
    const now = Date.now();
    if (now - lastWarn < 5000) return;
    lastWarn = now;
    logger?.warn(`CRUDJT cluster: ${err.message}`);
  });
  cluster.on('node error', () => undefined);
  defineScripts(cluster);
  return cluster;
}

/** Connects within the deadline; InternalError naming the nodes otherwise (nothing left open). */
export async function connectCluster(cluster: Cluster, p: ParsedClusterOptions): Promise<void> {
  const names = p.nodes.map((n) => (n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`)).join(', ');
  let timer: NodeJS.Timeout | undefined;
  const ready = cluster.connect();
  try {
    await Promise.race([
      ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${p.deadlineMs} ms`)), p.deadlineMs);
      }),
    ]);
  } catch (e) {
    ready.catch(() => undefined);
    cluster.disconnect();
    throw new InternalError(`CRUDJT could not connect to the Redis Cluster at ${names}: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

/** The INDEX_KEY script, defined by defineScripts (replies as Buffers). */
interface IndexKeyCommand {
  crudjtIndexKeyBuffer(key: string, field: string, wrapped: Buffer): Promise<Buffer[]>;
}

/** The cluster's meta hash of wrapped index keys (see adoptIndexKey). */
export function indexKeyName(prefix: string): string {
  return `${prefix}m:index-key`;
}

function keyIdField(keyId: number): string {
  return (keyId >>> 0).toString(16).padStart(8, '0');
}

/**
 * Key rotation: tokens are found by their keyed hash, so the hash key (the
 * index key) must outlive every secret, as a store's does. The cluster
 * keeps it in one hash, <prefix>m:index-key, wrapped under each secret
 * that has used it (field = that secret's key id). A process adopts the
 * wrapping one of its secrets opens (its current secret's first) and adds
 * its current secret's wrapping when missing, so that a later process
 * with only the new secret (the old one dropped) finds it too. A cluster
 * without the hash (new, or filled before rotation existed) gets the index
 * key of the OLDEST secret the process lists: what that secret alone used.
 * When no secret of the process opens any wrapping (a wrong key), it keeps
 * that default and writes nothing: every token then reads as absent, as on
 * a master with another key. -> false in that case only.
 */
export async function adoptIndexKey(
  cluster: Cluster,
  codec: NativeRecordCodec,
  p: ParsedClusterOptions,
  log: Logger | null,
): Promise<boolean> {
  const metaKey = indexKeyName(p.prefix);
  const mine = keyIdField(codec.keyId);
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const work = fn();
    try {
      return await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${p.deadlineMs} ms`)), p.deadlineMs);
        }),
      ]);
    } catch (e) {
      work.catch(() => undefined);
      throw new InternalError(`CRUDJT cluster: ${what} (${metaKey}) failed: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  };
  const flat = await call('reading the index key', () =>
    (cluster as unknown as IndexKeyCommand).crudjtIndexKeyBuffer(metaKey, mine, codec.wrapIndexKey()),
  );
  const entries: Array<[string, Buffer]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) entries.push([flat[i].toString('latin1'), flat[i + 1]]);
  entries.sort(([a], [b]) => (a === mine ? -1 : b === mine ? 1 : 0));
  const adopted = entries.find(([, wrapped]) => wrapped.length === 72 && codec.adoptIndexKey(wrapped));
  if (adopted === undefined) {
    log?.warn(
      `CRUDJT cluster: none of this process's secret keys opens the cluster's index key (${metaKey}): ` +
        'the tokens of the cluster will read as absent. Is secret_key (or previous_secret_keys) the one the cluster was filled with?',
    );
    return false;
  }
  if (adopted[0] !== mine) {
    await call('adding the current secret to the index key', () => cluster.hsetnx(metaKey, mine, codec.wrapIndexKey()));
    log?.info(`CRUDJT cluster: index key now also wrapped under the current secret key (${metaKey} field ${mine})`);
  }
  return true;
}

function checkLogger(logger: unknown): Logger | null {
  if (logger === undefined || logger === null) return null;
  if (typeof logger !== 'object' || typeof (logger as Logger).warn !== 'function') return null;
  return logger as Logger;
}

/**
 * The cluster role's backend (Config.connectToCluster). Validates `options`,
 * connects to the cluster and resolves once the slot map is known.
 */
export async function openClusterBackend(options: unknown, logger: Logger | null): Promise<Backend> {
  const p = parseClusterOptions(options);
  let codec: NativeRecordCodec;
  try {
    codec = newRecordCodec(p.secret, p.previous);
  } catch (e) {
    // The codec names a bad previous key ("previous_secret_keys[i]: ...").
    throw e instanceof TypeError || e instanceof InternalError ? e : new TypeError((e as Error).message);
  } finally {
    p.secret.fill(0);
    for (const k of p.previous) k.fill(0);
  }
  const log = checkLogger(logger);
  const cluster = newCluster(p, log);
  await connectCluster(cluster, p);
  try {
    await adoptIndexKey(cluster, codec, p, log);
  } catch (e) {
    cluster.disconnect();
    throw e;
  }
  const backend = new ClusterBackend(cluster, codec, {
    prefix: p.prefix,
    deadlineMs: p.deadlineMs,
    replicated: p.replicated,
    logger: log,
  });
  log?.info(`CRUDJT: connected to the Redis Cluster (${p.nodes.length} seed node(s), prefix '${p.prefix}', durability '${p.replicated ? 'replicated' : 'async'}')`);
  return backend;
}
