// crudjt-server, the standalone master (and the Docker image's entrypoint),
// run as a plain process from dist/cli/crudjt-server.js.
import { expect } from 'chai';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import crypto from 'crypto';
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';

const ROOT = path.join(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'crudjt-server.js');
const INDEX = path.join(ROOT, 'dist', 'index.js');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Environment without the variables the CLI reads, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('CRUDJT_')) delete env[k];
  return { ...env, ...extra };
}

interface Server {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startServer(args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string }): Server {
  const child = spawn(process.execPath, [CLI, ...args], { env: opts.env, cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, out: () => out, err: () => err, exit };
}

/** Resolves with the listening port once the server says so. */
async function listening(server: Server, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void server.exit.then(() => (exited = true));
  for (;;) {
    const m = /listening on [^\s]+:(\d+)/.exec(server.out());
    if (m) return Number(m[1]);
    if (exited) throw new Error(`server exited early:\n${server.out()}\n${server.err()}`);
    if (Date.now() > deadline) throw new Error(`server did not listen in time:\n${server.out()}\n${server.err()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs `steps` (JS source, async, CRUDJT in scope) in a client process. */
function client(port: number, steps: string): any {
  const script = `
const CRUDJT = require(${JSON.stringify(INDEX)});
CRUDJT.Config.connectToMaster({ grpc_host: '127.0.0.1', grpc_port: ${port} });
(async () => { ${steps} })().then(
  (v) => { console.log(JSON.stringify(v)); return CRUDJT.Config.shutdownServer(); },
  (e) => { console.error(e && e.stack || e); process.exit(1); });
`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`client failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n')[0]);
}

describe('crudjt-server (CLI)', function () {
  this.timeout(120_000);

  let tmp = '';
  const running: Server[] = [];

  before(function () {
    if (!fs.existsSync(CLI) || !fs.existsSync(INDEX)) {
      execFileSync('npm', ['run', 'build:ts'], { cwd: ROOT, stdio: 'ignore' });
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'crudjt-cli-'));
  });

  afterEach(async function () {
    for (const s of running.splice(0)) {
      if (s.child.exitCode === null && s.child.signalCode === null) {
        s.child.kill('SIGKILL');
        await s.exit;
      }
    }
  });

  after(function () {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('--help documents flags, environment and defaults, and exits 0', function () {
    const r = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8', env: cleanEnv() });
    expect(r.status).to.equal(0);
    for (const word of [
      '--host', '--port', '--store', '--secret-key-file', '--dev', '--durability',
      'CRUDJT_DOCKER_HOST', 'CRUDJT_DOCKER_PORT', 'CRUDJT_SECRET_KEY', 'CRUDJT_HOST', 'CRUDJT_PORT',
      '/app/secrets/secret_key.txt', '/app/store_jt', '127.0.0.1', '50051', 'SIGTERM',
    ]) {
      expect(r.stdout, word).to.include(word);
    }
  });

  it('Docker entrypoint as a plain process: serves a gRPC client, SIGTERM exits 0, the store reopens', async function () {
    const port = await freePort();
    const store = path.join(tmp, 'docker', 'store_jt');
    const secrets = path.join(tmp, 'docker', 'secrets');
    fs.mkdirSync(secrets, { recursive: true });
    const keyFile = path.join(secrets, 'secret_key.txt');
    fs.writeFileSync(keyFile, crypto.randomBytes(48).toString('base64') + '\n', { mode: 0o600 });
    const env = cleanEnv({ CRUDJT_DOCKER_HOST: '127.0.0.1', CRUDJT_DOCKER_PORT: String(port) });
    const args = ['--store', store, '--secret-key-file', keyFile];

    const first = startServer(args, { env });
    running.push(first);
    expect(await listening(first)).to.equal(port);
    expect(first.out()).to.include(`store_jt_path ${store}`);
    expect(first.err()).not.to.match(/not a loopback/);

    const seen = client(
      port,
      `const keep = await CRUDJT.create({ user_id: 1 });
       const t = await CRUDJT.create({ user_id: 42, role: 11 }, 600, 5);
       const r1 = await CRUDJT.read(t);
       const up = await CRUDJT.update(t, { user_id: 42, role: 8 }, null, 2);
       const r2 = await CRUDJT.read(t);
       const del = await CRUDJT.delete(t);
       return { keep, r1, up, r2, del, r3: await CRUDJT.read(t) };`,
    );
    expect(seen.r1).to.deep.equal({ metadata: { ttl: 600, silence_read: 4 }, data: { user_id: 42, role: 11 } });
    expect(seen.up).to.equal(true);
    expect(seen.r2).to.deep.equal({ metadata: { silence_read: 1 }, data: { user_id: 42, role: 8 } });
    expect(seen.del).to.equal(true);
    expect(seen.r3).to.equal(null);

    first.child.kill('SIGTERM');
    const exit = await first.exit;
    expect(exit, first.err()).to.deep.equal({ code: 0, signal: null });
    expect(first.out()).to.match(/SIGTERM: shutting down/);

    // Lock released and data flushed: a new server on the same store serves the old token.
    const second = startServer(args, { env });
    running.push(second);
    await listening(second);
    const again = client(port, `return await CRUDJT.read(${JSON.stringify(seen.keep)});`);
    expect(again).to.deep.equal({ data: { user_id: 1 } });
    second.child.kill('SIGINT');
    expect(await second.exit).to.deep.equal({ code: 0, signal: null });
  });

  it('warns when listening on a non-loopback address', async function () {
    const port = await freePort();
    const s = startServer(['--host', '0.0.0.0', '--port', String(port), '--store', path.join(tmp, 'wide')], {
      env: cleanEnv({ CRUDJT_SECRET_KEY: crypto.randomBytes(32).toString('base64') }),
    });
    running.push(s);
    await listening(s);
    expect(s.err()).to.match(/0\.0\.0\.0, not a loopback address/);
    s.child.kill('SIGTERM');
    expect((await s.exit).code).to.equal(0);
  });

  it('--dev generates ./crudjt_secrets/secret_key.txt (0600, dir 0700) and reuses it', async function () {
    const cwd = path.join(tmp, 'devproject');
    fs.mkdirSync(cwd);
    const env = cleanEnv();
    const keyFile = path.join(cwd, 'crudjt_secrets', 'secret_key.txt');

    const first = startServer(['--dev', '--port', '0'], { env, cwd });
    running.push(first);
    const port = await listening(first);
    expect(first.err()).to.match(/generated a new secret key/);
    expect(first.out()).to.include(`store_jt_path ${path.join(cwd, 'store_jt')}`);
    const key = fs.readFileSync(keyFile, 'utf8').trim();
    expect(Buffer.from(key, 'base64')).to.have.length(48);
    if (process.platform !== 'win32') {
      expect(fs.statSync(keyFile).mode & 0o777).to.equal(0o600);
      expect(fs.statSync(path.dirname(keyFile)).mode & 0o777).to.equal(0o700);
    }
    const token = client(port, `return await CRUDJT.create({ dev: true });`);
    first.child.kill('SIGTERM');
    expect((await first.exit).code).to.equal(0);

    const second = startServer(['--dev', '--port', '0'], { env, cwd });
    running.push(second);
    const port2 = await listening(second);
    expect(second.err()).not.to.match(/generated/);
    expect(fs.readFileSync(keyFile, 'utf8').trim()).to.equal(key);
    // Same key: the token made in the first run still reads.
    expect(client(port2, `return await CRUDJT.read(${JSON.stringify(token)});`)).to.deep.equal({ data: { dev: true } });
    second.child.kill('SIGTERM');
    expect((await second.exit).code).to.equal(0);
  });

  it('a bad secret key exits non-zero with a clear message', function () {
    const r = spawnSync(process.execPath, [CLI, '--port', '0', '--store', path.join(tmp, 'bad')], {
      encoding: 'utf8',
      env: cleanEnv({ CRUDJT_SECRET_KEY: 'not base64 at all!' }),
      timeout: 30_000,
    });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/crudjt-server: error: .*secret_key.*Base64.*CRUDJT_SECRET_KEY/);

    const shortKey = path.join(tmp, 'short_key.txt');
    fs.writeFileSync(shortKey, crypto.randomBytes(16).toString('base64'));
    const r2 = spawnSync(process.execPath, [CLI, '--port', '0', '--store', path.join(tmp, 'bad'), '--secret-key-file', shortKey], {
      encoding: 'utf8',
      env: cleanEnv(),
      timeout: 30_000,
    });
    expect(r2.status).to.equal(1);
    expect(r2.stderr).to.match(/32, 48, or 64 bytes.*16/);
    expect(r2.stderr).to.include(shortKey);
  });

  it('bad usage exits 2: no key, unknown flag, bad port', function () {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--port', '0'], {}, /no secret key/],
      [['--bogus'], {}, /unknown argument '--bogus'/],
      [['--port', '99999'], { CRUDJT_SECRET_KEY: 'x' }, /--port must be a port number/],
      [[], { CRUDJT_DOCKER_PORT: 'abc', CRUDJT_SECRET_KEY: 'x' }, /CRUDJT_DOCKER_PORT must be a port number/],
    ];
    for (const [args, extra, message] of cases) {
      if (args.length === 2 && args[0] === '--port' && args[1] === '0' && fs.existsSync('/app/secrets/secret_key.txt')) continue;
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: cleanEnv(extra), cwd: tmp, timeout: 30_000 });
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).to.equal(2);
      expect(r.stderr).to.match(message);
    }
  });

