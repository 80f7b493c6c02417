// The SPEC's rules for create/read/update/delete as reusable suites: each
// is run once in the master role (2x files) and once in the client role
// (4x files), so both roles answer and fail alike.
import { expect } from 'chai';
import { CRUDJT, sleep } from '../00.setup';
import { callAsync, expectReject } from './assert';

const TOKEN_RE = /^[A-Za-z0-9_-]{22}$/;
const TOKEN_MSG = 'token must be a non-empty String';

class Point {
  constructor(public x = 1) {}
}

/** Values that are not a plain object: 'Must be a Hash (Object)'. */
export const NOT_HASHES: Array<[string, unknown]> = [
  ['null', null],
  ['undefined', undefined],
  ['an array', [1, 2]],
  ['a string', 'abc'],
  ['a number', 42],
  ['a Buffer', Buffer.from('ab')],
  ['a Map', new Map([['a', 1]])],
  ['a class instance', new Point()],
  ['a Date', new Date()],
];

/** Bad ttl / silenceRead values, with the error classes allowed. */
export const BAD_LIMITS: Array<[string, unknown]> = [
  ['0', 0],
  ['a negative number', -1],
  ['a fraction', 1.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['a numeric string', '5'],
  ['2**62', 2 ** 62],
  ['a bigint', 10n],
  ['an object', {}],
  ['true', true],
];

export const BAD_TOKENS: Array<[string, unknown]> = [
  ['an empty string', ''],
  ['a number', 123],
  ['null', null],
  ['undefined', undefined],
  ['an object', {}],
  ['a Buffer', Buffer.from('abc')],
];

/** Strings that are not tokens of this store: not errors, just absent. */
export const UNKNOWN_TOKENS: Array<[string, string]> = [
  ['a well-formed unknown token', 'AAAAAAAAAAAAAAAAAAAAAA'],
  ['a short string', 'x'],
  ['non-base64url characters', '!!!***???'],
  ['unicode', 'токен🔑'],
  ['a 10 KB string', 'a'.repeat(10 * 1024)],
];

/** {a: 'x' * n} packs to n + 5 bytes (fixmap, fixstr 'a', str8 header). */
export function dataOfSize(bytes: number): Record<string, string> {
  return { a: 'x'.repeat(bytes - 5) };
}

function deepData(depth: number): Record<string, unknown> {
  let d: Record<string, unknown> = { v: 1 };
  for (let i = 0; i < depth; i++) d = { a: d };
  return d;
}

/** Shared argument checks for create() and update() data and limits. */
function dataAndLimitRules(call: (data: unknown, ttl?: unknown, silenceRead?: unknown) => Promise<unknown>): void {
  for (const [label, value] of NOT_HASHES) {
    it(`rejects ${label} as data with TypeError 'Must be a Hash (Object)'`, async () => {
      await expectReject(call(value), TypeError, 'Must be a Hash (Object)');
    });
  }

  it("rejects an empty object with TypeError 'Hash can not be empty'", async () => {
    await expectReject(call({}), TypeError, 'Hash can not be empty');
  });

  it('accepts data of exactly 256 bytes of MessagePack', async () => {
    const r = await call(dataOfSize(256));
    expect(r).to.satisfy((v: unknown) => typeof v === 'string' || typeof v === 'boolean');
  });

  it("rejects data of 257 bytes with RangeError 'Hash can not be bigger than 256 bytesize'", async () => {
    await expectReject(call(dataOfSize(257)), RangeError, 'Hash can not be bigger than 256 bytesize');
  });

  it('rejects data with many small keys over 256 bytes with RangeError', async () => {
    const big: Record<string, number> = {};
    for (let i = 0; i < 1000; i++) big[`k${i}`] = i;
    await expectReject(call(big), RangeError, 'Hash can not be bigger than 256 bytesize');
  });

  it('rejects cyclic data with a TypeError (no stack overflow)', async () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    await expectReject(call(cyclic), TypeError, /circular/);
  });

  it('rejects data nested 1000 levels deep with a TypeError (no stack overflow)', async () => {
    await expectReject(call(deepData(1000)), TypeError, /nested/);
  });

  it('rejects functions and symbols inside data with a TypeError', async () => {
    await expectReject(call({ f: () => 1 }), TypeError);
    await expectReject(call({ s: Symbol('x') }), TypeError);
  });

  for (const [label, value] of BAD_LIMITS) {
    it(`rejects ttl = ${label} with a TypeError/RangeError naming ttl`, async () => {
      await expectReject(call({ a: 1 }, value), [TypeError, RangeError], /^ttl /);
    });
    it(`rejects silenceRead = ${label} with a TypeError/RangeError naming silenceRead`, async () => {
      await expectReject(call({ a: 1 }, null, value), [TypeError, RangeError], /^silenceRead /);
    });
  }

  it('never throws synchronously, even for bad arguments', async () => {
    await expectReject(callAsync(() => call(null) as Promise<unknown>), TypeError);
  });
}

