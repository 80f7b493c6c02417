import { expect } from 'chai';
import './00.setup';
import { NIL, pack, unpack, unpackMap } from '../lib/msgpack';

describe('msgpack', () => {
  it('packs plain maps (no msgpackr records) and nil as 0xc0', () => {
    expect(pack({ a: 'b' })).to.deep.equal(Buffer.from([0x81, 0xa1, 0x61, 0xa1, 0x62]));
    expect(NIL).to.deep.equal(Buffer.from([0xc0]));
    expect(unpack(NIL)).to.equal(null);
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
