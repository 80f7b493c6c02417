import { expect } from 'chai';
import './00.setup';
import { NIL, pack, packReadResult, unpack, unpackMap } from '../lib/msgpack';

describe('msgpack', () => {
  it('packs plain maps (no msgpackr records) and nil as 0xc0', () => {
    expect(pack({ a: 'b' })).to.deep.equal(Buffer.from([0x81, 0xa1, 0x61, 0xa1, 0x62]));
    expect(NIL).to.deep.equal(Buffer.from([0xc0]));
    expect(unpack(NIL)).to.equal(null);
  });

  it('writes integers beyond 32 bits as int64/uint64, never float64', () => {
    expect(pack(2 ** 40)).to.deep.equal(Buffer.from([0xcf, 0, 0, 1, 0, 0, 0, 0, 0]));
    expect(pack(-(2 ** 33))).to.deep.equal(Buffer.from([0xd3, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0]));
    expect(pack(Number.MAX_SAFE_INTEGER)[0]).to.equal(0xcf);
    expect(pack(1.5)[0]).to.equal(0xcb);
    expect(pack(2 ** 60)[0]).to.equal(0xcb); // not a safe integer: a float
  });

  it('uses the smallest header for every size', () => {
    expect(pack(127)).to.deep.equal(Buffer.from([0x7f]));
    expect(pack(-32)).to.deep.equal(Buffer.from([0xe0]));
    expect(pack(-33)).to.deep.equal(Buffer.from([0xd0, 0xdf]));
    expect(pack(255)).to.deep.equal(Buffer.from([0xcc, 0xff]));
    expect(pack('x'.repeat(31))[0]).to.equal(0xbf);
    expect(pack('x'.repeat(32)).subarray(0, 2)).to.deep.equal(Buffer.from([0xd9, 32]));
    expect(pack(Buffer.from([1, 2])).subarray(0, 2)).to.deep.equal(Buffer.from([0xc4, 2]));
    expect(pack(new Array(16).fill(0))[0]).to.equal(0xdc);
  });

  it('round-trips through the decoder', () => {
    const values = [
      { a: 1, b: -1, c: 2 ** 31, d: -(2 ** 31) - 1, e: 2 ** 32, f: -(2 ** 40), g: 0.1, h: -0.5, i: 1e300 },
      { s: '', t: 'é✓🔑', u: 'y'.repeat(300), bin: Buffer.from([0, 255]), arr: [[], {}, [null, true, false]] },
      { big: 18446744073709551615n, small: -9223372036854775808n, mid: 5n },
      { when: new Date(1700000000000), ms: new Date(1700000000123), old: new Date(-1000) },
      { deep: { er: { still: [1, { x: 'y' }] } } },
    ];
    for (const v of values) {
      const back = unpack(pack(v)) as Record<string, unknown>;
      const expected = JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? (x >= -(2n ** 53n) && x <= 2n ** 53n ? Number(x) : String(x)) : x)));
      const got = JSON.parse(JSON.stringify(back, (_k, x) => (typeof x === 'bigint' ? String(x) : x)));
      expect(got).to.deep.equal(expected);
    }
  });

  it('packs a read result around the stored bytes unchanged', () => {
    const payload = Buffer.from([0x81, 0xa1, 0x61, 0xcf, 0, 0, 1, 0, 0, 0, 0, 0]);
    expect(unpack(packReadResult(payload, null, null))).to.deep.equal({ data: { a: 2 ** 40 } });
    expect(unpack(packReadResult(payload, 60, null))).to.deep.equal({ metadata: { ttl: 60 }, data: { a: 2 ** 40 } });
    expect(unpack(packReadResult(payload, null, 0))).to.deep.equal({ metadata: { silence_read: 0 }, data: { a: 2 ** 40 } });
    const both = packReadResult(payload, 5, 9);
    expect(unpack(both)).to.deep.equal({ metadata: { ttl: 5, silence_read: 9 }, data: { a: 2 ** 40 } });
    expect(both.subarray(both.length - payload.length)).to.deep.equal(payload);
  });

  it('decodes 64-bit integers as numbers when safe and bigint beyond', () => {
    const safe = unpackMap(Buffer.from([0x81, 0xa1, 0x61, 0xcf, 0, 0, 0, 0, 0, 0, 0, 5]));
    expect(safe.a).to.equal(5);
    const big = unpackMap(Buffer.from([0x81, 0xa1, 0x61, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    expect(big.a).to.equal(18446744073709551615n);
  });

  const malformed: Array<[string, number[]]> = [
    ['empty input', []],
    ['a truncated map', [0x82, 0xa1, 0x61]],
    ['trailing bytes', [0x81, 0xa1, 0x61, 0x01, 0x01]],
    ['an unknown extension', [0x81, 0xa1, 0x61, 0xd4, 0x05, 0x00]],
    ['the reserved byte 0xc1', [0x81, 0xa1, 0x61, 0xc1]],
    ['a map as a key', [0x81, 0x81, 0xa1, 0x61, 0x01, 0x02]],
    ['a huge length claim', [0xdf, 0xff, 0xff, 0xff, 0xff]],
    ['a huge string claim', [0x81, 0xa1, 0x61, 0xdb, 0xff, 0xff, 0xff, 0xff]],
  ];
  for (const [label, bytes] of malformed) {
    it(`rejects ${label} with a TypeError`, () => {
      expect(() => unpackMap(Buffer.from(bytes))).to.throw(TypeError);
    });
  }

  it('rejects non-maps with TypeError', () => {
    for (const value of [null, 1, 'a', [1], true]) {
      expect(() => unpackMap(pack(value))).to.throw(TypeError, 'Must be a Hash (Object)');
    }
  });

  it('never lets a __proto__ key change the prototype', () => {
    const bytes = Buffer.concat([Buffer.from([0x81, 0xa9]), Buffer.from('__proto__'), Buffer.from([0x81, 0xa1, 0x78, 0x01])]);
    const v = unpackMap(bytes);
    expect(Object.getPrototypeOf(v)).to.equal(Object.prototype);
    expect(({} as Record<string, unknown>).x).to.equal(undefined);
  });

  it('survives random bytes: only TypeError or a value', () => {
    let seed = 12345;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed >>> 8;
    };
    for (let i = 0; i < 20000; i++) {
      const len = 1 + (rnd() % 40);
      const b = Buffer.alloc(len);
      for (let j = 0; j < len; j++) b[j] = rnd() & 0xff;
      if (i % 2 === 0) b[0] = 0x80 | (rnd() % 16);
      try {
        unpackMap(b);
      } catch (e) {
        expect(e).to.be.instanceOf(TypeError);
      }
    }
  });
});
