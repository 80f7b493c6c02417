// N-API portability: the addon built here (against this Node's headers) runs
// unchanged under Node 18, the oldest Node the package supports. Node 18
// comes from the npm package node-<platform>-<arch>@18.20.4 (bin/node),
// fetched once into node_modules/.cache/crudjt-node18 and reused.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';

const ROOT = path.join(__dirname, '..');
const ROUNDTRIP = path.join(__dirname, 'fixtures', 'roundtrip.cjs');
const NODE18_VERSION = '18.20.4';
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'crudjt-node18');

/** Path of a Node 18 binary, downloading the npm package on first use. */
function node18(): string {
  const pkg = `node-${process.platform}-${process.arch}`;
  const bin = path.join(CACHE, pkg, 'package', 'bin', 'node');
  if (fs.existsSync(bin)) return bin;
  const dir = path.join(CACHE, pkg);
  fs.mkdirSync(dir, { recursive: true });
  const out = execFileSync('npm', ['pack', `${pkg}@${NODE18_VERSION}`, '--json', '--pack-destination', dir], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 240_000,
    maxBuffer: 16 << 20,
  });
  const tgz = path.join(dir, (JSON.parse(out.slice(out.search(/^\[\s*\{/m))) as { filename: string }[])[0].filename);
  execFileSync('tar', ['xzf', tgz, '-C', dir, 'package/bin/node'], { timeout: 120_000 });
  fs.rmSync(tgz);
  fs.chmodSync(bin, 0o755);
  return bin;
}

describe('Node 18 (N-API portability)', function () {
  this.timeout(300_000);

  let node = '';
  let tmp = '';

  before(function () {
    if (process.platform !== 'linux' && process.platform !== 'darwin') {
      console.log(`      [skipped: no node-${process.platform}-${process.arch} npm package with bin/node]`);
      this.skip();
    }
    if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) {
      execFileSync('npm', ['run', 'build:ts'], { cwd: ROOT, stdio: 'ignore' });
    }
    node = node18();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'crudjt-node18-'));
  });

  after(function () {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it(`the binary is Node ${NODE18_VERSION}`, function () {
    const v = execFileSync(node, ['-p', 'process.versions.node + " " + process.versions.napi'], { encoding: 'utf8' }).trim();
    expect(v.split(' ')[0]).to.equal(NODE18_VERSION);
  });

  it('loads the same addon file as this Node does', function () {
    const script = "console.log(require('node-gyp-build').path(process.argv[1]))";
    const ours = execFileSync(process.execPath, ['-e', script, ROOT], { cwd: ROOT, encoding: 'utf8' }).trim();
    const theirs = execFileSync(node, ['-e', script, ROOT], { cwd: ROOT, encoding: 'utf8' }).trim();
    expect(theirs).to.equal(ours);
    const r = spawnSync(node, ['-e', "const b = require(process.argv[1]).default; console.log(JSON.stringify(b.constants))", path.join(ROOT, 'dist', 'binding.js')], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout).MAX_PAYLOAD_BYTES).to.equal(256);
  });

  it('runs a master round trip (startMaster, create, read, update, delete, shutdownServer)', function () {
    const store = path.join(tmp, 'store');
    const r = spawnSync(node, [ROUNDTRIP, path.join(ROOT, 'dist', 'index.js'), store], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).to.equal(0);
    const seen = JSON.parse(r.stdout.trim().split('\n').pop() as string);
    expect(seen.node).to.equal(`v${NODE18_VERSION}`);
    expect(seen.tokenLength).to.equal(22);
    expect(seen.read1).to.deep.equal({ metadata: { ttl: 3600, silence_read: 2 }, data: { user_id: 42, role: 11 } });
    expect(seen.updated).to.equal(true);
    expect(seen.read2).to.deep.equal({ data: { user_id: 42, role: 8 } });
    expect(seen.deleted).to.equal(true);
    expect(seen.read3).to.equal(null);
    expect(seen.deletedAgain).to.equal(false);
  });

  it('a store left open in an exiting worker thread is closed by the cleanup hook', function () {
    const store = path.join(tmp, 'worker-store');
    const binding = path.join(ROOT, 'dist', 'binding.js');
    const script = `
const { Worker } = require('worker_threads');
const binding = require(${JSON.stringify(binding)}).default;
const key = require('crypto').randomBytes(32);
const dir = ${JSON.stringify(store)};
const w = new Worker(\`
  const { parentPort, workerData } = require('worker_threads');
  const b = require(workerData.binding).default;
  b.open(workerData.dir, Buffer.from(workerData.key)).then(({ store }) => {
    const token = store.create(Buffer.from('payload'), -1, -1);
    parentPort.postMessage(token);   // exits with the store still open
  });
\`, { eval: true, workerData: { binding: ${JSON.stringify(binding)}, dir, key } });
w.once('message', (token) => {
  w.once('exit', async () => {
    const { store } = await binding.open(dir, key);
    const r = store.read(token);
    await store.close();
    console.log(JSON.stringify({ payload: r && r[0].toString() }));
  });
});
w.once('error', (e) => { console.error(e); process.exit(1); });
`;
    for (const bin of [process.execPath, node]) {
      fs.rmSync(store, { recursive: true, force: true });
      const r = spawnSync(bin, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, `${bin}: ${r.stderr}`).to.equal(0);
      expect(JSON.parse(r.stdout.trim())).to.deep.equal({ payload: 'payload' });
    }
  });
});
