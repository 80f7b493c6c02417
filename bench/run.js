#!/usr/bin/env node
'use strict';
// crudjt benchmark suite: `npm run bench` (node bench/run.js).
//
//   --runs N      timed repetitions of the C/R/U/D table (default 10); the
//                 table reports the median of N
//   --quick       1 run of 1,000 ops (400 per throughput cell): a smoke test
//   --ops N       operations per phase (default 40000)
//   --tput-runs N repetitions of the gRPC throughput grid (default min(runs, 2))
//   --tput-ops N  operations per cell of that grid, split over the clients
//                 (default 6000)
//   --slow-seconds S  a peer whose first run takes longer gets at most 3 runs
//                 and ~2 minutes (default 10)
//   --only a,b    only these peers (ids: crudjt, crudjt-grpc, jsonwebtoken,
//                 fast-jwt, redis, redis-p64, lmdb)
//   --no-disk --no-tput --no-cold --no-cluster   skip a section (the
//                 cluster section starts its own 3-master Redis Cluster)
//   --out FILE    results JSON (default bench/results.json); --md FILE and
//                 --chart FILE: the markdown (bench/results.md) and the SVG
//   --render FILE re-render the table and bench/chart.svg from a results JSON
//
// Prints a markdown table on stdout, writes every sample and the machine's
// description to bench/results.json and draws bench/chart.svg from it.
// Progress goes to stderr. See bench/README.md for the method.

