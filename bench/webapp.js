#!/usr/bin/env node
'use strict';
// A real web app under load: the same express app (bench/lib/webapp_server.js)
// with each session back end, driven over HTTP by autocannon from this
// process, one variant at a time on the same machine in the same run.
//
//   node bench/webapp.js [--duration 5] [--connections 32] [--only a,b] [--json bench/webapp.json]
//
// Phases per variant: 1,000 logins to make sessions (not timed), then
// `duration` seconds of GET /me (authenticate + answer the session) spread
// over those sessions, then `duration` seconds of POST /login (create a
// session), then a logout check: 50 sessions logged out, then each used
// again (a real logout answers 401; a JWT still answers 200 until it expires).
// Needs `npm run build` (dist/) and redis-server for the Redis variants
// (reported as skipped without it).

const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const autocannon = require('autocannon');
const { startRedis } = require('./lib/redis_server');

const VARIANTS = [
  { id: 'crudjt-master', label: 'crudjt (app process is the master)', auth: 'bearer' },
  { id: 'crudjt-client', label: 'crudjt (app is a gRPC client of a master process)', auth: 'bearer', needsMaster: true },
  { id: 'express-session-crudjt', label: 'express-session + crudjt store', auth: 'cookie' },
  { id: 'redis', label: 'Redis session (ioredis GET/SET EX)', auth: 'bearer', needsRedis: true },
  { id: 'express-session-redis', label: 'express-session + connect-redis', auth: 'cookie', needsRedis: true },
  { id: 'fast-jwt', label: 'JWT (fast-jwt), stateless', auth: 'bearer' },
  { id: 'jsonwebtoken', label: 'JWT (jsonwebtoken), stateless', auth: 'bearer' },
];

function parseArgs(argv) {
  const o = { duration: 5, connections: 32, only: null, json: path.join(__dirname, 'webapp.json') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--duration') o.duration = Number(argv[++i]);
    else if (a === '--connections') o.connections = Number(argv[++i]);
    else if (a === '--only') o.only = argv[++i].split(',');
    else if (a === '--json') o.json = argv[++i];
    else if (a === '-h' || a === '--help') {
      console.log('usage: node bench/webapp.js [--duration s] [--connections n] [--only id,id] [--json file]');
      console.log('variants: ' + VARIANTS.map((v) => v.id).join(', '));
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

/** Spawns a node script that prints "READY <port>" (or "FAILED why"). */
function spawnReady(script, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(script)} did not start in 30 s: ${err.trim().slice(-300)}`));
    }, 30000);
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^(READY (\d+)|FAILED (.*))$/m.exec(out);
      if (!m) return;
      clearTimeout(timer);
      if (m[2]) resolve({ child, port: Number(m[2]), stderr: () => err });
      else {
        child.kill('SIGKILL');
        reject(new Error(m[3]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${path.basename(script)} exited with ${code}: ${err.trim().slice(-300)}`));
    });
  });
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

async function login(base, auth) {
  const res = await fetch(`${base}/login`, { method: 'POST' });
  if (auth === 'cookie') {
    const cookie = res.headers.get('set-cookie');
    if (!cookie) throw new Error(`login answered ${res.status} without a cookie`);
    return { cookie: cookie.split(';')[0] };
  }
  if (res.status !== 200) throw new Error(`login answered ${res.status}`);
  const { token } = await res.json();
  return { authorization: `Bearer ${token}` };
}

async function status(base, method, route, headers) {
  const res = await fetch(`${base}${route}`, { method, headers });
  await res.arrayBuffer();
  return res.status;
}

function load(url, o, requests) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: o.connections, duration: o.duration, requests }, (err, r) => (err ? reject(err) : resolve(r)));
  });
}

function figures(r) {
  return {
    requests_per_s: r.requests.average,
    latency_p50_ms: r.latency.p50,
    latency_p99_ms: r.latency.p99,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  };
}

