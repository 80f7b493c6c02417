// Corruption and resources, through the public API:
// - a flipped byte in any page of a stopped store, or in a log record that
//   valid records follow, is an InternalError naming the file (at
//   startMaster, or at the read that meets the page): never wrong data,
//   never a token silently gone;
// - a full disk (RLIMIT_FSIZE via `ulimit -f`, and ENOSPC on a small tmpfs
//   where this user may mount one): writes reject with InternalError, reads
//   keep working, the master process survives (Node ignores SIGXFSZ, so
//   the write fails with EFBIG instead of killing it), and after a restart
//   with space every acknowledged write is there and no failed one is;
// - an unwritable store path is a clear error at start.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CRUDJT, freshStorePath, onCleanup, startTestMaster, tempDir } from './00.setup';
import { expectReject } from './helpers/assert';
import { ChildCallError, FaultMaster } from './helpers/fault-child';

const { InternalError } = CRUDJT.Errors;
const payload = (i: number): Record<string, unknown> => ({ i, pad: 'p'.repeat(100 + (i % 50)) });

function copyDir(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const f of fs.readdirSync(from)) fs.copyFileSync(path.join(from, f), path.join(to, f));
}

function flip(file: string, offset: number): void {
  const fd = fs.openSync(file, 'r+');
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, offset);
  b[0] ^= 0x5a;
  fs.writeSync(fd, b, 0, 1, offset);
  fs.closeSync(fd);
}

/** Offsets of the records of a log segment (doc/wal_format.md). */
function logRecords(file: string): Array<{ offset: number; length: number }> {
  const buf = fs.readFileSync(file);
  const out: Array<{ offset: number; length: number }> = [];
  let pos = 32;
  while (pos + 15 <= buf.length) {
    const len = buf.readUInt16LE(pos + 4);
    if (pos + 15 + len > buf.length) break;
    out.push({ offset: pos, length: 15 + len });
    pos += 15 + len;
  }
  return out;
}

/**
 * Opens `store` in this process and reads every token: each must read back
 * right or fail with InternalError naming `file`. Returns how it went.
 */
async function openAndReadAll(store: string, tokens: Map<string, number>, file: string, namesAnyStoreFile = false): Promise<'start' | 'read' | 'unnoticed'> {
  try {
    await startTestMaster({ store_jt_path: store });
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(InternalError);
    const msg = (e as Error).message;
    expect(msg, 'the error names the store').to.contain(store);
    if (namesAnyStoreFile) expect(msg, `the error names a file of the store: ${msg}`).to.match(/crudjt(\.pages|-[0-9a-f]{16}\.wal)/);
    else expect(msg, `the error names the file: ${msg}`).to.contain(path.basename(file));
    return 'start';
  }
  let seen: 'read' | 'unnoticed' = 'unnoticed';
  try {
    for (const [token, i] of tokens) {
      try {
        const r = await CRUDJT.read(token);
        expect(r, `token ${i} silently gone`).to.deep.equal({ data: payload(i) });
      } catch (e) {
        if (!(e instanceof InternalError)) throw e;
        expect(e.message, `the error names the file: ${e.message}`).to.contain(path.basename(file));
        seen = 'read';
      }
    }
  } finally {
    await CRUDJT.Config.shutdownServer();
  }
  return seen;
}

