// A crudjt master under load, run as a child by the fault tests and killed
// at a random moment:
//   node --require tsx/cjs test/helpers/fault-worker.ts
// Environment:
//   FAULT_STORE   store directory
//   FAULT_MODE    'public'     CRUDJT.Config.startMaster (the product path,
//                              incl. the sweep that runs after open)
//                 'checkpoint' the engine through lib/store's MasterStore,
//                              opened with a tiny checkpoint threshold and
//                              flush interval, plus explicit checkpoints
//                 'sweep'      MasterStore; first creates many tokens that
//                              expire at once, then sweeps them while the
//                              load goes on
//   FAULT_SEED    seed of the workload (a number)
//   FAULT_OLD     optional JSON file: tokens of earlier rounds to work on too
//
// It writes one line to stdout per step; stdout is a pipe, and Node writes
// to pipes synchronously on Linux, so a line written is in the pipe before
// the next operation starts (a line < PIPE_BUF is written atomically):
//   READY                          the load starts now
//   I <op> <token> [seq ttl reads] about to run op on token (intent)
//   C <token> <seq> <ttl> <reads>  acknowledged create (ttl/reads: '-' = none)
//   U <token> <seq> <ttl> <reads> <0|1>  acknowledged update and its result
//   D <token> <0|1>                acknowledged delete and its result
//   R <token> <left>               acknowledged read: silence_read left, '-'
//                                  when unlimited, 'null' when not found
//   X <token> <expiresAtMs>        acknowledged create of an expiring token
//   K start | K done               explicit checkpoint began / ended
//   S start | S done <n>           explicit sweep began / ended
// Only one operation is in flight at a time, so at most the last intent
// lacks its acknowledgement when the process dies.
import fs from 'node:fs';
import type { NativeBinding } from '../../binding';
import { ReadCache } from '../../lib/cache';
import { MasterStore } from '../../lib/store';
import { validateData } from '../../lib/validation';
import CRUDJT = require('../../lib/index');
import { SECRET_FOR_CHILDREN, payloadOf } from './fault-model';

type Api = {
  create(data: Record<string, unknown>, ttl: number | null, reads: number | null): Promise<string>;
  read(token: string): Promise<{ metadata?: { ttl?: number; silence_read?: number }; data: Record<string, unknown> } | null>;
  update(token: string, data: Record<string, unknown>, ttl: number | null, reads: number | null): Promise<boolean>;
  delete(token: string): Promise<boolean>;
};

