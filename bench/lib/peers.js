'use strict';
// The peers the benchmark compares. Every peer has the same shape:
//
//   { id, label, note, ops: 'CRUD' | 'CR',
//     open(ctx)   -> resolves, or rejects with the reason to print as "skipped"
//     crud(n)     -> { C, R, U, D } each { seconds, bad } (or null: "X")
//     close() }
//
// crud(n) works on ctx.payloads[0..n) (create) and ctx.payloads2[0..n)
// (update), awaiting every call before the next, as an app handler would.
// `bad` counts calls whose answer was wrong (a miss, a false): it must be 0.

const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { pack, unpack } = require('./payloads');
const { timeSequential, timeConcurrent } = require('./stats');

const TTL = 3600; // seconds: every peer stores sessions with the same lifetime

function tryRequire(name) {
  try {
    return require(name);
  } catch (e) {
    throw new Error(`package '${name}' is not installed (npm install --no-save ${name}): ${e.code || e.message}`);
  }
}

function sessionId() {
  // What a session store does to name a session: 128 random bits, base64url.
  return crypto.randomBytes(16).toString('base64url');
}

// ---------------------------------------------------------------- crudjt

/** crudjt called in the master process (no gRPC hop). ctx.crudjt is the loaded module. */
function crudjtInProcess() {
  let ctx;
  return {
    id: 'crudjt',
    label: 'crudjt in-process',
    note: 'master process, store on local disk, write() per mutation + fsync every 500 ms',
    async open(c) {
      ctx = c;
      if (!ctx.crudjt) throw new Error(ctx.crudjtError || 'crudjt did not load');
    },
    async crud(n) {
      const C = ctx.crudjt;
      const P = ctx.payloads;
      const P2 = ctx.payloads2;
      const tokens = new Array(n);
      const c = await timeSequential(n, async (i) => (tokens[i] = await C.create(P[i], TTL)), (t) => typeof t === 'string');
      const r = await timeSequential(n, async (i) => C.read(tokens[i]), (x) => x !== null && x.data.user_id !== undefined);
      const u = await timeSequential(n, async (i) => C.update(tokens[i], P2[i], TTL), (x) => x === true);
      const d = await timeSequential(n, async (i) => C.delete(tokens[i]), (x) => x === true);
      return { C: c, R: r, U: u, D: d };
    },
    async close() {},
  };
}

/** crudjt from a second process over gRPC (ctx.grpcWorker is a forked client). */
function crudjtGrpc() {
  let ctx;
  return {
    id: 'crudjt-grpc',
    label: 'crudjt over gRPC',
    note: 'a child process connectToMaster() to the master in the bench process, one call in flight',
    async open(c) {
      ctx = c;
      if (!ctx.crudjt) throw new Error(ctx.crudjtError || 'crudjt did not load');
      if (!ctx.grpcWorker) throw new Error(ctx.grpcWorkerError || 'gRPC client process did not start');
    },
    async crud(n) {
      return ctx.grpcWorker.request({ cmd: 'crud', n, seed: ctx.seed, seed2: ctx.seed2, ttl: TTL });
    },
    async close() {},
  };
}

// ---------------------------------------------------------------- JWT

function jsonwebtokenPeer() {
  let jwt;
  let secret;
  let ctx;
  return {
    id: 'jsonwebtoken',
    label: 'jsonwebtoken',
    note: 'HS256, sign = C, verify = R; a JWT cannot be updated or revoked (X)',
    ops: 'CR',
    async open(c) {
      ctx = c;
      jwt = tryRequire('jsonwebtoken');
      secret = crypto.randomBytes(32);
    },
    async crud(n) {
      const P = ctx.payloads;
      const tokens = new Array(n);
      const opts = { algorithm: 'HS256', expiresIn: TTL };
      const vopts = { algorithms: ['HS256'] };
      const c = await timeSequential(n, async (i) => (tokens[i] = jwt.sign(P[i], secret, opts)), (t) => typeof t === 'string');
      const r = await timeSequential(n, async (i) => jwt.verify(tokens[i], secret, vopts), (x) => x && x.user_id !== undefined);
      return { C: c, R: r, U: null, D: null };
    },
    async close() {},
  };
}

