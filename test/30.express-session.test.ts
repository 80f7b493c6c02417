// crudjt/express-session driven through real apps: express + express-session
// with supertest (login, request, logout, expiry, sliding expiry, the
// 256-byte limit, custom genids), a drop-in store under express-session's
// own ids; the same store under fastify + @fastify/cookie + @fastify/session
// with its own ids; and the client role (connectToMaster) and the cluster
// role (connectToCluster).
import crypto from 'node:crypto';
import { expect } from 'chai';
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { CRUDJT, onCleanup, SECRET, sleep, startTestMaster } from './00.setup';
import { expectReject } from './helpers/assert';
import { useChildMaster } from './helpers/child';
import { sharedRedisCluster } from './helpers/redis-cluster';
import { currentBackend } from '../lib/config';
import CrudjtStore = require('../lib/express-session');

/** express-session's and @fastify/session's default ids: uid-safe(24), 32 base64url characters. */
const DEFAULT_SID_RE = /^[A-Za-z0-9_-]{32}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const COOKIE_SECRET = 'a test secret that is at least 32 characters long';

declare module 'express-session' {
  interface SessionData {
    user?: { id: number; name: string };
    big?: string;
  }
}

function expressApp(store: CrudjtStore, options: Partial<session.SessionOptions> = {}): express.Express {
  const app = express();
  app.set('env', 'test'); // finalhandler: no stack traces on stderr for the expected 500s
  app.use(express.json());
  app.use(session({
    store: store as unknown as session.Store,
    secret: COOKIE_SECRET,
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: 60_000, httpOnly: true },
    ...options,
  }));
  app.post('/login', (req, res, next) => {
    // regenerate against session fixation, as the express-session README advises
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = { id: req.body.id ?? 42, name: req.body.name ?? 'ada' };
      req.session.save((e) => (e ? next(e) : res.status(204).end()));
    });
  });
  app.get('/me', (req, res) => {
    if (!req.session.user) return res.status(401).json({ error: 'not logged in' });
    res.json({ user: req.session.user, sid: req.sessionID });
  });
  app.post('/big', (req, res, next) => {
    req.session.big = 'x'.repeat(300);
    req.session.save((e) => (e ? next(e) : res.status(204).end()));
  });
  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.status(204).end()));
  });
  app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ error: err.message, name: err.name });
  });
  return app;
}

/** The session id from a Set-Cookie header (s:<sid>.<signature>). */
function sidFromCookie(setCookie: string[] | string | undefined): string {
  const header = (Array.isArray(setCookie) ? setCookie : [setCookie ?? '']).find((c) => c.startsWith('connect.sid=') || c.startsWith('sessionId='));
  const value = decodeURIComponent(header!.split(';')[0].split('=')[1]);
  return value.replace(/^s:/, '').replace(/\.[^.]*$/, '');
}

const promised = <T>(fn: (cb: (e?: unknown, v?: T) => void) => void): Promise<T> =>
  new Promise<T>((resolve, reject) => fn((e, v) => (e ? reject(e) : resolve(v as T))));

/** login, request, logout through express with express-session's own ids; the session is readable as a crudjt token. */
function loginRequestLogout(store: () => CrudjtStore): void {
  it('login, request, logout with express-session\'s own ids: stored under the session id', async () => {
    const agent = request.agent(expressApp(store()));
    await agent.get('/me').expect(401);
    const login = await agent.post('/login').send({ id: 7, name: 'grace' }).expect(204);
    const sid = sidFromCookie(login.headers['set-cookie']);
    expect(sid).to.match(DEFAULT_SID_RE);
    const me = await agent.get('/me').expect(200);
    expect(me.body).to.deep.equal({ user: { id: 7, name: 'grace' }, sid });
    // stored in crudjt under that id, ttl from cookie.maxAge (60 s)
    const r = await CRUDJT.read(sid);
    expect(r?.data.user).to.deep.equal({ id: 7, name: 'grace' });
    expect(r?.metadata?.ttl).to.be.within(59, 60);
    await agent.post('/logout').expect(204);
    await agent.get('/me').expect(401);
    expect(await CRUDJT.read(sid)).to.equal(null);
  });
}

