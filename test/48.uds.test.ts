// The Unix-domain-socket listener: startMaster({ grpc_socket }) and
// connectToMaster({ grpc_socket }), in both roles.
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { CRUDJT, freshStorePath, startTestMaster, tempDir } from './00.setup';
import { expectReject } from './helpers/assert';
import { RoleChild } from './helpers/child';
import { tokenProto } from '../lib/grpc/proto';
import { pack, unpack } from '../lib/msgpack';

const { InvalidState } = CRUDJT.Errors;

function socketPath(): string {
  return path.join(tempDir('uds'), 'm.sock');
}

function modeOf(p: string): number {
  return fs.statSync(p).mode & 0o777;
}

describe('Unix domain socket (grpc_socket)', () => {
  afterEach(async () => {
    await CRUDJT.Config.shutdownServer();
  });

  it('master in this process: socket mode 0600, clients in another process round-trip over it, removed on shutdown', async () => {
    const sock = socketPath();
    const info = await startTestMaster({ grpc_socket: sock });
    expect(info.grpc_socket).to.equal(sock);
    expect(CRUDJT.Config.masterInfo()!.grpc_socket).to.equal(sock);
    expect(fs.lstatSync(sock).isSocket()).to.equal(true);
    expect(modeOf(sock)).to.equal(0o600);

    const client = await RoleChild.client({ grpc_socket: sock } as never);
    try {
      const token = await client.call<string>('create', { user_id: 42 }, 60, 3);
      expect(await client.call('read', token)).to.deep.equal({ metadata: { ttl: 60, silence_read: 2 }, data: { user_id: 42 } });
      expect(await client.call('update', token, { user_id: 43 })).to.equal(true);
      expect(await CRUDJT.read(token)).to.deep.equal({ data: { user_id: 43 } });
      expect(await client.call('delete', token)).to.equal(true);
      expect(await client.call('read', token)).to.equal(null);
    } finally {
      await client.stop();
    }
    const st = await CRUDJT.Config.stats();
    expect(st.requests.Batch).to.be.at.least(1);

    await CRUDJT.Config.shutdownServer();
    expect(fs.existsSync(sock)).to.equal(false);
  });

  it('master in another process: this process as client over the socket (batched and unary), TCP still served', async () => {
    const sock = socketPath();
    const master = await RoleChild.master({ store_jt_path: freshStorePath(), grpc_socket: sock });
    try {
      CRUDJT.Config.connectToMaster({ grpc_socket: sock });
      const tokens = await Promise.all(Array.from({ length: 100 }, (_, i) => CRUDJT.create({ i })));
      const reads = await Promise.all(tokens.map((t) => CRUDJT.read(t)));
      reads.forEach((r, i) => expect(r).to.deep.equal({ data: { i } }));
      const st = await CRUDJT.Config.stats();
      expect(st.operations.create).to.equal(100);

      CRUDJT.Config.connectToMaster({ grpc_socket: sock, batch: false });
      expect(await CRUDJT.delete(tokens[0])).to.equal(true);
      expect((await CRUDJT.Config.stats()).requests.DeleteToken).to.equal(1);

      CRUDJT.Config.connectToMaster({ grpc_port: master.port });
      expect(await CRUDJT.read(tokens[1])).to.deep.equal({ data: { i: 1 } });
    } finally {
      await CRUDJT.Config.shutdownServer();
      await master.stop();
    }
    expect(fs.existsSync(sock)).to.equal(false);
  });

  it('serves the old unary RPCs to a raw grpc-js client on unix:', async () => {
    const sock = socketPath();
    await startTestMaster({ grpc_socket: sock });
    const client = new (tokenProto().TokenService)(`unix:${sock}`, grpc.credentials.createInsecure());
    try {
      const call = (m: 'CreateToken' | 'ReadToken', req: object): Promise<any> =>
        new Promise((resolve, reject) => (client[m] as Function).call(client, req, { deadline: Date.now() + 5000 }, (e: unknown, r: unknown) => (e ? reject(e) : resolve(r))));
      const { token } = await call('CreateToken', { packed_data: pack({ raw: 1 }), ttl: -1, silence_read: -1 });
      expect(unpack((await call('ReadToken', { token })).packed_data)).to.deep.equal({ data: { raw: 1 } });
    } finally {
      client.close();
    }
  });

  it('makes the socket 0660 with grpc_socket_mode: 0o660, and refuses other modes', async () => {
    const sock = socketPath();
    await startTestMaster({ grpc_socket: sock, grpc_socket_mode: 0o660 });
    expect(modeOf(sock)).to.equal(0o660);
    await CRUDJT.Config.shutdownServer();
    await expectReject(startTestMaster({ grpc_socket: socketPath(), grpc_socket_mode: 0o666 }), TypeError, /grpc_socket_mode must be 0o600 or 0o660, got 0o666/);
    expect(CRUDJT.Config.role()).to.equal(null);
  });

  it('replaces a stale socket file left by a killed master', async function () {
    this.timeout(30000);
    const sock = socketPath();
    const killed = await RoleChild.master({ store_jt_path: freshStorePath(), grpc_socket: sock });
    await killed.kill('SIGKILL');
    expect(fs.lstatSync(sock).isSocket()).to.equal(true); // nobody removed it
    await startTestMaster({ grpc_socket: sock });
    const client = await RoleChild.client({ grpc_socket: sock } as never);
    try {
      expect(await client.call('create', { after: 'stale' })).to.match(/^[A-Za-z0-9_-]{22}$/);
    } finally {
      await client.stop();
    }
  });

  it('refuses a socket a live master listens on, and leaves that master serving', async function () {
    this.timeout(30000);
    const sock = socketPath();
    const live = await RoleChild.master({ store_jt_path: freshStorePath(), grpc_socket: sock });
    try {
      await expectReject(startTestMaster({ grpc_socket: sock }), InvalidState, /grpc_socket .* is in use by another server/);
      expect(CRUDJT.Config.role()).to.equal(null);
      CRUDJT.Config.connectToMaster({ grpc_socket: sock });
      expect(await CRUDJT.create({ still: 'serving' })).to.match(/^[A-Za-z0-9_-]{22}$/);
    } finally {
      await CRUDJT.Config.shutdownServer();
      await live.stop();
    }
  });

  it('never replaces a file that is not a socket; the store is released for a retry', async () => {
    const sock = socketPath();
    fs.writeFileSync(sock, 'precious');
    const store = freshStorePath();
    await expectReject(startTestMaster({ grpc_socket: sock, store_jt_path: store }), InvalidState, /exists and is not a socket/);
    expect(fs.readFileSync(sock, 'utf8')).to.equal('precious');
    const info = await startTestMaster({ store_jt_path: store });
    expect(info.store_jt_path).to.equal(store);
  });

  it('validates the path: type, length; a relative path is resolved', async () => {
    await expectReject(startTestMaster({ grpc_socket: '' }), TypeError, /grpc_socket must be a non-empty path string/);
    await expectReject(startTestMaster({ grpc_socket: 42 as never }), TypeError, /grpc_socket/);
    await expectReject(startTestMaster({ grpc_socket: '/tmp/' + 'x'.repeat(200) }), RangeError, /at most 103 bytes/);
    expect(() => CRUDJT.Config.connectToMaster({ grpc_socket: '' })).to.throw(TypeError, /grpc_socket/);
    expect(() => CRUDJT.Config.connectToMaster({ batch: 'yes' as never })).to.throw(TypeError, /batch must be a boolean/);
    const dir = tempDir('rel');
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const here = process.cwd();
      const info = await startTestMaster({ grpc_socket: 'rel.sock' });
      expect(info.grpc_socket).to.equal(path.join(here, 'rel.sock'));
      expect(fs.lstatSync(path.join(dir, 'rel.sock')).isSocket()).to.equal(true);
    } finally {
      process.chdir(cwd);
    }
  });

  it('a client of a socket nobody serves fails fast with Unavailable naming unix:path', async () => {
    const sock = socketPath();
    CRUDJT.Config.connectToMaster({ grpc_socket: sock, deadline_ms: 1000 });
    const started = Date.now();
    await expectReject(CRUDJT.read('AAAAAAAAAAAAAAAAAAAAAA'), CRUDJT.Errors.Unavailable, new RegExp(`unix:${sock.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    expect(Date.now() - started).to.be.below(1500);
  });
});
