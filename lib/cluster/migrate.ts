// crudjt-server migrate --to-cluster: copies the live tokens of a
// single-host store into a Redis Cluster, so that moving to the cluster
// role logs nobody out.
//
//   crudjt-server migrate --to-cluster --store /app/store_jt \
//     --secret-key-file /app/secrets/secret_key.txt \
//     --nodes 10.0.0.1:7000,10.0.0.2:7000 [--prefix crudjt:] [--password-file F]
//
// Stop the master first (the store's lock is exclusive). Each live record is
// opened with the secret (so a record that is corrupt or sealed under
// another key is reported, not copied), resealed under the cluster's key for
// the token (the same keyed hash the cluster role computes) and written with
// SET NX and the remaining lifetime in ms: running it twice copies nothing
// twice and never overwrites a token already in the cluster. Subjects
// travel as the keyed hash the record carries. Tokens and payloads are never
// printed. Exit code 0 when every live record was copied (or already there).
import fs from 'node:fs';
import type { NativeBinding, NativeStore } from '../binding';
import { fromNative } from '../errors';
import { isBlankSecret, validateSecretKey } from '../validation';
import { newRecordCodec, type NativeRecordCodec } from './codec';
import { adoptIndexKey, connectCluster, DEFAULT_PREFIX, newCluster, parseClusterOptions } from './index';
import * as scripts from './scripts';

const USAGE = `usage: crudjt-server migrate --to-cluster --store PATH --secret-key-file FILE --nodes host:port[,host:port...]
         [--prefix PREFIX] [--password-file FILE] [--deadline-ms N]
  Copies every live token of the (stopped) store at PATH into the Redis Cluster.
  The key may come from CRUDJT_SECRET_KEY instead of --secret-key-file.`;

const BATCH = 1000;
const IN_FLIGHT = 256;
const FLAG_SUBJECT = 0x01;
const FORMAT_2 = 2;

export interface MigrateReport {
  copied: number;
  already_present: number;
  expired: number;
  other_key: number;
  corrupt: number;
  subjects: number;
}

interface Args {
  store: string;
  secret: Buffer;
  nodes: string[];
  prefix: string;
  password?: string;
  deadlineMs?: number;
}

function parseArgs(argv: string[]): Args | string {
  const flags = new Map<string, string>();
  let toCluster = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--to-cluster') {
      toCluster = true;
      continue;
    }
    if (a === '-h' || a === '--help') return USAGE;
    const eq = a.indexOf('=');
    const [name, value] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, argv[++i]];
    if (!['--store', '--secret-key-file', '--nodes', '--prefix', '--password-file', '--deadline-ms'].includes(name)) {
      return `unknown argument '${a}'\n${USAGE}`;
    }
    if (value === undefined) return `${name} needs a value\n${USAGE}`;
    flags.set(name, value);
  }
  if (!toCluster) return `migrate needs --to-cluster (the only target)\n${USAGE}`;
  const store = flags.get('--store');
  if (!store) return `--store is required\n${USAGE}`;
  const nodes = (flags.get('--nodes') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (nodes.length === 0) return `--nodes is required\n${USAGE}`;
  let key: string | undefined;
  const keyFile = flags.get('--secret-key-file');
  if (keyFile !== undefined) {
    try {
      key = fs.readFileSync(keyFile, 'utf8').trim();
    } catch (e) {
      return `cannot read --secret-key-file ${keyFile}: ${(e as Error).message}`;
    }
  } else {
    key = process.env.CRUDJT_SECRET_KEY?.trim();
  }
  if (isBlankSecret(key)) return `no secret key: pass --secret-key-file or set CRUDJT_SECRET_KEY\n${USAGE}`;
  let secret: Buffer;
  try {
    secret = validateSecretKey(key);
  } catch (e) {
    return (e as Error).message;
  }
  let password: string | undefined;
  const pwFile = flags.get('--password-file');
  if (pwFile !== undefined) {
    try {
      password = fs.readFileSync(pwFile, 'utf8').trim();
    } catch (e) {
      return `cannot read --password-file ${pwFile}: ${(e as Error).message}`;
    }
  }
  const deadline = flags.get('--deadline-ms');
  return {
    store,
    secret,
    nodes,
    prefix: flags.get('--prefix') ?? DEFAULT_PREFIX,
    password,
    deadlineMs: deadline === undefined ? undefined : Number(deadline),
  };
}

function loadBinding(): NativeBinding {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const mod = require('../binding');
  return (mod.default ?? mod) as NativeBinding;
}