describe('corruption of a stopped store', function () {
  this.timeout(60_000);

  it('a flipped byte in any page of the page file: InternalError naming it, never wrong or missing data', async () => {
    const store = freshStorePath();
    await startTestMaster({ store_jt_path: store });
    const tokens = new Map<string, number>();
    for (let i = 0; i < 400; i++) tokens.set(await CRUDJT.create(payload(i)), i);
    await CRUDJT.Config.shutdownServer();
    const pagesFile = path.join(store, 'crudjt.pages');
    const pages = fs.statSync(pagesFile).size / 4096;
    expect(pages).to.be.greaterThan(4);
    const outcome = { start: 0, read: 0, unnoticed: 0 };
    for (let p = 0; p < pages; p++) {
      const copy = path.join(tempDir('flip-page'), 'store_jt');
      copyDir(store, copy);
      // One byte in the page header region, one at a random spot.
      const offset = p * 4096 + (p % 2 === 0 ? 8 + (p % 24) : Math.floor(Math.random() * 4096));
      flip(path.join(copy, 'crudjt.pages'), offset);
      // Pages 0 and 1 are the alternating meta pages. A flip in the newer
      // one makes the engine fall back to the older checkpoint, whose log
      // segment is gone: refused, but the message names that segment
      // ("log segment needed by recovery is missing"), and a flip in the
      // version field reads as "format version N is newer" (the version is
      // checked before the checksum). Both refuse; neither names the page.
      outcome[await openAndReadAll(copy, tokens, path.join(copy, 'crudjt.pages'), p < 2)]++;
    }
    console.log(`      ${pages} pages flipped: ${outcome.start} refused at start, ${outcome.read} at read, ${outcome.unnoticed} not read (free or unused bytes)`);
    expect(outcome.start + outcome.read, 'most flips are noticed').to.be.greaterThan(pages / 2);
  });

  it('a flipped byte in a log record followed by valid ones: InternalError naming the segment at start', async () => {
    const store = freshStorePath();
    const child = await FaultMaster.start({ store_jt_path: store });
    onCleanup(() => child.kill());
    const tokens = new Map<string, number>();
    for (let i = 0; i < 200; i++) tokens.set(await child.call<string>('create', payload(i)), i);
    await child.kill(); // no checkpoint: everything is in the log
    const segment = fs.readdirSync(store).filter((f) => f.endsWith('.wal')).sort().pop()!;
    const records = logRecords(path.join(store, segment));
    expect(records.length).to.be.at.least(200);
    const spots: Array<[string, (r: { offset: number; length: number }) => number]> = [
      ['crc', (r) => r.offset + 1],
      ['length', (r) => r.offset + 4],
      ['type', (r) => r.offset + 6],
      ['lsn', (r) => r.offset + 7],
      ['payload', (r) => r.offset + 15 + Math.floor((r.length - 15) / 2)],
      ['last payload byte', (r) => r.offset + r.length - 1],
    ];
    for (const which of [1, Math.floor(records.length / 2), records.length - 3]) {
      for (const [name, at] of spots) {
        const copy = path.join(tempDir('flip-log'), 'store_jt');
        copyDir(store, copy);
        flip(path.join(copy, segment), at(records[which]));
        const how = await openAndReadAll(copy, tokens, path.join(copy, segment));
        expect(how, `record ${which}, ${name}`).to.equal('start');
      }
    }
  });
});

