#!/usr/bin/env node
// crudjt-server: runs a standalone crudjt master (the Docker image's
// entrypoint). It owns the store and serves it over gRPC; applications call
// CRUDJT.Config.connectToMaster() and talk to it. See `crudjt-server --help`.
import fs = require('fs');
import crypto = require('crypto');
import net = require('net');
import path = require('path');
import CRUDJT = require('../index');

const NAME = 'crudjt-server';
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 50051;
const DOCKER_STORE = '/app/store_jt';
const DOCKER_KEY_FILE = '/app/secrets/secret_key.txt';
const DEV_STORE = 'store_jt';
const DEV_KEY_FILE = path.join('crudjt_secrets', 'secret_key.txt');
const SHUTDOWN_TIMEOUT_MS = 30_000;

const HELP = `Usage: ${NAME} [options]
       ${NAME} stats [--host <addr>] [--port <n>] [--socket <path>] [--json]
       ${NAME} migrate --to-cluster ... (see ${NAME} migrate --help)

Runs a crudjt master: opens the token store and serves it over gRPC
(package token, service TokenService) for processes that call
CRUDJT.Config.connectToMaster({ grpc_host, grpc_port }).

Options:
  --host <addr>             interface to listen on            (default ${DEFAULT_HOST})
  --port <n>                port to listen on, 0 = any free   (default ${DEFAULT_PORT})
  --store <dir>             store directory (store_jt_path)
  --secret-key-file <file>  file holding the base64 secret key (32, 48 or 64 bytes)
  --previous-secret-key-file <file>
                            key rotation: a file holding a key the store was sealed
                            with before (repeatable); its tokens stay readable and
                            are re-sealed under the current key in the background
  --durability <mode>       background (fsync every 500 ms, default) or sync
  --dev                     development: store ./${DEV_STORE} and key ./${DEV_KEY_FILE}
                            in the current directory; the key is generated on the
                            first run (48 random bytes, base64; dir 0700, file 0600)
  -h, --help                show this help and exit
  -v, --version             print the version and exit

Environment (a flag wins over the environment):
  CRUDJT_HOST, CRUDJT_PORT                 listen address
  CRUDJT_DOCKER_HOST, CRUDJT_DOCKER_PORT   listen address (Docker image; used when
                                           CRUDJT_HOST/CRUDJT_PORT are unset)
  CRUDJT_SECRET_KEY                        the base64 secret key itself
  CRUDJT_SECRET_KEY_FILE                   file holding the key (like --secret-key-file)
  CRUDJT_PREVIOUS_SECRET_KEYS              previous keys, comma-separated base64 (used
                                           when no --previous-secret-key-file is given)
  CRUDJT_STORE_JT_PATH                     store directory (like --store)

Where the secret key comes from, first match wins:
  --secret-key-file, CRUDJT_SECRET_KEY_FILE, ${DOCKER_KEY_FILE} (when it
  exists), CRUDJT_SECRET_KEY; with --dev, ./${DEV_KEY_FILE}.
  Generate one with: openssl rand -base64 48

Where the store goes, first match wins:
  --store, CRUDJT_STORE_JT_PATH, ${DOCKER_STORE} (when /app exists),
  ./${DEV_STORE} with --dev, else the library's default order:
  /var/lib/store_jt when writable, else store_jt in the project root.

The service has no TLS and no authentication: keep it on 127.0.0.1 (the
default) or on a private network. A warning is printed when it listens on
any other address. SIGINT/SIGTERM stop it cleanly: the server stops, the
store is flushed and closed and its lock released, and the exit code is 0.

Key rotation: start with the new key as the secret key and the old one as a
previous key. Once every record is re-sealed the master logs that the
previous keys can be dropped; from the next start on, leave them out.

Subcommand stats: asks a running master (Stats RPC) for its figures: tokens,
store and log size, last fsync/checkpoint/sweep, read cache hit rate,
requests served per RPC. --host/--port (or CRUDJT_HOST/CRUDJT_PORT, default
${DEFAULT_HOST}:${DEFAULT_PORT}) or --socket (the master's grpc_socket) say
where; --json prints the raw figures as JSON.

Exit codes: 0 clean shutdown, 1 start or runtime failure, 2 bad usage.`;

class UsageError extends Error {}

interface Flags {
  host?: string;
  port?: string;
  store?: string;
  secretKeyFile?: string;
  durability?: string;
  previousKeyFiles: string[];
  dev: boolean;
  help: boolean;
  version: boolean;
}

