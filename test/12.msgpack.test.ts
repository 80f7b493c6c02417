import { expect } from 'chai';
import './00.setup';
import { NIL, pack, packReadResult, unpack, unpackMap, unpackMapAt } from '../lib/msgpack';

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

  // Issue 6: the decoder's fast paths (cached map keys, short strings built
  // in JS, int64 without BigInt, decoding a range) give what Buffer and the
  // MessagePack spec say, byte for byte.
  describe('fast paths', () => {
    let seed = 4242;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const strHeader = (n: number): number[] => (n <= 31 ? [0xa0 | n] : [0xd9, n]);

    it('map keys: thousands of distinct keys (ASCII, UTF-8, invalid UTF-8) never get mixed up by the key cache', () => {
      for (let round = 0; round < 2; round++) {
        seed = 99; // the same keys twice: the second round is answered from the cache
        for (let i = 0; i < 5000; i++) {
          const len = rnd(21);
          const kind = rnd(3);
          const key = Buffer.from(Array.from({ length: len }, () => (kind === 0 ? 0x20 + rnd(95) : kind === 1 ? rnd(128) : rnd(256))));
          const bytes = Buffer.from([0x82, ...strHeader(len), ...key, 0x01, 0xa1, 0x7a, 0x02]);
          const expected: Record<string, unknown> = {};
          expected[key.toString('utf8')] = 1;
          expected.z = 2;
          const keyStr = key.toString('utf8');
          if (keyStr === '__proto__' || keyStr === 'z') continue;
          expect(unpackMap(bytes), `key ${key.toString('hex')}`).to.deep.equal(expected);
        }
      }
    });

    it('map keys: a key cached as a string is still found by integer keys and __proto__ stays data every time', () => {
      expect(unpackMap(Buffer.from([0x82, 0xa1, 0x31, 0x01, 0x01, 0x03]))).to.deep.equal({ 1: 3 });
      for (let i = 0; i < 3; i++) {
        const bytes = Buffer.concat([Buffer.from([0x82, 0xa9]), Buffer.from('__proto__'), Buffer.from([0x81, 0xa1, 0x78, 0x01, 0xa1, 0x79, 0x02])]);
        const v = unpackMap(bytes);
        expect(Object.getPrototypeOf(v)).to.equal(Object.prototype);
        expect(Object.keys(v)).to.deep.equal(['__proto__', 'y']);
        expect((v as Record<string, unknown>).x).to.equal(undefined);
      }
    });

    it('strings of every length 0..300 decode as Buffer#toString does (ASCII, UTF-8, invalid)', () => {
      for (let len = 0; len <= 300; len++) {
        for (let kind = 0; kind < 3; kind++) {
          const raw = Buffer.from(Array.from({ length: len }, () => (kind === 0 ? rnd(128) : kind === 1 ? 0x80 + rnd(128) : rnd(256))));
          const head = len <= 31 ? [0xa0 | len] : len <= 0xff ? [0xd9, len] : [0xda, len >> 8, len & 0xff];
          const got = unpack(Buffer.from([...head, ...raw]));
          expect(got, `len ${len} kind ${kind}`).to.equal(raw.toString('utf8'));
        }
      }
      expect(unpack(pack('é✓🔑'))).to.equal('é✓🔑');
      expect(unpack(Buffer.from([0xa2, 0xc3, 0xa9]))).to.equal('é');
    });

    it('64-bit integers: numbers exactly while safe, bigint beyond, at every edge', () => {
      const u64 = (v: bigint): Buffer => {
        const b = Buffer.alloc(9);
        b[0] = 0xcf;
        b.writeBigUInt64BE(v, 1);
        return b;
      };
      const i64 = (v: bigint): Buffer => {
        const b = Buffer.alloc(9);
        b[0] = 0xd3;
        b.writeBigInt64BE(v, 1);
        return b;
      };
      const safe = BigInt(Number.MAX_SAFE_INTEGER);
      const cases: Array<[Buffer, number | bigint]> = [
        [u64(0n), 0],
        [u64(0xffffffffn), 0xffffffff],
        [u64(0x100000000n), 0x100000000],
        [u64(safe), Number.MAX_SAFE_INTEGER],
        [u64(safe + 1n), safe + 1n],
        [u64(0x1fffff00000000n), 0x1fffff00000000],
        [u64(0x20000000000000n), 0x20000000000000n],
        [u64(2n ** 64n - 1n), 2n ** 64n - 1n],
        [i64(-1n), -1],
        [i64(-(2n ** 31n) - 1n), -(2 ** 31) - 1],
        [i64(-(2n ** 32n)), -(2 ** 32)],
        [i64(-safe), -Number.MAX_SAFE_INTEGER],
        [i64(-safe - 1n), -safe - 1n],
        [i64(-(2n ** 63n)), -(2n ** 63n)],
        [i64(safe), Number.MAX_SAFE_INTEGER],
        [i64(safe + 1n), safe + 1n],
        [i64(2n ** 63n - 1n), 2n ** 63n - 1n],
      ];
      for (const [bytes, want] of cases) expect(unpack(bytes), bytes.toString('hex')).to.equal(want);
    });

    it('unpackMapAt decodes a range of a larger buffer; its errors name offsets inside the range', () => {
      const map = pack({ a: 1, b: 'two', c: [3] });
      const whole = Buffer.concat([Buffer.from([0xc1, 0xc1, 0xc1]), map, Buffer.from([0xc1])]);
      expect(unpackMapAt(whole, 3, 3 + map.length)).to.deep.equal({ a: 1, b: 'two', c: [3] });
      expect(() => unpackMapAt(whole, 3, 3 + map.length + 1, 'x')).to.throw(TypeError, 'x is not valid MessagePack: 1 trailing bytes');
      expect(() => unpackMapAt(whole, 3, 3 + map.length - 1, 'x')).to.throw(TypeError, /x is not valid MessagePack: array of 1 items in 0 bytes/);
      const str = pack({ s: 'abc' });
      expect(() => unpackMapAt(Buffer.concat([Buffer.from([7]), str]), 1, str.length, 'x')).to.throw(TypeError, /x is not valid MessagePack: 3 bytes needed at offset 4, 2 left/);
      expect(() => unpackMapAt(whole, 3, 3, 'x')).to.throw(TypeError, 'x is not valid MessagePack: empty');
      expect(() => unpackMapAt(whole, 0, 3, 'x')).to.throw(TypeError, /byte 0xc1 at offset 0 is reserved/);
      expect(() => unpackMapAt(Buffer.from([0x92, 1, 2]), 0, 3)).to.throw(TypeError, 'Must be a Hash (Object)');
    });

    it('a fixstr map key past the end and a map nested too deep are TypeErrors', () => {
      expect(() => unpackMap(Buffer.from([0x81, 0xa5, 0x61]))).to.throw(TypeError, /5 bytes needed at offset 2, 1 left/);
      const deep = Buffer.from([...Array(70).fill(0x81).flatMap((b) => [b, 0xa1, 0x6b]), 0x01]);
      expect(() => unpackMap(deep.subarray(0, deep.length))).to.throw(TypeError, /nested more than 64 levels deep/);
    });
  });
});
