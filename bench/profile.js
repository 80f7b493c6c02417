#!/usr/bin/env node
'use strict';
// Where does an in-process crudjt call spend its time?
//
//   node bench/profile.js [--ops N] [--top K] [--cache on|off]
//
// Starts a master on a temporary store, then for each of C, R, U, D runs N
// calls awaited one at a time under the V8 sampling profiler (inspector,
// 50 us interval) and prints the functions with the most self time. Time
// spent inside the native addon is charged to the JS function that called
// it (e.g. the binding's create), and "(garbage collector)" / "(program)"
// are V8's own buckets. For a breakdown inside C++, run the engine's
// store_bench under perf (see bench/README.md).

const crypto = require('crypto');
const fs = require('fs');
const inspector = require('inspector');
const os = require('os');
const path = require('path');
const { makePayloads } = require('./lib/payloads');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

const N = Number(arg('--ops', 40000));
const TOP = Number(arg('--top', 18));
const CACHE = arg('--cache', 'on') !== 'off';

function post(session, method, params) {
  return new Promise((resolve, reject) => session.post(method, params || {}, (err, res) => (err ? reject(err) : resolve(res))));
}

const NATIVE_FRAME_NAMES = new Set(['RecordCodec', 'NativeStore']);

function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dts = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const dt = i + 1 < dts.length ? dts[i + 1] : 0;
    const f = node.callFrame;
    const where = f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : '';
    // V8 names every N-API callback frame after one class template of the
    // addon (it showed as `RecordCodec` for NativeStore methods): call it
    // what it is, the native call (binding + engine).
    const native = !f.url && NATIVE_FRAME_NAMES.has(f.functionName);
    const key = native ? '(native addon call)' : `${f.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) || 0) + dt);
  }
  const total = [...self.values()].reduce((s, x) => s + x, 0);
  return { total, rows: [...self.entries()].sort((a, b) => b[1] - a[1]) };
}

async function main() {
  const CRUDJT = require(path.join(__dirname, '..'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crudjt-bench-profile-'));
  const session = new inspector.Session();
  session.connect();
  try {
    await CRUDJT.Config.startMaster({
      secret_key: crypto.randomBytes(48).toString('base64'),
      store_jt_path: dir,
      grpc_host: '127.0.0.1',
      grpc_port: 0,
      logger: null,
      cache: CACHE,
    });
    const P = makePayloads(N, 1).payloads;
    const P2 = makePayloads(N, 2).payloads;
    const tokens = new Array(N);
    const phases = {
      C: async (i) => (tokens[i] = await CRUDJT.create(P[i], 3600)),
      R: async (i) => CRUDJT.read(tokens[i]),
      U: async (i) => CRUDJT.update(tokens[i], P2[i], 3600),
      D: async (i) => CRUDJT.delete(tokens[i]),
    };
    // Warm up (JIT) on a separate set of tokens.
    const warm = Math.min(N, 5000);
    for (const op of ['C', 'R', 'U', 'D']) for (let i = 0; i < warm; i++) await phases[op](i);
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.setSamplingInterval', { interval: 50 });
    for (const op of ['C', 'R', 'U', 'D']) {
      await post(session, 'Profiler.start');
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N; i++) await phases[op](i);
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const { profile } = await post(session, 'Profiler.stop');
      const { total, rows } = selfTimes(profile);
      console.log(`\n## ${op}: ${N} calls in ${secs.toFixed(3)} s = ${((secs / N) * 1e6).toFixed(2)} us/call (cache ${CACHE ? 'on' : 'off'})`);
      console.log('| self % | us/call | function |\n|---:|---:|---|');
      for (const [k, us] of rows.slice(0, TOP)) {
        console.log(`| ${((100 * us) / total).toFixed(1)} | ${(us / N).toFixed(2)} | \`${k}\` |`);
      }
    }
  } finally {
    await CRUDJT.Config.shutdownServer().catch(() => {});
    session.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
