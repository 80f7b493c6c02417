// The npm package as a user gets it: `npm pack`, then install the tarball
// into an empty project on a PATH with no compiler and no cmake (only node
// and npm), and use it from CommonJS, ESM and TypeScript. Proves that the
// prebuild is found at require time with no install script and that the
// tarball holds what it must and nothing else.
//
// Slow (~1-2 min: it builds the tarball and installs its dependencies).
// CRUDJT_SKIP_PACK=1 skips it, saying so.
import { expect } from 'chai';
import { execFileSync, spawnSync, SpawnSyncReturns } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

const ROOT = path.join(__dirname, '..');
const ROUNDTRIP = path.join(__dirname, 'fixtures', 'roundtrip.cjs');

interface PackEntry {
  filename: string;
  files: { path: string }[];
}

/** A directory holding only `node`, `npm` and `sh`, so nothing can compile. */
function bareBinDir(tmp: string): string {
  const bin = path.join(tmp, 'bin');
  fs.mkdirSync(bin);
  const node = process.execPath;
  const fromPath = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim();
  const npmCli =
    process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath)
      ? process.env.npm_execpath
      : fs.realpathSync(fromPath);
  fs.symlinkSync(node, path.join(bin, 'node'));
  // npm runs dependencies' lifecycle scripts (protobufjs, msgpackr-extract) with sh.
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh'));
  fs.writeFileSync(path.join(bin, 'npm'), `#!/bin/sh\nexec "${node}" "${npmCli}" "$@"\n`, { mode: 0o755 });
  return bin;
}

function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeout?: number }): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { ...opts, encoding: 'utf8', timeout: opts.timeout ?? 120_000 });
  if (r.error) throw r.error;
  return r;
}

function expectRoundTrip(stdout: string): void {
  const seen = JSON.parse(stdout.trim().split('\n').pop() as string);
  expect(seen.tokenLength).to.equal(22);
  expect(seen.read1).to.deep.equal({ metadata: { ttl: 3600, silence_read: 2 }, data: { user_id: 42, role: 11 } });
  expect(seen.updated).to.equal(true);
  expect(seen.read2).to.deep.equal({ data: { user_id: 42, role: 8 } });
  expect(seen.deleted).to.equal(true);
  expect(seen.read3).to.equal(null);
  expect(seen.deletedAgain).to.equal(false);
}

