// The gRPC framing done by hand (lib/grpc/raw_batch.ts on the master,
// lib/grpc/client.ts on the client) at the edges: messages split across
// HTTP/2 DATA frames byte by byte or packed several to a frame, compressed
// or oversized messages, wrong content types, unary calls with no or two
// messages, grpc-message percent-encoding, and a client facing a master that
// breaks the connection or sends garbage. Every case ends with a gRPC status
// (or an HTTP error for a non-gRPC request) and the master keeps serving.
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import http2 from 'node:http2';
import net from 'node:net';
import { CRUDJT, startTestMaster } from './00.setup';
import { expectReject } from './helpers/assert';
import { decodeBatchResponse, encodeBatchRequest } from '../lib/grpc/batch_codec';
import { GrpcClientBackend } from '../lib/grpc/client';
import { percentEncode } from '../lib/grpc/raw_batch';
import { pack, unpack } from '../lib/msgpack';

const { InternalError, Unavailable } = CRUDJT.Errors;

interface Answer {
  status: number | null;
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  messages: Buffer[];
}

function frame(body: Buffer, flag = 0): Buffer {
  const h = Buffer.alloc(5);
  h[0] = flag;
  h.writeUInt32BE(body.length, 1);
  return Buffer.concat([h, body]);
}

/** Sends `writes` (each a separate DATA write) on a new stream, then ends it; collects the answer. */
async function exchange(
  session: http2.ClientHttp2Session,
  path: string,
  writes: Buffer[],
  headers: http2.OutgoingHttpHeaders = {},
): Promise<Answer> {
  const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
  const out: Answer = { status: null, headers: {}, trailers: {}, messages: [] };
  let buf = Buffer.alloc(0);
  req.on('response', (h) => {
    out.headers = h;
    if (h['grpc-status'] !== undefined) out.status = Number(h['grpc-status']);
  });
  req.on('trailers', (t) => {
    out.trailers = t;
    out.status = Number(t['grpc-status']);
  });
  req.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    while (buf.length >= 5 && buf.length >= 5 + buf.readUInt32BE(1)) {
      const n = buf.readUInt32BE(1);
      out.messages.push(buf.subarray(5, 5 + n));
      buf = buf.subarray(5 + n);
    }
  });
  for (const w of writes) {
    req.write(w);
    await new Promise((r) => setImmediate(r));
  }
  req.end();
  await new Promise<void>((resolve) => req.on('close', () => resolve()));
  return out;
}

const createOp = (id: number, data: object) => ({ id, kind: 'CREATE' as const, packed_data: pack(data), ttl: -1, silence_read: -1 });

