// Secrets at rest and on the network:
// - after a workload (creates, updates, deletes, counted reads), every file
//   of the store directory is scanned for every token (as text and as its
//   16 raw bytes), every payload's distinctive bytes (as text and as the
//   MessagePack the API stores) and the secret key (raw, base64): none is
//   there, neither in the log left by a SIGKILL nor in the page file after
//   a clean shutdown;
// - a master binds 127.0.0.1 when no grpc_host is given (checked in
//   /proc/net/tcp and /proc/net/tcp6).
// Covered elsewhere, not repeated: `crudjt-server --dev` writes its key file
// 0600 in a 0700 directory, and the CLI warns when it listens on a
// non-loopback address (test/92.cli.test.ts).
import { expect } from 'chai';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { freshStorePath, onCleanup } from './00.setup';
import { FaultMaster } from './helpers/fault-child';
import { pack } from '../lib/msgpack';

function filesOf(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesOf(p));
    else out.push(p);
  }
  return out;
}

describe('secrets: nothing in the clear on disk, loopback by default', function () {
  this.timeout(60_000);

  it('no token, payload or key bytes in any file of the store (log after SIGKILL, pages after a clean stop)', async () => {
    const store = freshStorePath();
    const keyRaw = crypto.randomBytes(48);
    const secret_key = keyRaw.toString('base64');
    const tokens: string[] = [];
    const marks: string[] = [];
    const run = async (kill: boolean): Promise<void> => {
      const master = await FaultMaster.start({ store_jt_path: store, secret_key });
      onCleanup(() => master.kill());
      for (let i = 0; i < 300; i++) {
        const mark = `PAYLOAD-${crypto.randomBytes(8).toString('hex')}`;
        marks.push(mark);
        const t = await master.call<string>('create', { m: mark, n: i, bin: Buffer.from(mark) }, i % 3 === 0 ? 3600 : null, i % 2 === 0 ? 5 : null);
        tokens.push(t);
        if (i % 5 === 0) {
          const m2 = `UPDATED-${crypto.randomBytes(8).toString('hex')}`;
          marks.push(m2);
          await master.call('update', t, { m: m2 }, 60, 3);
        }
        if (i % 7 === 0) await master.call('read', t);
        if (i % 11 === 0) await master.call('delete', t);
      }
      if (kill) await master.kill();
      else await master.stop();
    };
    const scan = (when: string): void => {
      const files = filesOf(store);
      expect(files.length).to.be.greaterThan(1);
      const needles: Array<[string, Buffer]> = [
        ['key (raw)', keyRaw],
        ['key (base64)', Buffer.from(secret_key)],
        ['key (first 16 bytes)', keyRaw.subarray(0, 16)],
      ];
      for (const t of tokens) {
        needles.push([`token ${t}`, Buffer.from(t)], [`token ${t} (raw bytes)`, Buffer.from(t, 'base64url')]);
      }
      for (const m of marks) needles.push([`payload ${m}`, Buffer.from(m)], [`payload ${m} (msgpack)`, pack({ m })]);
      const found: string[] = [];
      let bytes = 0;
      for (const f of files) {
        const content = fs.readFileSync(f);
        bytes += content.length;
        for (const [what, needle] of needles) if (content.includes(needle)) found.push(`${what} in ${path.basename(f)}`);
      }
      expect(found, when).to.deep.equal([]);
      console.log(`      ${when}: ${files.length} files, ${bytes} bytes, ${needles.length} needles, none found`);
    };
    await run(true);
    expect(fs.readdirSync(store).some((f) => f.endsWith('.wal') && fs.statSync(path.join(store, f)).size > 10_000), 'the log holds the records').to.equal(true);
    scan('after SIGKILL');
    await run(false);
    scan('after a clean stop');
  });

  it('a master without grpc_host listens on 127.0.0.1 only', async () => {
    const master = await FaultMaster.start({ store_jt_path: freshStorePath() });
    onCleanup(() => master.kill());
    try {
      const hexPort = master.port.toString(16).toUpperCase().padStart(4, '0');
      const listeners = (file: string): string[] => {
        if (!fs.existsSync(file)) return [];
        return fs
          .readFileSync(file, 'utf8')
          .split('\n')
          .slice(1)
          .map((l) => l.trim().split(/\s+/))
          .filter((f) => f.length > 3 && f[1].endsWith(`:${hexPort}`) && f[3] === '0A')
          .map((f) => f[1]);
      };
      const v4 = listeners('/proc/net/tcp');
      const v6 = listeners('/proc/net/tcp6');
      expect(v4, 'IPv4 listeners on the port').to.deep.equal([`0100007F:${hexPort}`]);
      expect(v6, 'IPv6 listeners on the port').to.deep.equal([]);
    } finally {
      await master.stop();
    }
  });
});
