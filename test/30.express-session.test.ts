// crudjt/express-session driven through real apps: express + express-session
// with supertest (login, request, logout, expiry, sliding expiry, the
// 256-byte limit, ids the store did not issue), and the same store under
// fastify + @fastify/cookie + @fastify/session.
import { expect } from 'chai';
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { CRUDJT, sleep, startTestMaster } from './00.setup';
import CrudjtStore = require('../lib/express-session');

const TOKEN_RE = /^[A-Za-z0-9_-]{22}$/;
const SECRET = 'a test secret that is at least 32 characters long';

declare module 'express-session' {
  interface SessionData {
    user?: { id: number; name: string };
    big?: string;
  }
}

function expressApp(store: CrudjtStore, options: Partial<session.SessionOptions> = {}): express.Express {
  const app = express();
  app.use(express.json());
  app.use(session({
    store: store as unknown as session.Store,
    genid: store.genid,
    secret: SECRET,
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

/** The session token from a Set-Cookie header (s:<token>.<signature>). */
function tokenFromCookie(setCookie: string[] | string | undefined): string {
  const header = (Array.isArray(setCookie) ? setCookie : [setCookie ?? '']).find((c) => c.startsWith('connect.sid=') || c.startsWith('sessionId='));
  const value = decodeURIComponent(header!.split(';')[0].split('=')[1]);
  return value.replace(/^s:/, '').split('.')[0];
}

describe('crudjt/express-session', function () {
  this.timeout(60_000);
  let store: CrudjtStore;

  before(async () => {
    await startTestMaster();
    store = new CrudjtStore({ reserve: 16 });
    await store.ready();
  });
  after(async () => {
    await CRUDJT.Config.shutdownServer();
  });

  it('login, request, logout with a real express app; the session id is a crudjt token', async () => {
    const agent = request.agent(expressApp(store));
    await agent.get('/me').expect(401);
    const login = await agent.post('/login').send({ id: 7, name: 'grace' }).expect(204);
    const token = tokenFromCookie(login.headers['set-cookie']);
    expect(token).to.match(TOKEN_RE);
    const me = await agent.get('/me').expect(200);
    expect(me.body).to.deep.equal({ user: { id: 7, name: 'grace' }, sid: token });
    // stored in crudjt under that token, ttl from cookie.maxAge (60 s)
    const r = await CRUDJT.read(token);
    expect(r?.data.user).to.deep.equal({ id: 7, name: 'grace' });
    expect(r?.metadata?.ttl).to.be.within(59, 60);
    await agent.post('/logout').expect(204);
    await agent.get('/me').expect(401);
    expect(await CRUDJT.read(token)).to.equal(null);
  });

  it('sessions of different clients are separate', async () => {
    const app = expressApp(store);
    const a = request.agent(app);
    const b = request.agent(app);
    await a.post('/login').send({ id: 1, name: 'a' }).expect(204);
    await b.post('/login').send({ id: 2, name: 'b' }).expect(204);
    expect((await a.get('/me').expect(200)).body.user).to.deep.equal({ id: 1, name: 'a' });
    expect((await b.get('/me').expect(200)).body.user).to.deep.equal({ id: 2, name: 'b' });
    await a.post('/logout').expect(204);
    await a.get('/me').expect(401);
    await b.get('/me').expect(200);
  });

  it('expiry: the token lives as long as cookie.maxAge (rounded up to whole seconds)', async () => {
    const app = expressApp(store, { cookie: { maxAge: 1500 } });
    const agent = request.agent(app);
    const login = await agent.post('/login').send({}).expect(204);
    const token = tokenFromCookie(login.headers['set-cookie']);
    await agent.get('/me').expect(200);
    expect((await CRUDJT.read(token))?.metadata?.ttl).to.equal(2);
    await sleep(2100);
    expect(await CRUDJT.read(token)).to.equal(null);
    // even with the (expired) cookie replayed, the session is gone
    await request(app).get('/me').set('Cookie', login.headers['set-cookie']).expect(401);
  });

  it('sliding expiry: rolling sessions touch the token on every request', async () => {
    const app = expressApp(store, { cookie: { maxAge: 2000 }, rolling: true });
    const agent = request.agent(app);
    const login = await agent.post('/login').send({}).expect(204);
    const token = tokenFromCookie(login.headers['set-cookie']);
    for (let i = 0; i < 4; i++) {
      await sleep(800);
      await agent.get('/me').expect(200);
    }
    // 3.2 s after login, 2 s cookie: alive only because each request slid it
    expect((await CRUDJT.read(token))?.metadata?.ttl).to.be.within(1, 2);
  });

  it('explains the 256-byte limit for an oversized session', async () => {
    const agent = request.agent(expressApp(store));
    await agent.post('/login').send({}).expect(204);
    const res = await agent.post('/big').expect(500);
    expect(res.body.name).to.equal('RangeError');
    expect(res.body.error).to.match(/over crudjt's 256-byte limit per token \(session keys: user, big\)/);
    expect(res.body.error).to.match(/Keep only small identifiers/);
    // the previous session data is unchanged
    expect((await agent.get('/me').expect(200)).body.user).to.deep.equal({ id: 42, name: 'ada' });
  });

  it('a session id the store did not issue gets a clear error (genid: store.genid is needed)', async () => {
    const app = expressApp(store, { genid: undefined });
    const res = await request(app).post('/login').send({}).expect(500);
    expect(res.body.error).to.match(/was not issued by this store: pass genid: store.genid/);
  });

  it('a revoked session is not re-created by a later save', async () => {
    const agent = request.agent(expressApp(store));
    const login = await agent.post('/login').send({}).expect(204);
    const token = tokenFromCookie(login.headers['set-cookie']);
    expect(await CRUDJT.delete(token)).to.equal(true);
    await agent.get('/me').expect(401);
    await new Promise<void>((resolve, reject) => store.set(token, { cookie: { originalMaxAge: 60000 }, user: { id: 1 } }, (e) => (e ? reject(e) : resolve())));
    expect(await CRUDJT.read(token)).to.equal(null);
  });

  it('get/set/destroy/touch work with callbacks and promises; unknown ids are null', async () => {
    const sid = store.genid();
    expect(sid).to.match(TOKEN_RE);
    expect(await store.get(sid), 'a reserved id is no session yet').to.equal(null);
    await store.set(sid, { cookie: { originalMaxAge: 5000, expires: new Date(Date.now() + 5000), httpOnly: true, path: '/' }, n: 1 });
    const got = await new Promise((resolve, reject) => store.get(sid, (e, v) => (e ? reject(e) : resolve(v))));
    expect(got).to.deep.include({ n: 1 });
    expect((got as { cookie: Record<string, unknown> }).cookie).to.include({ originalMaxAge: 5000, httpOnly: true, path: '/' });
    await store.touch(sid, { cookie: { expires: new Date(Date.now() + 30_000) } });
    expect((await CRUDJT.read(sid))?.metadata?.ttl).to.be.within(29, 30);
    await store.destroy(sid);
    expect(await store.get(sid)).to.equal(null);
    for (const bad of ['', 'nope', 'x'.repeat(5000), 'AAAAAAAAAAAAAAAAAAAAAA']) expect(await store.get(bad)).to.equal(null);
  });

  it('hands out each id once and refills the reserve', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      if (i % 8 === 0) await store.ready();
      seen.add(store.genid());
    }
    expect(seen.size).to.equal(40);
  });

  it('rejects bad options', () => {
    expect(() => new CrudjtStore({ ttl: 0 })).to.throw(TypeError, /ttl/);
    expect(() => new CrudjtStore({ reserve: 0 })).to.throw(TypeError, /reserve/);
    expect(() => new CrudjtStore({ tll: 5 } as never)).to.throw(TypeError, /unknown option 'tll'/);
  });

  describe('with fastify + @fastify/cookie + @fastify/session', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let app: any;
    before(async () => {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const Fastify = require('fastify');
      app = Fastify();
      await app.register(require('@fastify/cookie'));
      await app.register(require('@fastify/session'), {
        store,
        idGenerator: store.genid,
        secret: SECRET,
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
      expect(body.sid).to.match(TOKEN_RE);
      expect((await CRUDJT.read(body.sid))?.data.user).to.deep.equal({ id: 9, name: 'linus' });
      expect((await app.inject({ method: 'POST', url: '/logout', headers: { cookie } })).statusCode).to.equal(200);
      expect((await app.inject({ method: 'GET', url: '/me', headers: { cookie } })).statusCode).to.equal(401);
      expect(await CRUDJT.read(body.sid)).to.equal(null);
    });
  });
});
