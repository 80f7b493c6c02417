// The wire behaviour of the published JavaScript SDK (crudjt@1.0.1), written
// from reading its index.js / token_service_client.js (not copied):
//
// - client: @grpc/proto-loader with {keepCase, longs: String, enums: String,
//   defaults, oneofs}, plain @grpc/grpc-js stub, msgpack-lite encode of the
//   hash, `ttl || -1` / `silence_read || -1` for "none", ReadToken answer
//   decoded with msgpack-lite (which throws on empty bytes), no deadline and
//   no metadata (we add a deadline so that a broken master fails a test
//   instead of hanging it);
// - master: proto-loader with longs: Number, msgpack-lite decode of the
//   request, -1 -> none, 0 or negative limits rejected by validation (a
//   throw in the handler, which grpc-js turns into UNKNOWN "Unknown error"),
//   read result = msgpack-lite encode of the store's JSON read result (so
//   every number is a JS number: ints up to 32 bits as ints, larger ones as
//   float64), nil when not found.
//
// The master here keeps tokens in memory; what it answers on the wire is
// what matters. Tests may replace a ReadToken answer with exact bytes to
// check that our client accepts every encoding another SDK may produce.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-var-requires
export const msgpackLite: { encode(v: unknown): Buffer; decode(b: Uint8Array): any } = require('msgpack-lite');

const PROTO_PATH = path.resolve(__dirname, '..', '..', 'proto', 'token_service.proto');