function fastJwtPeer() {
  let signer;
  let verifier;
  let ctx;
  return {
    id: 'fast-jwt',
    label: 'fast-jwt',
    note: 'HS256, sign = C, verify = R (verifier cache off, its default); no update or revoke (X)',
    ops: 'CR',
    async open(c) {
      ctx = c;
      const { createSigner, createVerifier } = tryRequire('fast-jwt');
      const secret = crypto.randomBytes(32);
      signer = createSigner({ key: secret, algorithm: 'HS256', expiresIn: TTL * 1000 });
      verifier = createVerifier({ key: secret, algorithms: ['HS256'] });
    },
    async crud(n) {
      const P = ctx.payloads;
      const tokens = new Array(n);
      const c = await timeSequential(n, async (i) => (tokens[i] = signer(P[i])), (t) => typeof t === 'string');
      const r = await timeSequential(n, async (i) => verifier(tokens[i]), (x) => x && x.user_id !== undefined);
      return { C: c, R: r, U: null, D: null };
    },
    async close() {},
  };
}

// ---------------------------------------------------------------- Redis

/**
 * A Redis session store through ioredis: SET key msgpack EX ttl / GET +
 * decode / SET ... EX ttl XX (no revival, like crudjt's update) / DEL.
 * inflight = 1: awaited one at a time; inflight > 1: that many calls
 * outstanding on one connection with ioredis auto-pipelining.
 */
function redisPeer(inflight) {
  let client;
  let ctx;
  const pipelined = inflight > 1;
  return {
    id: pipelined ? `redis-p${inflight}` : 'redis',
    label: pipelined ? `Redis, ${inflight} in flight` : 'Redis',
    note: pipelined
      ? `ioredis enableAutoPipelining, ${inflight} calls outstanding; redis-server appendonly everysec`
      : 'ioredis, one call at a time; redis-server appendonly everysec',
    async open(c) {
      ctx = c;
      if (!ctx.redis) throw new Error(ctx.redisError || 'redis-server did not start');
      const Redis = tryRequire('ioredis');
      client = new Redis({
        host: '127.0.0.1',
        port: ctx.redis.port,
        enableAutoPipelining: pipelined,
        lazyConnect: true,
        maxRetriesPerRequest: 1,
      });
      await client.connect();
      await client.ping();
    },
    async crud(n) {
      const P = ctx.payloads;
      const P2 = ctx.payloads2;
      const keys = new Array(n);
      const run = pipelined
        ? (op, ok) => timeConcurrent(n, inflight, op, ok)
        : (op, ok) => timeSequential(n, op, ok);
      const c = await run(async (i) => client.set((keys[i] = 'sess:' + sessionId()), pack(P[i]), 'EX', TTL), (x) => x === 'OK');
      const r = await run(async (i) => {
        const b = await client.getBuffer(keys[i]);
        return b === null ? null : unpack(b);
      }, (x) => x !== null && x.user_id !== undefined);
      const u = await run(async (i) => client.set(keys[i], pack(P2[i]), 'EX', TTL, 'XX'), (x) => x === 'OK');
      const d = await run(async (i) => client.del(keys[i]), (x) => x === 1);
      return { C: c, R: r, U: u, D: d };
    },
    async close() {
      if (client) client.disconnect();
    },
  };
}

// ---------------------------------------------------------------- lmdb

/**
 * lmdb-js as a raw embedded store: putSync/get/putSync/removeSync with
 * random keys and MessagePack values (packed and unpacked here, as crudjt
 * does). noSync: the OS writes the map back (survives a process crash, not
 * a power loss). lmdb-js's default (fsync per commit) costs milliseconds
 * per awaited write on this disk: see bench/README.md.
 */
function lmdbPeer() {
  let db;
  let dir;
  let ctx;
  return {
    id: 'lmdb',
    label: 'lmdb',
    note: 'lmdb-js raw key/value (no TTL, no encryption), putSync/removeSync per op, noSync',
    async open(c) {
      ctx = c;
      const lmdb = tryRequire('lmdb');
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crudjt-bench-lmdb-'));
      db = lmdb.open({ path: path.join(dir, 'db'), encoding: 'binary', compression: false, noSync: true });
    },
    async crud(n) {
      const P = ctx.payloads;
      const P2 = ctx.payloads2;
      const keys = new Array(n);
      const c = await timeSequential(n, async (i) => db.putSync((keys[i] = sessionId()), pack(P[i])), (x) => x === true);
      const r = await timeSequential(n, async (i) => {
        const b = db.get(keys[i]);
        return b === undefined ? null : unpack(b);
      }, (x) => x !== null && x.user_id !== undefined);
      const u = await timeSequential(n, async (i) => db.putSync(keys[i], pack(P2[i])), (x) => x === true);
      const d = await timeSequential(n, async (i) => db.removeSync(keys[i]), (x) => x === true);
      return { C: c, R: r, U: u, D: d };
    },
    async close() {
      if (db) await db.close();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function allPeers() {
  return [crudjtInProcess(), crudjtGrpc(), jsonwebtokenPeer(), fastJwtPeer(), redisPeer(1), redisPeer(64), lmdbPeer()];
}

module.exports = { allPeers, TTL, sessionId };