const { fork, spawnSync, execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const v8 = require('v8');
const vm = require('vm');

const { makePayloads } = require('./lib/payloads');
const { allPeers, TTL } = require('./lib/peers');
const { startRedis } = require('./lib/redis_server');
const { median, since, timeSequential } = require('./lib/stats');
const { renderMarkdown, summarize } = require('./lib/report');
const { renderChart } = require('./lib/chart');

const ROOT = path.join(__dirname, '..');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

function log(...a) {
  process.stderr.write(a.join(' ') + '\n');
}

function parseArgs(argv) {
  const o = {
    runs: 10,
    ops: 40000,
    tputRuns: null,
    tputOps: 6000,
    slowSeconds: 10,
    quick: false,
    only: null,
    disk: true,
    tput: true,
    cold: true,
    cluster: true,
    out: path.join(__dirname, 'results.json'),
    chart: path.join(__dirname, 'chart.svg'),
    md: path.join(__dirname, 'results.md'),
    render: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    const int = () => {
      const v = Number(val());
      if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${a} needs a positive integer`);
      return v;
    };
    if (a === '--runs') o.runs = int();
    else if (a === '--ops') o.ops = int();
    else if (a === '--tput-runs') o.tputRuns = int();
    else if (a === '--tput-ops') o.tputOps = int();
    else if (a === '--slow-seconds') o.slowSeconds = int();
    else if (a === '--quick') o.quick = true;
    else if (a === '--only') o.only = val().split(',');
    else if (a === '--no-disk') o.disk = false;
    else if (a === '--no-tput') o.tput = false;
    else if (a === '--no-cold') o.cold = false;
    else if (a === '--no-cluster') o.cluster = false;
    else if (a === '--out') o.out = path.resolve(val());
    else if (a === '--chart') o.chart = path.resolve(val());
    else if (a === '--md') o.md = path.resolve(val());
    else if (a === '--render') o.render = path.resolve(val());
    else if (a === '--help' || a === '-h') {
      process.stdout.write(fs.readFileSync(__filename, 'utf8').split('\n').slice(2, 24).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (see --help)`);
  }
  if (o.quick) {
    o.runs = 1;
    if (!argv.includes('--ops')) o.ops = 1000;
    if (!argv.includes('--tput-ops')) o.tputOps = 400;
  }
  if (o.tputRuns === null) o.tputRuns = Math.min(o.runs, 2);
  return o;
}

// ------------------------------------------------------------ machine info

function versionOf(pkg) {
  try {
    return JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`, { paths: [ROOT] }), 'utf8')).version;
  } catch {
    return null;
  }
}

function machineInfo() {
  const cpus = os.cpus();
  let git = null;
  try {
    git = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a checkout
  }
  let fsType = null;
  const df = spawnSync('df', ['-T', os.tmpdir()], { encoding: 'utf8' });
  if (df.status === 0) fsType = (df.stdout.trim().split('\n')[1] || '').split(/\s+/)[1] || null;
  return {
    date: new Date().toISOString(),
    cpu_model: cpus[0] ? cpus[0].model : 'unknown',
    cpu_count: cpus.length,
    total_mem_gb: +(os.totalmem() / 2 ** 30).toFixed(1),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    git_commit: git,
    tmpdir: os.tmpdir(),
    tmpdir_fs: fsType,
    loadavg_start: os.loadavg(),
    packages: {
      crudjt: versionOf('crudjt') || JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version,
      jsonwebtoken: versionOf('jsonwebtoken'),
      'fast-jwt': versionOf('fast-jwt'),
      ioredis: versionOf('ioredis'),
      lmdb: versionOf('lmdb'),
      msgpackr: versionOf('msgpackr'),
      '@grpc/grpc-js': versionOf('@grpc/grpc-js'),
    },
  };
}

// ------------------------------------------------------------ crudjt

/**
 * Loads crudjt in a throwaway process first: a broken native build can end
 * the process (symbol lookup error) where require() cannot catch it.
 * Returns { module } or { error }.
 */
function loadCrudjt() {
  const probeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crudjt-bench-probe-'));
  const script = `
    const C = require(${JSON.stringify(ROOT)});
    (async () => {
      await C.Config.startMaster({ secret_key: require('crypto').randomBytes(32).toString('base64'),
        store_jt_path: ${JSON.stringify(probeDir)}, grpc_host: '127.0.0.1', grpc_port: 0, logger: null });
      const t = await C.create({ user_id: 1 }, 60);
      const r = await C.read(t);
      if (!r || r.data.user_id !== 1) throw new Error('read after create gave ' + JSON.stringify(r));
      if (!(await C.delete(t))) throw new Error('delete gave false');
      await C.Config.shutdownServer();
    })().catch((e) => { console.error(e && e.stack || e); process.exit(1); });`;
  const res = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60000 });
  fs.rmSync(probeDir, { recursive: true, force: true });
  if (res.status !== 0) {
    const why = (res.stderr || '').trim().split('\n').filter(Boolean).slice(0, 3).join(' | ') || `exit ${res.status} ${res.signal || ''}`;
    return { error: `crudjt does not start (npm run build?): ${why.slice(0, 300)}` };
  }
  try {
    return { module: require(ROOT) };
  } catch (e) {
    return { error: `require('crudjt') failed: ${e.message}` };
  }
}

// One key for the whole bench: a store reopened with another key would read
// its old tokens as absent.
const SECRET = crypto.randomBytes(48).toString('base64');

async function startMaster(C, dir) {
  return C.Config.startMaster({
    secret_key: SECRET,
    store_jt_path: dir,
    grpc_host: '127.0.0.1',
    grpc_port: 0,
    logger: null,
  });
}

/** Best-effort removal of a temporary directory (never throws). */
function removeDir(dir) {
  try {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
  } catch (e) {
    log(`  could not remove ${dir}: ${e.message}`);
  }
}

/** Stops the master if one runs (after a failed section), never throws. */
async function stopMaster(C) {
  try {
    if (C.Config.role()) await C.Config.shutdownServer();
  } catch (e) {
    log(`  shutdownServer failed: ${e.message}`);
  }
}

/** Bytes on disk (st_blocks, what du counts) and apparent size of a directory. */
function diskUsage(dir) {
  let blocks = 0;
  let apparent = 0;
  const files = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      // The engine may rotate a log segment away between readdir and stat.
      const st = fs.statSync(p, { throwIfNoEntry: false });
      if (st === undefined) continue;
      if (e.isDirectory()) walk(p);
      else {
        blocks += st.blocks * 512;
        apparent += st.size;
        files.push({ name: path.relative(dir, p), size: st.size, on_disk: st.blocks * 512 });
      }
    }
  };
  walk(dir);
  let du = null;
  const r = spawnSync('du', ['-sb', dir], { encoding: 'utf8' });
  const rk = spawnSync('du', ['-sk', dir], { encoding: 'utf8' });
  if (r.status === 0 && rk.status === 0) du = { apparent_bytes: +r.stdout.split(/\s/)[0], kib: +rk.stdout.split(/\s/)[0] };
  return { on_disk_bytes: blocks, apparent_bytes: apparent, du, files };
}

/**
 * Which crudjt was measured: the addon this process loaded (path, size,
 * mtime, sha256), when dist/ was built, and whether the working tree had
 * uncommitted changes under lib/ src/ cpp/ proto/ (the tree moves while
 * engineers work; a result is only comparable with the same build).
 */
function buildFingerprint() {
  const out = { addon: null, dist_index_mtime: null, uncommitted: null };
  try {
    const libs = (process.report.getReport().sharedObjects || []).filter((f) => f.endsWith('.node') && f.includes('crudjt'));
    if (libs.length) {
      const f = libs[0];
      const st = fs.statSync(f);
      out.addon = { path: path.relative(ROOT, f), bytes: st.size, mtime: st.mtime.toISOString(), sha256: crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex').slice(0, 16) };
    }
  } catch {
    // informational
  }
  try {
    out.dist_index_mtime = fs.statSync(path.join(ROOT, 'dist', 'index.js')).mtime.toISOString();
  } catch {
    // informational
  }
  const st = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'lib', 'src', 'cpp', 'proto'], { encoding: 'utf8' });
  if (st.status === 0) out.uncommitted = st.stdout.split('\n').filter(Boolean).map((l) => l.trim());
  return out;
}

// ------------------------------------------------------------ gRPC workers

class Worker {
  constructor() {
    this.child = fork(path.join(__dirname, 'lib', 'grpc_worker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.pending = new Map();
    this.seq = 0;
    this.exited = false;
    this.child.on('message', (m) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.ready) {
        if (p.onReady) p.onReady();
        return;
      }
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
    });
    this.child.on('exit', (code, sig) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`gRPC client process exited (${code ?? sig})`));
      this.pending.clear();
    });
  }

  request(msg, onReady) {
    if (this.exited) return Promise.reject(new Error('gRPC client process has exited'));
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onReady });
      this.child.send({ ...msg, id });
    });
  }

  go() {
    this.child.send({ cmd: 'go' });
  }

  async close() {
    if (this.exited) return;
    const done = new Promise((r) => this.child.once('exit', r));
    try {
      await Promise.race([this.request({ cmd: 'exit' }), new Promise((r) => setTimeout(r, 3000))]);
    } catch {
      // it is going away anyway
    }
    const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await done;
    clearTimeout(t);
  }
}

async function startWorker(port) {
  const w = new Worker();
  await w.request({ cmd: 'connect', host: '127.0.0.1', port });
  return w;
}

// ------------------------------------------------------------ sections

async function crudTable(ctx, peers, opts, results) {
  const open = [];
  for (const p of peers) {
    const entry = { id: p.id, label: p.label, note: p.note, ops: p.ops || 'CRUD', status: 'ok', reason: null };
    try {
      await p.open(ctx);
      open.push(p);
    } catch (e) {
      entry.status = 'skipped';
      entry.reason = e.message;
      log(`  ${p.id}: skipped: ${e.message}`);
    }
    results.peers.push(entry);
    results.crud[p.id] = { C: [], R: [], U: [], D: [], bad: { C: 0, R: 0, U: 0, D: 0 } };
  }
  const warm = Math.min(opts.ops, opts.quick ? 200 : 2000);
  log(`warm-up: ${warm} ops per phase per peer`);
  for (const p of open) {
    try {
      await p.crud(warm);
    } catch (e) {
      log(`  ${p.id}: warm-up failed: ${e.message}`);
    }
  }
  // A peer whose first run takes longer than opts.slowSeconds (jsonwebtoken,
  // the gRPC row) is measured at most 3 times and for about 2 minutes in all,
  // so that the default run stays near ten minutes; the table says how many
  // runs each median has.
  const cap = new Map(open.map((p) => [p.id, opts.runs]));
  for (let run = 0; run < opts.runs; run++) {
    // Rotate the order so no peer always runs first (or right after another's GC).
    const order = open.map((_, k) => open[(k + run) % open.length]).filter((p) => run < cap.get(p.id));
    const rec = { run, order: order.map((p) => p.id), loadavg_before: os.loadavg(), started: new Date().toISOString() };
    for (const p of order) {
      gc();
      let res;
      const t0 = process.hrtime.bigint();
      try {
        res = await p.crud(opts.ops);
        const took = since(t0);
        if (run === 0 && took > opts.slowSeconds && opts.runs > 1) {
          // At most 3 runs, and no more than ~2 minutes of this peer in all.
          const runs = Math.max(1, Math.min(3, opts.runs, Math.floor(120 / took)));
          if (runs < opts.runs) {
            cap.set(p.id, runs);
            results.crud[p.id].runs_capped = `first run took ${took.toFixed(1)} s > ${opts.slowSeconds} s: ${runs} run(s) instead of ${opts.runs}`;
            log(`  ${p.id}: ${results.crud[p.id].runs_capped}`);
          }
        }
      } catch (e) {
        log(`  ${p.id}: run ${run + 1} failed: ${e.message}`);
        results.crud[p.id].errors = (results.crud[p.id].errors || []).concat(`run ${run + 1}: ${e.message}`);
        continue;
      }
      for (const op of ['C', 'R', 'U', 'D']) {
        if (res[op]) {
          results.crud[p.id][op].push(res[op].seconds);
          results.crud[p.id].bad[op] += res[op].bad;
        }
      }
      const s = ['C', 'R', 'U', 'D'].map((op) => (res[op] ? `${op} ${res[op].seconds.toFixed(3)}` : `${op} X`)).join('  ');
      log(`  run ${run + 1}/${opts.runs} ${p.id.padEnd(13)} ${s}`);
    }
    if (opts.cold && ctx.crudjt && run < Math.min(opts.runs, 3)) {
      gc();
      results.cold.push(await coldReads(ctx, opts.ops));
      log(`  run ${run + 1}/${opts.runs} cold reads    R ${results.cold[results.cold.length - 1].seconds.toFixed(3)}`);
    }
    rec.loadavg_after = os.loadavg();
    results.runs.push(rec);
  }
}

/** Creates n tokens (A), n more (B), then times reading A; deletes all after. */
async function coldReads(ctx, n) {
  const C = ctx.crudjt;
  const P = ctx.payloads;
  const a = new Array(n);
  const b = new Array(n);
  for (let i = 0; i < n; i++) a[i] = await C.create(P[i], TTL);
  for (let i = 0; i < n; i++) b[i] = await C.create(ctx.payloads2[i], TTL);
  const r = await timeSequential(n, async (i) => C.read(a[i]), (x) => x !== null);
  for (let i = 0; i < n; i++) await C.delete(a[i]);
  for (let i = 0; i < n; i++) await C.delete(b[i]);
  return { seconds: r.seconds, bad: r.bad, ops: n };
}

async function throughput(ctx, opts, results, firstWorker) {
  const workers = [firstWorker].concat(ctx.extraWorkers || []);
  const grid = [];
  for (const clients of [1, 2, 4]) for (const inflight of [1, 64]) if (clients <= workers.length) grid.push({ clients, inflight });
  const cells = new Map();
  for (const g of grid) for (const op of ['C', 'R', 'D']) cells.set(`${g.clients}:${g.inflight}:${op}`, { ...g, op, ops_per_sec: [], seconds: [], bad: 0 });
  // Warm the channels with 64 in flight once.
  await Promise.all(workers.map(async (w) => {
    for (const op of ['C', 'R', 'D']) await w.request({ cmd: 'tput', op, n: Math.min(opts.tputOps, 2000), inflight: 64, seed: ctx.seed, ttl: TTL }, () => w.go());
  }));
  for (let rep = 0; rep < opts.tputRuns; rep++) {
    for (const g of grid) {
      const ws = workers.slice(0, g.clients);
      const per = Math.floor(opts.tputOps / g.clients);
      for (const op of ['C', 'R', 'D']) {
        gc();
        let readyCount = 0;
        let goSent = false;
        const all = ws.map((w, k) =>
          w.request({ cmd: 'tput', op, n: per, inflight: g.inflight, seed: ctx.seed + k, ttl: TTL }, () => {
            readyCount++;
            if (readyCount === ws.length && !goSent) {
              goSent = true;
              for (const x of ws) x.go();
            }
          }),
        );
        const res = await Promise.all(all);
        const t0 = Math.min(...res.map((r) => r.t0));
        const t1 = Math.max(...res.map((r) => r.t1));
        const total = res.reduce((s, r) => s + r.ops, 0);
        const cell = cells.get(`${g.clients}:${g.inflight}:${op}`);
        cell.ops_per_sec.push(total / ((t1 - t0) / 1000));
        cell.seconds.push((t1 - t0) / 1000);
        cell.bad += res.reduce((s, r) => s + r.bad, 0);
        cell.ops = total;
      }
      const c = (op) => Math.round(cells.get(`${g.clients}:${g.inflight}:${op}`).ops_per_sec.at(-1));
      log(`  tput ${rep + 1}/${opts.tputRuns} ${g.clients} client(s) x ${String(g.inflight).padStart(2)} in flight: C ${c('C')}  R ${c('R')}  D ${c('D')} ops/s`);
    }
  }
  results.throughput = [...cells.values()];
  if (workers.length < 4) results.throughput_error = `only ${workers.length} client process(es) started`;
  // Baseline: the same transport with a handler that does nothing.
  try {
    const { startNoopServer } = require('./lib/grpc_noop');
    const srv = await startNoopServer();
    results.grpc_noop = [];
    for (const inflight of [1, 64]) {
      const samples = [];
      for (let rep = 0; rep < opts.tputRuns; rep++) {
        gc();
        const r = await workers[0].request({ cmd: 'noop', port: srv.port, n: opts.tputOps, inflight });
        samples.push(r.ops / r.seconds);
      }
      results.grpc_noop.push({ clients: 1, inflight, op: 'ReadToken (no-op)', ops_per_sec: samples });
      log(`  no-op grpc-js service, 1 client x ${String(inflight).padStart(2)} in flight: ${Math.round(median(samples))} calls/s`);
    }
    await srv.stop();
  } catch (e) {
    results.grpc_noop_error = e.message;
    log(`  no-op grpc-js baseline failed: ${e.message}`);
  }
}

async function diskFootprint(C, opts, results) {
  const n = opts.ops;
  const { payloads: big, sizes } = makePayloads(n, 7, 256, 256);
  results.disk = { tokens: n, payload_bytes: sizes[0], samples: [] };
  const reps = Math.min(opts.runs, 3);
  for (let rep = 0; rep < reps; rep++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crudjt-bench-disk-'));
    try {
      await startMaster(C, dir);
      for (let i = 0; i < n; i++) await C.create(big[i]);
      await C.Config.shutdownServer();
      const du = diskUsage(dir);
      results.disk.samples.push(du);
      log(`  disk ${rep + 1}/${reps}: ${n} x ${sizes[0]} B tokens -> ${(du.on_disk_bytes / 1e6).toFixed(2)} MB on disk (${(du.apparent_bytes / 1e6).toFixed(2)} MB apparent)`);
    } finally {
      await stopMaster(C);
      removeDir(dir);
    }
  }
}

/**
 * Rolling churn: n live tokens, then `cycles` times create one and delete
 * the oldest (so n stay live, all of them new by the end). Measures the
 * store after the first n and after the churn, each after shutdownServer.
 */
async function churn(C, ctx, opts, results) {
  const n = opts.ops;
  const cycles = n * 5;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crudjt-bench-churn-'));
  try {
    const P = ctx.payloads;
    const live = new Array(n);
    await startMaster(C, dir);
    for (let i = 0; i < n; i++) live[i] = await C.create(P[i]);
    await C.Config.shutdownServer();
    const before = diskUsage(dir);
    await startMaster(C, dir);
    let head = 0;
    let bad = 0;
    const t0 = process.hrtime.bigint();
    // The store's size while it runs (no shutdown: what the background
    // checkpoints have written so far), every n cycles: a trend, not a
    // footprint. Not part of the timed churn rate.
    const trend = [];
    let paused = 0;
    for (let k = 0; k < cycles; k++) {
      const t = await C.create(ctx.payloads2[k % n]);
      if (!(await C.delete(live[head]))) bad++;
      live[head] = t;
      head = (head + 1) % n;
      if ((k + 1) % n === 0) {
        const p0 = process.hrtime.bigint();
        const du = diskUsage(dir);
        const sum = (re) => du.files.filter((f) => re.test(f.name)).reduce((a, f) => a + f.size, 0);
        trend.push({ cycles: k + 1, apparent_bytes: du.apparent_bytes, on_disk_bytes: du.on_disk_bytes, pages_bytes: sum(/\.pages$/), log_bytes: sum(/\.wal$/) });
        paused += since(p0);
      }
    }
    const seconds = since(t0) - paused;
    let stillLive = 0;
    for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 1000))) if ((await C.read(live[i])) !== null) stillLive++;
    await C.Config.shutdownServer();
    const after = diskUsage(dir);
    results.churn = { live: n, cycles, seconds, ops_per_sec: (2 * cycles) / seconds, bad_deletes: bad, sampled_live_ok: stillLive, before, trend, after };
    log(`  churn: ${n} live, ${cycles} create+delete cycles in ${seconds.toFixed(2)} s: ${(before.on_disk_bytes / 1e6).toFixed(2)} MB -> ${(after.on_disk_bytes / 1e6).toFixed(2)} MB on disk`);
  } finally {
    await stopMaster(C);
    removeDir(dir);
  }
}

// ------------------------------------------------------------ main

function writeOutputs(results, opts) {
  results.summary = summarize(results);
  fs.writeFileSync(opts.out, JSON.stringify(results, null, 2) + '\n');
  fs.writeFileSync(opts.chart, renderChart(results));
  const md = renderMarkdown(results);
  fs.writeFileSync(opts.md, md);
  process.stdout.write(md);
  log(`wrote ${[opts.out, opts.md, opts.chart].map((f) => path.relative(process.cwd(), f)).join(', ')}`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.render) {
    const results = JSON.parse(fs.readFileSync(opts.render, 'utf8'));
    results.summary = summarize(results);
    fs.writeFileSync(opts.chart, renderChart(results));
    const md = renderMarkdown(results);
    fs.writeFileSync(opts.md, md);
    process.stdout.write(md);
    return;
  }
  const started = process.hrtime.bigint();
  const results = {
    meta: machineInfo(),
    options: { runs: opts.runs, ops: opts.ops, tput_runs: opts.tputRuns, tput_ops: opts.tputOps, slow_seconds: opts.slowSeconds, quick: opts.quick, only: opts.only, ttl_seconds: TTL },
    payloads: null,
    peers: [],
    crud: {},
    runs: [],
    cold: [],
    disk: null,
    churn: null,
    throughput: null,
    errors: [],
  };
  log(`crudjt bench: ${opts.runs} run(s) of ${opts.ops} ops, ${results.meta.cpu_count} x ${results.meta.cpu_model}, node ${process.version}, load ${results.meta.loadavg_start.map((x) => x.toFixed(2)).join(' ')}`);

  const seed = 1;
  const seed2 = 2;
  const A = makePayloads(opts.ops, seed);
  const B = makePayloads(opts.ops, seed2);
  const all = A.sizes.concat(B.sizes);
  results.payloads = { count: opts.ops, min_bytes: Math.min(...all), max_bytes: Math.max(...all), mean_bytes: +(all.reduce((s, x) => s + x, 0) / all.length).toFixed(1), encoding: 'MessagePack (plain maps)', encoder: require('./lib/payloads').codec };
  const ctx = { payloads: A.payloads, payloads2: B.payloads, seed, seed2, crudjt: null, crudjtError: null, grpcWorker: null, grpcWorkerError: null, redis: null, redisError: null };

  const cleanups = [];
  const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crudjt-bench-store-'));
  cleanups.push(() => removeDir(storeDir));
  let peers = allPeers();
  if (opts.only) peers = peers.filter((p) => opts.only.includes(p.id));
  try {
    const want = (id) => peers.some((p) => p.id === id);
    if (want('crudjt') || want('crudjt-grpc') || opts.disk || opts.tput) {
      log('loading crudjt ...');
      const loaded = loadCrudjt();
      if (loaded.error) {
        ctx.crudjtError = loaded.error;
        log(`  ${loaded.error}`);
      } else {
        ctx.crudjt = loaded.module;
        const info = await startMaster(ctx.crudjt, storeDir);
        ctx.grpcPort = info.grpc_port;
        results.meta.crudjt_build = buildFingerprint();
        results.meta.crudjt_master = { store_jt_path: info.store_jt_path, grpc_port: info.grpc_port };
        cleanups.push(async () => {
          if (ctx.crudjt.Config.role()) await ctx.crudjt.Config.shutdownServer();
        });
        if (want('crudjt-grpc') || opts.tput) {
          try {
            ctx.grpcWorker = await startWorker(info.grpc_port);
            cleanups.push(() => ctx.grpcWorker.close());
            // The throughput clients start now too, so that every process
            // loads the same dist/ and addon (the tree changes while people
            // work); they stay idle until the throughput section.
            ctx.extraWorkers = [];
            if (opts.tput) {
              for (let k = 1; k < 4; k++) ctx.extraWorkers.push(await startWorker(info.grpc_port));
              cleanups.push(async () => {
                for (const w of ctx.extraWorkers) await w.close();
              });
            }
          } catch (e) {
            ctx.grpcWorkerError = `gRPC client process failed: ${e.message}`;
          }
        }
      }
    }
    if (want('redis') || want('redis-p64')) {
      try {
        ctx.redis = await startRedis({ appendfsync: 'everysec' });
        results.meta.redis = { version: ctx.redis.version, config: ctx.redis.config };
        cleanups.push(() => ctx.redis.stop());
      } catch (e) {
        ctx.redisError = e.message;
        results.meta.redis = { error: e.message };
      }
    }
    cleanups.push(async () => {
      for (const p of peers) await p.close().catch(() => {});
    });

    // A failing section is recorded in results.errors and the others go on:
    // a bench that dies at minute 11 and writes nothing helps nobody.
    const section = async (name, fn) => {
      try {
        await fn();
      } catch (e) {
        const msg = `${e && e.name}: ${e && e.message}`;
        results.errors.push({ section: name, error: msg });
        log(`  ${name} failed: ${msg}`);
      }
      fs.writeFileSync(opts.out, JSON.stringify(results, null, 2) + '\n'); // partial results so far
    };
    log(`C/R/U/D: ${peers.map((p) => p.id).join(', ')}`);
    await section('C/R/U/D table', () => crudTable(ctx, peers, opts, results));

    if (opts.tput && ctx.grpcWorker) {
      log('gRPC throughput: 1, 2, 4 client processes, 1 and 64 calls in flight each');
      await section('gRPC throughput', () => throughput(ctx, opts, results, ctx.grpcWorker));
    } else if (opts.tput) {
      results.throughput_error = ctx.crudjtError || ctx.grpcWorkerError || 'no gRPC client';
    }
    for (const p of peers) await p.close().catch(() => {});
    peers = [];
    if (ctx.grpcWorker) await ctx.grpcWorker.close();
    if (ctx.redis) {
      await ctx.redis.stop();
      ctx.redis = null;
    }
    if (opts.disk && ctx.crudjt) {
      await stopMaster(ctx.crudjt);
      log('disk footprint');
      await section('disk footprint', () => diskFootprint(ctx.crudjt, opts, results));
      await section('churn', () => churn(ctx.crudjt, ctx, opts, results));
    } else if (opts.disk) {
      results.disk = { error: ctx.crudjtError };
    }
    if (opts.cluster) {
      // Its own 3-master Redis Cluster, started and stopped by bench/cluster.js.
      log('Redis Cluster backend vs plain ioredis on the same cluster');
      await section('redis cluster', async () => {
        const { runClusterBench } = require('./cluster');
        results.cluster = { rows: await runClusterBench({ ops: Math.min(opts.ops, 20000) }) };
      });
    }
  } finally {
    for (const f of cleanups.reverse()) {
      try {
        await f();
      } catch {
        // best effort: the run is over
      }
    }
  }
  results.meta.loadavg_end = os.loadavg();
  results.meta.duration_seconds = +since(started).toFixed(1);
  writeOutputs(results, opts);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
  },
);
