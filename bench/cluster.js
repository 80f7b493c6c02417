'use strict';
// Bench section: the cluster role (lib/cluster) beside plain ioredis on the
// same Redis Cluster (the session-store peer: SET <id> <value> PX <ttl> /
// GET <id>, as connect-redis does). Both make one round trip per operation:
// crudjt adds the keyed hash, the AEAD seal/open and a Lua script (read
// decrements and deletes in one server-side step).
//
// Rows: create and read, sequential (1 in flight) and 64 in flight, from 1
// and 4 processes, for crudjt and the plain peer; per-op time = wall time /
// operations (all processes together), and crudjt's ratio to the peer.
//
//   node bench/cluster.js [--ops 20000] [--json]     (starts its own 3-master cluster)
//   const { runClusterBench } = require('./cluster'); await runClusterBench({ ops })
//
// Loads lib/ and test/helpers/redis-cluster.ts through tsx (a devDependency).
const { fork } = require('child_process');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const PAYLOAD = { user_id: 424242, role: 'admin', tenant: 'acme-corp', scopes: ['read', 'write'], iat: 1700000000 };
const TTL = 3600;

function loadTs() {
  require(require.resolve('tsx/cjs', { paths: [ROOT] }));
  return {
    cluster: require(path.join(ROOT, 'lib', 'cluster', 'index.ts')),
    helper: require(path.join(ROOT, 'test', 'helpers', 'redis-cluster.ts')),
    msgpack: require(path.join(ROOT, 'lib', 'msgpack.ts')),
  };
}

/** Runs n ops with `inFlight` at a time; seconds. */
async function timed(n, inFlight, op) {
  let next = 0;
  const t0 = process.hrtime.bigint();
  const lane = async () => {
    while (next < n) {
      const i = next++;
      await op(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, lane));
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

// ---- one process's work --------------------------------------------------------

async function workerRun({ nodes, secret, system, inFlight, ops }) {
  const { cluster, msgpack } = loadTs();
  const packed = msgpack.pack(PAYLOAD);
  const out = {};
  if (system === 'crudjt') {
    const b = await cluster.openClusterBackend({ secret_key: secret, nodes }, null);
    const tokens = new Array(ops);
    // warm-up: connections, script cache
    for (let i = 0; i < 200; i++) await b.read(await b.create(packed, TTL, null));
    out.create = await timed(ops, inFlight, async (i) => {
      tokens[i] = await b.create(packed, TTL, null);
    });
    out.read = await timed(ops, inFlight, async (i) => {
      if ((await b.read(tokens[i])) === null) throw new Error('crudjt read gave null');
    });
    await b.close();
  } else {
    const Redis = require('ioredis');
    const c = new Redis.Cluster(
      nodes.map((n) => ({ host: n.split(':')[0], port: Number(n.split(':')[1]) })),
      { enableAutoPipelining: true, scaleReads: 'master' },
    );
    const ids = new Array(ops);
    for (let i = 0; i < 200; i++) {
      const id = `sess:warm${i}:${process.pid}`;
      await c.set(id, packed, 'PX', TTL * 1000);
      await c.getBuffer(id);
    }
    const crypto = require('crypto');
    out.create = await timed(ops, inFlight, async (i) => {
      const id = `sess:${crypto.randomBytes(16).toString('base64url')}`;
      await c.set(id, packed, 'PX', TTL * 1000);
      ids[i] = id;
    });
    out.read = await timed(ops, inFlight, async (i) => {
      if ((await c.getBuffer(ids[i])) === null) throw new Error('plain GET gave null');
    });
    c.disconnect();
  }
  return out;
}

function runWorkers(procs, args) {
  return Promise.all(
    Array.from({ length: procs }, () =>
      new Promise((resolve, reject) => {
        const child = fork(__filename, ['--worker'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        child.once('message', (m) => (m.error ? reject(new Error(m.error)) : resolve(m.result)));
        child.once('exit', (code) => code !== 0 && reject(new Error(`bench worker exited ${code}`)));
        child.send(args);
      }),
    ),
  );
}

/**
 * Starts a 3-master cluster, runs every row, stops the cluster. Rows:
 * { system, op, procs, in_flight, ops, seconds, us_per_op, ops_per_s, ratio_to_plain }.
 */
async function runClusterBench(options = {}) {
  const opsPerProc = options.ops ?? 20000;
  const { helper } = loadTs();
  const rc = await helper.startRedisCluster({ masters: 3 });
  const secret = require('crypto').randomBytes(32).toString('base64');
  const rows = [];
  try {
    for (const procs of [1, 4]) {
      for (const inFlight of [1, 64]) {
        // sequential rows are slow per op: fewer of them
        const ops = inFlight === 1 ? Math.max(500, Math.floor(opsPerProc / 10)) : opsPerProc;
        const per = {};
        for (const system of ['plain-ioredis', 'crudjt']) {
          // all processes start together; per-op time from the slowest one
          const results = await runWorkers(procs, { nodes: rc.nodes, secret, system, inFlight, ops });
          for (const op of ['create', 'read']) {
            const seconds = Math.max(...results.map((r) => r[op]));
            const total = ops * procs;
            const row = {
              system, op, procs, in_flight: inFlight, ops: total, seconds: +seconds.toFixed(3),
              us_per_op: +((seconds / total) * 1e6).toFixed(2), ops_per_s: Math.round(total / seconds),
            };
            per[`${system}/${op}`] = row;
            rows.push(row);
          }
        }
        for (const op of ['create', 'read']) {
          const c = per[`crudjt/${op}`];
          c.ratio_to_plain = +(c.us_per_op / per[`plain-ioredis/${op}`].us_per_op).toFixed(2);
        }
      }
    }
  } finally {
    await rc.stop();
  }
  return rows;
}

function renderRows(rows) {
  const lines = ['| system | op | procs | in flight | ops | µs/op | ops/s | ratio to plain |', '|---|---|---:|---:|---:|---:|---:|---:|'];
  for (const r of rows) {
    lines.push(`| ${r.system} | ${r.op} | ${r.procs} | ${r.in_flight} | ${r.ops} | ${r.us_per_op} | ${r.ops_per_s} | ${r.ratio_to_plain ?? ''} |`);
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
    const i = process.argv.indexOf('--ops');
    const ops = i > 0 ? Number(process.argv[i + 1]) : undefined;
    runClusterBench({ ops }).then(
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