export function createBehaviour(): void {
  it('returns a 22-character base64url token', async () => {
    const token = await CRUDJT.create({ user_id: 42, role: 11 });
    expect(token).to.match(TOKEN_RE);
  });

  it('returns a different token every time', async () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 50; i++) tokens.add(await CRUDJT.create({ i }));
    expect(tokens.size).to.equal(50);
  });

  it('round-trips strings, numbers, booleans, null, arrays and nested objects', async () => {
    const data = { s: 'héllo', i: -7, f: 1.25, big: 2 ** 40, t: true, n: null, arr: [1, 'two', [3]], o: { p: { q: 'r' } } };
    const token = await CRUDJT.create(data);
    const r = await CRUDJT.read(token);
    expect(r).to.deep.equal({ data });
  });

  it('gives keys back as strings', async () => {
    const token = await CRUDJT.create({ 1: 'one', 2: 'two' });
    const r = await CRUDJT.read(token);
    expect(r!.data).to.deep.equal({ '1': 'one', '2': 'two' });
    expect(Object.keys(r!.data)).to.deep.equal(['1', '2']);
  });

  it('accepts null and undefined as "no limit"', async () => {
    const a = await CRUDJT.create({ a: 1 }, null, null);
    const b = await CRUDJT.create({ a: 1 }, undefined, undefined);
    expect(await CRUDJT.read(a)).to.deep.equal({ data: { a: 1 } });
    expect(await CRUDJT.read(b)).to.deep.equal({ data: { a: 1 } });
  });

  it('accepts the largest ttl and silenceRead', async () => {
    const maxTtl = Math.floor(Number.MAX_SAFE_INTEGER / 1000);
    const token = await CRUDJT.create({ a: 1 }, maxTtl, Number.MAX_SAFE_INTEGER);
    const r = await CRUDJT.read(token);
    expect(r!.metadata!.silence_read).to.equal(Number.MAX_SAFE_INTEGER - 1);
    expect(r!.metadata!.ttl).to.be.within(maxTtl - 2, maxTtl);
  });

  it('rejects ttl one past the largest with RangeError', async () => {
    const maxTtl = Math.floor(Number.MAX_SAFE_INTEGER / 1000);
    await expectReject(CRUDJT.create({ a: 1 }, maxTtl + 1), RangeError, /^ttl /);
  });

  dataAndLimitRules((data, ttl, silenceRead) => CRUDJT.create(data as never, ttl as never, silenceRead as never));
}

export function readBehaviour(): void {
  it('gives { data } without metadata when no limit is set', async () => {
    const token = await CRUDJT.create({ user_id: 42 });
    const r = await CRUDJT.read(token);
    expect(r).to.deep.equal({ data: { user_id: 42 } });
    expect(r).to.not.have.property('metadata');
  });

  it('gives { metadata: { ttl }, data } when only ttl is set', async () => {
    const token = await CRUDJT.create({ a: 1 }, 60);
    expect(await CRUDJT.read(token)).to.deep.equal({ metadata: { ttl: 60 }, data: { a: 1 } });
  });

  it('gives { metadata: { silence_read }, data } when only silenceRead is set', async () => {
    const token = await CRUDJT.create({ a: 1 }, null, 10);
    expect(await CRUDJT.read(token)).to.deep.equal({ metadata: { silence_read: 9 }, data: { a: 1 } });
  });

  it('gives both limits when both are set', async () => {
    const token = await CRUDJT.create({ a: 1 }, 3600, 10);
    expect(await CRUDJT.read(token)).to.deep.equal({ metadata: { ttl: 3600, silence_read: 9 }, data: { a: 1 } });
  });

  it('counts silence_read down 5,4,3,2,1,0 then null for silenceRead 6', async () => {
    const token = await CRUDJT.create({ a: 1 }, null, 6);
    const seen: Array<number | null> = [];
    for (let i = 0; i < 7; i++) {
      const r = await CRUDJT.read(token);
      seen.push(r === null ? null : r.metadata!.silence_read!);
    }
    expect(seen).to.deep.equal([5, 4, 3, 2, 1, 0, null]);
  });

  it('reports ttl 5 at once for ttl 5', async () => {
    const token = await CRUDJT.create({ a: 1 }, 5);
    expect((await CRUDJT.read(token))!.metadata).to.deep.equal({ ttl: 5 });
  });

  it('counts ttl down in whole seconds, never 0, then null (ttl 2: 2, 1, null)', async function () {
    this.timeout(10000);
    const token = await CRUDJT.create({ a: 1 }, 2);
    const start = Date.now();
    expect((await CRUDJT.read(token))!.metadata!.ttl).to.equal(2);
    await sleep(1050 - (Date.now() - start));
    expect((await CRUDJT.read(token))!.metadata!.ttl).to.equal(1);
    await sleep(2050 - (Date.now() - start));
    expect(await CRUDJT.read(token)).to.equal(null);
  });

  for (const [label, token] of UNKNOWN_TOKENS) {
    it(`gives null for ${label}`, async () => {
      expect(await CRUDJT.read(token)).to.equal(null);
    });
  }

  for (const [label, token] of BAD_TOKENS) {
    it(`rejects ${label} as token with TypeError '${TOKEN_MSG}'`, async () => {
      await expectReject(CRUDJT.read(token as never), TypeError, TOKEN_MSG);
    });
  }

  it('gives a fresh copy each time (mutating a result changes nothing)', async () => {
    const token = await CRUDJT.create({ a: { b: [1, 2] } });
    const first = await CRUDJT.read(token);
    (first!.data.a as { b: number[] }).b.push(3);
    first!.data.x = 1;
    expect(await CRUDJT.read(token)).to.deep.equal({ data: { a: { b: [1, 2] } } });
  });

  it('never throws synchronously', async () => {
    await expectReject(callAsync(() => CRUDJT.read(7 as never)), TypeError, TOKEN_MSG);
  });
}

