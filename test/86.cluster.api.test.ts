// The cluster role (lib/cluster): the SPEC suite that the master and client
// roles run, against a real 3-master Redis Cluster, with create served by
// another process (its own connection and codec) and read/update/delete/
// touch/subjects served here; then connectToCluster's option checks and an
// unreachable cluster.
import { expect } from 'chai';
import { CRUDJT, OTHER_SECRET, onCleanup, SECRET } from './00.setup';
import {
  createBehaviour,
  chosenToken,
  deleteBehaviour,
  putBehaviour,
  readBehaviour,
  subjectBehaviour,
  touchBehaviour,
  updateBehaviour,
} from './helpers/api-behaviour';
import { expectReject } from './helpers/assert';
import { ClusterChild, installClusterApi, sharedRedisCluster, type RedisCluster } from './helpers/redis-cluster';
import { openClusterBackend, parseNode } from '../lib/cluster/index';
import { currentBackend } from '../lib/config';
import { pack } from '../lib/msgpack';

type Backend = Awaited<ReturnType<typeof openClusterBackend>> & Record<string, any>;

describe('CRUDJT on a Redis Cluster: the SPEC suite, created in another process', function () {
  this.timeout(60_000);
  let rc: RedisCluster;
  let backend: Backend;
  let creator: ClusterChild;
  let undo: () => void = () => undefined;

  before(async () => {
    rc = await sharedRedisCluster();
    onCleanup(() => rc.stop());
    const options = { secret_key: SECRET, nodes: [rc.nodes[0]] };
    backend = (await openClusterBackend(options, null)) as Backend;
    creator = await ClusterChild.start({ secret_key: SECRET, nodes: [rc.nodes[1]] });
    onCleanup(() => creator.stop());
    undo = installClusterApi(CRUDJT as never, backend as never, (packed, ttl, silenceRead, subject) =>
      creator.call<string>('create', packed.toString('base64'), ttl, silenceRead, subject),
    );
  });
  after(async () => {
    undo();
    await creator?.stop();
    await backend?.close();
  });

  describe('create()', () => createBehaviour());
  describe('read()', () => readBehaviour());
  describe('update()', () => updateBehaviour());
  describe('delete()', () => deleteBehaviour());
  describe('subjects', () => subjectBehaviour());
  describe('touch()', () => touchBehaviour());

  it('the creating process reads what this one updated, and sees the decrement', async () => {
    const token = await CRUDJT.create({ a: 1 }, 60, 5);
    expect(await CRUDJT.update(token, { a: 2 }, 60, 4)).to.equal(true);
    expect(await creator.call('read', token)).to.deep.equal({ metadata: { ttl: 60, silence_read: 3 }, data: { a: 2 } });
    expect(await CRUDJT.read(token)).to.deep.equal({ metadata: { ttl: 60, silence_read: 2 }, data: { a: 2 } });
  });

  it('a token of another secret key reads as null and false, and is left intact', async () => {
    const token = await CRUDJT.create({ mine: true }, null, 2);
    const other = (await openClusterBackend({ secret_key: OTHER_SECRET, nodes: rc.nodes }, null)) as Backend;
    try {
      expect(await other.read(token)).to.equal(null);
      expect(await other.update(token, pack({ x: 1 }), null, null)).to.equal(false);
      expect(await other.touch(token, 60)).to.equal(false);
      expect(await other.delete(token)).to.equal(false);
    } finally {
      await other.close();
    }
    expect(await CRUDJT.read(token)).to.deep.equal({ metadata: { silence_read: 1 }, data: { mine: true } });
  });

  it('two prefixes on one cluster are two separate stores', async () => {
    const other = (await openClusterBackend({ secret_key: SECRET, nodes: rc.nodes, prefix: 'other-app:' }, null)) as Backend;
    try {
      const token = await CRUDJT.create({ a: 1 });
      expect(await other.read(token)).to.equal(null);
      const t2 = await other.create(pack({ b: 2 }), null, null);
      expect(await CRUDJT.read(t2)).to.equal(null);
      expect(await other.read(t2)).to.deep.equal({ data: { b: 2 } });
    } finally {
      await other.close();
    }
  });
});