describe('gRPC framing on raw HTTP/2 (master and client)', () => {
  let port = 0;
  let session: http2.ClientHttp2Session;

  before(async () => {
    port = (await startTestMaster()).grpc_port;
    session = http2.connect(`http://127.0.0.1:${port}`);
  });
  after(async () => {
    session.close();
    await CRUDJT.Config.shutdownServer();
  });

  async function expectServing(): Promise<void> {
    const a = await exchange(session, '/token.TokenService/Batch', [frame(encodeBatchRequest({ ops: [createOp(1, { ok: 1 })] }))]);
    expect(a.status).to.equal(0);
    const token = decodeBatchResponse(a.messages[0]).results[0].token;
    expect(await CRUDJT.read(token)).to.deep.equal({ data: { ok: 1 } });
  }

  describe('Batch on the master', () => {
    it('reassembles a message written one byte at a time, and answers several messages sent in one write', async () => {
      const one = frame(encodeBatchRequest({ ops: [createOp(7, { split: true })] }));
      const a = await exchange(session, '/token.TokenService/Batch', [...one].map((b) => Buffer.from([b])));
      expect(a.status).to.equal(0);
      expect(a.headers['content-type']).to.equal('application/grpc');
      expect(a.messages).to.have.length(1);
      expect(decodeBatchResponse(a.messages[0]).results[0].id).to.equal(7);

      const three = Buffer.concat([1, 2, 3].map((i) => frame(encodeBatchRequest({ ops: [createOp(i, { i })] }))));
      const b = await exchange(session, '/token.TokenService/Batch', [three]);
      expect(b.status).to.equal(0);
      expect(b.messages.map((m) => decodeBatchResponse(m).results[0].id)).to.deep.equal([1, 2, 3]);
    });

    it('an empty stream ends with OK and no message', async () => {
      const a = await exchange(session, '/token.TokenService/Batch', []);
      expect(a.status).to.equal(0);
      expect(a.messages).to.deep.equal([]);
    });

    it('refuses compressed, oversized, truncated and malformed messages and too many ops with a status', async () => {
      const body = encodeBatchRequest({ ops: [createOp(1, { a: 1 })] });
      const compressed = await exchange(session, '/token.TokenService/Batch', [frame(body, 1)]);
      expect(compressed.status).to.equal(grpc.status.INTERNAL);
      const gzip = await exchange(session, '/token.TokenService/Batch', [frame(body)], { 'grpc-encoding': 'gzip' });
      expect(gzip.status).to.equal(grpc.status.UNIMPLEMENTED);
      const big = Buffer.alloc(5);
      big.writeUInt32BE(10 * 1024 * 1024, 1);
      const oversized = await exchange(session, '/token.TokenService/Batch', [big]);
      expect(oversized.status).to.equal(grpc.status.RESOURCE_EXHAUSTED);
      const truncated = await exchange(session, '/token.TokenService/Batch', [frame(body).subarray(0, 8)]);
      expect(truncated.status).to.equal(grpc.status.INTERNAL);
      const malformed = await exchange(session, '/token.TokenService/Batch', [frame(Buffer.from([0x0a, 0x05, 0x08]))]);
      expect(malformed.status).to.equal(grpc.status.INTERNAL);
      const ops = Array.from({ length: 257 }, (_, i) => ({ id: i + 1, kind: 'READ' as const, token: 'AAAAAAAAAAAAAAAAAAAAAA' }));
      const tooMany = await exchange(session, '/token.TokenService/Batch', [frame(encodeBatchRequest({ ops }))]);
      expect(tooMany.status).to.equal(grpc.status.INVALID_ARGUMENT);
      expect(tooMany.headers['crudjt-error'] ?? tooMany.trailers['crudjt-error']).to.equal('RangeError');
      expect(decodeURIComponent(String(tooMany.headers['grpc-message'] ?? tooMany.trailers['grpc-message']))).to.match(/at most 256 ops, got 257/);
      await expectServing();
    });

    it('answers a request that is not gRPC with HTTP 415', async () => {
      const req = session.request({ ':method': 'POST', ':path': '/token.TokenService/Batch', 'content-type': 'text/plain' });
      const status = await new Promise<number>((resolve) => req.on('response', (h) => resolve(Number(h[':status']))));
      req.close();
      expect(status).to.equal(415);
      await expectServing();
    });
  });

  describe('unary RPCs on the master', () => {
    const readReq = (token: string): Buffer => Buffer.concat([Buffer.from([0x0a, token.length]), Buffer.from(token)]);

    it('reassembles a request written one byte at a time', async () => {
      const token = await CRUDJT.create({ bytes: 1 });
      const a = await exchange(session, '/token.TokenService/ReadToken', [...frame(readReq(token))].map((b) => Buffer.from([b])));
      expect(a.status).to.equal(0);
      expect(a.messages).to.have.length(1);
      // ReadTokenResponse: field 1 = packed_data.
      expect(unpack(a.messages[0].subarray(2))).to.deep.equal({ data: { bytes: 1 } });
    });

    it('refuses no message, two messages, a compressed one and a truncated one with a status', async () => {
      const none = await exchange(session, '/token.TokenService/ReadToken', []);
      expect(none.status).to.equal(grpc.status.INTERNAL);
      const two = await exchange(session, '/token.TokenService/ReadToken', [frame(readReq('a')), frame(readReq('b'))]);
      expect(two.status).to.equal(grpc.status.INTERNAL);
      const compressed = await exchange(session, '/token.TokenService/ReadToken', [frame(readReq('a'), 1)]);
      expect(compressed.status).to.equal(grpc.status.UNIMPLEMENTED);
      const truncated = await exchange(session, '/token.TokenService/ReadToken', [frame(readReq('abc')).subarray(0, 7)]);
      expect(truncated.status).to.equal(grpc.status.INTERNAL);
      await expectServing();
    });

    it('percent-encodes grpc-message and carries crudjt-error in trailers-only answers', async () => {
      // CreateToken with packed_data = [] (not a map): TypeError.
      const a = await exchange(session, '/token.TokenService/CreateToken', [frame(Buffer.from([0x0a, 0x01, 0x90]))]);
      expect(a.status).to.equal(grpc.status.INVALID_ARGUMENT);
      expect(a.headers['crudjt-error']).to.equal('TypeError');
      expect(decodeURIComponent(String(a.headers['grpc-message']))).to.equal('Must be a Hash (Object)');
      expect(percentEncode('a b%ü\n')).to.equal('a b%25%C3%BC%0A');
    });
  });

  describe('our client against a master that misbehaves', () => {
    it('a connection closed mid-call fails the batched and the unary calls with Unavailable', async () => {
      const srv = net.createServer((sock) => {
        sock.once('data', () => sock.destroy());
      });
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
      const p = (srv.address() as net.AddressInfo).port;
      for (const batch of [true, false]) {
        const client = new GrpcClientBackend('127.0.0.1', p, 2000, { batch });
        try {
          await expectReject(client.read('AAAAAAAAAAAAAAAAAAAAAA'), Unavailable, new RegExp(`127\\.0\\.0\\.1:${p}`));
        } finally {
          await client.close();
        }
      }
      srv.close();
    });

    it('unary calls to a master that never answers each fail at their own deadline, and no timer holds the process after', async () => {
      const h2 = http2.createServer();
      h2.on('stream', (stream) => {
        stream.on('data', () => undefined); // read, never answer
        stream.on('error', () => undefined);
      });
      await new Promise<void>((r) => h2.listen(0, '127.0.0.1', () => r()));
      const p = (h2.address() as net.AddressInfo).port;
      const client = new GrpcClientBackend('127.0.0.1', p, 300, { batch: false });
      try {
        const t0 = Date.now();
        const failedAt = (prom: Promise<unknown>): Promise<number> => prom.then(
          () => { throw new Error('answered'); },
          (e: unknown) => {
            expect(e).to.be.instanceOf(Unavailable);
            return Date.now() - t0;
          },
        );
        const first = failedAt(client.read('AAAAAAAAAAAAAAAAAAAAAA'));
        await new Promise((r) => setTimeout(r, 150));
        const second = failedAt(client.delete('AAAAAAAAAAAAAAAAAAAAAA'));
        const [a, b] = await Promise.all([first, second]);
        // Each at its own deadline (300 ms after its call), not both at the first one's.
        expect(a).to.be.within(280, 700);
        expect(b).to.be.within(430, 900);
        const timer = (client as unknown as { unaryTimer: NodeJS.Timeout | null }).unaryTimer;
        expect(timer === null || !timer.hasRef()).to.equal(true);
      } finally {
        await client.close();
        await new Promise<void>((r) => h2.close(() => r()));
      }
    });

    it('garbage answers become InternalError, not a crash or a hang', async () => {
      const h2 = http2.createServer();
      h2.on('stream', (stream, headers) => {
        const batch = headers[':path'] === '/token.TokenService/Batch';
        stream.on('data', () => {
          if (stream.headersSent) return;
          stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
          stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
          // A BatchResponse that is not protobuf / a ReadTokenResponse frame with a wrong length.
          stream.end(batch ? frame(Buffer.from([0x0a, 0x7f, 0x01])) : Buffer.from([0, 0, 0, 0, 9, 1]));
        });
        stream.on('error', () => undefined);
      });
      await new Promise<void>((r) => h2.listen(0, '127.0.0.1', () => r()));
      const p = (h2.address() as net.AddressInfo).port;
      for (const batch of [true, false]) {
        const client = new GrpcClientBackend('127.0.0.1', p, 2000, { batch });
        try {
          await expectReject(client.read('AAAAAAAAAAAAAAAAAAAAAA'), InternalError, /malformed/);
        } finally {
          await client.close();
        }
      }
      await new Promise<void>((r) => h2.close(() => r()));
    });
  });
});
