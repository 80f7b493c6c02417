// The master's Batch RPC served straight on the HTTP/2 stream, beside
// grpc-js (which serves every other RPC).
//
// Why: a Batch message through grpc-js's server call stack (stream decoder,
// interceptors, object-mode streams, compression filter, a few promise hops
// per message) cost more CPU than executing a small batch. A sequential
// client sends one small message per call, so that overhead was most of the
// round trip. Here the stream's bytes are split into gRPC messages (1-byte
// compressed flag, 4-byte big-endian length), decoded with batch_codec, run
// with executeBatch, and answered with length-prefixed messages and the
// grpc-status trailer: the same bytes as grpc-js produced, so any gRPC
// client talks to it unchanged (test 46 drives it with a grpc-js client).
//
// How: after the server is bound, the 'stream' listener grpc-js put on each
// of its HTTP/2 servers is wrapped so that streams for Batch come here and
// all others go on to grpc-js. That reaches into grpc-js's private
// http2Servers map; when it is not there (another grpc-js version) nothing
// is wrapped and grpc-js keeps serving Batch through its own handler
// (server.ts registers one), so behaviour is the same, only slower.
//
// Rules as before: at most MAX_BATCH_OPS ops and 64 KiB per request
// (INVALID_ARGUMENT / RESOURCE_EXHAUSTED fail the stream); a malformed
// message fails the stream with INTERNAL (as grpc-js's "error deserializing");
// compressed messages are refused (we never advertise compression); each
// message's results are written as soon as they are known; the stream ends
// with status OK once the client half-closed and every answer is written.
import { EventEmitter } from 'node:events';
import type http2 from 'node:http2';
import type * as grpc from '@grpc/grpc-js';
import type { Backend } from '../backend';
import { ERROR_CLASS_METADATA_KEY, toGrpcError } from '../errors';
import { decodeBatchRequest, encodeBatchResponseFrame } from './batch_codec';
import type { BatchRequest__Output } from './generated/token/BatchRequest';
import type { BatchResult } from './generated/token/BatchResult';

export const BATCH_PATH = '/token.TokenService/Batch';
/** As SERVER_OPTIONS' grpc.max_receive_message_length. */
const MAX_REQUEST_BYTES = 64 * 1024;

const STATUS = { OK: 0, INVALID_ARGUMENT: 3, UNIMPLEMENTED: 12, INTERNAL: 13, RESOURCE_EXHAUSTED: 8 } as const;

type Execute = (backend: Backend, ops: BatchRequest__Output['ops']) => BatchResult[] | Promise<BatchResult[]>;

const wrapped = new WeakSet<object>();

/** A unary RPC served here: the method's (de)serializers and its grpc-js handler. */
export interface UnaryRoute {
  method: grpc.MethodDefinition<unknown, unknown>;
  handler: grpc.handleUnaryCall<unknown, unknown>;
}

/**
 * Routes Batch streams of `server`'s HTTP/2 listeners to serveBatchStream,
 * and the unary RPCs in `unary` (by path) to serveUnary. Returns how many
 * listeners were wrapped (0: grpc-js serves everything itself).
 */
export function installBatchFastPath(
  server: grpc.Server,
  backend: Backend,
  maxOps: number,
  execute: Execute,
  unary: Map<string, UnaryRoute> = new Map(),
): number {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map)) return 0;
  let n = 0;
  for (const h2 of servers.keys()) {
    if (!(h2 instanceof EventEmitter) || wrapped.has(h2)) continue;
    const listeners = h2.listeners('stream');
    if (listeners.length !== 1) continue; // not grpc-js's layout: leave it alone
    const grpcHandler = listeners[0] as (...args: unknown[]) => void;
    h2.removeListener('stream', grpcHandler);
    h2.on('stream', function (this: unknown, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ...rest: unknown[]) {
      const path = headers[':path'];
      if (path === BATCH_PATH) {
        serveBatchStream(backend, maxOps, execute, stream, headers);
        return;
      }
      const route = path === undefined ? undefined : unary.get(path);
      if (route !== undefined) {
        serveUnary(route, stream, headers);
      } else {
        grpcHandler.call(this, stream, headers, ...rest);
      }
    });
    // Answers are small writes: never hold one back waiting for the ACK of
    // the previous (Nagle); grpc-js does not set this on accepted sockets.
    h2.on('connection', (socket: { setNoDelay?: (on: boolean) => unknown }) => {
      try {
        socket.setNoDelay?.(true);
      } catch {
        // not a TCP socket
      }
    });
    wrapped.add(h2);
    n++;
  }
  return n;
}

