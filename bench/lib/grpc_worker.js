'use strict';
// A crudjt client process for the benchmark (forked by bench/run.js).
// It connects to the master in the parent over gRPC and runs what the parent
// asks over IPC, replying { id, ok: true, result } or { id, ok: false, error }.
//
//   { cmd: 'connect', host, port }
//   { cmd: 'crud', n, seed, seed2, ttl }       -> { C, R, U, D } as in peers.js
//   { cmd: 'noop', port, n, inflight }  -> { seconds, ops }: ReadToken calls
//        on the plain grpc-js no-op server (grpc_noop.js), the baseline
//   { cmd: 'tput', op: 'C'|'R'|'D', n, inflight, seed, ttl }
//        prepares, replies 'ready', then waits for { cmd: 'go' } and replies
//        { t0, t1, ops, bad } (t0/t1: wall-clock ms, comparable across processes)

const path = require('path');
const { makePayloads } = require('./payloads');
const { timeSequential, timeConcurrent, wallMs } = require('./stats');

const ROOT = path.join(__dirname, '..', '..');
let CRUDJT = null;
const payloadCache = new Map();
let tputTokens = [];
let pendingGo = null;

function payloadsFor(seed, n) {
  const key = `${seed}:${n}`;
  if (!payloadCache.has(key)) payloadCache.set(key, makePayloads(n, seed).payloads);
  return payloadCache.get(key);
}

async function crud({ n, seed, seed2, ttl }) {
  const P = payloadsFor(seed, n);
  const P2 = payloadsFor(seed2, n);
  const tokens = new Array(n);
  const c = await timeSequential(n, async (i) => (tokens[i] = await CRUDJT.create(P[i], ttl)), (t) => typeof t === 'string');
  const r = await timeSequential(n, async (i) => CRUDJT.read(tokens[i]), (x) => x !== null && x.data.user_id !== undefined);
  const u = await timeSequential(n, async (i) => CRUDJT.update(tokens[i], P2[i], ttl), (x) => x === true);
  const d = await timeSequential(n, async (i) => CRUDJT.delete(tokens[i]), (x) => x === true);
  return { C: c, R: r, U: u, D: d };
}

async function tput({ op, n, inflight, seed, ttl }, ready) {
  let fn;
  let ok;
  if (op === 'C') {
    const P = payloadsFor(seed, n);
    tputTokens = new Array(n);
    fn = async (i) => (tputTokens[i] = await CRUDJT.create(P[i], ttl));
    ok = (t) => typeof t === 'string';
  } else if (op === 'R') {
    fn = async (i) => CRUDJT.read(tputTokens[i]);
    ok = (x) => x !== null;
  } else if (op === 'D') {
    fn = async (i) => CRUDJT.delete(tputTokens[i]);
    ok = (x) => x === true;
  } else {
    throw new Error(`unknown op ${op}`);
  }
  const go = new Promise((resolve) => {
    pendingGo = resolve;
  });
  ready();
  await go;
  const t0 = wallMs();
  const res = inflight > 1 ? await timeConcurrent(n, inflight, fn, ok) : await timeSequential(n, fn, ok);
  const t1 = wallMs();
  return { t0, t1, ops: n, bad: res.bad, seconds: res.seconds };
}

process.on('message', async (msg) => {
  if (msg.cmd === 'go') {
    if (pendingGo) {
      const g = pendingGo;
      pendingGo = null;
      g();
    }
    return;
  }
  const reply = (body) => process.send({ id: msg.id, ...body });
  try {
    let result;
    if (msg.cmd === 'connect') {
      CRUDJT = require(ROOT);
      CRUDJT.Config.connectToMaster({ grpc_host: msg.host, grpc_port: msg.port, deadline_ms: 30000 });
      // Open the channel before anything is timed.
      const t = await CRUDJT.create({ warm: 1 }, 60);
      await CRUDJT.read(t);
      await CRUDJT.delete(t);
      result = { pid: process.pid };
    } else if (msg.cmd === 'noop') {
      const { noopClient } = require('./grpc_noop');
      const c = noopClient(msg.port);
      // grpc-js warms up slowly on a busy machine: 3,000 calls before timing.
      for (let i = 0; i < 3000; i++) await c.call();
      const res = msg.inflight > 1 ? await timeConcurrent(msg.n, msg.inflight, () => c.call()) : await timeSequential(msg.n, () => c.call());
      c.close();
      result = { seconds: res.seconds, ops: msg.n };
    } else if (msg.cmd === 'crud') {
      result = await crud(msg);
    } else if (msg.cmd === 'tput') {
      result = await tput(msg, () => process.send({ id: msg.id, ready: true }));
    } else if (msg.cmd === 'exit') {
      try {
        await CRUDJT?.Config.shutdownServer();
      } catch {
        // closing a client channel cannot lose anything
      }
      reply({ ok: true, result: null });
      setTimeout(() => process.exit(0), 20);
      return;
    } else {
      throw new Error(`unknown command ${msg.cmd}`);
    }
    reply({ ok: true, result });
  } catch (e) {
    reply({ ok: false, error: `${e && e.name}: ${e && e.message}` });
  }
});

process.on('disconnect', () => process.exit(0));