export function updateBehaviour(): void {
  it('replaces the data and returns true', async () => {
    const token = await CRUDJT.create({ role: 11 });
    expect(await CRUDJT.update(token, { role: 8 })).to.equal(true);
    expect(await CRUDJT.read(token)).to.deep.equal({ data: { role: 8 } });
  });

  it('replaces the limits too: an update without limits makes the token unlimited', async () => {
    const token = await CRUDJT.create({ a: 1 }, 60, 5);
    expect(await CRUDJT.update(token, { a: 2 })).to.equal(true);
    expect(await CRUDJT.read(token)).to.deep.equal({ data: { a: 2 } });
  });

  it('sets new limits', async () => {
    const token = await CRUDJT.create({ a: 1 });
    expect(await CRUDJT.update(token, { a: 2 }, 600, 100)).to.equal(true);
    expect(await CRUDJT.read(token)).to.deep.equal({ metadata: { ttl: 600, silence_read: 99 }, data: { a: 2 } });
  });

  it('is visible to the next read at once, after a cached read', async () => {
    const token = await CRUDJT.create({ v: 1 });
    await CRUDJT.read(token);
    await CRUDJT.read(token);
    await CRUDJT.update(token, { v: 2 });
    expect(await CRUDJT.read(token)).to.deep.equal({ data: { v: 2 } });
  });

  for (const [label, token] of UNKNOWN_TOKENS) {
    it(`returns false for ${label}`, async () => {
      expect(await CRUDJT.update(token, { a: 1 })).to.equal(false);
    });
  }

  it('returns false for an exhausted token and does not revive it', async () => {
    const token = await CRUDJT.create({ a: 1 }, null, 1);
    expect((await CRUDJT.read(token))!.metadata).to.deep.equal({ silence_read: 0 });
    expect(await CRUDJT.update(token, { a: 2 })).to.equal(false);
    expect(await CRUDJT.read(token)).to.equal(null);
  });

  it('returns false for an expired token and does not revive it', async function () {
    this.timeout(5000);
    const token = await CRUDJT.create({ a: 1 }, 1);
    await sleep(1050);
    expect(await CRUDJT.update(token, { a: 2 })).to.equal(false);
    expect(await CRUDJT.read(token)).to.equal(null);
  });

  it('returns false for a deleted token', async () => {
    const token = await CRUDJT.create({ a: 1 });
    await CRUDJT.delete(token);
    expect(await CRUDJT.update(token, { a: 2 })).to.equal(false);
  });

  for (const [label, token] of BAD_TOKENS) {
    it(`rejects ${label} as token with TypeError '${TOKEN_MSG}'`, async () => {
      await expectReject(CRUDJT.update(token as never, { a: 1 }), TypeError, TOKEN_MSG);
    });
  }

  describe('arguments', () => {
    let token = '';
    before(async () => {
      token = await CRUDJT.create({ a: 1 });
    });
    dataAndLimitRules((data, ttl, silenceRead) => CRUDJT.update(token, data as never, ttl as never, silenceRead as never));
  });
}