describe('crudjt/express-session (master role)', function () {
  this.timeout(60_000);
  let store: CrudjtStore;

  before(async () => {
    await startTestMaster();
    store = new CrudjtStore();
  });
  after(async () => {
    await CRUDJT.Config.shutdownServer();
  });

  loginRequestLogout(() => store);

  it('sessions of different clients are separate; login regenerates the id', async () => {
    const app = expressApp(store);
    const a = request.agent(app);
    const b = request.agent(app);
    const first = sidFromCookie((await a.post('/login').send({ id: 1, name: 'a' }).expect(204)).headers['set-cookie']);
    await b.post('/login').send({ id: 2, name: 'b' }).expect(204);
    expect((await a.get('/me').expect(200)).body.user).to.deep.equal({ id: 1, name: 'a' });
    expect((await b.get('/me').expect(200)).body.user).to.deep.equal({ id: 2, name: 'b' });
    // logging in again regenerates: the old id's session is destroyed
    const second = sidFromCookie((await a.post('/login').send({ id: 1, name: 'a2' }).expect(204)).headers['set-cookie']);
    expect(second).to.not.equal(first);
    expect(await CRUDJT.read(first)).to.equal(null);
    expect((await a.get('/me').expect(200)).body.user).to.deep.equal({ id: 1, name: 'a2' });
    await a.post('/logout').expect(204);
    await a.get('/me').expect(401);
    await b.get('/me').expect(200);
  });

  it('expiry: the token lives as long as cookie.maxAge (rounded up to whole seconds)', async () => {
    const app = expressApp(store, { cookie: { maxAge: 1500 } });
    const agent = request.agent(app);
    const login = await agent.post('/login').send({}).expect(204);
    const sid = sidFromCookie(login.headers['set-cookie']);
    await agent.get('/me').expect(200);
    expect((await CRUDJT.read(sid))?.metadata?.ttl).to.equal(2);
    await sleep(2100);
    expect(await CRUDJT.read(sid)).to.equal(null);
    // even with the (expired) cookie replayed, the session is gone
    await request(app).get('/me').set('Cookie', login.headers['set-cookie']).expect(401);
  });

  it('sliding expiry: rolling sessions touch the token on every request', async () => {
    const app = expressApp(store, { cookie: { maxAge: 2000 }, rolling: true });
    const agent = request.agent(app);
    const login = await agent.post('/login').send({}).expect(204);
    const sid = sidFromCookie(login.headers['set-cookie']);
    for (let i = 0; i < 4; i++) {
      await sleep(800);
      await agent.get('/me').expect(200);
    }
    // 3.2 s after login, 2 s cookie: alive only because each request slid it
    expect((await CRUDJT.read(sid))?.metadata?.ttl).to.be.within(1, 2);
  });

  it('a cookie without maxAge/expires (browser session) gets the store\'s ttl option (default one day)', async () => {
    const app = expressApp(new CrudjtStore({ ttl: 120 }), { cookie: { httpOnly: true } });
    const sid = sidFromCookie((await request(app).post('/login').send({}).expect(204)).headers['set-cookie']);
    expect((await CRUDJT.read(sid))?.metadata?.ttl).to.be.within(119, 120);
    const byDefault = expressApp(new CrudjtStore(), { cookie: { httpOnly: true } });
    const sid2 = sidFromCookie((await request(byDefault).post('/login').send({}).expect(204)).headers['set-cookie']);
    expect((await CRUDJT.read(sid2))?.metadata?.ttl).to.be.within(86_399, 86_400);
  });

  it('explains the 256-byte limit for an oversized session', async () => {
    const agent = request.agent(expressApp(store));
    await agent.post('/login').send({}).expect(204);
    const res = await agent.post('/big').expect(500);
    expect(res.body.name).to.equal('RangeError');
    expect(res.body.error).to.match(/is \d+ bytes of MessagePack \(its cookie included\), over crudjt's 256-byte limit per token \(session keys: user, big\)/);
    expect(res.body.error).to.match(/Keep only small identifiers|keep only small identifiers/);
    // the previous session data is unchanged
    expect((await agent.get('/me').expect(200)).body.user).to.deep.equal({ id: 42, name: 'ada' });
  });

  it('a custom genid producing UUIDs: each session is stored under its UUID', async () => {
    const app = expressApp(store, { genid: () => crypto.randomUUID() });
    const agent = request.agent(app);
    const sid = sidFromCookie((await agent.post('/login').send({ id: 5, name: 'uuid' }).expect(204)).headers['set-cookie']);
    expect(sid).to.match(UUID_RE);
    expect(CrudjtStore.tokenFor(sid)).to.equal(sid);
    expect((await CRUDJT.read(sid))?.data.user).to.deep.equal({ id: 5, name: 'uuid' });
    expect((await agent.get('/me').expect(200)).body).to.deep.equal({ user: { id: 5, name: 'uuid' }, sid });
    await agent.post('/logout').expect(204);
    expect(await CRUDJT.read(sid)).to.equal(null);
  });

  it('a custom genid whose ids are not tokens (short, ":", "."): stored under base64url(SHA-256(id))', async () => {
    let n = 0;
    const ids: string[] = [];
    const app = expressApp(store, { genid: () => { const id = `u:${process.pid}.${n++}`; ids.push(id); return id; } });
    const agent = request.agent(app);
    await agent.post('/login').send({ id: 6, name: 'short' }).expect(204);
    const sid = ids[ids.length - 1];
    const token = crypto.createHash('sha256').update(sid).digest('base64url');
    expect(CrudjtStore.tokenFor(sid)).to.equal(token);
    expect((await CRUDJT.read(token))?.data.user).to.deep.equal({ id: 6, name: 'short' });
    expect((await agent.get('/me').expect(200)).body).to.deep.equal({ user: { id: 6, name: 'short' }, sid });
    // ending a session from anywhere, by its id
    expect(await CRUDJT.delete(CrudjtStore.tokenFor(sid))).to.equal(true);
    await agent.get('/me').expect(401);
  });

  it('get/set/destroy/touch work with callbacks and promises; unknown ids are null', async () => {
    const sid = crypto.randomBytes(24).toString('base64url');
    expect(await store.get(sid)).to.equal(null);
    await promised<void>((cb) => store.set(sid, { cookie: { originalMaxAge: 5000, expires: new Date(Date.now() + 5000), httpOnly: true, path: '/' }, n: 1 }, cb));
    const got = await promised<Record<string, unknown> | null>((cb) => store.get(sid, cb));
    expect(got).to.deep.include({ n: 1 });
    expect((got as { cookie: Record<string, unknown> }).cookie).to.include({ originalMaxAge: 5000, httpOnly: true, path: '/' });
    expect(typeof (got as { cookie: { expires: unknown } }).cookie.expires).to.equal('string');
    // set replaces the whole session
    await store.set(sid, { cookie: { originalMaxAge: 5000, expires: new Date(Date.now() + 5000) }, m: 2 });
    expect(await store.get(sid)).to.not.have.property('n');
    await store.touch(sid, { cookie: { expires: new Date(Date.now() + 30_000) } });
    expect((await CRUDJT.read(sid))?.metadata?.ttl).to.be.within(29, 30);
    await promised<void>((cb) => store.destroy(sid, cb));
    expect(await store.get(sid)).to.equal(null);
    // touch of a session that is gone does nothing (and does not revive it)
    await store.touch(sid, { cookie: { maxAge: 30_000 } });
    expect(await store.get(sid)).to.equal(null);
    for (const bad of ['', 'nope', 'x'.repeat(5000), 'AAAAAAAAAAAAAAAAAAAAAA']) expect(await store.get(bad)).to.equal(null);
  });

  it('a session whose cookie has already expired is deleted by set and touch', async () => {
    const sid = crypto.randomBytes(24).toString('base64url');
    await store.set(sid, { cookie: { maxAge: 60_000 }, a: 1 });
    await store.set(sid, { cookie: { expires: new Date(Date.now() - 1000) }, a: 2 });
    expect(await store.get(sid)).to.equal(null);
    await store.set(sid, { cookie: { maxAge: 60_000 }, a: 3 });
    await store.touch(sid, { cookie: { maxAge: -5 } });
    expect(await store.get(sid)).to.equal(null);
  });

  it('a bad session id is a TypeError for set/touch/destroy (null for get), through the callback too', async () => {
    await expectReject(store.set('', { cookie: {} }), TypeError, /session id must be a non-empty string/);
    await expectReject(store.destroy(undefined as never), TypeError, /non-empty string/);
    await expectReject(store.touch(42 as never, { cookie: {} }), TypeError, /non-empty string/);
    const err = await new Promise<unknown>((resolve) => store.set('', {}, (e) => resolve(e)));
    expect(err).to.be.instanceOf(TypeError);
    expect(await store.get(null as never)).to.equal(null);
    expect(() => CrudjtStore.tokenFor('')).to.throw(TypeError);
  });

  it('rejects bad options; length/clear/all and genid/ready are absent', () => {
    expect(() => new CrudjtStore({ ttl: 0 })).to.throw(TypeError, /ttl/);
    expect(() => new CrudjtStore({ ttl: 1.5 })).to.throw(TypeError, /ttl/);
    expect(() => new CrudjtStore({ tll: 5 } as never)).to.throw(TypeError, /unknown option 'tll'/);
    expect(() => new CrudjtStore({ reserve: 5 } as never)).to.throw(TypeError, /unknown option 'reserve'/);
    const s = store as unknown as Record<string, unknown>;
    for (const name of ['length', 'clear', 'all', 'genid', 'ready']) expect(s[name], name).to.equal(undefined);
  });

  it('the store is never on the public API: CRUDJT has no put', () => {
    expect((CRUDJT as unknown as Record<string, unknown>).put).to.equal(undefined);
  });

  describe('with fastify + @fastify/cookie + @fastify/session (its own ids)', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let app: any;
    before(async () => {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const Fastify = require('fastify');
      app = Fastify();
      await app.register(require('@fastify/cookie'));
      await app.register(require('@fastify/session'), {
        store,
        secret: COOKIE_SECRET,
        saveUninitialized: false,
        cookie: { maxAge: 60_000, secure: false },
      });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      app.post('/login', async (req: any) => {
        await req.session.regenerate();
        req.session.set('user', { id: 9, name: 'linus' });
        return { ok: true };
      });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      app.get('/me', async (req: any, reply: any) => {
        const user = req.session.get('user');
        if (!user) return reply.code(401).send({ error: 'not logged in' });
        return { user, sid: req.session.sessionId };
      });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      app.post('/logout', async (req: any) => {
        await req.session.destroy();
        return { ok: true };
      });
      await app.ready();
    });
    after(async () => {
      await app.close();
    });

    it('login, request, logout, and the session lives in crudjt under its id', async () => {
      const cookieOf = (res: { headers: Record<string, unknown> }): string => {
        const h = res.headers['set-cookie'];
        return (Array.isArray(h) ? h : [String(h)]).map((c: string) => c.split(';')[0]).join('; ');
      };
      expect((await app.inject({ method: 'GET', url: '/me' })).statusCode).to.equal(401);
      const login = await app.inject({ method: 'POST', url: '/login' });
      expect(login.statusCode).to.equal(200);
      const cookie = cookieOf(login);
      const me = await app.inject({ method: 'GET', url: '/me', headers: { cookie } });
      expect(me.statusCode).to.equal(200);
      const body = JSON.parse(me.body);
      expect(body.user).to.deep.equal({ id: 9, name: 'linus' });
      expect(body.sid).to.match(DEFAULT_SID_RE);
      const r = await CRUDJT.read(CrudjtStore.tokenFor(body.sid));
      expect(r?.data.user).to.deep.equal({ id: 9, name: 'linus' });
      expect(r?.metadata?.ttl).to.be.within(59, 60);
      expect((await app.inject({ method: 'POST', url: '/logout', headers: { cookie } })).statusCode).to.equal(200);
      expect((await app.inject({ method: 'GET', url: '/me', headers: { cookie } })).statusCode).to.equal(401);
      expect(await CRUDJT.read(CrudjtStore.tokenFor(body.sid))).to.equal(null);
    });
  });
});

