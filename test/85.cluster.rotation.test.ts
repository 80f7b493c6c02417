// Key rotation on the cluster role: connectToCluster({ secret_key: B,
// previous_secret_keys: [A] }) on a real 3-master Redis Cluster. Tokens made
// under A still read, update (resealed under B), touch and delete; their
// keyed hash stays the same because the cluster keeps its index key wrapped
// in <prefix>m:index-key; A can later be dropped; a wrong key alone reads
// null and false and writes nothing.
import { expect } from 'chai';
import crypto from 'node:crypto';
import Redis, { type Cluster } from 'ioredis';
import { CRUDJT, onCleanup } from './00.setup';
import { ClusterChild, sharedRedisCluster, type RedisCluster } from './helpers/redis-cluster';
import { indexKeyName, openClusterBackend } from '../lib/cluster/index';
import { newRecordCodec } from '../lib/cluster/codec';
import { pack } from '../lib/msgpack';

type Backend = Awaited<ReturnType<typeof openClusterBackend>> & Record<string, any>;

const key = (n = 32): string => crypto.randomBytes(n).toString('base64');
const keyIdOf = (secret: string): number => newRecordCodec(Buffer.from(secret, 'base64')).keyId >>> 0;

describe('cluster role: key rotation (previous_secret_keys)', function () {
  this.timeout(120_000);
  let rc: RedisCluster;
  let redis: Cluster;
  const open: Backend[] = [];
  let prefixNo = 0;

  async function connect(secret_key: string, prefix: string, previous?: string[]): Promise<Backend> {
    const b = (await openClusterBackend(
      { secret_key, nodes: rc.nodes, prefix, ...(previous === undefined ? {} : { previous_secret_keys: previous }) },
      null,
    )) as Backend;
    open.push(b);
    return b;
  }
  const freshPrefix = (): string => `rot${++prefixNo}-${process.pid}:`;
  /** The record under a token's key, straight from Redis. */
  async function rawRecord(b: Backend, prefix: string, token: string): Promise<Buffer | null> {
    return redis.getBuffer(`${prefix}t:${b.codec.tokenHandle(token)}`);
  }

  before(async () => {
    rc = await sharedRedisCluster();
    onCleanup(() => rc.stop());
    redis = new Redis.Cluster(rc.nodes.map((n) => ({ host: n.split(':')[0], port: Number(n.split(':')[1]) })));
  });
  after(async () => {
    for (const b of open) await b.close();
    redis?.disconnect();
  });

  it('checks previous_secret_keys as startMaster does', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [key(), /^'previous_secret_keys' must be an array/],
      [['%%%'], /^'previous_secret_keys\[0\]' must be a valid Base64 string$/],
      [[key(32), key(16)], /^'previous_secret_keys\[1\]' must be exactly 32, 48, or 64 bytes. Got 16 bytes$/],
      [Array.from({ length: 17 }, () => key()), /^'previous_secret_keys' can hold at most 16 keys/],
    ];
    for (const [value, message] of cases) {
      let err: unknown;
      try {
        await openClusterBackend({ secret_key: key(), nodes: rc.nodes, previous_secret_keys: value }, null);
      } catch (e) {
        err = e;
      }
      expect(err, String(value)).to.be.instanceOf(Error);
      expect((err as Error).message).to.match(message);
    }
  });

  it('B with A listed: A tokens read, update (resealed under B), touch and delete; new tokens are B', async () => {
    const A = key(48);
    const B = key(32);
    const prefix = freshPrefix();
    const a = await connect(A, prefix);
    const plain = await a.create(pack({ who: 'plain' }), null, null);
    const limited = await a.create(pack({ who: 'limited' }), 60, 5);
    const toUpdate = await a.create(pack({ v: 1 }), null, null);
    const toDelete = await a.create(pack({ gone: true }), null, null);
    const toTouch = await a.create(pack({ t: 1 }), 30, null);
    const withSubject = await a.create(pack({ s: 1 }), null, null, 'user-7');
    const handleBefore = a.codec.tokenHandle(plain);

    const b = await connect(B, prefix, [A]);
    expect(b.codec.tokenHandle(plain), 'the keyed hash survives the rotation').to.equal(handleBefore);
    expect(await b.read(plain)).to.deep.equal({ data: { who: 'plain' } });
    expect(await b.read(limited)).to.deep.equal({ metadata: { ttl: 60, silence_read: 4 }, data: { who: 'limited' } });
    expect(await a.read(limited), 'the decrement is shared').to.deep.equal({ metadata: { ttl: 60, silence_read: 3 }, data: { who: 'limited' } });

    expect((await rawRecord(b, prefix, toUpdate))!.readUInt32LE(16)).to.equal(keyIdOf(A));
    expect(await b.update(toUpdate, pack({ v: 2 }), null, null)).to.equal(true);
    expect((await rawRecord(b, prefix, toUpdate))!.readUInt32LE(16), 'resealed under B').to.equal(keyIdOf(B));
    expect(await b.read(toUpdate)).to.deep.equal({ data: { v: 2 } });
    expect(await a.read(toUpdate), 'A alone can not open a B record').to.equal(null);

    expect(await b.touch(toTouch, 600)).to.equal(true);
    expect(await b.read(toTouch)).to.deep.equal({ metadata: { ttl: 600 }, data: { t: 1 } });
    expect(await b.delete(toDelete)).to.equal(true);
    expect(await a.read(toDelete)).to.equal(null);
    expect(await b.delete(toDelete)).to.equal(false);

    const listed = await b.listSubject('user-7');
    expect(listed.map((s: { handle: string }) => s.handle)).to.deep.equal([a.codec.tokenHandle(withSubject)]);
    expect(await b.revokeSubject('user-7')).to.equal(1);
    expect(await a.read(withSubject)).to.equal(null);

    const fresh = await b.create(pack({ new: 1 }), null, null, 'user-8');
    expect((await rawRecord(b, prefix, fresh))!.readUInt32LE(16)).to.equal(keyIdOf(B));
    expect(await b.read(fresh)).to.deep.equal({ data: { new: 1 } });
    expect(await a.read(fresh)).to.equal(null);
    expect(await b.listSubject('user-8')).to.have.length(1);

    // The index key is now wrapped under A and under B.
    const fields = Object.keys(await redis.hgetall(indexKeyName(prefix))).sort();
    expect(fields).to.deep.equal([keyIdOf(A), keyIdOf(B)].map((id) => id.toString(16).padStart(8, '0')).sort());
  });

  it('another process with B and A reads what A made, and A can be dropped later', async () => {
    const A = key();
    const B = key(64);
    const C = key();
    const prefix = freshPrefix();
    const a = await connect(A, prefix);
    const t1 = await a.create(pack({ n: 1 }), null, null);
    const t2 = await a.create(pack({ n: 2 }), null, 3);
    const child = await ClusterChild.start({ secret_key: B, previous_secret_keys: [A], nodes: rc.nodes, prefix });
    onCleanup(() => child.stop());
    try {
      expect(await child.call('read', t1)).to.deep.equal({ data: { n: 1 } });
      expect(await child.call('read', t2)).to.deep.equal({ metadata: { silence_read: 2 }, data: { n: 2 } });
    } finally {
      await child.stop();
    }
    const b = await connect(B, prefix, [A]);
    expect(await b.update(t1, pack({ n: 10 }), null, null)).to.equal(true);
    const t3 = await b.create(pack({ n: 3 }), null, null);

    // B alone (A dropped): the index key is found through B's wrapping, so
    // B records read; the record still sealed under A does not.
    const bOnly = await connect(B, prefix);
    expect(await bOnly.read(t1)).to.deep.equal({ data: { n: 10 } });
    expect(await bOnly.read(t3)).to.deep.equal({ data: { n: 3 } });
    expect(await bOnly.read(t2)).to.equal(null);

    // And the next rotation: C with B listed.
    const c = await connect(C, prefix, [B]);
    expect(await c.read(t3)).to.deep.equal({ data: { n: 3 } });
    expect(await c.update(t3, pack({ n: 30 }), null, null)).to.equal(true);
    expect(await bOnly.read(t3)).to.equal(null);
    expect(await c.read(t3)).to.deep.equal({ data: { n: 30 } });
  });

  it('a wrong key alone reads null and false, leaves the tokens and the index key alone', async () => {
    const A = key();
    const B = key();
    const prefix = freshPrefix();
    const a = await connect(A, prefix);
    const t = await a.create(pack({ mine: true }), null, 2);
    const before = await redis.hgetallBuffer(indexKeyName(prefix));
    for (const wrong of [[B], [B, key()]]) {
      const w = await connect(wrong[0], prefix, wrong.slice(1));
      expect(await w.read(t)).to.equal(null);
      expect(await w.update(t, pack({ x: 1 }), null, null)).to.equal(false);
      expect(await w.touch(t, 60)).to.equal(false);
      expect(await w.delete(t)).to.equal(false);
      const own = await w.create(pack({ theirs: 1 }), null, null);
      expect(await w.read(own)).to.deep.equal({ data: { theirs: 1 } });
      expect(await a.read(own)).to.equal(null);
    }
    expect(await redis.hgetallBuffer(indexKeyName(prefix))).to.deep.equal(before);
    expect(await a.read(t)).to.deep.equal({ metadata: { silence_read: 1 }, data: { mine: true } });
    // A wrong key listed as previous changes nothing either.
    const b = await connect(B, prefix, [key()]);
    expect(await b.read(t)).to.equal(null);
  });

  it('a cluster filled before the index key existed: the oldest listed secret hashes as before', async () => {
    const A = key();
    const B = key();
    const prefix = freshPrefix();
    const a = await connect(A, prefix);
    const t = await a.create(pack({ old: 1 }), null, null);
    await redis.del(indexKeyName(prefix)); // as an earlier version left it
    const b = await connect(B, prefix, [A]);
    expect(await b.read(t)).to.deep.equal({ data: { old: 1 } });
    expect(await b.update(t, pack({ old: 2 }), null, null)).to.equal(true);
    const bOnly = await connect(B, prefix);
    expect(await bOnly.read(t)).to.deep.equal({ data: { old: 2 } });
  });

  it('Config.connectToCluster takes previous_secret_keys', async () => {
    const A = key();
    const B = key();
    const prefix = freshPrefix();
    const a = await connect(A, prefix);
    const t = await a.create(pack({ api: 1 }), 120, null);
    if (CRUDJT.Config.role()) await CRUDJT.Config.shutdownServer();
    await CRUDJT.Config.connectToCluster({ secret_key: B, previous_secret_keys: [A], nodes: rc.nodes, prefix, logger: null });
    try {
      expect(await CRUDJT.read(t)).to.deep.equal({ metadata: { ttl: 120 }, data: { api: 1 } });
      expect(await CRUDJT.update(t, { api: 2 })).to.equal(true);
      expect(await CRUDJT.read(t)).to.deep.equal({ data: { api: 2 } });
    } finally {
      await CRUDJT.Config.shutdownServer();
    }
  });
});