export function deleteBehaviour(): void {
  it('returns true for a live token, then the token is gone', async () => {
    const token = await CRUDJT.create({ a: 1 });
    expect(await CRUDJT.delete(token)).to.equal(true);
    expect(await CRUDJT.read(token)).to.equal(null);
    expect(await CRUDJT.delete(token)).to.equal(false);
  });

  it('removes a token that was just read (and cached)', async () => {
    const token = await CRUDJT.create({ a: 1 });
    await CRUDJT.read(token);
    expect(await CRUDJT.delete(token)).to.equal(true);
    expect(await CRUDJT.read(token)).to.equal(null);
  });

  it('returns true for a token with limits', async () => {
    const token = await CRUDJT.create({ a: 1 }, 60, 3);
    expect(await CRUDJT.delete(token)).to.equal(true);
  });

  for (const [label, token] of UNKNOWN_TOKENS) {
    it(`returns false for ${label}`, async () => {
      expect(await CRUDJT.delete(token)).to.equal(false);
    });
  }

  it('returns false for an exhausted token', async () => {
    const token = await CRUDJT.create({ a: 1 }, null, 1);
    await CRUDJT.read(token);
    expect(await CRUDJT.delete(token)).to.equal(false);
  });

  for (const [label, token] of BAD_TOKENS) {
    it(`rejects ${label} as token with TypeError '${TOKEN_MSG}'`, async () => {
      await expectReject(CRUDJT.delete(token as never), TypeError, TOKEN_MSG);
    });
  }

  it('never throws synchronously', async () => {
    await expectReject(callAsync(() => CRUDJT.delete(null as never)), TypeError, TOKEN_MSG);
  });
}

/** Every operation before start/connect: InvalidState 'CRUDJT has not started'. */
export function notStartedBehaviour(): void {
  const ops: Array<[string, () => Promise<unknown>]> = [
    ['create', () => CRUDJT.create({ a: 1 })],
    ['read', () => CRUDJT.read('AAAAAAAAAAAAAAAAAAAAAA')],
    ['update', () => CRUDJT.update('AAAAAAAAAAAAAAAAAAAAAA', { a: 1 })],
    ['delete', () => CRUDJT.delete('AAAAAAAAAAAAAAAAAAAAAA')],
    ['touch', () => CRUDJT.touch('AAAAAAAAAAAAAAAAAAAAAA', 60)],
    ['revokeSubject', () => CRUDJT.revokeSubject('user-1')],
    ['listSubject', () => CRUDJT.listSubject('user-1')],
    ['revokeHandle', () => CRUDJT.revokeHandle('AAAAAAAAAAAAAAAAAAAAAA')],
  ];
  for (const [name, op] of ops) {
    it(`${name}() rejects with InvalidState 'CRUDJT has not started' (code 55JT01)`, async () => {
      const err = await expectReject(callAsync(op), CRUDJT.Errors.InvalidState, 'CRUDJT has not started');
      expect((err as InstanceType<typeof CRUDJT.Errors.InvalidState>).code).to.equal('55JT01');
    });
  }
}

/** Bad subjects (create's options.subject, revokeSubject, listSubject), with the error class. */
export const BAD_SUBJECTS: Array<[string, unknown, typeof TypeError | typeof RangeError]> = [
  ['an empty string', '', TypeError],
  ['a number', 42, TypeError],
  ['an object', {}, TypeError],
  ['a Buffer', Buffer.from('u1'), TypeError],
  ['a bigint', 1n, TypeError],
  ['129 ASCII bytes', 'u'.repeat(129), RangeError],
  ['65 two-byte characters (130 bytes)', 'é'.repeat(65), RangeError],
  ['a lone surrogate', 'user\uD800', TypeError],
];

/** A fresh subject per test, so the suites run side by side on one store. */
let subjectSeq = 0;
function freshSubject(): string {
  return `user-${process.pid}-${Date.now()}-${subjectSeq++}`;
}

const HANDLE_RE = /^[A-Za-z0-9_-]{22}$/;

/**
 * create(..., { subject }), revokeSubject, listSubject, revokeHandle: the
 * "log out everywhere" rules of issue 9, in whichever role is started.
 */
