// A small express app whose sessions live in crudjt.
//
//   npm run build && node examples/express/server.js
//   curl -i -c jar -X POST localhost:3000/login -H 'content-type: application/json' -d '{"user":"ada"}'
//   curl -b jar localhost:3000/me
//   curl -b jar -X POST localhost:3000/logout
//
// From an installed package, require('crudjt') and require('crudjt/express-session').
'use strict';
const crypto = require('node:crypto');
const os = require('node:os');
const path = require('node:path');
const express = require('express');
const session = require('express-session');
const CRUDJT = require('../../dist/index.js');
const CrudjtStore = require('../../dist/express-session.js');

const PORT = Number(process.env.PORT || 3000);

async function main() {
  // In production: a fixed key (openssl rand -base64 48) and a persistent store
  // path; several hosts: CRUDJT.Config.connectToCluster() (doc/cluster.md).
  // (connectToMaster() clients can save sessions once the wire has put: doc/sessions.md.)
  await CRUDJT.Config.startMaster({
    secret_key: process.env.CRUDJT_SECRET_KEY || crypto.randomBytes(48).toString('base64'),
    store_jt_path: process.env.CRUDJT_STORE_JT_PATH || path.join(os.tmpdir(), 'crudjt-express-example'),
    grpc_port: 0,
  });

  const app = express();
  app.use(express.json());
  app.use(
    session({
      store: new CrudjtStore(), // drop-in: sessions stored under express-session's own ids
      secret: process.env.SESSION_SECRET || crypto.randomBytes(32).toString('hex'),
      resave: false,
      saveUninitialized: false,
      rolling: true, // sliding expiry: every request renews the cookie and the token
      cookie: { maxAge: 30 * 60 * 1000, httpOnly: true, sameSite: 'lax' },
    }),
  );

  app.post('/login', (req, res, next) => {
    const user = String((req.body && req.body.user) || 'ada').slice(0, 40);
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = user; // keep sessions small: 256 bytes of MessagePack at most
      req.session.save((e) => (e ? next(e) : res.json({ logged_in: user })));
    });
  });

  app.get('/me', (req, res) => {
    if (!req.session.user) return res.status(401).json({ error: 'not logged in' });
    res.json({ user: req.session.user });
  });

  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.json({ logged_out: true })));
  });

  // A one-time link (silenceRead = 1: the first read consumes it, atomically).
  app.post('/magic-link', async (req, res, next) => {
    try {
      const token = await CRUDJT.create({ user: req.session.user || 'guest' }, 900, 1);
      res.json({ link: `/magic/${token}` });
    } catch (e) {
      next(e);
    }
  });
  app.get('/magic/:token', async (req, res, next) => {
    try {
      const r = await CRUDJT.read(req.params.token);
      if (!r) return res.status(410).json({ error: 'used or expired' });
      res.json({ welcome: r.data.user });
    } catch (e) {
      next(e);
    }
  });

  const server = app.listen(PORT, () => console.log(`example listening on http://localhost:${server.address().port}`));
  const stop = () => server.close(() => CRUDJT.Config.shutdownServer().then(() => process.exit(0)));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