  it('key rotation: --previous-secret-key-file (repeatable) and CRUDJT_PREVIOUS_SECRET_KEYS keep old tokens readable', async function () {
    const store = path.join(tmp, 'rotation', 'store_jt');
    const dir = path.join(tmp, 'rotation');
    fs.mkdirSync(dir, { recursive: true });
    const keys = ['a', 'b', 'c', 'd'].map((n) => {
      const file = path.join(dir, `${n}.key`);
      fs.writeFileSync(file, crypto.randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
      return file;
    });
    const [A, B, C, D] = keys;
    const env = cleanEnv();

    const first = startServer(['--port', '0', '--store', store, '--secret-key-file', A], { env });
    running.push(first);
    const token = client(await listening(first), `return await CRUDJT.create({ sealed: 'A' });`);
    first.child.kill('SIGTERM');
    expect((await first.exit).code).to.equal(0);

    // B, with a stranger and A as previous keys (repeatable flag)
    const second = startServer(['--port', '0', '--store', store, '--secret-key-file', B, '--previous-secret-key-file', D, '--previous-secret-key-file', A], { env });
    running.push(second);
    const port2 = await listening(second);
    expect(second.out()).to.match(/2 previous secret key\(s\) from .*d\.key, .*a\.key/);
    expect(client(port2, `return await CRUDJT.read(${JSON.stringify(token)});`)).to.deep.equal({ data: { sealed: 'A' } });
    const deadline = Date.now() + 20_000;
    while (!/previous_secret_keys can be dropped/.test(second.out()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(second.out()).to.match(/previous_secret_keys can be dropped/);
    second.child.kill('SIGTERM');
    expect((await second.exit).code).to.equal(0);

    // C with B from the environment
    const keyB = fs.readFileSync(B, 'utf8').trim();
    const third = startServer(['--port', '0', '--store', store, '--secret-key-file', C], {
      env: cleanEnv({ CRUDJT_PREVIOUS_SECRET_KEYS: ` ${crypto.randomBytes(48).toString('base64')}, ${keyB} ` }),
    });
    running.push(third);
    const port3 = await listening(third);
    expect(third.out()).to.match(/2 previous secret key\(s\) from CRUDJT_PREVIOUS_SECRET_KEYS/);
    expect(client(port3, `return await CRUDJT.read(${JSON.stringify(token)});`)).to.deep.equal({ data: { sealed: 'A' } });
    third.child.kill('SIGTERM');
    expect((await third.exit).code).to.equal(0);
  });

  it('a bad previous key exits 1 naming where it came from', function () {
    const r = spawnSync(process.execPath, [CLI, '--port', '0', '--store', path.join(tmp, 'badprev')], {
      encoding: 'utf8',
      env: cleanEnv({ CRUDJT_SECRET_KEY: crypto.randomBytes(32).toString('base64'), CRUDJT_PREVIOUS_SECRET_KEYS: 'short' }),
      timeout: 30_000,
    });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/previous_secret_keys\[0\].*Base64.*CRUDJT_PREVIOUS_SECRET_KEYS/);
    expect(spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }).stdout).to.include('--previous-secret-key-file');
  });

  it('the migrate subcommand goes to lib/cluster/migrate (not the master flags)', function () {
    const r = spawnSync(process.execPath, [CLI, 'migrate', '--no-such-flag'], { encoding: 'utf8', env: cleanEnv(), cwd: tmp, timeout: 30_000 });
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.not.match(/unknown argument 'migrate'/);
    expect(r.stdout).to.not.match(/listening on/);
  });
});
