// A client process for test/99.concurrency.test.ts:
//   node --require tsx/cjs test/helpers/fault-client.ts <port> <ms> <sharedFile> <id>
// Connects to the master and, for <ms>, runs 8 lanes of creates, reads,
// updates and deletes of tokens only this lane touches, checking every
// answer against its own model; between them it reads the shared tokens in
// <sharedFile> (all clients race for them). Prints one JSON line:
// { ops, mismatches, created, wins, shared, model: [[token, seq|null, left|null]] }
// where wins counts, per shared token, the reads that returned data.
import fs from 'node:fs';
import CRUDJT = require('../../lib/index');

type Entry = { seq: number; left: number | null; alive: boolean };

async function main(): Promise<void> {
  const [port, ms, sharedFile, id] = process.argv.slice(2);
  CRUDJT.Config.connectToMaster({ grpc_port: Number(port), deadline_ms: 30_000 });
  const shared = JSON.parse(fs.readFileSync(sharedFile, 'utf8')) as string[];
  // Each client walks the shared tokens from a different start.
  const order = shared.map((_, i) => shared[(i + Number(id) * 97) % shared.length]);
  let sharedNext = 0;
  const wins: Record<string, number> = {};
  const model = new Map<string, Entry>();
  const mismatches: string[] = [];
  let ops = 0;
  let created = 0;
  let seq = Number(id) * 10_000_000;
  const deadline = Date.now() + Number(ms);
  const dataOf = (n: number): Record<string, unknown> => ({ c: Number(id), n, pad: 'z'.repeat(n % 60) });
  const expectRead = (token: string, r: CRUDJT.ReadResult | null, e: Entry | undefined): void => {
    const want = !e || !e.alive ? null : JSON.stringify({ ...(e.left === null ? {} : { metadata: { silence_read: e.left - 1 } }), data: dataOf(e.seq) });
    const got = r === null ? null : JSON.stringify(r);
    if (want !== got) mismatches.push(`read ${token}: got ${got}, model ${want}`);
  };

  const lane = async (): Promise<void> => {
    const mine: string[] = [];
    while (Date.now() < deadline) {
      ops++;
      const p = Math.random();
      if (p < 0.15 && sharedNext < order.length) {
        const t = order[sharedNext++];
        const r = await CRUDJT.read(t);
        if (r !== null) wins[t] = (wins[t] ?? 0) + 1;
        continue;
      }
      if (mine.length < 5 || p < 0.4) {
        const n = ++seq;
        const left = Math.random() < 0.5 ? null : 1 + Math.floor(Math.random() * 4);
        const t = await CRUDJT.create(dataOf(n), null, left);
        if (model.has(t)) mismatches.push(`duplicate token ${t}`);
        model.set(t, { seq: n, left, alive: true });
        mine.push(t);
        created++;
        continue;
      }
      const t = mine[Math.floor(Math.random() * mine.length)];
      const e = model.get(t)!;
      if (p < 0.6) {
        const r = await CRUDJT.read(t);
        expectRead(t, r, e);
        if (e.alive && e.left !== null) {
          e.left -= 1;
          if (e.left === 0) e.alive = false;
        }
      } else if (p < 0.8) {
        const n = ++seq;
        const left = Math.random() < 0.5 ? null : 1 + Math.floor(Math.random() * 4);
        const ok = await CRUDJT.update(t, dataOf(n), null, left);
        if (ok !== e.alive) mismatches.push(`update ${t}: got ${ok}, model alive=${e.alive}`);
        if (ok) Object.assign(e, { seq: n, left });
      } else {
        const ok = await CRUDJT.delete(t);
        if (ok !== e.alive) mismatches.push(`delete ${t}: got ${ok}, model alive=${e.alive}`);
        e.alive = false;
      }
      if (!e.alive) mine.splice(mine.indexOf(t), 1);
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  // Finish the shared tokens not reached yet.
  while (sharedNext < order.length) {
    const batch = order.slice(sharedNext, sharedNext + 64);
    sharedNext += batch.length;
    const rs = await Promise.all(batch.map((t) => CRUDJT.read(t)));
    rs.forEach((r, i) => {
      if (r !== null) wins[batch[i]] = (wins[batch[i]] ?? 0) + 1;
    });
  }
  const out = [...model].map(([t, e]) => [t, e.alive ? e.seq : null, e.left]);
  process.stdout.write(JSON.stringify({ ops, mismatches: mismatches.slice(0, 20), created, wins, model: out }) + '\n');
  await CRUDJT.Config.shutdownServer();
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ fatal: String((e as Error)?.stack ?? e) }) + '\n');
  process.exit(3);
});