export function subjectBehaviour(): void {
  it('revokeSubject deletes every live token of the subject and only those; the count', async () => {
    const subject = freshSubject();
    const other = freshSubject();
    const mine = [
      await CRUDJT.create({ d: 1 }, null, null, { subject }),
      await CRUDJT.create({ d: 2 }, 3600, null, { subject }),
      await CRUDJT.create({ d: 3 }, null, 10, { subject }),
    ];
    const theirs = await CRUDJT.create({ d: 4 }, null, null, { subject: other });
    const plain = await CRUDJT.create({ d: 5 });
    expect(await CRUDJT.revokeSubject(subject)).to.equal(3);
    for (const t of mine) expect(await CRUDJT.read(t)).to.equal(null);
    expect(await CRUDJT.read(theirs)).to.deep.equal({ data: { d: 4 } });
    expect(await CRUDJT.read(plain)).to.deep.equal({ data: { d: 5 } });
    expect(await CRUDJT.revokeSubject(subject)).to.equal(0);
    expect(await CRUDJT.revokeSubject(other)).to.equal(1);
  });

  it('revokeSubject of an unknown subject is 0, not an error', async () => {
    expect(await CRUDJT.revokeSubject(freshSubject())).to.equal(0);
  });

  it('a read served from the cache never outlives revokeSubject', async () => {
    const subject = freshSubject();
    const t = await CRUDJT.create({ cached: true }, null, null, { subject });
    expect(await CRUDJT.read(t)).to.deep.equal({ data: { cached: true } });
    expect(await CRUDJT.read(t)).to.deep.equal({ data: { cached: true } });
    expect(await CRUDJT.revokeSubject(subject)).to.equal(1);
    expect(await CRUDJT.read(t)).to.equal(null);
  });

  it('counts only live tokens: deleted, expired and exhausted ones are not revoked again', async () => {
    const subject = freshSubject();
    const deleted = await CRUDJT.create({ a: 1 }, null, null, { subject });
    const exhausted = await CRUDJT.create({ a: 2 }, null, 1, { subject });
    await CRUDJT.create({ a: 3 }, 1, null, { subject });
    const live = await CRUDJT.create({ a: 4 }, null, null, { subject });
    expect(await CRUDJT.delete(deleted)).to.equal(true);
    expect(await CRUDJT.read(exhausted)).to.deep.equal({ metadata: { silence_read: 0 }, data: { a: 2 } });
    await sleep(1100);
    expect((await CRUDJT.listSubject(subject)).length).to.equal(1);
    expect(await CRUDJT.revokeSubject(subject)).to.equal(1);
    expect(await CRUDJT.read(live)).to.equal(null);
  });

  it('update keeps the subject; delete and revokeSubject agree', async () => {
    const subject = freshSubject();
    const t = await CRUDJT.create({ v: 1 }, null, null, { subject });
    expect(await CRUDJT.update(t, { v: 2 }, 60)).to.equal(true);
    const list = await CRUDJT.listSubject(subject);
    expect(list).to.have.length(1);
    expect(list[0].metadata).to.deep.equal({ ttl: 60 });
    expect(await CRUDJT.revokeSubject(subject)).to.equal(1);
    expect(await CRUDJT.update(t, { v: 3 })).to.equal(false);
  });

  it('listSubject gives a handle and the limits left of each live session, never the token', async () => {
    const subject = freshSubject();
    const a = await CRUDJT.create({ s: 'a' }, 3600, 5, { subject });
    const b = await CRUDJT.create({ s: 'b' }, null, null, { subject });
    const list = await CRUDJT.listSubject(subject);
    expect(list).to.have.length(2);
    const metas = list.map((s) => s.metadata).sort((x, y) => Object.keys(x).length - Object.keys(y).length);
    expect(metas).to.deep.equal([{}, { ttl: 3600, silence_read: 5 }]);
    for (const s of list) {
      expect(Object.keys(s).sort()).to.deep.equal(['handle', 'metadata']);
      expect(s.handle).to.match(HANDLE_RE);
      expect(s.handle).to.not.equal(a);
      expect(s.handle).to.not.equal(b);
      // a handle is no token
      expect(await CRUDJT.read(s.handle)).to.equal(null);
    }
    // listing neither reads nor decrements
    expect(await CRUDJT.read(a)).to.deep.equal({ metadata: { ttl: 3600, silence_read: 4 }, data: { s: 'a' } });
    expect(await CRUDJT.listSubject(freshSubject())).to.deep.equal([]);
    await CRUDJT.revokeSubject(subject);
  });

  it('revokeHandle deletes exactly the token behind the handle, once', async () => {
    const subject = freshSubject();
    const a = await CRUDJT.create({ s: 'a' }, null, null, { subject });
    const b = await CRUDJT.create({ s: 'b' }, null, null, { subject });
    expect(await CRUDJT.read(a)).to.deep.equal({ data: { s: 'a' } }); // cached
    const list = await CRUDJT.listSubject(subject);
    let revoked = 0;
    for (const s of list) {
      const before = [await CRUDJT.read(a), await CRUDJT.read(b)].filter((r) => r !== null).length;
      expect(await CRUDJT.revokeHandle(s.handle)).to.equal(true);
      const after = [await CRUDJT.read(a), await CRUDJT.read(b)].filter((r) => r !== null).length;
      expect(after).to.equal(before - 1);
      expect(await CRUDJT.revokeHandle(s.handle)).to.equal(false);
      revoked++;
    }
    expect(revoked).to.equal(2);
    expect(await CRUDJT.listSubject(subject)).to.deep.equal([]);
  });

  it('revokeHandle of a token, an unknown or a malformed handle is false, not an error', async () => {
    const t = await CRUDJT.create({ a: 1 }, null, null, { subject: freshSubject() });
    for (const h of [t, 'AAAAAAAAAAAAAAAAAAAAAA', 'x', '!!!***???', 'токен🔑', 'a'.repeat(10 * 1024)]) {
      expect(await CRUDJT.revokeHandle(h), h.slice(0, 30)).to.equal(false);
    }
    expect(await CRUDJT.read(t)).to.deep.equal({ data: { a: 1 } });
  });

  it('accepts a subject of 128 UTF-8 bytes and unicode subjects; subjects are compared exactly', async () => {
    const long = 'é'.repeat(64);
    const t1 = await CRUDJT.create({ a: 1 }, null, null, { subject: long });
    const t2 = await CRUDJT.create({ a: 2 }, null, null, { subject: 'Ünïcødé 🔑' });
    const t3 = await CRUDJT.create({ a: 3 }, null, null, { subject: 'ünïcødé 🔑' });
    expect(await CRUDJT.revokeSubject(long)).to.equal(1);
    expect(await CRUDJT.revokeSubject('Ünïcødé 🔑')).to.equal(1);
    expect(await CRUDJT.read(t1)).to.equal(null);
    expect(await CRUDJT.read(t2)).to.equal(null);
    expect(await CRUDJT.read(t3)).to.deep.equal({ data: { a: 3 } });
    expect(await CRUDJT.revokeSubject('ünïcødé 🔑')).to.equal(1);
  });

  it('create with options null, {} or { subject: null } has no subject', async () => {
    for (const options of [null, undefined, {}, { subject: null }, { subject: undefined }]) {
      const t = await CRUDJT.create({ a: 1 }, null, null, options as never);
      expect(await CRUDJT.read(t)).to.deep.equal({ data: { a: 1 } });
    }
  });

  for (const [label, value, cls] of BAD_SUBJECTS) {
    it(`rejects ${label} as subject in create, revokeSubject and listSubject with ${cls.name}`, async () => {
      await expectReject(callAsync(() => CRUDJT.create({ a: 1 }, null, null, { subject: value as never })), cls, /^options\.subject /);
      await expectReject(callAsync(() => CRUDJT.revokeSubject(value as never)), cls, /^subject /);
      await expectReject(callAsync(() => CRUDJT.listSubject(value as never)), cls, /^subject /);
    });
  }

  for (const [label, value] of [['a string', 'x'], ['a number', 5], ['an array', [{ subject: 'u' }]], ['a Map', new Map()]] as Array<[string, unknown]>) {
    it(`rejects ${label} as create's options with a TypeError`, async () => {
      await expectReject(callAsync(() => CRUDJT.create({ a: 1 }, null, null, value as never)), TypeError, /^create options must be an object/);
    });
  }

  it('rejects unknown option names in create (catches misspellings)', async () => {
    await expectReject(CRUDJT.create({ a: 1 }, null, null, { subjet: 'u' } as never), TypeError, "create: unknown option 'subjet' (allowed: subject)");
  });

  it('rejects bad handles with TypeError', async () => {
    for (const h of ['', null, undefined, 5, {}, Buffer.from('abc')]) {
      await expectReject(callAsync(() => CRUDJT.revokeHandle(h as never)), TypeError, 'handle must be a non-empty String');
    }
  });
}