/** Copies the store's live records; the counts. Throws on a store or cluster failure. */
export async function migrateStore(args: Args, log: (line: string) => void): Promise<MigrateReport> {
  const options = parseClusterOptions({
    secret_key: args.secret.toString('base64'),
    nodes: args.nodes,
    prefix: args.prefix,
    ...(args.password === undefined ? {} : { password: args.password }),
    ...(args.deadlineMs === undefined ? {} : { deadline_ms: args.deadlineMs }),
  });
  const codec: NativeRecordCodec = newRecordCodec(args.secret);
  let store: NativeStore;
  try {
    ({ store } = await loadBinding().open(args.store, Buffer.from(args.secret), { sweepOnOpen: false }));
  } catch (e) {
    throw fromNative(e);
  } finally {
    options.secret.fill(0);
  }
  const cluster = newCluster(options, { info: log, warn: log });
  cluster.defineCommand('crudjtSubjectAdd', { numberOfKeys: 1, lua: scripts.SUBJECT_ADD });
  const report: MigrateReport = { copied: 0, already_present: 0, expired: 0, other_key: 0, corrupt: 0, subjects: 0 };
  try {
    await connectCluster(cluster, options);
    // The copies keep the store's tree keys, so the cluster must hash tokens
    // as the store does: with this secret's own index key (a store that was
    // never rotated; see doc/cluster.md). A cluster without an index key
    // gets it; one filled under another key, or hashing with another index
    // key, would strand every copied token: refuse.
    const probe = 'crudjt-migrate-probe';
    const storeHash = codec.tokenHandle(probe);
    const known = await adoptIndexKey(cluster, codec, options, null);
    if (!known || codec.tokenHandle(probe) !== storeHash) {
      throw new Error(
        `the cluster's tokens are hashed under another key (${options.prefix}m:index-key): ` +
          'the copied tokens could not be found there. Migrate into an empty prefix, or with the key the cluster uses',
      );
    }
    let after: Buffer | null = null;
    for (;;) {
      let batch: Array<[Buffer, Buffer]>;
      try {
        batch = store.exportRecords(after, BATCH);
      } catch (e) {
        throw fromNative(e);
      }
      if (batch.length === 0) break;
      after = batch[batch.length - 1][0];
      const work: Array<() => Promise<void>> = [];
      for (const [treeKey, record] of batch) {
        let opened;
        try {
          opened = codec.open(treeKey, record);
        } catch {
          report.corrupt++;
          continue;
        }
        if (opened === null) {
          report.other_key++;
          continue;
        }
        const [payload, expiresAt, readsLeft] = opened;
        const ttlMs = expiresAt === 0 ? -1 : expiresAt - Date.now();
        if (expiresAt !== 0 && ttlMs <= 0) {
          report.expired++;
          continue;
        }
        // The cluster's key for the token: the engine's keyed hash with the
        // top bit clear (format-1 stores kept it set); resealed for it.
        const key = Buffer.from(treeKey);
        key[0] &= 0x7f;
        const sealed = codec.seal(key, payload, expiresAt, readsLeft);
        const redisKey = `${args.prefix}t:${key.toString('base64url')}`;
        const subject =
          record.length > 37 && record[7] === FORMAT_2 && (record[20] & FLAG_SUBJECT) !== 0
            ? `${args.prefix}s:${record.subarray(21, 37).toString('base64url')}`
            : null;
        work.push(async () => {
          if (subject !== null) {
            await (cluster as unknown as { crudjtSubjectAdd(k: string, m: string, t: number): Promise<number> }).crudjtSubjectAdd(
              subject, key.toString('base64url'), ttlMs,
            );
          }
          const r = ttlMs < 0 ? await cluster.set(redisKey, sealed, 'NX') : await cluster.set(redisKey, sealed, 'PX', ttlMs, 'NX');
          if (r === 'OK') {
            report.copied++;
            if (subject !== null) report.subjects++;
          } else {
            report.already_present++;
          }
        });
      }
      for (let i = 0; i < work.length; i += IN_FLIGHT) {
        await Promise.all(work.slice(i, i + IN_FLIGHT).map((w) => w()));
      }
      log(`migrate: ${report.copied} copied, ${report.already_present} already present so far`);
    }
  } finally {
    cluster.disconnect();
    await store.close().catch(() => undefined);
  }
  return report;
}

/** The `crudjt-server migrate ...` subcommand; the exit code. */
export async function migrateMain(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    const isHelp = args === USAGE;
    (isHelp ? console.log : console.error)(args);
    return isHelp ? 0 : 2;
  }
  try {
    const r = await migrateStore(args, (line) => console.error(line));
    console.log(
      `migrate: ${r.copied} tokens copied to the cluster (${r.subjects} with a subject), ${r.already_present} already there, ` +
        `${r.expired} expired meanwhile, ${r.other_key} sealed under another key (not copied), ${r.corrupt} corrupt (not copied)`,
    );
    return r.corrupt > 0 ? 1 : 0;
  } catch (e) {
    console.error(`migrate failed: ${(e as Error).message}`);
    return 1;
  } finally {
    args.secret.fill(0);
  }
}