describe('openClusterBackend(options): option checks', function () {
  this.timeout(30_000);
  const nodes = ['127.0.0.1:7000'];
  const cases: Array<[string, unknown, new (...a: any[]) => Error, RegExp | string]> = [
    ['no options', undefined, TypeError, 'connectToCluster options must be an object'],
    ['a blank secret', { secret_key: '', nodes }, CRUDJT.Errors.InvalidState, 'Secret key is blank'],
    ['a secret that is not base64', { secret_key: 'not base64!', nodes }, TypeError, "'secret_key' must be a valid Base64 string"],
    ['a 16-byte secret', { secret_key: Buffer.alloc(16).toString('base64'), nodes }, TypeError, "'secret_key' must be exactly 32, 48, or 64 bytes. Got 16 bytes"],
    ['a misspelled option', { secret_key: SECRET, nodes, prefx: 'a' }, TypeError, /unknown option 'prefx'/],
    ['no nodes', { secret_key: SECRET }, TypeError, /nodes must be a non-empty array/],
    ['an empty node list', { secret_key: SECRET, nodes: [] }, TypeError, /nodes must be a non-empty array/],
    ['a node without a port', { secret_key: SECRET, nodes: ['127.0.0.1'] }, TypeError, /^nodes\[0\] must be a 'host:port' string/],
    ['a node with port 0', { secret_key: SECRET, nodes: ['127.0.0.1:0'] }, RangeError, /^nodes\[0\] port must be between 1 and 65535/],
    ['a number as node', { secret_key: SECRET, nodes: [7000] }, TypeError, /^nodes\[0\]/],
    ['a prefix with a hash tag', { secret_key: SECRET, nodes, prefix: '{app}:' }, TypeError, /prefix must not contain/],
    ['a 100-byte prefix', { secret_key: SECRET, nodes, prefix: 'p'.repeat(100) }, RangeError, /prefix can not be bigger than 64 bytes/],
    ['an unknown durability', { secret_key: SECRET, nodes, durability: 'sync' }, TypeError, /durability must be 'async' or 'replicated'/],
    ['a zero deadline', { secret_key: SECRET, nodes, deadline_ms: 0 }, TypeError, /deadline_ms must be an integer/],
    ['tls as a string', { secret_key: SECRET, nodes, tls: 'yes' }, TypeError, /tls must be a boolean or an object/],
  ];
  for (const [label, options, cls, message] of cases) {
    it(`rejects ${label}`, async () => {
      await expectReject(openClusterBackend(options, null), cls, message);
    });
  }

  it('accepts [v6]:port nodes', async () => {
    expect(parseNode('[::1]:7001', 0)).to.deep.equal({ host: '::1', port: 7001 });
    expect(parseNode('redis-0.example:6379', 0)).to.deep.equal({ host: 'redis-0.example', port: 6379 });
  });

  it('gives InternalError naming the nodes when none answers, within the deadline', async () => {
    const started = Date.now();
    const err = await expectReject(
      openClusterBackend({ secret_key: SECRET, nodes: ['127.0.0.1:1', '127.0.0.1:2'], deadline_ms: 1000 }, null),
      CRUDJT.Errors.InternalError,
      /127\.0\.0\.1:1, 127\.0\.0\.1:2/,
    );
    expect((err as InstanceType<typeof CRUDJT.Errors.InternalError>).code).to.equal('XX000');
    expect(Date.now() - started).to.be.below(3000);
  });
});

describe('CRUDJT.Config.connectToCluster: the public API in the cluster role, in one process', function () {
  this.timeout(60_000);
  const Config = CRUDJT.Config as unknown as Record<string, any>;
  let rc: RedisCluster;

  before(async function () {
    if (typeof Config.connectToCluster !== 'function') return this.skip();
    rc = await sharedRedisCluster();
    onCleanup(() => rc.stop());
    await Config.connectToCluster({ secret_key: SECRET, nodes: rc.nodes, logger: null });
  });
  after(async () => {
    await CRUDJT.Config.shutdownServer();
  });

  it("Config.role() is 'cluster'", () => {
    expect(CRUDJT.Config.role()).to.equal('cluster');
  });
  describe('read()', () => readBehaviour());
  describe('update()', () => updateBehaviour());
  describe('put() (internal, for the session store)', () => putBehaviour({ engineSubjects: false }));

  it('put over a token that create() tied to a subject: the subject keeps its handle (doc/cluster.md)', async () => {
    const backend = currentBackend();
    const subject = `cluster-put-${process.pid}-${Date.now()}`;
    const token = await CRUDJT.create({ s: 1 }, null, null, { subject });
    expect(await backend.put!(token, pack({ s: 2 }), 60, null)).to.equal(true);
    expect(await CRUDJT.read(token)).to.deep.equal({ metadata: { ttl: 60 }, data: { s: 2 } });
    expect(await CRUDJT.listSubject(subject)).to.have.length(1);
    expect(await CRUDJT.revokeSubject(subject)).to.equal(1);
    expect(await CRUDJT.read(token)).to.equal(null);
  });

  it('a put record is read by another process on the cluster, with its expiry', async () => {
    const child = await ClusterChild.start({ secret_key: SECRET, nodes: [rc.nodes[2]] });
    onCleanup(() => child.stop());
    try {
      const token = chosenToken(43);
      expect(await currentBackend().put!(token, pack({ sid: 'x' }), 30, null)).to.equal(false);
      expect(await child.call('read', token)).to.deep.equal({ metadata: { ttl: 30 }, data: { sid: 'x' } });
    } finally {
      await child.stop();
    }
  });

  it('shutdownServer closes the connections: operations then give InvalidState', async () => {
    const token = await CRUDJT.create({ a: 1 });
    await CRUDJT.Config.shutdownServer();
    await expectReject(CRUDJT.read(token), CRUDJT.Errors.InvalidState, 'CRUDJT has not started');
    await Config.connectToCluster({ secret_key: SECRET, nodes: rc.nodes, logger: null });
    expect(await CRUDJT.read(token)).to.deep.equal({ data: { a: 1 } });
  });
});
