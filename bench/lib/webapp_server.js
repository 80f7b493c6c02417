'use strict';
// One web app, several session back ends: the process bench/webapp.js puts
// under load. `node webapp_server.js <variant> <json config>` prints
// "READY <port>" once it listens on a free loopback port.
//
// Every variant serves the same three routes of an app that keeps a small
// session per user (the bench payloads: user_id, role, name, ...):
//   POST /login   creates the session, answers { token } (bearer variants)
//                 or sets the session cookie (express-session variants)
//   GET  /me      authenticates the request and answers the session's data
//   POST /logout  ends the session (a real logout; JWT can not, it says so)
// Bearer variants read `Authorization: Bearer <token>`.

const crypto = require('crypto');
const os = require('os');
const path = require('path');
const fs = require('fs');
const express = require('express');
const { makePayloads } = require('./payloads');

const ROOT = path.join(__dirname, '..', '..');
const TTL = 3600;
const variant = process.argv[2];
const config = JSON.parse(process.argv[3] || '{}');
const { payloads } = makePayloads(1000, 11, 40, 200);
let nextUser = 0;
const nextPayload = () => payloads[nextUser++ % payloads.length];

function bearer(req) {
  const h = req.headers.authorization;
  return typeof h === 'string' && h.startsWith('Bearer ') ? h.slice(7) : null;
}

async function crudjtApp(app, role) {
  const CRUDJT = require(path.join(ROOT, 'dist', 'index.js'));
  if (role === 'master') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crudjt-webapp-'));
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    await CRUDJT.Config.startMaster({ secret_key: crypto.randomBytes(48).toString('base64'), store_jt_path: dir, grpc_port: 0, logger: null });
  } else {
    CRUDJT.Config.connectToMaster({ grpc_port: config.grpcPort });
  }
  app.post('/login', async (req, res) => {
    res.json({ token: await CRUDJT.create(nextPayload(), TTL) });
  });
  app.get('/me', async (req, res) => {
    const t = bearer(req);
    const s = t && (await CRUDJT.read(t));
    if (!s) return res.status(401).end();
    res.json(s.data);
  });
  app.post('/logout', async (req, res) => {
    const t = bearer(req);
    res.status(t && (await CRUDJT.delete(t)) ? 204 : 401).end();
  });
}

function fastJwtApp(app) {
  const { createSigner, createVerifier } = require('fast-jwt');
  const key = crypto.randomBytes(32).toString('base64');
  const sign = createSigner({ key, expiresIn: TTL * 1000 });
  const verify = createVerifier({ key });
  app.post('/login', (req, res) => res.json({ token: sign(nextPayload()) }));
  app.get('/me', (req, res) => {
    try {
      res.json(verify(bearer(req) || ''));
    } catch {
      res.status(401).end();
    }
  });
  // A JWT stays valid until it expires: logout can only forget it client-side.
  app.post('/logout', (req, res) => res.status(204).end());
}

function jsonwebtokenApp(app) {
  const jwt = require('jsonwebtoken');
  const key = crypto.randomBytes(32);
  app.post('/login', (req, res) => res.json({ token: jwt.sign(nextPayload(), key, { expiresIn: TTL }) }));
  app.get('/me', (req, res) => {
    try {
      res.json(jwt.verify(bearer(req) || '', key));
    } catch {
      res.status(401).end();
    }
  });
  app.post('/logout', (req, res) => res.status(204).end());
}

function redisApp(app) {
  const Redis = require('ioredis');
  const redis = new Redis({ port: config.redisPort, host: '127.0.0.1', lazyConnect: false });
  app.post('/login', async (req, res) => {
    const token = crypto.randomBytes(16).toString('base64url');
    await redis.set(`sess:${token}`, JSON.stringify(nextPayload()), 'EX', TTL);
    res.json({ token });
  });
  app.get('/me', async (req, res) => {
    const t = bearer(req);
    const s = t && (await redis.get(`sess:${t}`));
    if (!s) return res.status(401).end();
    res.type('json').send(s);
  });
  app.post('/logout', async (req, res) => {
    const t = bearer(req);
    res.status(t && (await redis.del(`sess:${t}`)) ? 204 : 401).end();
  });
}

async function expressSessionApp(app, store) {
  const session = require('express-session');
  let storeInstance;
  if (store === 'crudjt') {
    const CRUDJT = require(path.join(ROOT, 'dist', 'index.js'));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crudjt-webapp-'));
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    await CRUDJT.Config.startMaster({ secret_key: crypto.randomBytes(48).toString('base64'), store_jt_path: dir, grpc_port: 0, logger: null });
    const CrudjtStore = require(path.join(ROOT, 'dist', 'express-session.js'));
    const Store = CrudjtStore.CrudjtStore || CrudjtStore.default || CrudjtStore;
    storeInstance = new Store();
  } else {
    const { createClient } = require('redis');
    const client = createClient({ url: `redis://127.0.0.1:${config.redisPort}` });
    await client.connect();
    const mod = require('connect-redis');
    const RedisStore = mod.RedisStore || mod.default || mod;
    storeInstance = new RedisStore({ client, prefix: 'sess:' });
  }
  app.use(
    session({
      store: storeInstance,
      secret: crypto.randomBytes(32).toString('hex'),
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: TTL * 1000, httpOnly: true },
    }),
  );
  app.post('/login', (req, res) => {
    req.session.user = nextPayload();
    res.status(204).end();
  });
  app.get('/me', (req, res) => {
    if (!req.session.user) return res.status(401).end();
    res.json(req.session.user);
  });
  app.post('/logout', (req, res) => {
    if (!req.session.user) return res.status(401).end();
    req.session.destroy(() => res.status(204).end());
  });
}

async function main() {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  switch (variant) {
    case 'crudjt-master': await crudjtApp(app, 'master'); break;
    case 'crudjt-client': await crudjtApp(app, 'client'); break;
    case 'fast-jwt': fastJwtApp(app); break;
    case 'jsonwebtoken': jsonwebtokenApp(app); break;
    case 'redis': redisApp(app); break;
    case 'express-session-crudjt': await expressSessionApp(app, 'crudjt'); break;
    case 'express-session-redis': await expressSessionApp(app, 'redis'); break;
    default: throw new Error(`unknown variant ${variant}`);
  }
  app.use((err, req, res, _next) => {
    process.stderr.write(`error: ${err && err.stack}\n`);
    res.status(500).end();
  });
  const server = app.listen(0, '127.0.0.1', () => process.stdout.write(`READY ${server.address().port}\n`));
  server.keepAliveTimeout = 60000;
  process.on('SIGTERM', () => process.exit(0));
}

main().catch((e) => {
  process.stdout.write(`FAILED ${String(e && e.message).split('\n')[0]}\n`);
  process.exit(1);
});
