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

  describe('issue 8/9 additions', function () {
    const P = Buffer.from([0x81, 0xa1, 0x61, 0x01]);

    it('create with a subject, listSubject handles, revokeHandle, revokeSubject', async function () {
      const subj = Buffer.from('user-42');
      const a = store.create(P, 60_000, -1, subj);
      const b = await store.createAsync(P, -1, 5, subj);
      const c = store.create(P, -1, -1, null);
      const list = store.listSubject(subj);
      expect(list).to.have.length(2);
      for (const [handle, ttl, reads] of list) {
        expect(handle).to.match(/^[A-Za-z0-9_-]{22}$/);
        expect(handle).to.not.equal(a).and.to.not.equal(b);
        expect([ttl, reads]).to.satisfy(([t, r]: number[]) => (t > 0 && r === -1) || (t === -1 && r === 5));
      }
      expect(store.update(a, Buffer.from('y'), -1, -1)).to.equal(true);  // keeps the subject
      expect(store.listSubject(subj)).to.have.length(2);
      const hb = list.find((s) => s[2] === 5)![0];
      expect(store.revokeHandle(hb)).to.equal(true);
      expect(store.revokeHandle(hb)).to.equal(false);
      expect(store.read(b)).to.equal(null);
      expect(await store.revokeSubject(subj)).to.equal(1);
      expect(store.read(a)).to.equal(null);
      expect(store.read(c)).to.not.equal(null);
      expect(store.listSubject(subj)).to.deep.equal([]);
      expect(await store.revokeHandleAsync('A'.repeat(22))).to.equal(false);
    });

    it('touch: a new lifetime from now; false for dead or malformed tokens', async function () {
      const t = store.create(P, 1000, 3);
      expect(store.touch(t, 3_600_000)).to.equal(true);
      const r = store.read(t)!;
      expect(r[1]).to.be.within(3_590_000, 3_600_000);
      expect(r[2]).to.equal(2);
      expect(await store.touchAsync(t, -1)).to.equal(true);
      expect(store.read(t)![1]).to.equal(-1);
      store.remove(t);
      expect(store.touch(t, 1000)).to.equal(false);
      expect(store.touch('x'.repeat(4096), 1000)).to.equal(false);
      expect(await store.touchAsync('!!', 1000)).to.equal(false);
    });

    it('applyBatch runs ops in order with per-op results and errors', async function () {
      const t = store.create(P, -1, -1);
      const res = store.applyBatch([
        [0, P, -1, 2, Buffer.from('s')],
        [1, t],
        [2, t, Buffer.from('z'), -1, -1],
        [1, t],
        [4, t, 5000],
        [3, t],
        [1, t],
        [3, t],
        [1, 'nope'],
        [1, 'x'.repeat(5000)],
      ]);
      expect(res).to.have.length(10);
      expect(res[0]).to.match(/^[A-Za-z0-9_-]{22}$/);
      expect(res[1]).to.deep.equal([P, -1, -1]);
      expect(res[2]).to.equal(true);
      expect(res[3]).to.deep.equal([Buffer.from('z'), -1, -1]);
      expect(res[4]).to.equal(true);
      expect(res[5]).to.equal(true);
      expect(res[6]).to.equal(null);
      expect(res[7]).to.equal(false);
      expect(res[8]).to.equal(null);
      expect(res[9]).to.equal(null);
      const created = res[0] as string;
      const res2 = await store.applyBatchAsync([[1, created], [1, created], [1, created]]);
      expect((res2[0] as unknown[])[2]).to.equal(1);
      expect((res2[1] as unknown[])[2]).to.equal(0);
      expect(res2[2]).to.equal(null);
      expect(store.applyBatch([])).to.deep.equal([]);
    });

    it('applyBatch and friends reject malformed input with TypeError, never crash', async function () {
      const bad: unknown[] = [
        undefined, null, 1, 'x', {}, [1], [[]], [[9, 't']], [[-1]], [[1.5, 't']], [['0', P, -1, -1]],
        [[0, 'notbuf', -1, -1]], [[0, P, 0, -1]], [[0, P, -1, -1, Buffer.alloc(0)]],
        [[0, P, -1, -1, Buffer.alloc(129)]], [[0, P, -1, -1, 'subject']], [[1]], [[1, 5]],
        [[1, 't', 'extra']], [[2, 't', P, -1]], [[4, 't', 0]], [[4, 't', NaN]], [[3, '']],
        [[0, Buffer.alloc(257), -1, -1]], new Array(4097).fill([1, 't']),
      ];
      for (const ops of bad) {
        expectTypeError(() => store.applyBatch(ops as never));
        expectTypeError(() => store.applyBatchAsync(ops as never));
      }
      const huge = new Array(4096).fill([1, 'AAAAAAAAAAAAAAAAAAAAAA']);
      expect(store.applyBatch(huge as never)).to.have.length(4096);
      for (const s of [undefined, null, 'str', Buffer.alloc(0), Buffer.alloc(129), 7]) {
        expectTypeError(() => store.listSubject(s as never));
        expectTypeError(() => store.revokeSubject(s as never));
      }
      expectTypeError(() => store.create(P, -1, -1, 'str' as never));
      expectTypeError(() => store.create(P, -1, -1, Buffer.alloc(129)));
      for (const h of [undefined, null, 5, {}, Buffer.from('x')]) {
        expectTypeError(() => store.revokeHandle(h as never));
        expectTypeError(() => store.revokeHandleAsync(h as never));
      }
      for (const h of ['', 'x', '!'.repeat(22), 'A'.repeat(21) + 'B', 'A'.repeat(4096)]) {
        expect(store.revokeHandle(h)).to.equal(false);
      }
      for (const ttl of [0, NaN, 1.5, -2, Number.MAX_VALUE, '5']) {
        expectTypeError(() => store.touch('AAAAAAAAAAAAAAAAAAAAAA', ttl as never));
      }
      expectTypeError(() => store.touch(5 as never, 1000));
      expectTypeError(() => store.exportRecords(Buffer.alloc(3), 10));
      expectTypeError(() => store.exportRecords(null, 0));
      expectTypeError(() => store.exportRecords('k' as never, 10));
    });

    it('exportRecords pages through live token records in key order', function () {
      const all: Buffer[] = [];
      let after: Buffer | null = null;
      for (;;) {
        const page: Array<[Buffer, Buffer]> = store.exportRecords(after, 3);
        for (const [k, v] of page) {
          expect(k).to.have.length(16);
          expect(k[0] & 0x80).to.equal(0);
          expect(v.length).to.be.at.least(61);
          if (after) expect(Buffer.compare(after, k)).to.equal(-1);
          all.push(k);
          after = k;
        }
        if (page.length < 3) break;
      }
      expect(all.length).to.equal(store.stats().liveTokens);
    });

    it('previousSecretKeys: old tokens stay readable, resealPrevious moves them, stats count them', async function () {
      const dir = path.join(tmp, 'rotation');
      const k1 = crypto.randomBytes(32);
      const k2 = crypto.randomBytes(48);
      let { store: s } = await binding.open(dir, k1, { sweepOnOpen: false });
      const toks = [s.create(P, -1, -1), s.create(Buffer.from('b'), -1, 3, Buffer.from('u'))];
      await s.close();
      ({ store: s } = await binding.open(dir, k2, { sweepOnOpen: false, previousSecretKeys: [k1] }));
      expect(s.stats().previousKeyRecords).to.equal(2);
      expect(s.read(toks[0])![0]).to.deep.equal(P);
      expect(await s.resealPrevious()).to.equal(2);
      expect(s.stats().previousKeyRecords).to.equal(0);
      await s.close();
      ({ store: s } = await binding.open(dir, k2, { sweepOnOpen: false }));
      expect(s.read(toks[1])).to.deep.equal([Buffer.from('b'), -1, 2]);
      expect(s.listSubject(Buffer.from('u'))).to.have.length(1);
      await s.close();
      for (const bad of [5, [Buffer.alloc(31)], ['k'], new Array(17).fill(k1)]) {
        let err: unknown;
        try {
          await binding.open(dir, k2, { previousSecretKeys: bad as never });
        } catch (e) {
          err = e;
        }
        expect(err).to.be.instanceOf(TypeError);
      }
    });
  });

  describe('readInto (issue 6: a read without a Buffer or an array)', function () {
    const payload = Buffer.from([0x82, 0xa1, 0x61, 0x01, 0xa1, 0x62, 0xa3, 0x78, 0x79, 0x7a]);

    function meta(scratch: Uint8Array): [number, number] {
      const copy = Buffer.from(scratch.subarray(0, 16)); // aligned for Float64Array
      const f = new Float64Array(copy.buffer, copy.byteOffset, 2);
      return [f[0], f[1]];
    }

    it('copies the limits and the payload into the scratch and answers the length', function () {
      const token = store.create(payload, 60_000, 3);
      const scratch = Buffer.alloc(16 + 64, 0xee);
      expect(store.readInto!(token, scratch)).to.equal(payload.length);
      const [ttl, reads] = meta(scratch);
      expect(ttl).to.be.within(59_000, 60_000);
      expect(reads).to.equal(2);
      expect(scratch.subarray(16, 16 + payload.length)).to.deep.equal(payload);
      expect(scratch[16 + payload.length]).to.equal(0xee); // nothing past the payload
      // It is a read like read(): the counter went down.
      expect(store.read(token)![2]).to.equal(1);
      expect(store.readInto!(token, scratch)).to.equal(payload.length);
      expect(meta(scratch)[1]).to.equal(0);
      expect(store.readInto!(token, scratch)).to.equal(-1); // exhausted
    });

    it('answers -1 for unknown, too long or odd tokens; -1 limits for unlimited tokens', function () {
      const scratch = new Uint8Array(16 + 256); // a plain Uint8Array is fine too
      expect(store.readInto!('A'.repeat(22), scratch)).to.equal(-1);
      expect(store.readInto!('A'.repeat(129), scratch)).to.equal(-1);
      expect(store.readInto!('é'.repeat(128), scratch)).to.equal(-1); // 256 UTF-8 bytes, 128 units
      expect(store.readInto!('é'.repeat(129), scratch)).to.equal(-1);
      expect(store.readInto!('\ud800'.repeat(50), scratch)).to.equal(-1); // lone surrogates
      expect(store.readInto!('x'.repeat(1_000_000), scratch)).to.equal(-1);
      const token = store.create(payload, -1, -1);
      expect(store.readInto!(token, scratch)).to.equal(payload.length);
      expect(meta(scratch)).to.deep.equal([-1, -1]);
      store.remove(token);
    });

    it('a payload larger than the scratch comes back as a Buffer of its own, limits still in the scratch', function () {
      const big = Buffer.concat([Buffer.from([0x81, 0xa1, 0x62, 0xd9, 200]), Buffer.alloc(200, 0x61)]);
      const token = store.create(big, -1, 5);
      let left = 5;
      for (const room of [0, 1, big.length - 1]) {
        const scratch = Buffer.alloc(16 + room, 0xee);
        const r = store.readInto!(token, scratch);
        expect(Buffer.isBuffer(r), `room ${room}`).to.equal(true);
        expect(r).to.deep.equal(big);
        expect(meta(scratch)).to.deep.equal([-1, --left]);
        expect(scratch.subarray(16)).to.deep.equal(Buffer.alloc(room, 0xee)); // untouched
      }
      const exact = Buffer.alloc(16 + big.length);
      expect(store.readInto!(token, exact)).to.equal(big.length);
      expect(meta(exact)[1]).to.equal(1); // 5 reads: 4 above, this one
      store.remove(token);
    });

    it('writes at the scratch view\'s own offset (a view into a larger buffer)', function () {
      const token = store.create(payload, -1, -1);
      const whole = Buffer.alloc(200, 0xee);
      const view = whole.subarray(3, 3 + 16 + 32); // odd offset: not float64-aligned
      expect(store.readInto!(token, view)).to.equal(payload.length);
      expect(whole.subarray(0, 3)).to.deep.equal(Buffer.alloc(3, 0xee));
      expect(meta(view)).to.deep.equal([-1, -1]);
      expect(whole.subarray(3 + 16, 3 + 16 + payload.length)).to.deep.equal(payload);
      expect(whole.subarray(3 + 16 + 32)).to.deep.equal(Buffer.alloc(200 - 3 - 48, 0xee));
      store.remove(token);
    });

    it('rejects a bad scratch or token with TypeError, before any read', function () {
      const token = store.create(payload, -1, 1);
      for (const bad of [undefined, null, 16, 'x'.repeat(32), [], {}, Buffer.alloc(15), new Uint8Array(0), new Uint16Array(16), new Float64Array(4), new ArrayBuffer(64), new DataView(new ArrayBuffer(64))]) {
        expectTypeError(() => store.readInto!(token, bad as never), /scratch/);
      }
      const scratch = Buffer.alloc(64);
      for (const bad of [undefined, null, 42, '', {}, Symbol('t')]) {
        expectTypeError(() => store.readInto!(bad as never, scratch), /token/);
      }
      // None of those consumed the token's single read.
      expect(store.readInto!(token, scratch)).to.equal(payload.length);
      expect(meta(scratch)[1]).to.equal(0);
      expect(store.readInto!(token, scratch)).to.equal(-1);
    });

    it('throws CRUDJT_CLOSED after close()', async function () {
      const { store: s2 } = await binding.open(path.join(tmp, 'closed-readinto'), key, { sweepOnOpen: false });
      const token = s2.create(payload, -1, -1);
      await s2.close();
      let code: unknown;
      try {
        s2.readInto!(token, Buffer.alloc(64));
      } catch (e) {
        code = (e as { code?: string }).code;
      }
      expect(code).to.equal('CRUDJT_CLOSED');
    });

    it('a detached scratch is refused, never written', function () {
      const token = store.create(payload, -1, -1);
      const ab = new ArrayBuffer(64);
      const scratch = new Uint8Array(ab);
      structuredClone(ab, { transfer: [ab] }); // detaches ab
      expect(scratch.byteLength).to.equal(0);
      expectTypeError(() => store.readInto!(token, scratch), /scratch/);
      store.remove(token);
    });

    it('create/update store exactly the bytes of a payload view (no copy on the sync path)', function () {
      const whole = Buffer.from([9, 9, ...payload, 9, 9]);
      const view = whole.subarray(2, 2 + payload.length);
      const token = store.create(view, -1, -1);
      whole.fill(0); // changing the caller's bytes afterwards changes nothing stored
      expect(store.read(token)![0]).to.deep.equal(payload);
      const whole2 = Buffer.from([7, ...payload.subarray(0, 4), 7]);
      expect(store.update(token, whole2.subarray(1, 5), -1, -1)).to.equal(true);
      whole2.fill(0);
      expect(store.read(token)![0]).to.deep.equal(payload.subarray(0, 4));
      store.remove(token);
    });

    it('tokens up to 128 UTF-16 units are converted whole (one conversion, no truncation)', function () {
      // A 128-unit string of 3-byte characters is 384 UTF-8 bytes: still
      // looked up (not found), never mistaken for a truncated prefix.
      expect(store.read('€'.repeat(128))).to.equal(null);
      expect(store.update('€'.repeat(128), payload, -1, -1)).to.equal(false);
      expect(store.remove('€'.repeat(128))).to.equal(false);
      expect(store.remove('€'.repeat(129))).to.equal(false);
      expect(store.remove('\u{1F511}'.repeat(64))).to.equal(false); // 128 units, 256 bytes
    });
  });
});