describe('crudjt/express-session (master role, durability sync)', function () {
  this.timeout(60_000);
  let store: CrudjtStore;
  before(async () => {
    await startTestMaster({ durability: 'sync' });
    store = new CrudjtStore();
  });
  after(async () => {
    await CRUDJT.Config.shutdownServer();
  });
  loginRequestLogout(() => store);
});

describe('crudjt/express-session (client role: connectToMaster, master in a child process)', function () {
  this.timeout(60_000);
  const master = useChildMaster();
  const store = new CrudjtStore();

  it('saves sessions through put when the client backend has it; else a clear InternalError', async function () {
    const app = expressApp(store);
    if (typeof currentBackend().put === 'function') {
      const agent = request.agent(app);
      const sid = sidFromCookie((await agent.post('/login').send({ id: 3, name: 'client' }).expect(204)).headers['set-cookie']);
      expect((await agent.get('/me').expect(200)).body.user).to.deep.equal({ id: 3, name: 'client' });
      // the master process holds it under the session id
      expect(((await master().call('read', sid)) as { data: unknown }).data).to.deep.include({ user: { id: 3, name: 'client' } });
      await agent.post('/logout').expect(204);
      expect(await master().call('read', sid)).to.equal(null);
      return;
    }
    const res = await request(app).post('/login').send({}).expect(500);
    expect(res.body.name).to.equal('InternalError');
    expect(res.body.error).to.match(/CrudjtStore can not save sessions in the client role: it needs a master with put support/);
    await expectReject(store.set(crypto.randomBytes(24).toString('base64url'), { cookie: {} }), CRUDJT.Errors.InternalError, /put support/);
  });

  it('get, touch and destroy work in the client role', async () => {
    const sid = crypto.randomBytes(24).toString('base64url');
    expect(await store.get(sid)).to.equal(null);
    await store.touch(sid, { cookie: { maxAge: 1000 } });
    await store.destroy(sid);
    // a session id that is a crudjt token of the master reads through
    const token = await CRUDJT.create({ user: { id: 4 }, cookie: { a: 60_000 } }, 60);
    expect(await store.get(token)).to.deep.equal({ user: { id: 4 }, cookie: { maxAge: 60_000 } });
    await store.touch(token, { cookie: { maxAge: 30_000 } });
    expect((await master().call('read', token)) as unknown).to.deep.include({ metadata: { ttl: 30 } });
    await store.destroy(token);
    expect(await store.get(token)).to.equal(null);
  });
});

describe('crudjt/express-session (cluster role: connectToCluster)', function () {
  this.timeout(60_000);
  const store = new CrudjtStore();
  before(async () => {
    const rc = await sharedRedisCluster();
    onCleanup(() => rc.stop());
    await CRUDJT.Config.connectToCluster({ secret_key: SECRET, nodes: rc.nodes, logger: null });
  });
  after(async () => {
    await CRUDJT.Config.shutdownServer();
  });
  loginRequestLogout(() => store);

  it('expiry and a custom genid work on the cluster', async () => {
    const app = expressApp(store, { cookie: { maxAge: 1200 }, genid: () => `c:${crypto.randomUUID()}` });
    const agent = request.agent(app);
    await agent.post('/login').send({ id: 8, name: 'redis' }).expect(204);
    expect((await agent.get('/me').expect(200)).body.user).to.deep.equal({ id: 8, name: 'redis' });
    await sleep(1400);
    await agent.get('/me').expect(401);
  });
});