/** touch(token, ttl): sliding expiry, in whichever role is started. */
export function touchBehaviour(): void {
  it('sets a new lifetime from now; data and reads left unchanged', async () => {
    const t = await CRUDJT.create({ user: 7 }, 2, 10);
    expect(await CRUDJT.touch(t, 3600)).to.equal(true);
    expect(await CRUDJT.read(t)).to.deep.equal({ metadata: { ttl: 3600, silence_read: 9 }, data: { user: 7 } });
  });

  it('keeps a token alive past its first ttl (sliding expiry)', async () => {
    const t = await CRUDJT.create({ s: 1 }, 1);
    await sleep(600);
    expect(await CRUDJT.touch(t, 1)).to.equal(true);
    await sleep(600);
    expect(await CRUDJT.read(t)).to.deep.equal({ metadata: { ttl: 1 }, data: { s: 1 } });
    await sleep(1100);
    expect(await CRUDJT.read(t)).to.equal(null);
  });

  it('can shorten the lifetime, and a cached read follows it', async () => {
    const t = await CRUDJT.create({ s: 2 });
    expect(await CRUDJT.read(t)).to.deep.equal({ data: { s: 2 } });
    expect(await CRUDJT.read(t)).to.deep.equal({ data: { s: 2 } });
    expect(await CRUDJT.touch(t, 1)).to.equal(true);
    expect(await CRUDJT.read(t)).to.deep.equal({ metadata: { ttl: 1 }, data: { s: 2 } });
    await sleep(1100);
    expect(await CRUDJT.read(t)).to.equal(null);
    expect(await CRUDJT.touch(t, 60)).to.equal(false);
  });

  it('ttl null makes the token non-expiring (as update does)', async () => {
    const t = await CRUDJT.create({ s: 3 }, 60);
    expect(await CRUDJT.touch(t, null)).to.equal(true);
    expect(await CRUDJT.read(t)).to.deep.equal({ data: { s: 3 } });
  });

  it('is false for unknown, deleted, expired, exhausted and malformed tokens, and never revives one', async () => {
    const deleted = await CRUDJT.create({ a: 1 });
    await CRUDJT.delete(deleted);
    const exhausted = await CRUDJT.create({ a: 1 }, null, 1);
    await CRUDJT.read(exhausted);
    const expired = await CRUDJT.create({ a: 1 }, 1);
    await sleep(1100);
    for (const t of [deleted, exhausted, expired, ...UNKNOWN_TOKENS.map(([, v]) => v)]) {
      expect(await CRUDJT.touch(t, 60), t.slice(0, 30)).to.equal(false);
      expect(await CRUDJT.read(t)).to.equal(null);
    }
  });

  it('keeps the subject', async () => {
    const subject = freshSubject();
    const t = await CRUDJT.create({ a: 1 }, 60, null, { subject });
    expect(await CRUDJT.touch(t, 120)).to.equal(true);
    const list = await CRUDJT.listSubject(subject);
    expect(list.map((s) => s.metadata)).to.deep.equal([{ ttl: 120 }]);
    expect(await CRUDJT.revokeSubject(subject)).to.equal(1);
  });

  for (const [label, value] of BAD_LIMITS) {
    it(`rejects ttl = ${label} with a TypeError/RangeError naming ttl`, async () => {
      const t = await CRUDJT.create({ a: 1 }, 60);
      await expectReject(callAsync(() => CRUDJT.touch(t, value as never)), [TypeError, RangeError], /^ttl /);
      expect(await CRUDJT.read(t)).to.deep.equal({ metadata: { ttl: 60 }, data: { a: 1 } });
    });
  }

  for (const [label, value] of BAD_TOKENS) {
    it(`rejects ${label} as token with TypeError '${TOKEN_MSG}'`, async () => {
      await expectReject(callAsync(() => CRUDJT.touch(value as never, 60)), TypeError, TOKEN_MSG);
    });
  }
}

