'use strict';
// Cross-process throughput of crudjt's client role against one master.
//
//   npm run build:ts && node bench/throughput.js [--seconds 1.5] [--procs 1,2,4,8]
//        [--inflight 1,64] [--paths unary,batch] [--transports tcp,uds]
//        [--mixes mixed,create,read] [--repeat N]
//        [--json bench/throughput.json] [--cpu-prof DIR]
//
// Sequential per process (issue 8's figure), C and R apart, 3 times each:
//   node bench/throughput.js --procs 1 --inflight 1 --mixes create,read --repeat 3
//
// One master process (startMaster, default cache, durability 'background',
// a fresh store in a temp directory, TCP on 127.0.0.1 and a Unix socket) and
// N client processes (connectToMaster, batch: false = one unary RPC per op,
// batch: true = coalesced into the Batch stream; grpc_port = TCP loopback,
// grpc_socket = Unix domain socket). Every cell of the grid runs in the same
// run against the same master. In each cell every client process runs
// `inflight` loops (1 = sequential: await each op), all started at the same
// wall-clock moment, for --seconds, after a warm-up of a quarter of that.
// The op mix per loop repeats C R R R U R R R D R: create a token, read it
// and others, update it, delete it (80% reads, of tokens without a read
// limit, so the master's read cache serves most of them). --mixes picks
// other mixes: 'create' (creates only) and 'read' (reads of four tokens made
// before the clock starts). Payloads are ~60 bytes of MessagePack.
// Reported: completed ops/s summed over the client processes, and per
// process. Errors are counted and shown. --repeat N runs the whole grid N
// times (round after round, so that other load on the machine falls on every
// cell alike) and reports each cell's median with its min-max spread.
//
// The master and the clients share the machine's cores (and whatever else
// runs on it): the load average before and after the run is printed with the
// table, and a second table gives the CPU time each op cost the master and
// the client processes (process.cpuUsage), which other load disturbs less.

const { fork } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const SECRET = Buffer.alloc(48, 0x42).toString('base64');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  return process.argv[i + 1];
}

const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

// ---- master role -------------------------------------------------------------

async function runMaster() {
  const CRUDJT = require(ROOT);
  const dir = process.env.TP_DIR;
  const info = await CRUDJT.Config.startMaster({
    secret_key: SECRET,
    store_jt_path: path.join(dir, 'store_jt'),
    grpc_port: 0,
    grpc_socket: path.join(dir, 'm.sock'),
    logger: null,
  });
  process.send({ ready: true, port: info.grpc_port, socket: info.grpc_socket });
  process.on('message', async (m) => {
    if (m.cmd === 'stats') process.send({ stats: await CRUDJT.Config.stats() });
    if (m.cmd === 'cpu') process.send({ cpu: process.cpuUsage() });
    if (m.cmd === 'stop') {
      await CRUDJT.Config.shutdownServer();
      process.exit(0);
    }
  });
}

// ---- client role -------------------------------------------------------------

async function runClient() {
  const CRUDJT = require(ROOT);
  let stopAt = 0;
  let counting = false;
  let ops = 0;
  let allOps = 0;
  let errors = 0;
  let firstError = null;

  // Four tokens per process that every loop reads (made before the clock
  // starts, so that slow paths do not spend the cell setting up).
  let shared = [];

  async function loop(seed, mix) {
    let i = 0;
    let mine = null;
    while (Date.now() < stopAt) {
      const step = i % 10;
      try {
        if (mix === 'create') await CRUDJT.create({ user_id: seed, role: 'member', org: 'acme-corp', i });
        else if (mix === 'read') await CRUDJT.read(shared[i & 3]);
        else if (step === 0) mine = await CRUDJT.create({ user_id: seed, role: 'member', org: 'acme-corp', i });
        else if (step === 4) await CRUDJT.update(mine, { user_id: seed, role: 'admin', org: 'acme-corp', i });
        else if (step === 8) await CRUDJT.delete(mine);
        else if (step === 1 || step === 5) await CRUDJT.read(mine);
        else await CRUDJT.read(shared[i & 3]);
        if (counting) ops++;
        allOps++;
      } catch (e) {
        errors++;
        if (firstError === null) firstError = `${e.name}: ${e.message}`;
      }
      i++;
    }
  }

  process.on('message', async (m) => {
    if (m.cmd === 'cell') {
      CRUDJT.Config.connectToMaster(
        m.transport === 'uds'
          ? { grpc_socket: m.socket, batch: m.path === 'batch' }
          : { grpc_port: m.port, batch: m.path === 'batch' },
      );
      // Warm the channel (and the Batch stream) before the clock starts.
      await CRUDJT.read('AAAAAAAAAAAAAAAAAAAAAA');
      shared = [];
      for (let k = 0; k < 4; k++) shared.push(await CRUDJT.create({ user_id: process.pid * 100 + k, role: 'member', org: 'acme-corp' }));
      process.send({ ready: true });
    } else if (m.cmd === 'go') {
      ops = 0;
      allOps = 0;
      errors = 0;
      const cpu0 = process.cpuUsage();
      firstError = null;
      counting = false;
      stopAt = m.stopAt;
      const warm = setTimeout(() => (counting = true), Math.max(0, m.countFrom - Date.now()));
      const loops = [];
      for (let k = 0; k < m.inflight; k++) loops.push(loop(process.pid * 1000 + k, m.mix));
      await Promise.all(loops);
      clearTimeout(warm);
      const cpu = process.cpuUsage(cpu0);
      await CRUDJT.Config.shutdownServer();
      process.send({ ops, allOps, cpuUs: cpu.user + cpu.system, errors, firstError });
    } else if (m.cmd === 'exit') {
      process.exit(0);
    }
  });
  process.send({ ready: true });
}