async function runVariant(v, o, env) {
  const cfg = {};
  let master = null;
  if (v.needsRedis) {
    if (!env.redis) return { skipped: env.redisError };
    cfg.redisPort = env.redis.port;
  }
  if (v.id.includes('crudjt') && !fs.existsSync(path.join(__dirname, '..', 'dist', 'index.js'))) return { skipped: 'dist/ missing: run npm run build' };
  if (v.id === 'express-session-crudjt' && !fs.existsSync(path.join(__dirname, '..', 'dist', 'express-session.js'))) {
    return { skipped: 'dist/express-session.js missing' };
  }
  if (v.needsMaster) {
    master = await spawnReady(path.join(__dirname, 'lib', 'webapp_master.js'), []);
    cfg.grpcPort = master.port;
  }
  let server;
  try {
    server = await spawnReady(path.join(__dirname, 'lib', 'webapp_server.js'), [v.id, JSON.stringify(cfg)]);
  } catch (e) {
    if (master) await stop(master.child);
    return { skipped: e.message };
  }
  const base = `http://127.0.0.1:${server.port}`;
  try {
    const sessions = [];
    for (let i = 0; i < 1000; i++) sessions.push(await login(base, v.auth));
    if ((await status(base, 'GET', '/me', sessions[0])) !== 200) throw new Error('GET /me with a fresh session was refused');
    // One prebuilt request per session (autocannon cycles through them on
    // every connection): a setupRequest callback would make the load
    // generator, not the app, the bottleneck.
    const me = figures(await load(base, o, sessions.map((headers) => ({ method: 'GET', path: '/me', headers }))));
    const loginFig = figures(await load(base, o, [{ method: 'POST', path: '/login' }]));
    let stillValid = 0;
    for (let i = 0; i < 50; i++) {
      await status(base, 'POST', '/logout', sessions[i]);
      if ((await status(base, 'GET', '/me', sessions[i])) === 200) stillValid++;
    }
    return { me, login: loginFig, logout_still_valid: stillValid, logout_checked: 50 };
  } catch (e) {
    return { failed: e.message, stderr: server.stderr().slice(-500) };
  } finally {
    await stop(server.child);
    if (master) await stop(master.child);
  }
}

function fmt(x, digits = 0) {
  return x === undefined || x === null ? '–' : Number(x).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const env = {};
  try {
    env.redis = await startRedis();
  } catch (e) {
    env.redisError = `redis-server did not start: ${e.message}`;
  }
  const results = { started_at: new Date().toISOString(), options: o, loadavg_start: require('os').loadavg(), variants: {} };
  try {
    for (const v of VARIANTS) {
      if (o.only && !o.only.includes(v.id)) continue;
      process.stderr.write(`webapp: ${v.id} ...\n`);
      results.variants[v.id] = { label: v.label, ...(await runVariant(v, o, env)) };
    }
  } finally {
    if (env.redis) await env.redis.stop();
  }
  results.loadavg_end = require('os').loadavg();
  const rows = Object.entries(results.variants);
  const best = (phase, id) => {
    const peers = rows.filter(([k, r]) => !k.startsWith('crudjt') && !k.endsWith('-crudjt') && r[phase]).map(([, r]) => r[phase].requests_per_s);
    return peers.length ? Math.max(...peers) : null;
  };
  const lines = [
    `Web app under load: express 5, ${o.connections} connections, ${o.duration} s per phase, autocannon in the same machine (2 cores).`,
    '',
    '| back end | GET /me req/s | p50 / p99 ms | POST /login req/s | p50 / p99 ms | logout real? |',
    '|---|---:|---:|---:|---:|---|',
  ];
  for (const [, r] of rows) {
    if (r.skipped || r.failed) {
      lines.push(`| ${r.label} | ${r.skipped ? 'skipped: ' + r.skipped : 'failed: ' + r.failed} | | | | |`);
      continue;
    }
    const real = r.logout_still_valid === 0 ? 'yes (401 after logout)' : `no (${r.logout_still_valid}/${r.logout_checked} still accepted)`;
    lines.push(
      `| ${r.label} | ${fmt(r.me.requests_per_s)} | ${r.me.latency_p50_ms} / ${r.me.latency_p99_ms} | ` +
        `${fmt(r.login.requests_per_s)} | ${r.login.latency_p50_ms} / ${r.login.latency_p99_ms} | ${real} |`,
    );
  }
  const cm = results.variants['crudjt-master'];
  if (cm && cm.me) {
    const bm = best('me');
    const bl = best('login');
    lines.push('');
    if (bm) lines.push(`crudjt master GET /me: ${fmt(cm.me.requests_per_s / bm, 2)}x the best non-crudjt row's req/s.`);
    if (bl) lines.push(`crudjt master POST /login: ${fmt(cm.login.requests_per_s / bl, 2)}x the best non-crudjt row's req/s.`);
  }
  console.log(lines.join('\n'));
  fs.writeFileSync(o.json, JSON.stringify(results, null, 2));
  process.stderr.write(`webapp: wrote ${o.json}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