let putSeq = 0;
/** A fresh chosen token of `chars` base64url characters (22..128 are valid). */
export function chosenToken(chars = 32): string {
  const base = `${process.pid}x${Date.now()}x${putSeq++}x`.replace(/[^A-Za-z0-9_-]/g, '_');
  return (base + require('node:crypto').randomBytes(96).toString('base64url')).slice(0, chars);
}

/**
 * Backend.put (internal: the session store's write under an id the
 * framework chose), on whichever role is active. `engineSubjects`: put over
 * a token with a subject drops it from the subject (the file store; the
 * cluster keeps set membership, see doc/cluster.md).
 */
export function putBehaviour(options: { engineSubjects: boolean }): void {
  // Loaded lazily: the backend of the role started by the suite's before().
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const backend = (): import('../../lib/backend').Backend => require('../../lib/config').currentBackend();
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const packed = (d: Record<string, unknown>): Buffer => require('../../lib/validation').validateData(d);
  const put = (token: string, data: Record<string, unknown>, ttl: number | null = null, reads: number | null = null): Promise<boolean> =>
    backend().put!(token, packed(data), ttl, reads);

  it('the backend has put, and the public API does not', () => {
    expect(typeof backend().put).to.equal('function');
    expect((CRUDJT as unknown as Record<string, unknown>).put).to.equal(undefined);
  });

  it('creates a record under the chosen token (false), readable with its limits', async () => {
    const t = chosenToken();
    expect(await put(t, { sess: 1 }, 60, 5)).to.equal(false);
    expect(await CRUDJT.read(t)).to.deep.equal({ metadata: { ttl: 60, silence_read: 4 }, data: { sess: 1 } });
  });

  it('wholly replaces a live record (true): data, ttl and reads', async () => {
    const t = chosenToken(40);
    await put(t, { v: 1 }, 60, 3);
    expect(await put(t, { v: 2 })).to.equal(true);
    expect(await CRUDJT.read(t)).to.deep.equal({ data: { v: 2 } });
    expect(await put(t, { v: 3 }, 2)).to.equal(true);
    expect(await CRUDJT.read(t)).to.deep.equal({ metadata: { ttl: 2 }, data: { v: 3 } });
  });

  it('a cached read never outlives a put', async () => {
    const t = chosenToken();
    await put(t, { v: 'old' });
    expect(await CRUDJT.read(t)).to.deep.equal({ data: { v: 'old' } });
    expect(await CRUDJT.read(t)).to.deep.equal({ data: { v: 'old' } });
    expect(await put(t, { v: 'new' })).to.equal(true);
    expect(await CRUDJT.read(t)).to.deep.equal({ data: { v: 'new' } });
  });

  it('creates again after delete and after expiry (false)', async () => {
    const t = chosenToken();
    await put(t, { n: 1 }, 1);
    expect(await CRUDJT.delete(t)).to.equal(true);
    expect(await CRUDJT.read(t)).to.equal(null);
    expect(await put(t, { n: 2 }, 1)).to.equal(false);
    expect((await CRUDJT.read(t))?.data).to.deep.equal({ n: 2 });
    await sleep(1150);
    expect(await CRUDJT.read(t)).to.equal(null);
    expect(await put(t, { n: 3 })).to.equal(false);
    expect(await CRUDJT.read(t)).to.deep.equal({ data: { n: 3 } });
  });

  it('update, touch, delete and read limits work on a put token', async () => {
    const t = chosenToken(128);
    await put(t, { a: 1 }, null, 2);
    expect(await CRUDJT.update(t, { a: 2 }, 60)).to.equal(true);
    expect(await CRUDJT.touch(t, 120)).to.equal(true);
    expect(await CRUDJT.read(t)).to.deep.equal({ metadata: { ttl: 120 }, data: { a: 2 } });
    const once = chosenToken(22);
    await put(once, { one: 1 }, null, 1);
    expect(await CRUDJT.read(once)).to.deep.equal({ metadata: { silence_read: 0 }, data: { one: 1 } });
    expect(await CRUDJT.read(once)).to.equal(null);
    expect(await CRUDJT.delete(t)).to.equal(true);
    expect(await CRUDJT.read(t)).to.equal(null);
  });

  it('refuses tokens outside 22..128 base64url characters with a TypeError', async () => {
    for (const bad of ['A'.repeat(21), 'A'.repeat(129), `${'A'.repeat(21)}!`, `${'A'.repeat(21)}=`, 'токен'.repeat(10), 'a b'.repeat(10)]) {
      await expectReject(put(bad, { x: 1 }), TypeError, /22 to 128 base64url characters/);
    }
    expect(await CRUDJT.read('A'.repeat(21))).to.equal(null);
  });

  it('keeps tokens apart: a chosen token never reads another token', async () => {
    const made = await CRUDJT.create({ mine: 1 });
    const t = chosenToken(22);
    await put(t, { theirs: 1 });
    expect(await CRUDJT.read(made)).to.deep.equal({ data: { mine: 1 } });
    expect(await CRUDJT.read(t)).to.deep.equal({ data: { theirs: 1 } });
  });

  if (options.engineSubjects) {
    it('put over a token with a subject drops it from the subject', async () => {
      const subject = `put-${process.pid}-${putSeq++}`;
      const t = await CRUDJT.create({ s: 1 }, null, null, { subject });
      expect(await CRUDJT.listSubject(subject)).to.have.length(1);
      expect(await put(t, { s: 2 })).to.equal(true);
      expect(await CRUDJT.listSubject(subject)).to.deep.equal([]);
      expect(await CRUDJT.revokeSubject(subject)).to.equal(0);
      expect(await CRUDJT.read(t)).to.deep.equal({ data: { s: 2 } });
    });
  }
}