// ---- coordinator -------------------------------------------------------------

function once(child, pred) {
  return new Promise((resolve, reject) => {
    const onMsg = (m) => {
      if (pred(m)) {
        child.off('message', onMsg);
        child.off('exit', onExit);
        resolve(m);
      }
    };
    const onExit = (code) => reject(new Error(`child ${child.pid} exited (${code})`));
    child.on('message', onMsg);
    child.on('exit', onExit);
  });
}

function askCpu(master) {
  const r = once(master, (m) => m.cpu !== undefined).then((m) => m.cpu);
  master.send({ cmd: 'cpu' });
  return r;
}

async function main() {
  if (process.env.TP_ROLE === 'master') return runMaster();
  if (process.env.TP_ROLE === 'client') return runClient();

  const seconds = Number(arg('seconds', '1.5'));
  const procList = list(arg('procs', '1,2,4,8')).map(Number);
  const inflights = list(arg('inflight', '1,64')).map(Number);
  const paths = list(arg('paths', 'unary,batch'));
  const transports = list(arg('transports', 'tcp,uds'));
  const mixes = list(arg('mixes', 'mixed'));
  for (const m of mixes) {
    if (!['mixed', 'create', 'read'].includes(m)) throw new Error(`--mixes: ${m} is not mixed, create or read`);
  }
  const repeat = Math.max(1, Number(arg('repeat', '1')));
  const jsonOut = arg('json', path.join(__dirname, 'throughput.json'));
  // --cpu-prof DIR: every master and client process writes a V8 CPU profile there.
  const profDir = arg('cpu-prof', null);
  const execArgv = profDir ? [...process.execArgv, '--cpu-prof', '--cpu-prof-dir', path.resolve(profDir)] : process.execArgv;
  if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) {
    console.error('bench/throughput.js: run `npm run build:ts` first (it loads dist/)');
    process.exit(2);
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crudjt-tp-'));
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const master = fork(__filename, [], { execArgv, env: { ...process.env, TP_ROLE: 'master', TP_DIR: dir } });
  const { port, socket } = await once(master, (m) => m.ready);

  const maxProcs = Math.max(...procList);
  const clients = [];
  for (let i = 0; i < maxProcs; i++) {
    const c = fork(__filename, [], { execArgv, env: { ...process.env, TP_ROLE: 'client' } });
    await once(c, (m) => m.ready);
    clients.push(c);
  }

  const rows = [];
  const runs = [];
  try {
    for (let rep = 0; rep < repeat; rep++) {
      for (const transport of transports) {
        for (const p of paths) {
          for (const mix of mixes) {
            for (const inflight of inflights) {
              for (const n of procList) {
                const used = clients.slice(0, n);
                await Promise.all(used.map((c) => {
                  const r = once(c, (m) => m.ready);
                  c.send({ cmd: 'cell', transport, path: p, port, socket });
                  return r;
                }));
                const cpuBefore = await askCpu(master);
                const start = Date.now() + 100;
                const countFrom = start + Math.round(seconds * 250);
                const stopAt = countFrom + Math.round(seconds * 1000);
                const results = await Promise.all(used.map((c) => {
                  const r = once(c, (m) => m.ops !== undefined);
                  c.send({ cmd: 'go', inflight, countFrom, stopAt, mix });
                  return r;
                }));
                const cpuAfter = await askCpu(master);
                const ops = results.reduce((a, r) => a + r.ops, 0);
                const allOps = results.reduce((a, r) => a + r.allOps, 0);
                const clientCpu = results.reduce((a, r) => a + r.cpuUs, 0);
                const masterCpu = cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system;
                const errors = results.reduce((a, r) => a + r.errors, 0);
                const run = {
                  transport,
                  path: p,
                  mix,
                  mode: inflight === 1 ? 'sequential' : `${inflight} in flight`,
                  procs: n,
                  ops_per_s: Math.round(ops / seconds),
                  // CPU time per op (user + system, warm-up included): what the
                  // path costs, whatever else the machine was doing.
                  master_cpu_us_per_op: allOps ? +(masterCpu / allOps).toFixed(1) : null,
                  client_cpu_us_per_op: allOps ? +(clientCpu / allOps).toFixed(1) : null,
                  errors,
                  first_error: results.find((r) => r.firstError)?.firstError ?? null,
                };
                runs.push(run);
                process.stderr.write(`${transport} ${p} ${mix} ${run.mode} x${n}${repeat > 1 ? ` (run ${rep + 1})` : ''}: ${run.ops_per_s} ops/s${errors ? ` (${errors} errors: ${run.first_error})` : ''}\n`);
              }
            }
          }
        }
      }
    }
    // One row per cell: the median run (by ops/s), with the spread of all runs.
    const median = (xs) => {
      const v = [...xs].sort((a, b) => a - b);
      return v[(v.length - 1) >> 1];
    };
    for (const r of runs) {
      if (rows.some((x) => x.transport === r.transport && x.path === r.path && x.mix === r.mix && x.mode === r.mode && x.procs === r.procs)) continue;
      const same = runs.filter((x) => x.transport === r.transport && x.path === r.path && x.mix === r.mix && x.mode === r.mode && x.procs === r.procs);
      const ops = same.map((x) => x.ops_per_s);
      rows.push({
        ...r,
        ops_per_s: median(ops),
        per_proc: Math.round(median(ops) / r.procs),
        ops_per_s_runs: ops,
        master_cpu_us_per_op: median(same.map((x) => x.master_cpu_us_per_op ?? 0)),
        client_cpu_us_per_op: median(same.map((x) => x.client_cpu_us_per_op ?? 0)),
        errors: same.reduce((a, x) => a + x.errors, 0),
        first_error: same.find((x) => x.first_error)?.first_error ?? null,
      });
    }
  } finally {
    const statsP = once(master, (m) => m.stats !== undefined).catch(() => null);
    master.send({ cmd: 'stats' });
    const st = await statsP;
    for (const c of clients) c.send({ cmd: 'exit' });
    master.send({ cmd: 'stop' });
    await once(master, () => false).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    if (st) rows.stats = st.stats;
  }

  // Table: one line per transport/path/mix/mode, one column per process count.
  const mixNames = { mixed: 'C R R R U R R R D R', create: 'C only', read: 'R only' };
  const head = ['transport', 'path', 'mix', 'mode', ...procList.map((n) => `${n} proc${n > 1 ? 's' : ''}`)];
  const LEFT = 4;
  const lines = [];
  const cpuLines = [];
  const find = (transport, p, mix, mode, n) =>
    rows.find((x) => x.transport === transport && x.path === p && x.mix === mix && x.mode === mode && x.procs === n);
  for (const transport of transports) {
    for (const p of paths) {
      for (const mix of mixes) {
        for (const inflight of inflights) {
          const mode = inflight === 1 ? 'sequential' : `${inflight} in flight`;
          lines.push([transport, p, mixNames[mix], mode, ...procList.map((n) => {
            const r = find(transport, p, mix, mode, n);
            if (!r) return '-';
            const spread = r.ops_per_s_runs.length > 1 ? ` (${Math.min(...r.ops_per_s_runs)}-${Math.max(...r.ops_per_s_runs)})` : '';
            return `${r.ops_per_s}${spread}${r.errors ? ` (${r.errors} err)` : ''}`;
          })]);
          cpuLines.push([transport, p, mixNames[mix], mode, ...procList.map((n) => {
            const r = find(transport, p, mix, mode, n);
            return r && r.master_cpu_us_per_op !== null ? `${r.master_cpu_us_per_op} / ${(r.client_cpu_us_per_op).toFixed(1)}` : '-';
          })]);
        }
      }
    }
  }
  const table = (ls) => {
    const w = head.map((h, i) => Math.max(h.length, ...ls.map((l) => String(l[i]).length)));
    const fmt = (l) => '| ' + l.map((c, i) => (i < LEFT ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join(' | ') + ' |';
    console.log(fmt(head));
    console.log('|' + w.map((x, i) => (i < LEFT ? '-'.repeat(x + 2) : '-'.repeat(x + 1) + ':')).join('|') + '|');
    for (const l of ls) console.log(fmt(l));
  };
  const reps = repeat > 1 ? `; median of ${repeat} runs (min-max)` : '';
  console.log(`\ncrudjt cross-process throughput, ops/s summed over client processes (${seconds} s per cell${reps})`);
  console.log(`node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), load average before the run: ${load}\n`);
  table(lines);
  console.log(`\nCPU time per op in µs (user + system, warm-up included${repeat > 1 ? ', median' : ''}): master / client processes together\n`);
  table(cpuLines);
  if (rows.stats) {
    const s = rows.stats;
    console.log(`\nmaster stats after the run: requests ${JSON.stringify(s.requests)}, operations ${JSON.stringify(s.operations)}, cache hit rate ${s.cache_hit_rate.toFixed(3)}`);
  }
  const loadAfter = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`load average after the run: ${loadAfter}`);
  if (jsonOut) {
    fs.writeFileSync(jsonOut, JSON.stringify({
      seconds, repeat, node: process.version, cores: os.cpus().length, load_before: load, load_after: loadAfter, rows, runs, stats: rows.stats ?? null,
    }, null, 2));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
