'use strict';
// Bench section: the cluster role (lib/cluster) beside a plain Redis session
// store on the same Redis Cluster (the peer: ioredis SET <id> <msgpack> PX
// <ttl> / GET <id> + decode / SET ... PX <ttl> XX / DEL, as connect-redis
// does with JSON; bench/lib/peers.js's Redis peer does the same on a single
// redis-server). Both make one round trip per operation: crudjt adds the
// keyed hash, the AEAD seal/open and, for update/delete, a Lua script (they
// must not touch a record of another secret key).
//
// Fairness: both sides pack the payload per create/update and decode it per
// read (crudjt through its public API: CRUDJT.create/read/update/delete
// after Config.connectToCluster; the peer with the same MessagePack codec).
// Both clients use ioredis auto-pipelining against the master nodes.
//
// Noise: other work on this machine drifts from second to second, so the
// two systems are measured INTERLEAVED: every phase (an op of a system)
// runs in all worker processes at once (a barrier between phases), and the
// order of the two systems alternates from round to round. Per-op time =
// the sum over rounds of the slowest process's phase time / all ops; the
// ratio is crudjt's over the peer's from those same rounds. cpu_us_per_op
// is the client processes' own CPU per op (user + system, all processes),
// which other load on the machine disturbs less than wall time; the Redis
// nodes' CPU is not in it.
//
// Rows: create, read, update, delete; sequential (1 in flight) and 64 in
// flight; 1 and 4 processes.
//
//   node bench/cluster.js [--ops 20000] [--rounds 3] [--json]   (starts its own 3-master cluster)
//   const { runClusterBench } = require('./cluster'); await runClusterBench({ ops })
//
// Loads lib/ and test/helpers/redis-cluster.ts through tsx (a devDependency).
const { fork } = require('child_process');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const PAYLOAD = { user_id: 424242, role: 'admin', tenant: 'acme-corp', scopes: ['read', 'write'], iat: 1700000000 };
const PAYLOAD2 = { user_id: 424242, role: 'admin', tenant: 'acme-corp', scopes: ['read'], iat: 1700000600 };
const TTL = 3600;
const OPS = ['create', 'read', 'update', 'delete'];
const SYSTEMS = ['plain-ioredis', 'crudjt'];

function loadTs() {
  require(require.resolve('tsx/cjs', { paths: [ROOT] }));
  return {
    CRUDJT: require(path.join(ROOT, 'lib', 'index.ts')),
    helper: require(path.join(ROOT, 'test', 'helpers', 'redis-cluster.ts')),
    msgpack: require(path.join(ROOT, 'lib', 'msgpack.ts')),
  };
}

/** Runs n ops with `inFlight` at a time: [wall seconds, this process's CPU seconds]. */
async function timed(n, inFlight, op) {
  let next = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const lane = async () => {
    while (next < n) {
      const i = next++;
      await op(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, lane));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  return [wall, (cpu.user + cpu.system) / 1e6];
}

// ---- one process's work --------------------------------------------------------

/** Waits until the parent says every worker reached barrier `n`. */
function barrier(n) {
  return new Promise((resolve) => {
    const onMessage = (m) => {
      if (m && m.go === n) {
        process.off('message', onMessage);
        resolve();
      }
    };
    process.on('message', onMessage);
    process.send({ barrier: n });
  });
}

function expect(ok, what) {
  if (!ok) throw new Error(what);
}

async function workerRun({ nodes, secret, inFlight, ops, rounds }) {
  const { CRUDJT, msgpack } = loadTs();
  const Redis = require('ioredis');
  await CRUDJT.Config.connectToCluster({ secret_key: secret, nodes, logger: null });
  const c = new Redis.Cluster(
    nodes.map((n) => ({ host: n.split(':')[0], port: Number(n.split(':')[1]) })),
    { enableAutoPipelining: true, scaleReads: 'master' },
  );
  const crypto = require('crypto');
  const tokens = new Array(ops);
  const ids = new Array(ops);
  const fns = {
    crudjt: {
      create: async (i) => (tokens[i] = await CRUDJT.create(PAYLOAD, TTL)),
      read: async (i) => expect((await CRUDJT.read(tokens[i])) !== null, 'crudjt read gave null'),
      update: async (i) => expect(await CRUDJT.update(tokens[i], PAYLOAD2, TTL), 'crudjt update gave false'),
      delete: async (i) => expect(await CRUDJT.delete(tokens[i]), 'crudjt delete gave false'),
    },
    'plain-ioredis': {
      create: async (i) => {
        const id = `sess:${crypto.randomBytes(16).toString('base64url')}`;
        expect((await c.set(id, msgpack.pack(PAYLOAD), 'PX', TTL * 1000)) === 'OK', 'plain SET failed');
        ids[i] = id;
      },
      read: async (i) => {
        const b = await c.getBuffer(ids[i]);
        expect(b !== null && msgpack.unpack(b).user_id !== undefined, 'plain GET gave null');
      },
      update: async (i) => expect((await c.set(ids[i], msgpack.pack(PAYLOAD2), 'PX', TTL * 1000, 'XX')) === 'OK', 'plain SET XX failed'),
      delete: async (i) => expect((await c.del(ids[i])) === 1, 'plain DEL gave 0'),
    },
  };
  // warm-up: connections, script cache, JIT
  for (let i = 0; i < 300; i++) {
    for (const s of SYSTEMS) for (const op of OPS) await fns[s][op](i);
  }
  const out = {};
  for (const s of SYSTEMS) {
    out[s] = {};
    for (const op of OPS) out[s][op] = [];
  }
  let phase = 0;
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? SYSTEMS : [...SYSTEMS].reverse();
    for (const op of OPS) {
      for (const s of order) {
        await barrier(phase++);
        out[s][op].push(await timed(ops, inFlight, fns[s][op]));
      }
    }
  }
  c.disconnect();
  await CRUDJT.Config.shutdownServer();
  return out;
}

