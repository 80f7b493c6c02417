import { expect } from 'chai';
import type { NativeBinding, NativeStore } from '../binding';
import { ReadCache } from '../lib/cache';
import { pack } from '../lib/msgpack';
import { MasterStore } from '../lib/store';
import { freshStorePath, SECRET, sleep } from './00.setup';

function loadBinding(): NativeBinding {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const mod = require('../lib/binding');
  return (mod.default ?? mod) as NativeBinding;
}

async function openStore(sync = false): Promise<NativeStore> {
  const { store } = await loadBinding().open(freshStorePath(), Buffer.from(SECRET, 'base64'), { durability: sync ? 'sync' : 'background' });
  return store;
}

/** A small seeded PRNG (mulberry32): rnd(n) is an integer in [0, n). */
function mulberry32(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

describe('ReadCache', () => {
  const bytes = Buffer.from([0x81, 0xa1, 0x61, 0x01]);

  it('keeps at most maxEntries, dropping the least recently used', () => {
    const c = new ReadCache({ maxEntries: 3 });
    for (const t of ['a', 'b', 'c']) c.fill(t, c.epoch(), bytes, null);
    expect(c.get('a', 0)).to.not.equal(undefined); // a is now the most recent
    c.fill('d', c.epoch(), bytes, null);
    expect(c.size).to.equal(3);
    expect(c.get('b', 0)).to.equal(undefined);
    expect(c.get('a', 0)).to.not.equal(undefined);
    expect(c.get('d', 0)).to.not.equal(undefined);
  });

  it('evicts in exactly least-recently-used order over a random sequence (array model)', () => {
    const rand = mulberry32(7);
    const max = 16;
    const c = new ReadCache({ maxEntries: max });
    let model: string[] = []; // most recent last
    for (let i = 0; i < 20000; i++) {
      const token = `t${rand(40)}`;
      const op = rand(3);
      if (op === 0) {
        const hit = c.get(token, 0) !== undefined;
        expect(hit).to.equal(model.includes(token));
        if (hit) model = [...model.filter((t) => t !== token), token];
      } else if (op === 1) {
        c.fill(token, c.epoch(), bytes, null);
        model = [...model.filter((t) => t !== token), token];
        if (model.length > max) model.shift();
      } else {
        c.evict(token);
        model = model.filter((t) => t !== token);
      }
      expect(c.size).to.equal(model.length);
    }
  });

  it('drops an entry whose expiry has come', () => {
    const c = new ReadCache();
    c.fill('a', c.epoch(), bytes, 1000);
    expect(c.get('a', 999)).to.not.equal(undefined);
    expect(c.get('a', 1000)).to.equal(undefined);
    expect(c.size).to.equal(0);
  });

  it('does not fill from a read that a write overtook', () => {
    const c = new ReadCache();
    const epoch = c.epoch();
    c.evict('a');
    c.fill('a', epoch, bytes, null);
    expect(c.get('a', 0)).to.equal(undefined);
  });

  it('readSlot/commitSlot: entries keep their own bytes while slots are reused (random sequence, model)', () => {
    const rand = mulberry32(11);
    const max = 8;
    const c = new ReadCache({ maxEntries: max });
    const model = new Map<string, Buffer>(); // token -> bytes, most recent last
    const touch = (t: string, b: Buffer): void => {
      model.delete(t);
      model.set(t, b);
      if (model.size > max) model.delete(model.keys().next().value as string);
    };
    for (let i = 0; i < 20000; i++) {
      const token = `t${rand(24)}`;
      const bytes = Buffer.from(Array.from({ length: 1 + rand(256) }, () => rand(256)));
      const op = rand(5);
      if (op === 0) {
        c.fill(token, c.epoch(), bytes, null);
        touch(token, bytes);
      } else if (op === 1) {
        // An engine read written straight into the slot, then committed.
        const slot = c.readSlot();
        expect(slot.slot.length).to.be.at.least(16 + 256);
        bytes.copy(slot.slot, 16);
        slot.meta[slot.metaIndex] = -1;
        if (rand(4) === 0) {
          // A write overtook the read: nothing is cached, the slot stays free.
          const epoch = c.epoch();
          c.evict(token);
          model.delete(token);
          c.commitSlot(token, epoch, bytes.length, null);
          expect(c.readSlot()).to.equal(slot);
        } else {
          c.commitSlot(token, c.epoch(), bytes.length, null);
          touch(token, bytes);
        }
      } else if (op === 2) {
        c.evict(token);
        model.delete(token);
      } else {
        const e = c.lookup(token, 0);
        expect(e === undefined).to.equal(!model.has(token));
        if (e !== undefined) {
          expect(Buffer.compare(e.bytes.subarray(e.offset, e.offset + e.length), model.get(token)!)).to.equal(0);
          touch(token, model.get(token)!);
        }
      }
      expect(c.size).to.equal(model.size);
    }
    // Every entry still holds exactly its bytes.
    for (const [t, b] of model) expect(c.get(t, 0)!.payload).to.deep.equal(b);
  });

  it('a payload longer than a slot is kept whole (its own copy)', () => {
    const c = new ReadCache({ maxEntries: 2 });
    const big = Buffer.alloc(1000, 7);
    c.fill('a', c.epoch(), big, null);
    c.fill('b', c.epoch(), bytes, null);
    big.fill(0);
    expect(c.get('a', 0)!.payload).to.deep.equal(Buffer.alloc(1000, 7));
    expect(c.get('b', 0)!.payload).to.deep.equal(bytes);
    c.commitSlot('c', c.epoch(), 257, null); // refused: longer than the slot
    expect(c.size).to.equal(2);
  });

  it('admit(): every read while there is room; once full, a token on its second miss (doorkeeper)', () => {
    const c = new ReadCache({ maxEntries: 3 });
    for (const t of ['a', 'b', 'c']) {
      expect(c.admit(t)).to.equal(true);
      c.fill(t, c.epoch(), bytes, null);
    }
    expect(c.admit('d')).to.equal(false); // full: first knock
    expect(c.admit('d')).to.equal(true); // second
    expect(c.admit('d')).to.equal(false); // the knock was used up
    // Many tokens read once never get in; each one read twice does.
    let admitted = 0;
    for (let i = 0; i < 1000; i++) if (c.admit(`once-${i}`)) admitted++;
    expect(admitted).to.equal(0);
    for (let i = 0; i < 100; i++) {
      c.admit(`twice-${i}`);
      if (c.admit(`twice-${i}`)) admitted++;
    }
    expect(admitted).to.equal(100);
    c.evict('a'); // room again: admitted at once
    expect(c.admit('e')).to.equal(true);
  });

  it('rejects a bad maxEntries', () => {
    expect(() => new ReadCache({ maxEntries: 0 })).to.throw(RangeError);
  });
});

describe('MasterStore read cache', () => {
  let natives: NativeStore[] = [];

  async function store(cache: boolean, sync = false): Promise<MasterStore> {
    const native = await openStore(sync);
    natives.push(native);
    return new MasterStore(native, { sync, cache: cache ? new ReadCache({ maxEntries: 64 }) : null });
  }

  afterEach(async () => {
    for (const n of natives) await n.close();
    natives = [];
  });

  it('serves repeated reads of unlimited tokens from the cache', async () => {
    const s = await store(true);
    const token = await s.create(pack({ a: 1 }), 3600, null);
    for (let i = 0; i < 5; i++) expect(await s.read(token)).to.deep.equal({ metadata: { ttl: 3600 }, data: { a: 1 } });
    expect(s.cache!.hits).to.equal(4);
  });

  it('never serves a token with a read limit from the cache', async () => {
    const s = await store(true);
    const token = await s.create(pack({ a: 1 }), null, 3);
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push((await s.read(token))?.metadata?.silence_read ?? null);
    expect(seen).to.deep.equal([2, 1, 0, null]);
    expect(s.cache!.hits).to.equal(0);
  });

  it('answers null once a cached token expires', async function () {
    this.timeout(5000);
    const s = await store(true);
    const token = await s.create(pack({ a: 1 }), 1, null);
    expect(await s.read(token)).to.deep.equal({ metadata: { ttl: 1 }, data: { a: 1 } });
    await sleep(1050);
    expect(await s.read(token)).to.equal(null);
  });

  it('answers exactly as the engine alone over a random sequence of operations', async () => {
    const seqs: unknown[][] = [];
    for (const cached of [true, false]) {
      const s = await store(cached);
      const rnd = mulberry32(20240601);
      const tokens: string[] = [];
      const log: unknown[] = [];
      const limit = (): [number | null, number | null] => [rnd(3) === 0 ? 3600 : null, rnd(4) === 0 ? 1 + rnd(4) : null];
      for (let i = 0; i < 3000; i++) {
        const op = tokens.length === 0 ? 0 : rnd(10);
        const t = tokens.length === 0 ? '' : tokens[tokens.length - 1 - rnd(Math.min(20, tokens.length))];
        if (op === 0) {
          const [ttl, sr] = limit();
          tokens.push(await s.create(pack({ i, n: rnd(1000) }), ttl, sr));
          log.push(['create']);
        } else if (op <= 6) {
          log.push(['read', await s.read(t)]);
        } else if (op <= 8) {
          const [ttl, sr] = limit();
          log.push(['update', await s.update(t, pack({ u: i }), ttl, sr)]);
        } else {
          log.push(['delete', await s.delete(t)]);
        }
      }
      if (cached) expect(s.cache!.hits).to.be.greaterThan(100);
      seqs.push(log);
    }
    // Tokens are random, so the two runs are compared by position. A ttl of
    // 3600 reads 3600 until a second has passed; allow that one boundary.
    const normalize = (log: unknown[]): string =>
      JSON.stringify(log, (k, v) => (k === 'ttl' && typeof v === 'number' && v >= 3599 ? 3600 : v));
    expect(normalize(seqs[0])).to.equal(normalize(seqs[1]));
  });

  it('with async engine calls (durability sync), reads racing an update never leave stale data cached', async () => {
    const s = await store(true, true);
    for (let i = 0; i < 20; i++) {
      const token = await s.create(pack({ v: 0 }), null, null);
      const reads = [s.read(token), s.read(token)];
      const updated = s.update(token, pack({ v: 1 }), null, null);
      const deleted = i % 2 === 0 ? null : s.read(token);
      await Promise.all([...reads, updated, deleted]);
      expect(await s.read(token)).to.deep.equal({ data: { v: 1 } });
      expect(await s.read(token)).to.deep.equal({ data: { v: 1 } });
    }
  });

  it('a full cache admits a token read once on its second read; answers never change', async () => {
    const s = new MasterStore(await openStore(false), { sync: false, cache: new ReadCache({ maxEntries: 4 }) });
    natives.push((s as unknown as { native: NativeStore }).native);
    const tokens: string[] = [];
    for (let i = 0; i < 8; i++) tokens.push(await s.create(pack({ i }), 3600, null));
    for (let i = 0; i < 4; i++) await s.read(tokens[i]); // fill the 4 entries
    expect(s.cache!.size).to.equal(4);
    const hits = s.cache!.hits;
    expect(await s.read(tokens[5])).to.deep.equal({ metadata: { ttl: 3600 }, data: { i: 5 } }); // knock
    expect(await s.read(tokens[5])).to.deep.equal({ metadata: { ttl: 3600 }, data: { i: 5 } }); // admitted
    expect(await s.read(tokens[5])).to.deep.equal({ metadata: { ttl: 3600 }, data: { i: 5 } }); // hit
    expect(s.cache!.hits).to.equal(hits + 1);
    expect(s.cache!.size).to.equal(4);
  });

  it('returns a fresh copy on every cached read', async () => {
    const s = await store(true);
    const token = await s.create(pack({ list: [1] }), null, null);
    const a = await s.read(token);
    (a!.data.list as number[]).push(2);
    const b = await s.read(token);
    expect(b!.data.list).to.deep.equal([1]);
    expect(s.cache!.hits).to.equal(1);
  });
});
