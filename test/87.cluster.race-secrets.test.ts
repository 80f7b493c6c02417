// The cluster role under contention and under inspection: four processes
// race to read the same silence_read = 1 token (exactly one gets it, 200
// rounds; with silence_read = 3, exactly three), and a Redis operator who
// dumps every key, value and RDB file finds no token, payload, subject or
// secret key in it.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { CRUDJT, onCleanup, SECRET } from './00.setup';
import { ClusterChild, installClusterApi, sharedRedisCluster, type RedisCluster } from './helpers/redis-cluster';
import { openClusterBackend } from '../lib/cluster/index';
import { pack } from '../lib/msgpack';

type Backend = Awaited<ReturnType<typeof openClusterBackend>> & Record<string, any>;

const READERS = 4;
const ROUNDS = 200;

describe('cluster role: read-once tokens raced by 4 processes', function () {
  this.timeout(120_000);
  let rc: RedisCluster;
  let backend: Backend;
  let readers: ClusterChild[] = [];

  before(async () => {
    rc = await sharedRedisCluster();
    onCleanup(() => rc.stop());
    backend = (await openClusterBackend({ secret_key: SECRET, nodes: rc.nodes }, null)) as Backend;
    readers = await Promise.all(
      Array.from({ length: READERS }, (_, i) => ClusterChild.start({ secret_key: SECRET, nodes: [rc.nodes[i % rc.nodes.length]] })),
    );
    for (const r of readers) onCleanup(() => r.stop());
  });
  after(async () => {
    await Promise.all(readers.map((r) => r.stop()));
    await backend?.close();
  });

  it(`silence_read = 1: exactly one of ${READERS} processes reads the token, ${ROUNDS} rounds`, async () => {
    const winners: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const token = await backend.create(pack({ round }), null, 1);
      const got = await Promise.all(readers.map((r) => r.call<boolean[]>('readMany', [token])));
      winners.push(got.filter((g) => g[0]).length);
      expect(await backend.read(token)).to.equal(null);
    }
    expect(winners.filter((w) => w !== 1), `rounds without exactly one winner`).to.deep.equal([]);
  });

  it('silence_read = 3: exactly three reads succeed among 4 processes x 2 reads, 50 tokens at once', async () => {
    const tokens: string[] = [];
    for (let i = 0; i < 50; i++) tokens.push(await backend.create(pack({ i }), 60, 3));
    const twice = [...tokens, ...tokens].sort(() => Math.random() - 0.5);
    const got = await Promise.all(readers.map((r) => r.call<boolean[]>('readMany', twice)));
    for (const token of tokens) {
      let wins = 0;
      got.forEach((g) => twice.forEach((t, i) => (t === token && g[i] ? wins++ : 0)));
      expect(wins, token).to.equal(3);
      expect(await backend.read(token)).to.equal(null);
    }
  });
});

describe('cluster role: nothing secret on the cluster', function () {
  this.timeout(60_000);
  let rc: RedisCluster;
  let undo: () => void = () => undefined;
  let backend: Backend;

  before(async () => {
    rc = await sharedRedisCluster();
    onCleanup(() => rc.stop());
    backend = (await openClusterBackend({ secret_key: SECRET, nodes: rc.nodes }, null)) as Backend;
    undo = installClusterApi(CRUDJT as never, backend as never);
  });
  after(async () => {
    undo();
    await backend?.close();
  });

  it('no token, payload, subject or key bytes in any key, value or RDB dump of any node', async () => {
    const tokens: string[] = [];
    const payloads: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      const data = { marker: `PLAINTEXT-PAYLOAD-${i}-zq`, user: `user-${i}@example.com` };
      payloads.push(pack(data));
      const subject = i % 3 === 0 ? `SUBJECT-MARKER-${i % 30}` : undefined;
      tokens.push(await (CRUDJT as any).create(data, i % 2 === 0 ? 3600 : null, i % 5 === 0 ? 7 : null, subject ? { subject } : undefined));
    }
    // a few reads, updates and touches so decremented and rewritten records are in the dump too
    for (let i = 0; i < 300; i += 10) {
      await CRUDJT.read(tokens[i]);
      await CRUDJT.update(tokens[i + 1], { marker: `PLAINTEXT-PAYLOAD-upd-${i}-zq` }, 60);
    }
    const secretRaw = Buffer.from(SECRET, 'base64');
    const needles: Array<[string, Buffer]> = [
      ['secret (base64)', Buffer.from(SECRET)],
      ['secret (raw, first 16 bytes)', secretRaw.subarray(0, 16)],
      ['payload marker', Buffer.from('PLAINTEXT-PAYLOAD')],
      ['user marker', Buffer.from('@example.com')],
      ['subject marker', Buffer.from('SUBJECT-MARKER')],
    ];
    for (const t of tokens) {
      needles.push([`token ${t}`, Buffer.from(t)]);
      needles.push([`token bytes of ${t}`, Buffer.from(t, 'base64url')]);
    }
    for (const p of payloads) needles.push(['a packed payload', p.subarray(0, 24)]);

    const blobs: Array<[string, Buffer]> = [];
    let keys = 0;
    for (const port of rc.ports) {
      const node = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
      await node.connect();
      try {
        const role = await node.role();
        if (role[0] !== 'master') continue;
        let cursor = '0';
        do {
          const [next, batch] = await node.scanBuffer(cursor, 'COUNT', 500);
          cursor = next.toString();
          for (const key of batch) {
            keys++;
            blobs.push([`key on ${port}`, key]);
            const type = await node.type(key);
            if (type === 'string') blobs.push([`value of ${key} on ${port}`, (await node.getBuffer(key))!]);
            else if (type === 'set') for (const m of await node.smembersBuffer(key)) blobs.push([`member of ${key} on ${port}`, m]);
            else if (type === 'hash' && key.toString().endsWith(':m:index-key')) {
              // The index key, wrapped under each secret that used it: 8 hex
              // digits (a key id) -> 72 sealed bytes.
              const fields = await node.hgetallBuffer(key);
              for (const [f, v] of Object.entries(fields)) {
                expect(f).to.match(/^[0-9a-f]{8}$/);
                expect(v.length).to.equal(72);
                blobs.push([`field ${f} of ${key} on ${port}`, v]);
              }
            }
            else throw new Error(`unexpected ${type} key ${key.toString()} on ${port}`);
          }
        } while (cursor !== '0');
        await node.save();
      } finally {
        node.disconnect();
      }
      const dump = path.join(rc.dir, `dump-${port}.rdb`);
      blobs.push([`RDB of ${port}`, fs.readFileSync(dump)]);
    }
    expect(keys).to.be.at.least(300);
    for (const [where, blob] of blobs) {
      for (const [what, needle] of needles) {
        expect(blob.includes(needle), `${what} found in ${where}`).to.equal(false);
      }
    }
  });
});
