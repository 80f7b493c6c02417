// Concurrency: a master child and 4 client processes (8 lanes each) under
// mixed load for 30 s (test/helpers/fault-client.ts). Each lane owns its
// tokens and checks every answer against its own model while it runs; all
// clients race to read the same shared tokens: of a token created with
// silence_read = 1 exactly one reader gets the data, of one with 3 exactly
// three. Afterwards the master stops cleanly and the store, reopened in
// this process, holds exactly what the clients' models say: no token lost,
// none duplicated, none revived.
//
// Two masters on one store (the second refused with InvalidState naming
// the path and the holder's pid) is test/20.master.start.test.ts
// ("refuses a store locked by another master ...").
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CRUDJT, freshStorePath, onCleanup, startTestMaster, tempDir } from './00.setup';
import { FaultMaster } from './helpers/fault-child';

const CLIENTS = 4;
const DURATION_MS = 30_000;

type ClientReport = {
  ops: number;
  mismatches: string[];
  created: number;
  wins: Record<string, number>;
  model: Array<[string, number | null, number | null]>;
  fatal?: string;
};

describe('a master and 4 client processes under mixed load', function () {
  this.timeout(150_000);

  it(`${CLIENTS} clients x 8 lanes for ${DURATION_MS / 1000} s: no lost, duplicated or revived token; each shared read-once token read exactly once`, async () => {
    const store = freshStorePath();
    const master = await FaultMaster.start({ store_jt_path: store });
    onCleanup(() => master.kill());

    const once: string[] = [];
    const thrice: string[] = [];
    for (let i = 0; i < 1500; i++) once.push(await master.call<string>('create', { shared: i }, null, 1));
    for (let i = 0; i < 100; i++) thrice.push(await master.call<string>('create', { shared3: i }, 3600, 3));
    const sharedFile = path.join(tempDir('shared'), 'shared.json');
    fs.writeFileSync(sharedFile, JSON.stringify([...once, ...thrice].sort(() => Math.random() - 0.5)));

    const script = path.join(__dirname, 'helpers', 'fault-client.ts');
    const reports = await Promise.all(
      Array.from({ length: CLIENTS }, (_, id) => {
        const p = spawn(process.execPath, ['--require', 'tsx/cjs', script, String(master.port), String(DURATION_MS), sharedFile, String(id)], {
          cwd: path.join(__dirname, '..'),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        onCleanup(() => void p.kill('SIGKILL'));
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (err += d));
        return new Promise<ClientReport>((resolve) =>
          p.on('close', (code) => {
            try {
              resolve(JSON.parse(out.trim().split('\n').pop()!));
            } catch {
              resolve({ ops: 0, mismatches: [], created: 0, wins: {}, model: [], fatal: `exit ${code}: ${out.slice(0, 500)} ${err.slice(0, 2000)}` });
            }
          }),
        );
      }),
    );
    expect(master.alive, master.stderr).to.equal(true);
    for (const r of reports) {
      expect(r.fatal, r.fatal).to.equal(undefined);
      expect(r.mismatches, 'answers checked while running').to.deep.equal([]);
    }

    // Shared tokens: exactly as many winners as reads allowed.
    const winsOf = (t: string): number => reports.reduce((n, r) => n + (r.wins[t] ?? 0), 0);
    const wrongOnce = once.filter((t) => winsOf(t) !== 1);
    const wrongThrice = thrice.filter((t) => winsOf(t) !== 3);
    expect(wrongOnce.length, `read-once tokens not read exactly once: ${wrongOnce.slice(0, 3).map((t) => `${t}=${winsOf(t)}`)}`).to.equal(0);
    expect(wrongThrice.length, 'read-thrice tokens not read exactly 3 times').to.equal(0);

    // No duplicated token across clients.
    const all = new Set<string>();
    let created = 0;
    for (const r of reports) {
      created += r.created;
      for (const [t] of r.model) all.add(t);
    }
    expect(all.size, 'distinct tokens').to.equal(created);

    // The store holds exactly what the models say, after a clean stop.
    await master.stop();
    await startTestMaster({ store_jt_path: store });
    const wrong: string[] = [];
    let alive = 0;
    for (const [id, r] of reports.entries()) {
      for (const [t, seq, left] of r.model) {
        const got = await CRUDJT.read(t);
        let want: unknown = null;
        if (seq !== null) {
          alive++;
          const data = { c: id, n: seq, pad: 'z'.repeat(seq % 60) };
          want = left === null ? { data } : { metadata: { silence_read: left - 1 }, data };
        }
        if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${t}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
      }
    }
    for (const t of once) if ((await CRUDJT.read(t)) !== null) wrong.push(`read-once ${t} is back`);
    await CRUDJT.Config.shutdownServer();
    expect(wrong.slice(0, 5), `${wrong.length} tokens differ from the models`).to.deep.equal([]);
    const ops = reports.reduce((n, r) => n + r.ops, 0);
    console.log(
      `      ${ops} operations (${Math.round(ops / (DURATION_MS / 1000))}/s), ${created} tokens created (${alive} live at the end, all checked), ` +
        `${once.length} read-once + ${thrice.length} read-thrice shared tokens raced by ${CLIENTS} clients`,
    );
  });
});
