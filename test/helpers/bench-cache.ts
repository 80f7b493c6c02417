// Measures whether the read cache pays for itself (not a test):
//   node --require tsx/cjs test/helpers/bench-cache.ts [tokens] [reads]
// Reads the same working set of unlimited tokens through
//   engine       native read() only (no decode)
//   uncached     MasterStore without cache: native read + MessagePack decode
//   cached       MasterStore with the LRU: decode of the cached bytes
// and prints microseconds per read (median of 5 rounds).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NativeBinding } from '../../binding';
import { ReadCache } from '../../lib/cache';
import { pack } from '../../lib/msgpack';
import { MasterStore } from '../../lib/store';

async function main(): Promise<void> {
  const tokens = Number(process.argv[2] ?? 1000);
  const reads = Number(process.argv[3] ?? 200000);
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const binding = require('../../lib/binding').default as NativeBinding;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crudjt-bench-'));
  const { store } = await binding.open(dir, Buffer.alloc(32, 9), {});
  try {
    const uncached = new MasterStore(store, { sync: false, cache: null });
    const cached = new MasterStore(store, { sync: false, cache: new ReadCache({ maxEntries: tokens * 2 }) });
    const data = { user_id: 123456, role: 'admin', email: 'someone@example.com', flags: [1, 2, 3], org: { id: 42, name: 'acme' } };
    const payload = pack(data);
    const list: string[] = [];
    for (let i = 0; i < tokens; i++) list.push(store.create(payload, 3_600_000, -1));

    const round = async (label: string, fn: (t: string) => unknown): Promise<number> => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < reads; i++) await fn(list[i % tokens]);
      const us = Number(process.hrtime.bigint() - t0) / 1000 / reads;
      void label;
      return us;
    };
    const results: Record<string, number[]> = { engine: [], uncached: [], cached: [] };
    for (let r = 0; r < 5; r++) {
      results.engine.push(await round('engine', (t) => store.read(t)));
      results.uncached.push(await round('uncached', (t) => uncached.read(t)));
      results.cached.push(await round('cached', (t) => cached.read(t)));
    }
    const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`tokens=${tokens} reads/round=${reads} payload=${payload.length} B (median of 5 rounds, µs per read, including one await)`);
    for (const k of Object.keys(results)) console.log(`  ${k.padEnd(9)} ${median(results[k]).toFixed(3)} µs`);
    console.log(`  cache hits=${cached.cache!.hits} misses=${cached.cache!.misses}`);
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