function runWorkers(procs, args) {
  const children = [];
  const reached = new Map();
  return Promise.all(
    Array.from({ length: procs }, () =>
      new Promise((resolve, reject) => {
        const child = fork(__filename, ['--worker'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        children.push(child);
        child.on('message', (m) => {
          if (m && typeof m.barrier === 'number') {
            const n = (reached.get(m.barrier) ?? 0) + 1;
            reached.set(m.barrier, n);
            if (n === procs) for (const ch of children) ch.send({ go: m.barrier });
          } else if (m && m.error) {
            reject(new Error(m.error));
          } else if (m && m.result) {
            resolve(m.result);
          }
        });
        child.once('exit', (code) => code !== 0 && reject(new Error(`bench worker exited ${code}`)));
        child.send(args);
      }),
    ),
  );
}

/**
 * Starts a 3-master cluster, runs every row, stops the cluster. Rows:
 * { system, op, procs, in_flight, ops, rounds, seconds, us_per_op, ops_per_s,
 *   cpu_us_per_op, ratio_to_plain, ratio_min, ratio_max, cpu_ratio } (ratios
 * on crudjt rows: overall, the lowest and highest of the single rounds, and
 * of the client CPU per op).
 */
async function runClusterBench(options = {}) {
  const opsPerProc = options.ops ?? 20000;
  const rounds = options.rounds ?? 3;
  const { helper } = loadTs();
  const rc = await helper.startRedisCluster({ masters: 3 });
  const secret = require('crypto').randomBytes(32).toString('base64');
  const rows = [];
  try {
    for (const procs of [1, 4]) {
      for (const inFlight of [1, 64]) {
        // sequential rows are slow per op: fewer of them
        const ops = inFlight === 1 ? Math.max(500, Math.floor(opsPerProc / 10)) : opsPerProc;
        const results = await runWorkers(procs, { nodes: rc.nodes, secret, inFlight, ops, rounds });
        for (const op of OPS) {
          // per round: the slowest process
          const perRound = {};
          for (const system of SYSTEMS) {
            perRound[system] = Array.from({ length: rounds }, (_, r) => Math.max(...results.map((x) => x[system][op][r][0])));
          }
          const cpu = {};
          for (const system of SYSTEMS) {
            cpu[system] = results.reduce((acc, x) => acc + x[system][op].reduce((a, [, c]) => a + c, 0), 0);
          }
          const total = ops * procs * rounds;
          const sum = (a) => a.reduce((x, y) => x + y, 0);
          for (const system of SYSTEMS) {
            const seconds = sum(perRound[system]);
            const row = {
              system, op, procs, in_flight: inFlight, ops: total, rounds, seconds: +seconds.toFixed(3),
              us_per_op: +((seconds / total) * 1e6).toFixed(2), ops_per_s: Math.round(total / seconds),
              cpu_us_per_op: +((cpu[system] / total) * 1e6).toFixed(2),
            };
            if (system === 'crudjt') {
              const ratios = perRound.crudjt.map((s, r) => s / perRound['plain-ioredis'][r]);
              row.ratio_to_plain = +(seconds / sum(perRound['plain-ioredis'])).toFixed(2);
              row.ratio_min = +Math.min(...ratios).toFixed(2);
              row.ratio_max = +Math.max(...ratios).toFixed(2);
              row.cpu_ratio = +(cpu.crudjt / cpu['plain-ioredis']).toFixed(2);
            }
            rows.push(row);
          }
        }
      }
    }
  } finally {
    await rc.stop();
  }
  return rows;
}

function renderRows(rows) {
  const lines = [
    '| system | op | procs | in flight | ops | µs/op | ops/s | ratio to plain (rounds: min-max) | client CPU µs/op | CPU ratio |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const ratio = r.ratio_to_plain === undefined ? '' : `${r.ratio_to_plain}${r.ratio_min === undefined ? '' : ` (${r.ratio_min}-${r.ratio_max})`}`;
    lines.push(
      `| ${r.system} | ${r.op} | ${r.procs} | ${r.in_flight} | ${r.ops} | ${r.us_per_op} | ${r.ops_per_s} | ${ratio} | ` +
        `${r.cpu_us_per_op ?? ''} | ${r.cpu_ratio ?? ''} |`,
    );
  }
  return lines.join('\n');
}

module.exports = { runClusterBench, renderRows };

if (require.main === module) {
  if (process.argv.includes('--worker')) {
    process.once('message', (args) => {
      workerRun(args).then(
        (result) => process.send({ result }, () => process.exit(0)),
        (e) => process.send({ error: e.stack || String(e) }, () => process.exit(1)),
      );
    });
  } else {
    const arg = (name) => {
      const i = process.argv.indexOf(name);
      return i > 0 ? Number(process.argv[i + 1]) : undefined;
    };
    runClusterBench({ ops: arg('--ops'), rounds: arg('--rounds') }).then(
      (rows) => {
        console.log(process.argv.includes('--json') ? JSON.stringify(rows, null, 2) : renderRows(rows));
      },
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
  }
}