describe('npm package (pack, install without a compiler, use)', function () {
  this.timeout(300_000);

  let tmp = '';
  let project = '';
  let binDir = '';
  let env: NodeJS.ProcessEnv = {};
  let packed: PackEntry;

  before(function () {
    if (process.env.CRUDJT_SKIP_PACK === '1') {
      console.log('      [skipped: CRUDJT_SKIP_PACK=1 is set; the packaging test builds and installs the tarball]');
      this.skip();
    }
    if (process.platform === 'win32') {
      console.log('      [skipped: the bare-PATH install check is written for POSIX shells]');
      this.skip();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'crudjt-pack-'));

    // npm pack runs prepack (build:ts + prebuildify) and prepare (build).
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', tmp], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
      timeout: 240_000,
    });
    // Lifecycle scripts (prepack, prepare) print to stdout too; the JSON is last.
    const start = out.search(/^\[\s*\{\s*"id"/m);
    expect(start, `no JSON in npm pack output:\n${out}`).to.be.at.least(0);
    packed = (JSON.parse(out.slice(start)) as PackEntry[])[0];

    project = path.join(tmp, 'app');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    binDir = bareBinDir(tmp);
    env = {
      HOME: process.env.HOME,
      PATH: binDir,
      npm_config_cache: process.env.npm_config_cache ?? path.join(os.homedir(), '.npm'),
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
    };
  });

  after(function () {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('tarball holds the build, types, proto, prebuild and C++ sources, and nothing else', function () {
    const files = packed.files.map((f) => f.path);
    for (const must of [
      'package.json',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/index.mjs',
      'dist/binding.js',
      'dist/cli/crudjt-server.js',
      'dist/express-session.js',
      'dist/cluster/index.js',
      'binding.d.ts',
      'proto/token_service.proto',
      'CMakeLists.txt',
      'cpp/CMakeLists.txt',
      'cpp/include/crudjt/store.h',
      'src/addon.cc',
    ]) {
      expect(files, must).to.include(must);
    }
    expect(files.some((f) => /^prebuilds\/linux-x64\/[^/]+\.node$/.test(f)), 'prebuilds/linux-x64/*.node').to.equal(process.platform === 'linux' && process.arch === 'x64' ? true : files.some((f) => f.startsWith('prebuilds/')));
    const stray = files.filter(
      (f) =>
        /^(test|build|build-[^/]*|bench|scripts|node_modules|lib|\.github|\.ci|doc)\//.test(f) ||
        /_test\.cc$|_bench\.cc$|_test_util\.h$|\.pending$|\.map$|\.tgz$/.test(f) ||
        /(^|\/)(store_jt|crudjt_secrets)\//.test(f) ||
        f === 'cpp/test_main.cc',
    );
    expect(stray, 'files that must not ship').to.deep.equal([]);
    const bin = fs.readFileSync(path.join(ROOT, 'dist', 'cli', 'crudjt-server.js'), 'utf8');
    expect(bin.startsWith('#!/usr/bin/env node\n'), 'CLI keeps its shebang').to.equal(true);
  });

  it('installs with only node and npm on PATH, printing no install-script warning for crudjt', function () {
    const r = run(path.join(binDir, 'npm'), ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(tmp, packed.filename)], {
      cwd: project,
      env,
      timeout: 240_000,
    });
    expect(r.status, `npm install failed:\n${r.stdout}\n${r.stderr}`).to.equal(0);
    const output = `${r.stdout}\n${r.stderr}`;
    // npm 11 lists every package with an install-time script (preinstall,
    // install, postinstall, prepare) as "npm warn install-scripts <name>@<v> (...)".
    const flagged = output.split('\n').filter((l) => /install-scripts\s+\S+@/.test(l));
    expect(flagged.filter((l) => /install-scripts\s+crudjt@/.test(l)), 'crudjt must have no install-time script').to.deep.equal([]);
    expect(output).not.to.match(/crudjt[^\n]*(gyp|cmake)/i);
    // Report (not fail on) dependencies that have one.
    const others = flagged;
    if (others.length) console.log(`      [note: npm warns about dependencies' install scripts: ${others.map((l) => l.replace(/.*install-scripts\s+/, '').trim()).join('; ')}]`);
    expect(fs.existsSync(path.join(project, 'node_modules', 'crudjt', 'build')), 'no build/ dir: nothing compiled').to.equal(false);
    for (const tool of ['cc', 'gcc', 'g++', 'c++', 'clang', 'cmake', 'make']) {
      expect(spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { env }).status, `${tool} must not be on the bare PATH`).to.not.equal(0);
    }
  });

  it("require('crudjt') from a .cjs file: master round trip", function () {
    const store = path.join(tmp, 'store-cjs');
    // A copy inside the project, so that 'crudjt' resolves to node_modules/crudjt
    // (from the repo it would self-reference the working tree).
    const main = path.join(project, 'main.cjs');
    fs.copyFileSync(ROUNDTRIP, main);
    const r = run(path.join(binDir, 'node'), [main, 'crudjt', store], { cwd: project, env });
    expect(r.status, r.stderr).to.equal(0);
    expectRoundTrip(r.stdout);
    const loaded = run(
      path.join(binDir, 'node'),
      ['-e', "console.log(require('node-gyp-build').path(require('path').dirname(require.resolve('crudjt/package.json'))))"],
      { cwd: project, env },
    );
    expect(loaded.stdout.trim(), loaded.stderr).to.match(/node_modules[\\/]crudjt[\\/]prebuilds[\\/][^\\/]+[\\/]crudjt[^\\/]*\.node$/);
  });

  it("import from a .mjs file: default and named exports", function () {
    const store = path.join(tmp, 'store-mjs');
    const file = path.join(project, 'main.mjs');
    fs.writeFileSync(
      file,
      `import CRUDJT, { create, read, update, delete as del, Config, Errors } from 'crudjt';
import crypto from 'node:crypto';
if (CRUDJT.create !== create || CRUDJT.Config !== Config) throw new Error('default and named exports differ');
if (typeof Errors.InvalidState !== 'function') throw new Error('Errors.InvalidState missing');
await Config.startMaster({ secret_key: crypto.randomBytes(32).toString('base64'), store_jt_path: ${JSON.stringify(store)}, grpc_port: 0, logger: null });
try {
  const token = await create({ a: 1 }, null, 2);
  const r1 = await read(token);
  const ok = await update(token, { a: 2 }, 60);
  const r2 = await read(token);
  const gone = await del(token);
  console.log(JSON.stringify({ r1, ok, r2, gone, after: await read(token) }));
} finally {
  await Config.shutdownServer();
}
`,
    );
    const r = run(path.join(binDir, 'node'), [file], { cwd: project, env });
    expect(r.status, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout.trim())).to.deep.equal({
      r1: { metadata: { silence_read: 1 }, data: { a: 1 } },
      ok: true,
      r2: { metadata: { ttl: 60 }, data: { a: 2 } },
      gone: true,
      after: null,
    });
  });

  it('the shipped types type-check a TypeScript consumer (CommonJS and node16 ESM)', function () {
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const typeRoots = [path.join(ROOT, 'node_modules', '@types')];
    fs.writeFileSync(
      path.join(project, 'consumer.ts'),
      `import CRUDJT = require('crudjt');
export async function main(): Promise<void> {
  const info: CRUDJT.MasterInfo = await CRUDJT.Config.startMaster({ secret_key: 'k', store_jt_path: 'x', grpc_host: '127.0.0.1', grpc_port: 50051 });
  const port: number = info.grpc_port;
  CRUDJT.Config.connectToMaster({ grpc_host: '127.0.0.1', grpc_port: port });
  const token: string = await CRUDJT.create({ user_id: 42 }, 3600, null);
  const r: CRUDJT.ReadResult<{ user_id: number }> | null = await CRUDJT.read<{ user_id: number }>(token);
  const ttl: number | undefined = r?.metadata?.ttl;
  const id: number | undefined = r?.data.user_id;
  const ok: boolean = await CRUDJT.update(token, { user_id: 43 });
  const gone: boolean = await CRUDJT.delete(token);
  const e: unknown = new CRUDJT.Errors.InvalidState('x');
  if (e instanceof CRUDJT.Errors.InternalError) throw e;
  void [ttl, id, ok, gone];
  await CRUDJT.Config.shutdownServer();
}
`,
    );
    fs.writeFileSync(
      path.join(project, 'consumer.mts'),
      `import CRUDJT, { create, read, Config } from 'crudjt';
export async function main(): Promise<void> {
  Config.connectToMaster({ grpc_port: 50051 });
  const token: string = await create({ a: 1 });
  const r = await read(token);
  const data: Record<string, unknown> | undefined = r?.data;
  const same: boolean = CRUDJT.read === read;
  void [data, same];
}
`,
    );
    const base = { strict: true, noEmit: true, skipLibCheck: false, typeRoots, types: ['node'], target: 'ES2022', lib: ['ES2022'] };
    fs.writeFileSync(
      path.join(project, 'tsconfig.cjs.json'),
      JSON.stringify({ compilerOptions: { ...base, module: 'commonjs', moduleResolution: 'node', esModuleInterop: true }, files: ['consumer.ts'] }),
    );
    fs.writeFileSync(
      path.join(project, 'tsconfig.esm.json'),
      JSON.stringify({ compilerOptions: { ...base, module: 'node16', moduleResolution: 'node16' }, files: ['consumer.mts'] }),
    );
    for (const config of ['tsconfig.cjs.json', 'tsconfig.esm.json']) {
      const r = run(path.join(binDir, 'node'), [tsc, '-p', config], { cwd: project, env });
      expect(r.status, `${config}:\n${r.stdout}${r.stderr}`).to.equal(0);
    }
  });

  it('the installed package has the session features: subjects, touch, crudjt/express-session', function () {
    const main = path.join(project, 'sessions.cjs');
    fs.copyFileSync(path.join(__dirname, 'fixtures', 'sessions-roundtrip.cjs'), main);
    const r = run(path.join(binDir, 'node'), [main, path.join(tmp, 'store-sessions')], { cwd: project, env });
    expect(r.status, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop() as string)).to.deep.equal({
      touched: true,
      ttl: 120,
      listed: 1,
      user: 'ada',
      afterDestroy: null,
      revoked: 1,
      afterRevoke: null,
    });
  });

  it('the installed crudjt-server bin runs --help', function () {
    const r = run(path.join(project, 'node_modules', '.bin', 'crudjt-server'), ['--help'], { cwd: project, env });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^Usage: crudjt-server/);
  });
});
