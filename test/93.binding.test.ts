// The native addon itself (binding.d.ts), below the TypeScript validation:
// it must re-check every argument and throw a TypeError, never abort, and
// turn engine failures into errors with a stable `code`.
import { expect } from 'chai';
import crypto from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';
import binding, { NativeStore } from '../lib/binding';

function expectTypeError(fn: () => unknown, message?: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a TypeError').to.be.instanceOf(TypeError);
  if (message) expect((thrown as Error).message).to.match(message);
}

describe('native binding', function () {
  let tmp = '';
  let store: NativeStore;
  const key = crypto.randomBytes(32);

  before(async function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'crudjt-binding-'));
    ({ store } = await binding.open(path.join(tmp, 'store'), key, { sweepOnOpen: false }));
  });

  after(async function () {
    await store?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('exports the engine limits as frozen constants', function () {
    expect(binding.constants).to.deep.equal({
      MAX_PAYLOAD_BYTES: 256,
      TOKEN_CHARS: 22,
      MAX_TOKEN_CHARS: 128,
      MAX_TTL_MS: 9007199254740000,
      MAX_READS: Number.MAX_SAFE_INTEGER,
      NO_LIMIT: -1,
    });
    expect(Object.isFrozen(binding.constants)).to.equal(true);
  });

  it('create/read/update/remove: sync round trip with limits', function () {
    const token = store.create(Buffer.from([0x81, 0xa1, 0x61, 0x01]), 60_000, 3);
    expect(token).to.match(/^[A-Za-z0-9_-]{22}$/);
    const r = store.read(token);
    expect(r).to.be.an('array').with.length(3);
    expect(r![0]).to.deep.equal(Buffer.from([0x81, 0xa1, 0x61, 0x01]));
    expect(r![1]).to.be.within(59_000, 60_000);
    expect(r![2]).to.equal(2);
    expect(store.update(token, Buffer.from('x'), -1, -1)).to.equal(true);
    expect(store.read(token)).to.deep.equal([Buffer.from('x'), -1, -1]);
    expect(store.remove(token)).to.equal(true);
    expect(store.read(token)).to.equal(null);
    expect(store.remove(token)).to.equal(false);
    expect(store.update(token, Buffer.from('x'), -1, -1)).to.equal(false);
  });

  it('async variants resolve like the sync ones', async function () {
    const token = await store.createAsync(Buffer.from('async'), -1, 2);
    expect(await store.readAsync(token)).to.deep.equal([Buffer.from('async'), -1, 1]);
    expect(await store.updateAsync(token, Buffer.from('b'), 1000, -1)).to.equal(true);
    expect(await store.removeAsync(token)).to.equal(true);
    expect(await store.readAsync(token)).to.equal(null);
    expect(await store.readAsync('x'.repeat(10_000))).to.equal(null);
    expect(await store.sweep()).to.be.a('number');
    await store.flush();
    await store.checkpoint();
    expect(store.stats().liveTokens).to.be.a('number');
  });

  it('the payload is copied: changing the Buffer afterwards changes nothing stored', function () {
    const buf = Buffer.from('abc');
    const token = store.create(buf, -1, -1);
    buf.fill(0x7a);
    expect(store.read(token)![0].toString()).to.equal('abc');
  });

  it('rejects bad payloads with TypeError', function () {
    for (const bad of [undefined, null, 'str', 5, {}, [1, 2], Buffer.alloc(0), Buffer.alloc(257), new Uint16Array(4), new Float64Array(1)]) {
      expectTypeError(() => store.create(bad as unknown as Buffer, -1, -1), /payload/);
    }
    expect(store.create(Buffer.alloc(256, 1), -1, -1)).to.have.length(22);
    expect(store.create(new Uint8Array([1, 2]) as Buffer, -1, -1)).to.have.length(22);
  });

  it('rejects bad limits with TypeError (NaN, 0, fractions, huge, non-numbers)', function () {
    const p = Buffer.from('p');
    for (const bad of [0, -2, 1.5, NaN, Infinity, -Infinity, 2 ** 62, Number.MAX_VALUE, '5', null, undefined, 10n, {}]) {
      expectTypeError(() => store.create(p, bad as number, -1), /ttlMs/);
      expectTypeError(() => store.create(p, -1, bad as number), /maxReads/);
      expectTypeError(() => store.update('a'.repeat(22), p, bad as number, -1), /ttlMs/);
    }
    expectTypeError(() => store.create(p, binding.constants.MAX_TTL_MS + 1000, -1), /ttlMs/);
    expect(store.create(p, binding.constants.MAX_TTL_MS, binding.constants.MAX_READS)).to.have.length(22);
  });

  it('rejects non-string and empty tokens with TypeError; odd strings are just not found', function () {
    for (const bad of [undefined, null, 1, {}, Buffer.from('a'), '']) {
      expectTypeError(() => store.read(bad as string), /token/);
      expectTypeError(() => store.remove(bad as string), /token/);
      expectTypeError(() => store.readAsync(bad as string), /token/);
    }
    for (const odd of ['x'.repeat(1_000_000), 'é'.repeat(22), '\u0000'.repeat(22), '!!!', 'a'.repeat(128), 'a'.repeat(129)]) {
      expect(store.read(odd)).to.equal(null);
      expect(store.remove(odd)).to.equal(false);
      expect(store.update(odd, Buffer.from('x'), -1, -1)).to.equal(false);
    }
  });

  it('open() re-checks its arguments', async function () {
    const dir = path.join(tmp, 'other');
    expectTypeError(() => binding.open(5 as unknown as string, key), /dir/);
    expectTypeError(() => binding.open('', key), /dir/);
    expectTypeError(() => binding.open('a\u0000b', key), /dir/);
    expectTypeError(() => binding.open(dir, Buffer.alloc(31)), /secretKey/);
    expectTypeError(() => binding.open(dir, 'k'.repeat(32) as unknown as Buffer), /secretKey/);
    expectTypeError(() => binding.open(dir, key, 5 as unknown as object), /options/);
    expectTypeError(() => binding.open(dir, key, { durability: 'fast' as 'sync' }), /durability/);
    expectTypeError(() => binding.open(dir, key, { flushIntervalMs: 0 }), /flushIntervalMs/);
    expectTypeError(() => binding.open(dir, key, { pageCacheBytes: NaN }), /pageCacheBytes/);
    expectTypeError(() => binding.open(dir, key, { sweepOnOpen: 1 as unknown as boolean }), /sweepOnOpen/);
    const getter = Object.defineProperty({}, 'durability', { get() { throw new Error('boom'); } });
    expect(() => binding.open(dir, key, getter)).to.throw('boom');
  });

  it('a second open of a locked store rejects with code CRUDJT_BUSY', async function () {
    let err: (Error & { code?: string }) | undefined;
    try {
      await binding.open(path.join(tmp, 'store'), key);
    } catch (e) {
      err = e as Error & { code?: string };
    }
    expect(err).to.be.instanceOf(Error);
    expect(err!.code).to.equal('CRUDJT_BUSY');
    expect(err!.message).to.include(path.join(tmp, 'store'));
  });

  it('after close(): methods throw CRUDJT_CLOSED, close() is idempotent, the lock is released', async function () {
    const dir = path.join(tmp, 'closing');
    const { store: s } = await binding.open(dir, key);
    const token = s.create(Buffer.from('kept'), -1, -1);
    await Promise.all([s.close(), s.close()]);
    await s.close();
    for (const call of [() => s.read(token), () => s.create(Buffer.from('x'), -1, -1), () => s.stats(), () => s.flush()]) {
      let err: (Error & { code?: string }) | undefined;
      try {
        call();
      } catch (e) {
        err = e as Error & { code?: string };
      }
      expect(err?.code).to.equal('CRUDJT_CLOSED');
    }
    const { store: again, info } = await binding.open(dir, key);
    expect(info.keyChanged).to.equal(false);
    expect(again.read(token)![0].toString()).to.equal('kept');
    await again.close();
  });

  it('any argument mix throws or answers, never crashes (incl. a foreign `this`)', async function () {
    const values: unknown[] = [undefined, null, true, 0, -1, 1, 2 ** 53, -0, NaN, '', 'x', 'a'.repeat(22), {}, [], Symbol('s'), 1n,
      Buffer.alloc(0), Buffer.alloc(1), Buffer.alloc(300), new Uint8Array(4), new Uint32Array(2), new ArrayBuffer(4), () => 0];
    const methods = ['create', 'read', 'update', 'remove', 'createAsync', 'readAsync', 'updateAsync', 'removeAsync', 'stats'] as const;
    let seed = 7;
    const pick = () => values[(seed = (seed * 1103515245 + 12345) % 2147483648) % values.length];
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 2000; i++) {
      const m = methods[i % methods.length];
      const args = [pick(), pick(), pick(), pick()];
      try {
        const r = (store[m] as (...a: unknown[]) => unknown).apply(i % 50 === 0 ? {} : store, args);
        if (r instanceof Promise) pending.push(r.catch(() => undefined));
      } catch (e) {
        expect(e).to.be.instanceOf(Error);
      }
    }
    await Promise.all(pending);
    expect(store.stats().liveTokens).to.be.a('number');
  });

  it('NativeStore cannot be constructed from JS', function () {
    const Ctor = (store as unknown as { constructor: new (...a: unknown[]) => unknown }).constructor;
    expectTypeError(() => new Ctor(), /open\(\)/);
    expectTypeError(() => new Ctor({}), /open\(\)/);
  });
});
