// Process kill: a master in a child process runs creates, updates, deletes
// and counted reads as fast as it can and acknowledges each result on
// stdout (test/helpers/fault-worker.ts); the parent SIGKILLs it at a random
// moment, reopens the same store in this process and checks every
// acknowledged result against a model (test/helpers/fault-model.ts). The
// one operation in flight at the kill may or may not have happened; every
// acknowledged one must have. The store accumulates across rounds (each
// round's child reopens what the previous kill left) and works on tokens of
// earlier rounds too.
//
// Rounds: 10 through the public startMaster (with its sweep after open),
// 6 with a 16 KiB checkpoint threshold, 2 ms flush interval and explicit
// checkpoints back to back (so most kills land inside a checkpoint), 4 with
// thousands of tokens expiring at once and sweeps running while the load
// goes on. The threshold is not a public option: those rounds open the
// engine through lib/store's MasterStore, as startMaster does.
//
// Power loss (lost page cache, not just a killed process) is not modelled
// here: it can not be produced from user space without a VM. The engine's
// tests cover it at the file level: cpp/store/store_crash_test.cc truncates
// the log to its fsynced length and to every byte offset of a torn tail,
// and cpp/wal/log_test.cc checks the reader on torn and corrupt records.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { CRUDJT, freshStorePath, onCleanup, startTestMaster, tempDir } from './00.setup';
import { KillModel, WorkerChild } from './helpers/fault-model';

const ROUNDS: Array<'public' | 'checkpoint' | 'sweep'> = [
  ...Array<'public'>(10).fill('public'),
  ...Array<'checkpoint'>(6).fill('checkpoint'),
  ...Array<'sweep'>(4).fill('sweep'),
];

describe('SIGKILL of a master under load loses no acknowledged result', function () {
  this.timeout(180_000);

  it(`${ROUNDS.length} rounds of random kills (public API, during checkpoints, during sweeps)`, async () => {
    const store = freshStorePath();
    const scratch = tempDir('fault-old');
    const model = new KillModel();
    const summary: string[] = [];
    let killsInCheckpoint = 0;
    let killsInSweep = 0;
    let expiredChecked = 0;
    const baseSeed = Date.now() % 100_000;

    for (let round = 0; round < ROUNDS.length; round++) {
      const mode = ROUNDS[round];
      const seed = baseSeed + round + 1;
      // Hand the child some live tokens of earlier rounds to work on.
      const old = model.aliveTokens().slice(-100);
      const oldFile = path.join(scratch, `old-${round}.json`);
      fs.writeFileSync(oldFile, JSON.stringify(old));
      const acksBefore = model.acks;
      const cpBefore = model.checkpointsDone;
      const sweepsBefore = model.sweepsDone;

      const child = new WorkerChild(
        { FAULT_STORE: store, FAULT_MODE: mode, FAULT_SEED: String(seed), FAULT_OLD: oldFile },
        (l) => model.line(l),
      );
      onCleanup(() => void child.proc.kill('SIGKILL'));
      await child.ready;
      const delay = 60 + Math.floor(Math.random() * 500);
      await new Promise((r) => setTimeout(r, delay));
      const { signal } = await child.kill();
      expect(signal, `round ${round} (${mode}, seed ${seed}): the worker died before the kill: ${child.stderr}`).to.equal('SIGKILL');
      expect(model.liveMismatches, `round ${round}: answers while running`).to.deep.equal([]);
      if (model.inCheckpoint) killsInCheckpoint++;
      if (model.inSweep) killsInSweep++;

      // The store always reopens, and every acknowledged result is there.
      await startTestMaster({ store_jt_path: store });
      const errors: string[] = [];
      const toCheck = new Set(model.touched);
      const others = [...model.tokens.keys()].filter((t) => !toCheck.has(t));
      for (let i = 0; i < 300 && others.length > 0; i++) {
        toCheck.add(others[Math.floor(Math.random() * others.length)]);
      }
      if (model.pending !== null && model.pending.op !== 'C') toCheck.add(model.pending.token);
      for (const token of toCheck) {
        const e = await model.check(token, (t) => CRUDJT.read(t));
        if (e !== null) errors.push(e);
      }
      // Expired tokens stay gone, whatever the sweep had done when it died.
      const now = Date.now();
      let n = 0;
      for (const [token, expiresAt] of model.expiring) {
        if (expiresAt >= now - 5) continue;
        if (++n > 300) break;
        expiredChecked++;
        if ((await CRUDJT.read(token)) !== null) errors.push(`expired token ${token} came back`);
        model.expiring.delete(token);
      }
      await CRUDJT.Config.shutdownServer();
      expect(errors.slice(0, 5), `round ${round} (${mode}, seed ${seed}, killed after ${delay} ms): ${errors.length} wrong`).to.deep.equal([]);
      summary.push(
        `${mode}: ${model.acks - acksBefore} acks, ${toCheck.size} checked` +
          (mode === 'checkpoint' ? `, ${model.checkpointsDone - cpBefore} checkpoints` : '') +
          (mode === 'sweep' ? `, ${model.sweepsDone - sweepsBefore} sweeps` : ''),
      );
      model.endRound();
    }
    // Every round ran under load, and kills did land inside checkpoints and sweeps.
    expect(killsInCheckpoint, 'kills during an explicit checkpoint').to.be.greaterThan(0);
    expect(killsInSweep + model.sweepsDone, 'sweeps ran').to.be.greaterThan(0);
    console.log(
      `      ${ROUNDS.length} rounds, ${model.acks} acknowledged results, ${model.tokens.size} tokens in the model, ` +
        `${killsInCheckpoint} kills inside a checkpoint, ${killsInSweep} inside a sweep, ${expiredChecked} expired tokens rechecked`,
    );
    for (const [i, s] of summary.entries()) console.log(`        round ${i}: ${s}`);
  });
});
