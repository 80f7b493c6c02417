import { expect } from 'chai';
import fc from 'fast-check';
import './00.setup';
import { pack, packSessionData, unpack } from '../lib/msgpack';
import { MAX_PAYLOAD_BYTES } from '../lib/validation';

// packSessionData is validateData's one-pass fast path. It may give up
// (null) on anything, but whatever it returns must be exactly what the
// slow path (walk + pack) returns for the same data.
describe('msgpack fast path (packSessionData)', () => {
  const leaf = fc.oneof(
    fc.constant(null),
    fc.constant(undefined),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.maxSafeInteger(),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => 'a' + String.fromCharCode(c)),
    fc.uint8Array({ maxLength: 40 }),
    fc.date({ noInvalidDate: false }),
  );
  const { tree } = fc.letrec((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small' },
      leaf,
      fc.array(tie('tree'), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 20 }), tie('tree'), { maxKeys: 4 }),
    ),
  }));
  const data = fc.dictionary(fc.string({ unit: 'binary', maxLength: 12 }), tree, { maxKeys: 6 });

  it('writes every integer edge exactly as pack() does (issue 6: integers written byte by byte)', () => {
    const edges: number[] = [];
    for (const base of [0, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 0x100000000, 2 ** 40, 2 ** 52, Number.MAX_SAFE_INTEGER]) {
      for (const d of [-1, 0, 1]) {
        const v = base + d;
        if (Number.isSafeInteger(v)) edges.push(v, v === 0 ? 0 : -v);
      }
    }
    for (const v of [-0x20, -0x21, -0x80, -0x81, -0x8000, -0x8001, -0x80000000, -0x80000001, -(2 ** 32), -(2 ** 32) - 1, -(2 ** 32) + 1, -(2 ** 53) + 1]) edges.push(v);
    for (const v of edges) {
      const fast = packSessionData({ v, b: BigInt(v) });
      expect(fast, String(v)).to.not.equal(null);
      expect(fast!.toString('hex'), String(v)).to.equal(pack({ v, b: BigInt(v) }).toString('hex'));
      expect(unpack(fast!)).to.deep.equal({ v, b: v });
    }
    fc.assert(
      fc.property(fc.maxSafeInteger(), (v) => {
        expect(packSessionData({ v })!.toString('hex')).to.equal(pack({ v }).toString('hex'));
      }),
      { numRuns: 2000 },
    );
  });

  it('returns the same bytes as pack() whenever it answers, and only for data of at most 256 bytes', () => {
    let answered = 0;
    fc.assert(
      fc.property(data, (d) => {
        const fast = packSessionData(d);
        if (fast === null) return;
        answered++;
        expect(fast.equals(pack(d))).to.equal(true);
        expect(fast.length).to.be.at.most(MAX_PAYLOAD_BYTES);
      }),
      { numRuns: 3000 },
    );
    // The property must have exercised the fast path, not only the give-ups.
    expect(answered).to.be.greaterThan(300);
  });

  it('answers for the shapes sessions hold', () => {
    const session = { user_id: 42, role: 'admin', name: 'Łukasz', scopes: ['read', 'write'], at: new Date(0), ok: true, n: null };
    const fast = packSessionData(session);
    expect(fast).to.not.equal(null);
    expect(unpack(fast!)).to.deep.equal({ ...session, at: new Date(0) });
  });

  it('gives up on what only the exact walk may judge', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    class Session {
      id = 1;
    }
    const throwing = Object.defineProperty({}, 'x', {
      enumerable: true,
      get() {
        throw new Error('getter');
      },
    });
    const cases: unknown[] = [
      {},
      [],
      null,
      'str',
      new Session(),
      { s: new Session() },
      cyclic,
      { big: 'x'.repeat(300) },
      { many: 'x'.repeat(250), more: 'y' },
      { bad: new Date(NaN) },
      { fn: () => 1 },
      { sym: Symbol('s') },
      { huge: 2n ** 64n },
      throwing,
      new Proxy({ a: 1 }, { ownKeys: () => { throw new Error('trap'); } }),
    ];
    for (const c of cases) expect(packSessionData(c), String(c)).to.equal(null);
  });

  it('is safe when a getter re-enters it while it is encoding', () => {
    let inner: Buffer | null | undefined;
    const outer = {
      a: 'outer',
      get b() {
        inner = packSessionData({ z: 'inner-value' });
        return 'b';
      },
    };
    const fast = packSessionData(outer);
    expect(inner).to.equal(null); // the nested call took the slow path
    if (fast !== null) expect(unpack(fast)).to.deep.equal({ a: 'outer', b: 'b' });
  });
});
