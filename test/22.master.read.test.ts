import { expect } from 'chai';
import type { NativeBinding, NativeStore } from '../binding';
import { ReadCache } from '../lib/cache';
import { pack, unpack } from '../lib/msgpack';
import { MasterStore } from '../lib/store';
import { CRUDJT, freshStorePath, SECRET, startTestMaster } from './00.setup';
import { readBehaviour } from './helpers/api-behaviour';

function loadBinding(): NativeBinding {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const mod = require('../lib/binding');
  return (mod.default ?? mod) as NativeBinding;
}

describe('CRUDJT.read() in the master role', () => {
  before(async () => {
    await startTestMaster();
  });
  after(async () => {
    await CRUDJT.Config.shutdownServer();
  });

  readBehaviour();
});

// Issue 6: the master's synchronous read lets the addon copy the payload
// into a scratch (or straight into a cache slot) and decodes from there.
describe('MasterStore read through the scratch (readInto)', () => {
  let natives: NativeStore[] = [];
  async function store(opts: { cache: boolean; scratch?: number; sync?: boolean }): Promise<MasterStore> {
    const { store: native } = await loadBinding().open(freshStorePath(), Buffer.from(SECRET, 'base64'), { durability: opts.sync ? 'sync' : 'background' });
    natives.push(native);
    return new MasterStore(native, { sync: !!opts.sync, cache: opts.cache ? new ReadCache({ maxEntries: 16 }) : null, readScratchBytes: opts.scratch });
  }
  afterEach(async () => {
    for (const n of natives) await n.close();
    natives = [];
  });

  const samples: Array<Record<string, unknown>> = [
    { a: 1 },
    { user_id: 2 ** 40, role: 'admin', name: 'ünïcødé ✓ 🔑', list: [1, 'x', null, true, false, -1.5] },
    { bin: Buffer.from([0, 1, 255]), when: new Date(1700000000123), big: 18446744073709551615n, neg: -(2 ** 53) + 1 },
    { nested: { deeper: { deepest: ['a', { b: 'c' }] } }, s8: 'abcdefgh', s9: 'abcdefghi', e: '' },
    { pad: 'p'.repeat(200) },
  ];

  for (const variant of [
    { label: 'no cache', cache: false },
    { label: 'cache', cache: true },
    { label: 'no cache, payloads larger than the scratch', cache: false, scratch: 8 },
    { label: 'no cache, a scratch of 0 payload bytes', cache: false, scratch: 0 },
  ]) {
    it(`answers what read() of the engine holds (${variant.label})`, async () => {
      const s = await store(variant);
      const tokens = await Promise.all(samples.map((d, i) => s.create(pack(d), i % 2 === 0 ? 3600 : null, null)));
      for (let round = 0; round < 3; round++) {
        // Interleaved, so that every read reuses the scratch the previous one filled.
        const got = await Promise.all(tokens.map((t) => s.read(t)));
        got.forEach((r, i) => {
          expect(r!.data).to.deep.equal(samples[i]);
          expect(r!.metadata).to.deep.equal(i % 2 === 0 ? { ttl: 3600 } : undefined);
        });
        // Results are fresh objects: changing one changes no later read.
        (got[1]!.data.list as unknown[]).push('mutated');
        (got[2]!.data.bin as Buffer)[0] = 42;
      }
      const limited = await s.create(pack(samples[4]), null, 2);
      expect(await s.read(limited)).to.deep.equal({ metadata: { silence_read: 1 }, data: samples[4] });
      expect(await s.read(limited)).to.deep.equal({ metadata: { silence_read: 0 }, data: samples[4] });
      expect(await s.read(limited)).to.equal(null);
      expect(await s.read('A'.repeat(22))).to.equal(null);
    });
  }

  for (const variant of [{ cache: true }, { cache: false }, { cache: false, scratch: 8 }, { cache: true, sync: true }]) {
    it(`readPacked (the gRPC path) agrees with read() on the same store (${JSON.stringify(variant)})`, async () => {
      const s = await store(variant);
      const tokens = await Promise.all(samples.map((d) => s.create(pack(d), 60, null)));
      for (let round = 0; round < 2; round++) {
        // Interleaved: each packed answer must be made before the next read reuses the scratch.
        const packed = await Promise.all(tokens.map((t) => s.readPacked(t)));
        const plain = await Promise.all(tokens.map((t) => s.read(t)));
        for (let i = 0; i < tokens.length; i++) {
          expect(unpack(packed[i]!)).to.deep.equal(plain[i]);
          expect(plain[i]!.data).to.deep.equal(samples[i]);
        }
      }
      const limited = await s.create(pack(samples[0]), null, 1);
      expect(unpack((await s.readPacked(limited))!)).to.deep.equal({ metadata: { silence_read: 0 }, data: samples[0] });
      expect(await s.readPacked(limited)).to.equal(null);
    });
  }

  it('a read from inside a getter of the data being created (reentrancy) reads its own token', async () => {
    await startTestMaster();
    try {
      const first = await CRUDJT.create({ v: 'first' });
      let inner: Promise<unknown> | null = null;
      const data = {
        get v(): string {
          inner ??= CRUDJT.read(first);
          return 'outer';
        },
      };
      const token = await CRUDJT.create(data as never);
      expect(await inner).to.deep.equal({ data: { v: 'first' } });
      expect(await CRUDJT.read(token)).to.deep.equal({ data: { v: 'outer' } });
      expect(await CRUDJT.read(first)).to.deep.equal({ data: { v: 'first' } });
    } finally {
      await CRUDJT.Config.shutdownServer();
    }
  });
});