/** grpc-message: percent-encoded UTF-8 outside printable ASCII (and '%'), as the gRPC spec says. */
export function percentEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function serveBatchStream(
  backend: Backend,
  maxOps: number,
  execute: Execute,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
): void {
  let pending = 0;
  let clientDone = false;
  let closed = false;
  let headersSent = false;
  let partial: Buffer | null = null;
  let trailers: http2.OutgoingHttpHeaders = { 'grpc-status': '0' };

  stream.on('error', () => {
    closed = true;
  });
  stream.on('aborted', () => {
    closed = true;
  });
  stream.on('close', () => {
    closed = true;
  });
  stream.on('wantTrailers', () => {
    try {
      stream.sendTrailers(trailers);
    } catch {
      // the stream went away
    }
  });

  const gone = (): boolean => closed || stream.destroyed || stream.closed;

  const sendHeaders = (): void => {
    if (headersSent) return;
    headersSent = true;
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-accept-encoding': 'identity' }, { waitForTrailers: true });
  };

  // Ends the stream with a status (an error fails the whole stream).
  const end = (code: number, details: string, errorClass?: string): void => {
    if (gone()) {
      closed = true;
      return;
    }
    closed = true;
    const t: http2.OutgoingHttpHeaders = { 'grpc-status': String(code) };
    if (details !== '') t['grpc-message'] = percentEncode(details);
    if (errorClass !== undefined) t[ERROR_CLASS_METADATA_KEY] = errorClass;
    try {
      if (!headersSent) {
        headersSent = true;
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...t }, { endStream: true });
      } else {
        trailers = t;
        stream.end();
      }
    } catch {
      // the stream went away
    }
  };

  const fail = (e: unknown): void => {
    const { code, details, metadata } = toGrpcError(e);
    const cls = metadata.get(ERROR_CLASS_METADATA_KEY)[0];
    end(code, details, cls === undefined ? undefined : String(cls));
  };

  const finishIfDone = (): void => {
    if (clientDone && pending === 0) end(STATUS.OK, '');
  };

  const write = (results: BatchResult[]): void => {
    if (gone()) return;
    sendHeaders();
    try {
      stream.write(encodeBatchResponseFrame({ results }));
    } catch {
      closed = true;
    }
  };

  const onMessage = (msg: Buffer): void => {
    backend.countRequest?.('Batch');
    let req: BatchRequest__Output;
    try {
      req = decodeBatchRequest(msg);
    } catch (e) {
      end(STATUS.INTERNAL, `Error deserializing request: ${(e as Error).message}`);
      return;
    }
    if (req.ops.length > maxOps) {
      fail(new RangeError(`a BatchRequest may carry at most ${maxOps} ops, got ${req.ops.length}`));
      return;
    }
    let answer: BatchResult[] | Promise<BatchResult[]>;
    try {
      answer = execute(backend, req.ops);
    } catch (e) {
      fail(e);
      return;
    }
    if (Array.isArray(answer)) {
      write(answer);
      return;
    }
    pending++;
    answer.then(
      (results) => {
        pending--;
        write(results);
        finishIfDone();
      },
      (e) => {
        pending--;
        fail(e);
      },
    );
  };

  if (headers[':method'] !== 'POST' || !String(headers['content-type'] ?? '').startsWith('application/grpc')) {
    try {
      stream.respond({ ':status': 415 }, { endStream: true });
    } catch {
      // gone
    }
    closed = true;
    return;
  }
  const enc = headers['grpc-encoding'];
  if (enc !== undefined && enc !== 'identity') {
    end(STATUS.UNIMPLEMENTED, `grpc-encoding ${String(enc)} is not supported by the Batch RPC (send uncompressed messages)`);
    return;
  }

  stream.on('data', (chunk: Buffer) => {
    if (closed) return;
    const buf = partial === null ? chunk : Buffer.concat([partial, chunk]);
    partial = null;
    let pos = 0;
    while (buf.length - pos >= 5) {
      const flag = buf[pos];
      const len = buf.readUInt32BE(pos + 1);
      if (flag !== 0) {
        end(STATUS.INTERNAL, 'a compressed BatchRequest was sent without grpc-encoding');
        return;
      }
      if (len > MAX_REQUEST_BYTES) {
        end(STATUS.RESOURCE_EXHAUSTED, `Received message larger than max (${len} vs. ${MAX_REQUEST_BYTES})`);
        return;
      }
      if (buf.length - pos - 5 < len) break;
      onMessage(buf.subarray(pos + 5, pos + 5 + len));
      pos += 5 + len;
      if (closed) return;
    }
    if (pos < buf.length) partial = pos === 0 ? buf : buf.subarray(pos);
  });
  stream.on('end', () => {
    clientDone = true;
    if (partial !== null && !closed) {
      end(STATUS.INTERNAL, 'the Batch stream ended inside a message');
      return;
    }
    finishIfDone();
  });
}