function loadService(longs: typeof String | typeof Number): any {
  const definition = protoLoader.loadSync(PROTO_PATH, {
    keepCase: true,
    longs,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return (grpc.loadPackageDefinition(definition) as any).token.TokenService;
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export type GrpcFailure = Error & { code?: number; details?: string; metadata?: grpc.Metadata };

/** A client that talks exactly like crudjt@1.0.1's client role. */
export class PublishedStyleClient {
  readonly stub: any;
  constructor(address: string, private readonly deadlineMs = 10000) {
    const TokenService = loadService(String);
    this.stub = new TokenService(address, grpc.credentials.createInsecure());
  }

  /** Calls one RPC with a raw request object; resolves with the raw response. */
  call(method: string, request: Record<string, unknown>): Promise<any> {
    return new Promise((resolve, reject) => {
      this.stub[method](request, { deadline: Date.now() + this.deadlineMs }, (err: GrpcFailure | null, res: any) => {
        if (err) reject(err);
        else resolve(res);
      });
    });
  }

  async create(hash: Record<string, unknown>, ttl: number | null = null, silenceRead: number | null = null): Promise<string> {
    const res = await this.call('CreateToken', {
      packed_data: msgpackLite.encode(hash),
      ttl: ttl || -1,
      silence_read: silenceRead || -1,
    });
    return res.token;
  }

  async read(token: string): Promise<any> {
    const res = await this.call('ReadToken', { token });
    return msgpackLite.decode(res.packed_data);
  }

  async update(token: string, hash: Record<string, unknown>, ttl: number | null = null, silenceRead: number | null = null): Promise<boolean> {
    const res = await this.call('UpdateToken', {
      token,
      packed_data: msgpackLite.encode(hash),
      ttl: ttl || -1,
      silence_read: silenceRead || -1,
    });
    return res.result;
  }

  async delete(token: string): Promise<boolean> {
    const res = await this.call('DeleteToken', { token });
    return res.result;
  }

  close(): void {
    this.stub.close();
  }
}

interface Entry {
  hash: Record<string, unknown>;
  expiresAtMs: number | null;
  readsLeft: number | null;
}

/** What the published master saw on the wire, for assertions. */
export interface SeenRequest {
  method: string;
  request: any;
}

/**
 * A master that answers like crudjt@1.0.1's master role. Validation errors
 * are thrown inside the handler, as the published one does.
 */
export class PublishedStyleMaster {
  private readonly server = new grpc.Server();
  private readonly tokens = new Map<string, Entry>();
  readonly seen: SeenRequest[] = [];
  /** When set, ReadToken answers these bytes instead of the stored result. */
  readAnswerOverride: Buffer | null = null;
  /** When set, ReadToken throws in its handler, as the published master does on a store error. */
  failReads = false;
  port = 0;

  private validateLimits(ttl: number, silenceRead: number): void {
    // Validation.validateInsertion: -1 means none, anything else must be > 0.
    if (ttl != -1 && !(ttl > 0)) throw new Error('ttl should be greater than 0 and less than 2^64');
    if (silenceRead !== -1 && !(silenceRead > 0)) {
      throw new Error('silence_read should be greater than 0 and less than 2^64');
    }
  }

  private validateHash(hash: unknown): asserts hash is Record<string, unknown> {
    if (typeof hash !== 'object' || hash === null || Array.isArray(hash)) throw new Error('Must be a Hash (Object)');
    if (msgpackLite.encode(hash).length > 256) throw new Error('Hash can not be bigger than 256 bytesize');
  }

  private live(token: string): Entry | null {
    const e = this.tokens.get(token);
    if (!e) return null;
    if (e.expiresAtMs !== null && Date.now() >= e.expiresAtMs) {
      this.tokens.delete(token);
      return null;
    }
    return e;
  }

  private entry(hash: Record<string, unknown>, ttl: number, silenceRead: number): Entry {
    return {
      hash,
      expiresAtMs: ttl > 0 ? Date.now() + ttl * 1000 : null,
      readsLeft: silenceRead > 0 ? silenceRead : null,
    };
  }

  async start(): Promise<string> {
    const TokenService = loadService(Number);
    this.server.addService(TokenService.service, {
      CreateToken: (call: any, callback: any) => {
        this.seen.push({ method: 'CreateToken', request: call.request });
        const hash = msgpackLite.decode(call.request.packed_data);
        this.validateLimits(call.request.ttl, call.request.silence_read);
        this.validateHash(hash);
        // 22 characters of standard base64, as the published store makes them.
        const token = randomBytes(16).toString('base64').slice(0, 22);
        this.tokens.set(token, this.entry(hash, call.request.ttl, call.request.silence_read));
        callback(null, { token });
      },
      ReadToken: (call: any, callback: any) => {
        this.seen.push({ method: 'ReadToken', request: call.request });
        if (this.failReads) throw new Error('Error code: XX000');
        if (this.readAnswerOverride) {
          callback(null, { packed_data: this.readAnswerOverride });
          return;
        }
        const e = this.live(call.request.token);
        let result: unknown = null;
        if (e) {
          // The store answers JSON {data, metadata} (keys sorted), parsed
          // into plain JS numbers and re-encoded with msgpack-lite.
          const out: Record<string, unknown> = { data: e.hash };
          const metadata: Record<string, number> = {};
          if (e.readsLeft !== null) {
            e.readsLeft -= 1;
            metadata.silence_read = e.readsLeft;
            if (e.readsLeft <= 0) this.tokens.delete(call.request.token);
          }
          if (e.expiresAtMs !== null) metadata.ttl = Math.ceil((e.expiresAtMs - Date.now()) / 1000);
          if (Object.keys(metadata).length > 0) out.metadata = metadata;
          result = JSON.parse(JSON.stringify(out));
        }
        callback(null, { packed_data: msgpackLite.encode(result) });
      },
      UpdateToken: (call: any, callback: any) => {
        this.seen.push({ method: 'UpdateToken', request: call.request });
        const hash = msgpackLite.decode(call.request.packed_data);
        this.validateLimits(call.request.ttl, call.request.silence_read);
        this.validateHash(hash);
        const live = this.live(call.request.token) !== null;
        if (live) this.tokens.set(call.request.token, this.entry(hash, call.request.ttl, call.request.silence_read));
        callback(null, { result: live });
      },
      DeleteToken: (call: any, callback: any) => {
        this.seen.push({ method: 'DeleteToken', request: call.request });
        const live = this.live(call.request.token) !== null;
        this.tokens.delete(call.request.token);
        callback(null, { result: live });
      },
    });
    this.port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
        if (err) reject(err);
        else resolve(port);
      });
    });
    return `127.0.0.1:${this.port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