describe('resources', function () {
  this.timeout(90_000);

  /**
   * Fills the store of `master` until creates fail, checking that failures
   * are InternalError, reads keep working, and updates/deletes fail cleanly.
   */
  async function fillUntilFull(master: FaultMaster, limitCreates: number): Promise<{ acked: Map<string, Record<string, unknown> | null>; failures: string[]; refused: number }> {
    const acked = new Map<string, Record<string, unknown> | null>();
    const failures: string[] = [];
    for (let i = 0; i < limitCreates; i++) {
      try {
        acked.set(await master.call<string>('create', payload(i)), payload(i));
      } catch (e) {
        failures.push(`${(e as ChildCallError).name}: ${(e as Error).message}`);
        if (failures.length >= 5) break;
      }
    }
    expect(failures.length, 'the disk filled up').to.be.greaterThan(0);
    expect(failures.every((f) => f.startsWith('InternalError: ')), failures.join('\n')).to.equal(true);
    expect(master.alive, `master alive after the failed writes: ${master.stderr}`).to.equal(true);
    // Reads keep working.
    for (const [t, d] of [...acked].slice(0, 50)) expect(await master.call('read', t)).to.deep.equal({ data: d });
    // Updates (larger than any create) and deletes either work or fail
    // with InternalError and change nothing (a small record may still fit).
    let refused = 0;
    const some = [...acked.keys()].slice(0, 20);
    for (const [k, t] of some.entries()) {
      const big = { big: 'b'.repeat(230) };
      const r = await master.call(k % 2 === 0 ? 'update' : 'delete', ...(k % 2 === 0 ? [t, big] : [t])).catch((e: Error) => e);
      if (r instanceof Error) {
        expect(r.name, r.message).to.equal('InternalError');
        refused++;
      } else {
        expect(r).to.equal(true);
        acked.set(t, k % 2 === 0 ? big : null);
      }
      const want = acked.get(t);
      expect(await master.call('read', t)).to.deep.equal(want === null ? null : { data: want });
    }
    return { acked, failures, refused };
  }

  async function expectAllThere(store: string, acked: Map<string, Record<string, unknown> | null>): Promise<void> {
    await startTestMaster({ store_jt_path: store });
    try {
      for (const [t, d] of acked) expect(await CRUDJT.read(t), `token ${t}`).to.deep.equal(d === null ? null : { data: d });
      // And the store takes writes again.
      const t = await CRUDJT.create({ after: 'restart' });
      expect(await CRUDJT.read(t)).to.deep.equal({ data: { after: 'restart' } });
    } finally {
      await CRUDJT.Config.shutdownServer();
    }
  }

  it('RLIMIT_FSIZE (ulimit -f): writes give InternalError, reads work, the process survives SIGXFSZ, nothing acknowledged is lost', async () => {
    const store = freshStorePath();
    const kib = 384;
    const master = await FaultMaster.start(
      { store_jt_path: store },
      { wrap: (argv) => ['/bin/sh', ['-c', `ulimit -f ${kib} && exec "$@"`, 'sh', ...argv]] },
    );
    onCleanup(() => master.kill());
    const { acked, failures, refused } = await fillUntilFull(master, 20_000);
    console.log(`      ulimit -f ${kib}: ${acked.size} creates acknowledged, then: ${failures[0].slice(0, 140)}; ${refused}/20 updates+deletes refused`);
    await master.kill();
    await expectAllThere(store, acked);
  });

  describe('on a small tmpfs (needs permission to mount)', () => {
    const mounts: string[] = [];
    function mountTmpfs(ctx: Mocha.Context, size: string): string {
      const mnt = tempDir('tmpfs');
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt], { stdio: 'pipe' });
      } catch {
        ctx.skip();
      }
      mounts.push(mnt);
      return mnt;
    }
    afterEach(() => {
      for (const mnt of mounts.splice(0)) {
        try {
          execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
        } catch {
          // already gone
        }
      }
    });

    it('ENOSPC: writes give InternalError, reads work; with space again the same master writes, and a restart loses nothing', async function () {
      const mnt = mountTmpfs(this, '512k');
      const store = path.join(mnt, 'store_jt');
      const master = await FaultMaster.start({ store_jt_path: store });
      onCleanup(() => master.kill());
      const { acked, failures, refused } = await fillUntilFull(master, 20_000);
      console.log(`      tmpfs 512k: ${acked.size} creates acknowledged, then: ${failures[0].slice(0, 140)}; ${refused}/20 updates+deletes refused`);
      // Space comes back while the master runs: it writes again, after the
      // failed writes were undone.
      execFileSync('mount', ['-o', 'remount,size=16m', mnt]);
      for (let i = 0; i < 100; i++) acked.set(await master.call<string>('create', payload(100_000 + i)), payload(100_000 + i));
      await master.kill();
      await expectAllThere(store, acked);
    });

    it('a read-only file system: a clear InternalError naming the path at start', async function () {
      const mnt = mountTmpfs(this, '4m');
      const store = path.join(mnt, 'ro_store');
      await startTestMaster({ store_jt_path: store });
      const t = await CRUDJT.create({ ro: 1 });
      await CRUDJT.Config.shutdownServer();
      execFileSync('mount', ['-o', 'remount,ro', mnt]);
      try {
        const err = await expectReject(startTestMaster({ store_jt_path: store }), InternalError);
        expect(err.message).to.contain(store);
        const err2 = await expectReject(startTestMaster({ store_jt_path: path.join(mnt, 'new_store') }), InternalError);
        expect(err2.message).to.contain(path.join(mnt, 'new_store'));
      } finally {
        execFileSync('mount', ['-o', 'remount,rw', mnt]);
      }
      await startTestMaster({ store_jt_path: store });
      expect(await CRUDJT.read(t)).to.deep.equal({ data: { ro: 1 } });
      await CRUDJT.Config.shutdownServer();
    });
  });

  it('a store path under a regular file: InternalError naming the path (ENOTDIR)', async () => {
    const file = path.join(tempDir(), 'plain-file');
    fs.writeFileSync(file, 'x');
    const store = path.join(file, 'store_jt');
    const err = await expectReject(startTestMaster({ store_jt_path: store }), InternalError);
    expect(err.message).to.contain(file);
    expect(CRUDJT.Config.role()).to.equal(null);
  });
});