// ---- unary ---------------------------------------------------------------------

/** Trailers (or trailers-only headers) for a status, with the error's metadata. */
function statusHeaders(code: number, details: string, metadata?: grpc.Metadata): http2.OutgoingHttpHeaders {
  const t: http2.OutgoingHttpHeaders = { 'grpc-status': String(code) };
  if (details !== '') t['grpc-message'] = percentEncode(details);
  if (metadata !== undefined) {
    for (const [key, value] of Object.entries(metadata.getMap())) {
      if (typeof value === 'string' && !key.startsWith('grpc-') && !key.startsWith(':')) t[key] = value;
    }
  }
  return t;
}

// One request message in, one answer out: the grpc-js handler is called with
// a call that has only `request` (ours read nothing else) and its answer is
// written with the method's serializer, the status in the trailers.
function serveUnary(route: UnaryRoute, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  let closed = false;
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('error', () => {
    closed = true;
  });
  stream.on('close', () => {
    closed = true;
  });
  const gone = (): boolean => closed || stream.destroyed || stream.closed;
  const fail = (code: number, details: string, metadata?: grpc.Metadata): void => {
    if (gone()) return;
    closed = true;
    try {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...statusHeaders(code, details, metadata) }, { endStream: true });
    } catch {
      // gone
    }
  };
  if (headers[':method'] !== 'POST' || !String(headers['content-type'] ?? '').startsWith('application/grpc')) {
    try {
      stream.respond({ ':status': 415 }, { endStream: true });
    } catch {
      // gone
    }
    closed = true;
    return;
  }
  const enc = headers['grpc-encoding'];
  const compressed = enc !== undefined && enc !== 'identity';
  stream.on('data', (chunk: Buffer) => {
    if (closed) return;
    if (size < 5 && size + chunk.length >= 5) {
      // The declared length is known: refuse a big message before buffering it.
      const head = size === 0 ? chunk : Buffer.concat([...chunks, chunk]);
      const len = head.readUInt32BE(1);
      if (len > MAX_REQUEST_BYTES) {
        fail(STATUS.RESOURCE_EXHAUSTED, `Received message larger than max (${len} vs. ${MAX_REQUEST_BYTES})`);
        stream.resume();
        return;
      }
    }
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES + 5) {
      fail(STATUS.RESOURCE_EXHAUSTED, `Received message larger than max (${size - 5} vs. ${MAX_REQUEST_BYTES})`);
      return;
    }
    chunks.push(chunk);
  });
  stream.on('end', () => {
    if (closed) return;
    const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    if (buf.length < 5) {
      fail(STATUS.INTERNAL, buf.length === 0 ? 'the call carried no request message' : 'truncated request message');
      return;
    }
    const len = buf.readUInt32BE(1);
    if (buf.length !== 5 + len) {
      fail(STATUS.INTERNAL, buf.length < 5 + len ? 'truncated request message' : 'a unary call carried more than one request message');
      return;
    }
    if (buf[0] !== 0 || compressed) {
      fail(STATUS.UNIMPLEMENTED, 'compressed request messages are not supported (send grpc-encoding identity)');
      return;
    }
    let request: unknown;
    try {
      request = route.method.requestDeserialize(buf.subarray(5));
    } catch (e) {
      fail(STATUS.INTERNAL, `Error deserializing request: ${(e as Error).message}`);
      return;
    }
    const call = { request, cancelled: false } as unknown as grpc.ServerUnaryCall<unknown, unknown>;
    route.handler(call, (err, value) => {
      if (gone()) return;
      if (err) {
        const e = err as grpc.ServiceError;
        fail(typeof e.code === 'number' ? e.code : STATUS.INTERNAL, e.details ?? e.message ?? '', e.metadata);
        return;
      }
      let body: Buffer;
      try {
        body = route.method.responseSerialize(value);
      } catch (e) {
        fail(STATUS.INTERNAL, `Error serializing response: ${(e as Error).message}`);
        return;
      }
      closed = true;
      const frame = Buffer.allocUnsafe(5 + body.length);
      frame[0] = 0;
      frame.writeUInt32BE(body.length, 1);
      body.copy(frame, 5);
      try {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-accept-encoding': 'identity' }, { waitForTrailers: true });
        stream.once('wantTrailers', () => {
          try {
            stream.sendTrailers({ 'grpc-status': '0' });
          } catch {
            // gone
          }
        });
        stream.end(frame);
      } catch {
        // gone
      }
    });
  });
}