function parseArgs(argv: string[]): Flags {
  const flags: Flags = { dev: false, help: false, version: false, previousKeyFiles: [] };
  const valued: Record<string, keyof Flags> = {
    '--host': 'host',
    '--port': 'port',
    '--store': 'store',
    '--secret-key-file': 'secretKeyFile',
    '--durability': 'durability',
    '--previous-secret-key-file': 'previousKeyFiles',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      flags.help = true;
      continue;
    }
    if (arg === '-v' || arg === '--version') {
      flags.version = true;
      continue;
    }
    if (arg === '--dev') {
      flags.dev = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const key = valued[name];
    if (key === undefined) throw new UsageError(`unknown argument '${arg}' (see --help)`);
    let value: string | undefined;
    if (eq > 0) {
      value = arg.slice(eq + 1);
    } else {
      value = argv[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value`);
    }
    if (value === '') throw new UsageError(`${name} needs a non-empty value`);
    if (key === 'previousKeyFiles') flags.previousKeyFiles.push(value);
    else (flags as unknown as Record<string, string>)[key] = value;
  }
  return flags;
}

function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

function parsePort(value: string, source: string): number {
  if (!/^\d{1,5}$/.test(value.trim()) || Number(value) > 65535) {
    throw new UsageError(`${source} must be a port number 0..65535, got '${value}'`);
  }
  return Number(value);
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '[::1]') return true;
  return net.isIPv4(host) && host.startsWith('127.');
}

/** Creates ./crudjt_secrets/secret_key.txt (0600 in a 0700 dir) unless it exists. */
function ensureDevKey(file: string): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = crypto.randomBytes(48).toString('base64');
  try {
    fs.writeFileSync(file, key + '\n', { flag: 'wx', mode: 0o600 });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

function readKeyFile(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the secret key file ${file}: ${(e as Error).message}`);
  }
  const key = text.trim();
  if (key === '') throw new UsageError(`the secret key file ${file} is empty (generate one with: openssl rand -base64 48)`);
  return key;
}

interface Settings {
  host: string;
  port: number;
  store?: string;
  secretKey: string;
  keySource: string;
  previousKeys: string[];
  previousSource: string;
  durability: 'background' | 'sync';
  notes: string[];
}

function settingsFrom(flags: Flags): Settings {
  const notes: string[] = [];

  const host =
    flags.host ?? env('CRUDJT_HOST') ?? env('CRUDJT_DOCKER_HOST') ?? DEFAULT_HOST;
  const portText = flags.port ?? env('CRUDJT_PORT') ?? env('CRUDJT_DOCKER_PORT');
  const portSource =
    flags.port !== undefined ? '--port' : env('CRUDJT_PORT') !== undefined ? 'CRUDJT_PORT' : 'CRUDJT_DOCKER_PORT';
  const port = portText === undefined ? DEFAULT_PORT : parsePort(portText, portSource);

  let durability: 'background' | 'sync' = 'background';
  if (flags.durability !== undefined) {
    if (flags.durability !== 'background' && flags.durability !== 'sync') {
      throw new UsageError(`--durability must be 'background' or 'sync', got '${flags.durability}'`);
    }
    durability = flags.durability;
  }

  let store = flags.store ?? env('CRUDJT_STORE_JT_PATH');
  if (store === undefined && fs.existsSync('/app') && !flags.dev) store = DOCKER_STORE;
  if (store === undefined && flags.dev) store = path.resolve(DEV_STORE);
  if (store !== undefined) store = path.resolve(store);

  let secretKey: string | undefined;
  let keySource = '';
  const keyFile = flags.secretKeyFile ?? env('CRUDJT_SECRET_KEY_FILE');
  if (keyFile !== undefined) {
    secretKey = readKeyFile(keyFile);
    keySource = path.resolve(keyFile);
  } else if (flags.dev) {
    const file = path.resolve(DEV_KEY_FILE);
    if (ensureDevKey(file)) notes.push(`generated a new secret key in ${file} (keep it: tokens are sealed with it)`);
    secretKey = readKeyFile(file);
    keySource = file;
  } else if (fs.existsSync(DOCKER_KEY_FILE)) {
    secretKey = readKeyFile(DOCKER_KEY_FILE);
    keySource = DOCKER_KEY_FILE;
    if (env('CRUDJT_SECRET_KEY') !== undefined) notes.push(`using ${DOCKER_KEY_FILE}; CRUDJT_SECRET_KEY is ignored`);
  } else if (env('CRUDJT_SECRET_KEY') !== undefined) {
    secretKey = (env('CRUDJT_SECRET_KEY') as string).trim();
    keySource = 'CRUDJT_SECRET_KEY';
  }
  if (secretKey === undefined) {
    throw new UsageError(
      `no secret key: pass --secret-key-file <file>, mount ${DOCKER_KEY_FILE}, set CRUDJT_SECRET_KEY, ` +
        `or use --dev (generate a key with: openssl rand -base64 48)`,
    );
  }
  if (process.platform !== 'win32' && keySource !== 'CRUDJT_SECRET_KEY') {
    try {
      if ((fs.statSync(keySource).mode & 0o077) !== 0) {
        notes.push(`the secret key file ${keySource} is readable by other users; chmod 600 it`);
      }
    } catch {
      // already read above; a vanished file is not worth a failure here
    }
  }
  let previousKeys: string[] = [];
  let previousSource = '';
  if (flags.previousKeyFiles.length > 0) {
    previousKeys = flags.previousKeyFiles.map(readKeyFile);
    previousSource = flags.previousKeyFiles.map((f) => path.resolve(f)).join(', ');
  } else if (env('CRUDJT_PREVIOUS_SECRET_KEYS') !== undefined) {
    previousKeys = (env('CRUDJT_PREVIOUS_SECRET_KEYS') as string).split(',').map((k) => k.trim()).filter((k) => k !== '');
    previousSource = 'CRUDJT_PREVIOUS_SECRET_KEYS';
  }
  return { host, port, store, secretKey, keySource, previousKeys, previousSource, durability, notes };
}

function info(message: string): void {
  console.log(`${NAME}: ${message}`);
}

function warn(message: string): void {
  console.error(`${NAME}: warning: ${message}`);
}

function fail(message: string, code: number): never {
  console.error(`${NAME}: error: ${message}`);
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  let settings: Settings;
  try {
    const flags = parseArgs(argv);
    if (flags.help) {
      console.log(HELP);
      return;
    }
    if (flags.version) {
      const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
      console.log(pkg.version);
      return;
    }
    settings = settingsFrom(flags);
  } catch (e) {
    if (e instanceof UsageError) fail(e.message, 2);
    fail((e as Error).message, 1);
  }

  for (const note of settings.notes) warn(note);

  let master: CRUDJT.MasterInfo;
  try {
    master = await CRUDJT.Config.startMaster({
      secret_key: settings.secretKey,
      ...(settings.previousKeys.length > 0 ? { previous_secret_keys: settings.previousKeys } : {}),
      store_jt_path: settings.store,
      grpc_host: settings.host,
      grpc_port: settings.port,
      durability: settings.durability,
      logger: { info: (m: string) => info(m.replace(/^CRUDJT: /, '')), warn: (m: string) => warn(m.replace(/^CRUDJT: /, '')) },
    });
  } catch (e) {
    const err = e as Error & { code?: string };
    const from = /previous_secret_keys/.test(err.message)
      ? ` (previous keys from ${settings.previousSource})`
      : /secret_key|Secret key/.test(err.message) ? ` (key from ${settings.keySource})` : '';
    fail(`${err.message}${from}`, 1);
  }

  // startMaster already logged the store path and where it came from.
  info(`secret key from ${settings.keySource}`);
  if (settings.previousKeys.length > 0) {
    info(`${settings.previousKeys.length} previous secret key(s) from ${settings.previousSource}: re-sealing old records in the background`);
  }
  info(`listening on ${master.grpc_host}:${master.grpc_port} (gRPC token.TokenService, durability ${settings.durability})`);
  if (!isLoopback(master.grpc_host)) {
    warn(
      `listening on ${master.grpc_host}, not a loopback address: the gRPC service has no TLS and ` +
        `no authentication; expose it only on a trusted network`,
    );
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      warn(`${signal} again: exiting without a clean shutdown`);
      process.exit(1);
    }
    stopping = true;
    info(`${signal}: shutting down (flushing and closing the store)`);
    const timer = setTimeout(() => fail(`shutdown took longer than ${SHUTDOWN_TIMEOUT_MS} ms`, 1), SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    CRUDJT.Config.shutdownServer().then(
      () => {
        info('stopped');
        process.exit(0);
      },
      (e: Error) => fail(`shutdown failed: ${e.message}`, 1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

// ---- stats subcommand --------------------------------------------------------

function parseStatsArgs(argv: string[]): { host: string; port: number; socket?: string; json: boolean } {
  let host: string | undefined;
  let portText: string | undefined;
  let socket: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') {
      json = true;
      continue;
    }
    if (arg === '-h' || arg === '--help') {
      console.log(HELP);
      process.exit(0);
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (name !== '--host' && name !== '--port' && name !== '--socket') {
      throw new UsageError(`unknown argument '${arg}' for stats (see --help)`);
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) throw new UsageError(`${name} needs a value`);
    if (name === '--host') host = value;
    else if (name === '--port') portText = value;
    else socket = value;
  }
  host = host ?? env('CRUDJT_HOST') ?? env('CRUDJT_DOCKER_HOST') ?? DEFAULT_HOST;
  const port = portText !== undefined
    ? parsePort(portText, '--port')
    : env('CRUDJT_PORT') !== undefined ? parsePort(env('CRUDJT_PORT') as string, 'CRUDJT_PORT') : DEFAULT_PORT;
  if (port === 0) throw new UsageError('--port must name the master\'s port (1..65535)');
  return { host, port, socket, json };
}

function when(ms: number): string {
  if (ms <= 0) return 'never';
  const ago = Math.max(0, Date.now() - ms);
  return `${new Date(ms).toISOString()} (${(ago / 1000).toFixed(1)} s ago)`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

async function statsCommand(argv: string[]): Promise<void> {
  let opts: ReturnType<typeof parseStatsArgs>;
  try {
    opts = parseStatsArgs(argv);
  } catch (e) {
    fail((e as Error).message, e instanceof UsageError ? 2 : 1);
  }
  const where = opts.socket !== undefined ? `unix:${path.resolve(opts.socket)}` : `${opts.host}:${opts.port}`;
  let st: CRUDJT.Stats;
  try {
    CRUDJT.Config.connectToMaster(
      opts.socket !== undefined ? { grpc_socket: opts.socket, batch: false } : { grpc_host: opts.host, grpc_port: opts.port, batch: false },
    );
    st = await CRUDJT.Config.stats();
  } catch (e) {
    fail(`stats from ${where}: ${(e as Error).message}`, 1);
  } finally {
    await CRUDJT.Config.shutdownServer().catch(() => undefined);
  }
  if (opts.json) {
    console.log(JSON.stringify(st, null, 2));
    return;
  }
  const rpcs = Object.entries(st.requests).map(([k, v]) => `${k} ${v}`).join(', ');
  const ops = Object.entries(st.operations).map(([k, v]) => `${k} ${v}`).join(', ');
  console.log(
    [
      `master       ${where} (up ${(st.uptime_ms / 1000).toFixed(1)} s)`,
      `tokens       ${st.tokens}`,
      `page file    ${bytes(st.page_file_bytes)} (${st.pages_total} pages, ${st.pages_free} free)`,
      `log          ${bytes(st.log_bytes)}`,
      `last fsync   ${when(st.last_fsync_ms)}`,
      `checkpoint   ${when(st.last_checkpoint_ms)}`,
      `sweep        ${when(st.last_sweep_ms)}, removed ${st.last_sweep_removed}`,
      `read cache   ${st.cache_enabled ? `${st.cache_entries} entries, hit rate ${(st.cache_hit_rate * 100).toFixed(1)}% (${st.cache_hits} hits, ${st.cache_misses} misses)` : 'disabled'}`,
      `requests     ${rpcs}`,
      `operations   ${ops}`,
    ].join('\n'),
  );
}

// ---- migrate subcommand (lib/cluster/migrate.ts) -----------------------------

async function migrateCommand(argv: string[]): Promise<void> {
  let mod: { migrateMain?: (args: string[]) => Promise<number> };
  try {
    // Loaded only here: the master never needs the cluster code.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    mod = require('../cluster/migrate');
  } catch (e) {
    fail(`migrate is not available: ${(e as Error).message}`, 1);
  }
  if (typeof mod.migrateMain !== 'function') fail('migrate is not available in this build', 1);
  const code = await mod.migrateMain(argv);
  process.exit(Number.isInteger(code) ? code : 1);
}

if (process.argv[2] === 'stats') {
  statsCommand(process.argv.slice(3)).catch((e: Error) => fail(e.stack ?? String(e), 1));
} else if (process.argv[2] === 'migrate') {
  migrateCommand(process.argv.slice(3)).catch((e: Error) => fail(e.stack ?? String(e), 1));
} else {
  main(process.argv.slice(2)).catch((e: Error) => fail(e.stack ?? String(e), 1));
}