// fd 1 may be a non-blocking pipe: a full pipe gives EAGAIN, so wait for
// the parent to drain it (a write of < PIPE_BUF bytes is all or nothing).
const pause = new Int32Array(new SharedArrayBuffer(4));
const out = (line: string): void => {
  const bytes = Buffer.from(line + '\n', 'latin1');
  for (;;) {
    try {
      fs.writeSync(1, bytes);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
};

// A small deterministic PRNG (mulberry32) so that a failing round can be rerun.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function main(): Promise<void> {
  const dir = process.env.FAULT_STORE!;
  const mode = process.env.FAULT_MODE ?? 'public';
  const seed = Number(process.env.FAULT_SEED ?? 1);
  const random = rng(seed);
  const secret = Buffer.from(SECRET_FOR_CHILDREN, 'base64');
  let api: Api;
  let native: import('../../binding').NativeStore | null = null;

  if (mode === 'public') {
    await CRUDJT.Config.startMaster({ secret_key: SECRET_FOR_CHILDREN, store_jt_path: dir, grpc_port: 0, logger: null });
    api = CRUDJT;
  } else {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const binding = require('../../lib/binding').default as NativeBinding;
    const opened = await binding.open(dir, secret, {
      flushIntervalMs: mode === 'checkpoint' ? 2 : 50,
      checkpointLogBytes: mode === 'checkpoint' ? 16 * 1024 : 32 << 20,
      sweepOnOpen: false,
    });
    native = opened.store;
    const ms = new MasterStore(native, { sync: false, cache: new ReadCache() });
    api = {
      create: (d, t, r) => ms.create(validateData(d), t, r),
      read: (t) => ms.read(t),
      update: (tok, d, t, r) => ms.update(tok, validateData(d), t, r),
      delete: (t) => ms.delete(t),
    };
  }

  if (mode === 'sweep' && native !== null) {
    // Tokens that expire 150 ms from now, then a sweep that removes them
    // while the load below goes on.
    const n = 4000 + Math.floor(random() * 4000);
    for (let i = 0; i < n; i++) {
      const expiresAt = Date.now() + 150;
      const token = native.create(validateData({ e: i }), 150, -1);
      out(`X ${token} ${expiresAt}`);
    }
    await new Promise((r) => setTimeout(r, 160));
    const store = native;
    const sweepLoop = async (): Promise<void> => {
      for (;;) {
        out('S start');
        const removed = await store.sweep();
        out(`S done ${removed}`);
        for (let i = 0; i < 2000; i++) {
          const expiresAt = Date.now() + 20;
          out(`X ${store.create(validateData({ e: i }), 20, -1)} ${expiresAt}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    void sweepLoop();
  }
  if (mode === 'checkpoint' && native !== null) {
    const store = native;
    const checkpointLoop = async (): Promise<void> => {
      for (;;) {
        out('K start');
        await store.checkpoint();
        out('K done');
      }
    };
    void checkpointLoop();
  }

  const mine: Array<{ token: string; counted: boolean }> = [];
  if (process.env.FAULT_OLD) {
    for (const token of JSON.parse(fs.readFileSync(process.env.FAULT_OLD, 'utf8')) as string[]) {
      mine.push({ token, counted: true });
    }
  }
  out('READY');
  let seq = seed * 1_000_000;
  const limits = (): [number | null, number | null] => {
    const ttl = random() < 0.5 ? null : 3600;
    const reads = random() < 0.4 ? null : 1 + Math.floor(random() * 4);
    return [ttl, reads];
  };
  const s = (v: number | null): string => (v === null ? '-' : String(v));
  for (let step = 0; ; step++) {
    const p = random();
    if (mine.length < 20 || p < 0.4) {
      const [ttl, reads] = limits();
      const n = ++seq;
      out(`I C - ${n} ${s(ttl)} ${s(reads)}`);
      const token = await api.create(payloadOf(n), ttl, reads);
      out(`C ${token} ${n} ${s(ttl)} ${s(reads)}`);
      mine.push({ token, counted: reads !== null });
      continue;
    }
    const idx = Math.floor(random() * mine.length);
    const { token } = mine[idx];
    if (p < 0.6) {
      const [ttl, reads] = limits();
      const n = ++seq;
      out(`I U ${token} ${n} ${s(ttl)} ${s(reads)}`);
      const ok = await api.update(token, payloadOf(n), ttl, reads);
      out(`U ${token} ${n} ${s(ttl)} ${s(reads)} ${ok ? 1 : 0}`);
    } else if (p < 0.7) {
      out(`I D ${token}`);
      const ok = await api.delete(token);
      out(`D ${token} ${ok ? 1 : 0}`);
      mine[idx] = mine[mine.length - 1];
      mine.pop();
    } else {
      out(`I R ${token}`);
      const r = await api.read(token);
      out(`R ${token} ${r === null ? 'null' : r.metadata?.silence_read ?? '-'}`);
      if (r === null) {
        mine[idx] = mine[mine.length - 1];
        mine.pop();
      }
    }
    // Let the checkpoint / sweep promises and timers run now and then.
    if (step % 64 === 0) await new Promise((r) => setImmediate(r));
  }
}

main().catch((e) => {
  out(`FATAL ${String((e as Error)?.stack ?? e).replace(/\n/g, ' | ')}`);
  process.exit(3);
});
