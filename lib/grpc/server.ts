// The gRPC master: serves token.TokenService over a local Backend.
//
// Every handler decodes and validates its request exactly as the public API
// validates arguments (malformed MessagePack, a non-map, more than 256
// bytes, a bad limit -> INVALID_ARGUMENT), calls the backend, and answers
// through the one error map in errors.ts. A handler calls back exactly
// once and never throws past grpc-js, so no request can crash the master.
//
// Batch (a bidirectional stream) and ExecuteBatch (unary) validate every op
// as its unary RPC would, run the valid ones with one backend.runBatch()
// pass, and answer each op on its own with its id. Stats answers the
// backend's figures. TouchToken, RevokeSubject, ListSubject and
// RevokeHandle validate and call the backend's methods of the same names.
// See proto/token_service.proto.
import fs from 'node:fs';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { Backend, BatchOp, BatchOutcome } from '../backend';
import { ERROR_CLASS_METADATA_KEY, InternalError, InvalidState, toGrpcError } from '../errors';
import { NIL, pack } from '../msgpack';
import {
  MAX_READS,
  MAX_TTL_SECONDS,
  validateChosenToken,
  validateHandle,
  validatePackedData,
  validateSubject,
  validateToken,
  validateWireLimit,
} from '../validation';
import type { BatchOp__Output } from './generated/token/BatchOp';
import type { BatchRequest__Output } from './generated/token/BatchRequest';
import type { BatchResponse } from './generated/token/BatchResponse';
import type { BatchResult } from './generated/token/BatchResult';
import type { ListSubjectResponse } from './generated/token/ListSubjectResponse';
import type { StatsResponse } from './generated/token/StatsResponse';
import type { TokenServiceHandlers } from './generated/token/TokenService';
import { type SessionRequest, withBatchCodec } from './batch_codec';
import { installBatchFastPath, type UnaryRoute } from './raw_batch';
import { formatAddress, tokenProto } from './proto';

/** Most ops one BatchRequest may carry. */
export const MAX_BATCH_OPS = 256;

/**
 * Requests are small (<= 256 bytes of data + a token; clients keep a
 * BatchRequest under 64 KiB): refuse bigger frames early. Answers may be
 * bigger: 256 reads of 256-byte payloads are about 80 KiB, and a
 * ListSubject answer is ~40 bytes per session (8 MiB: ~200,000 sessions).
 */
export const SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.max_receive_message_length': 64 * 1024,
  'grpc.max_send_message_length': 8 * 1024 * 1024,
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.max_concurrent_streams': 1024,
  // No per-call channelz bookkeeping (nothing here reads it).
  'grpc.enable_channelz': 0,
};

type Callback<T> = (error: grpc.ServiceError | null, value?: T) => void;

export class TokenServiceMaster {
  private readonly backend: Backend;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  /** Registers the TokenService handlers on `server`. */
  addToServer(server: grpc.Server): void {
    server.addService(withBatchCodec(tokenProto().TokenService.service), this.handlers());
  }

  /**
   * The four original unary RPCs (the hot ones for other SDKs' clients) and
   * PutToken (a session store's every save), by path, for raw_batch.ts to
   * serve on HTTP/2 directly with the same handlers.
   */
  unaryRoutes(): Map<string, UnaryRoute> {
    const service = withBatchCodec(tokenProto().TokenService.service);
    const handlers = this.handlers() as unknown as Record<string, grpc.handleUnaryCall<unknown, unknown>>;
    const routes = new Map<string, UnaryRoute>();
    for (const name of ['CreateToken', 'ReadToken', 'UpdateToken', 'DeleteToken', 'PutToken']) {
      const method = service[name] as grpc.MethodDefinition<unknown, unknown>;
      routes.set(method.path, { method, handler: handlers[name] });
    }
    return routes;
  }

  private handlers(): TokenServiceHandlers {
    const backend = this.backend;
    const count = (rpc: string): void => backend.countRequest?.(rpc);
    return {
      CreateToken: (call, callback) => {
        count('CreateToken');
        respond(callback, async () => {
          const req = call.request;
          const packed = validatePackedData(req.packed_data);
          const ttl = validateWireLimit(req.ttl, 'ttl', MAX_TTL_SECONDS);
          const silenceRead = validateWireLimit(req.silence_read, 'silence_read', MAX_READS);
          const subject = wireSubject(req.subject);
          return { token: await backend.create(packed, ttl, silenceRead, subject) };
        });
      },
      ReadToken: (call, callback) => {
        count('ReadToken');
        respond(callback, async () => {
          const token = validateToken(call.request.token);
          if (backend.readPacked !== undefined) {
            return { packed_data: (await backend.readPacked(token)) ?? NIL };
          }
          const result = await backend.read(token);
          return { packed_data: result === null ? NIL : pack(result) };
        });
      },
      UpdateToken: (call, callback) => {
        count('UpdateToken');
        respond(callback, async () => {
          const req = call.request;
          const token = validateToken(req.token);
          const packed = validatePackedData(req.packed_data);
          const ttl = validateWireLimit(req.ttl, 'ttl', MAX_TTL_SECONDS);
          const silenceRead = validateWireLimit(req.silence_read, 'silence_read', MAX_READS);
          return { result: await backend.update(token, packed, ttl, silenceRead) };
        });
      },
      DeleteToken: (call, callback) => {
        count('DeleteToken');
        respond(callback, async () => {
          const token = validateToken(call.request.token);
          return { result: await backend.delete(token) };
        });
      },
      TouchToken: (call, callback) => {
        count('TouchToken');
        respond(callback, async () => {
          const req = wellFormed(call.request);
          const token = validateToken(req.token);
          const ttl = validateWireLimit(req.ttl, 'ttl', MAX_TTL_SECONDS);
          return { result: await backend.touch(token, ttl) };
        });
      },
      RevokeSubject: (call, callback) => {
        count('RevokeSubject');
        respond(callback, async () => ({ count: await backend.revokeSubject(validateSubject(wellFormed(call.request).subject)) }));
      },
      ListSubject: (call, callback) => {
        count('ListSubject');
        respond(callback, async (): Promise<ListSubjectResponse> => {
          const sessions = await backend.listSubject(validateSubject(wellFormed(call.request).subject));
          return {
            sessions: sessions.map((s) => ({
              handle: s.handle,
              ttl: s.metadata.ttl ?? 0,
              silence_read: s.metadata.silence_read ?? 0,
            })),
          };
        });
      },
      RevokeHandle: (call, callback) => {
        count('RevokeHandle');
        respond(callback, async () => ({ result: await backend.revokeHandle(validateHandle(wellFormed(call.request).handle)) }));
      },
      PutToken: (call, callback) => {
        count('PutToken');
        respond(callback, async () => {
          const req = call.request;
          const token = validateChosenToken(req.token);
          const packed = validatePackedData(req.packed_data);
          const ttl = validateWireLimit(req.ttl, 'ttl', MAX_TTL_SECONDS);
          const silenceRead = validateWireLimit(req.silence_read, 'silence_read', MAX_READS);
          if (backend.put === undefined) throw new InternalError('this master can not put a record under a chosen token');
          return { result: await backend.put(token, packed, ttl, silenceRead) };
        });
      },
      Batch: (call) => {
        serveBatchStream(backend, call);
      },
      ExecuteBatch: (call, callback) => {
        count('ExecuteBatch');
        respond(callback, async () => {
          const ops = call.request.ops;
          if (ops.length > MAX_BATCH_OPS) {
            throw new RangeError(`a BatchRequest may carry at most ${MAX_BATCH_OPS} ops, got ${ops.length}`);
          }
          return { results: await executeBatch(backend, ops) };
        });
      },
      Stats: (_call, callback) => {
        count('Stats');
        respond(callback, async (): Promise<StatsResponse> => backend.stats());
      },
    };
  }
}

// ---- Batch ------------------------------------------------------------------

// Serves one Batch stream: each request message is executed as it arrives
// (in order: a 'background' store answers synchronously; a 'sync' store
// orders ops per token itself) and answered with one response message. The
// stream ends once the client half-closes and every answer is written.
function serveBatchStream(
  backend: Backend,
  call: grpc.ServerDuplexStream<BatchRequest__Output, BatchResponse>,
): void {
  let pending = 0;
  let clientDone = false;
  let closed = false;
  const finish = (): void => {
    if (!closed && clientDone && pending === 0) {
      closed = true;
      call.end();
    }
  };
  const fail = (e: unknown): void => {
    if (closed) return;
    closed = true;
    const { code, details, metadata } = toGrpcError(e);
    call.emit('error', { code, details, metadata });
  };
  const write = (results: BatchResult[]): void => {
    if (closed || call.cancelled) return;
    call.write({ results });
  };
  call.on('data', (req: BatchRequest__Output) => {
    if (closed) return;
    backend.countRequest?.('Batch');
    const ops = req.ops;
    if (ops.length > MAX_BATCH_OPS) {
      fail(new RangeError(`a BatchRequest may carry at most ${MAX_BATCH_OPS} ops, got ${ops.length}`));
      return;
    }
    let answer: BatchResult[] | Promise<BatchResult[]>;
    try {
      answer = executeBatch(backend, ops);
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
        finish();
      },
      (e) => {
        pending--;
        fail(e);
      },
    );
  });
  call.on('end', () => {
    clientDone = true;
    finish();
  });
  call.on('error', () => {
    // The client went away (cancelled): nothing to answer.
    closed = true;
  });
  call.on('cancelled', () => {
    closed = true;
  });
}

/**
 * Validates each op as its unary RPC would, runs the valid ones with one
 * backend pass, and answers every op with its id. Synchronous when the
 * backend's pass is (a 'background' store); never rejects for one op's error.
 */
export function executeBatch(backend: Backend, wire: readonly BatchOp__Output[]): BatchResult[] | Promise<BatchResult[]> {
  const results: BatchResult[] = new Array(wire.length);
  const valid: BatchOp[] = [];
  const slots: number[] = [];
  for (let i = 0; i < wire.length; i++) {
    const w = wire[i];
    try {
      valid.push(decodeOp(w));
      slots.push(i);
    } catch (e) {
      results[i] = errorResult(w.id, e);
    }
  }
  if (valid.length === 0) return results;
  const fill = (outcomes: BatchOutcome[]): BatchResult[] => {
    for (let j = 0; j < slots.length; j++) {
      const i = slots[j];
      results[i] = outcomeResult(wire[i].id, outcomes[j]);
    }
    return results;
  };
  const run = backend.runBatch !== undefined ? backend.runBatch(valid) : runOneByOne(backend, valid);
  return Array.isArray(run) ? fill(run) : run.then(fill);
}

function decodeOp(w: BatchOp__Output): BatchOp {
  switch (w.kind) {
    case 'CREATE':
      return {
        kind: 'create',
        packed: validatePackedData(w.packed_data),
        ttl: validateWireLimit(w.ttl, 'ttl', MAX_TTL_SECONDS),
        silenceRead: validateWireLimit(w.silence_read, 'silence_read', MAX_READS),
        subject: wireSubject(w.subject),
      };
    case 'READ':
      return { kind: 'read', token: validateToken(w.token) };
    case 'UPDATE':
      return {
        kind: 'update',
        token: validateToken(w.token),
        packed: validatePackedData(w.packed_data),
        ttl: validateWireLimit(w.ttl, 'ttl', MAX_TTL_SECONDS),
        silenceRead: validateWireLimit(w.silence_read, 'silence_read', MAX_READS),
      };
    case 'DELETE':
      return { kind: 'delete', token: validateToken(w.token) };
    case 'TOUCH':
      return { kind: 'touch', token: validateToken(w.token), ttl: validateWireLimit(w.ttl, 'ttl', MAX_TTL_SECONDS) };
    default:
      throw new TypeError(`BatchOp ${w.id} has no kind (CREATE, READ, UPDATE, DELETE or TOUCH)`);
  }
}

/** A session request from sessionDecoder; TypeError (INVALID_ARGUMENT) when malformed. */
function wellFormed(req: unknown): SessionRequest {
  const r = req as SessionRequest;
  if (r.malformed !== null && r.malformed !== undefined) throw new TypeError(`malformed ${r.malformed}`);
  return r;
}

/** A subject field: empty = none, else validated like the API's subject. */
function wireSubject(subject: string | undefined): string | null {
  return subject === undefined || subject === '' ? null : validateSubject(subject);
}

// For a backend without runBatch: the ops in order, one await each.
async function runOneByOne(backend: Backend, ops: readonly BatchOp[]): Promise<BatchOutcome[]> {
  const out: BatchOutcome[] = [];
  for (const op of ops) {
    try {
      switch (op.kind) {
        case 'create':
          out.push({ ok: true, value: await backend.create(op.packed, op.ttl, op.silenceRead, op.subject ?? null) });
          break;
        case 'read': {
          const packed = backend.readPacked !== undefined
            ? await backend.readPacked(op.token)
            : await backend.read(op.token).then((r) => (r === null ? null : pack(r)));
          out.push({ ok: true, value: packed ?? NIL });
          break;
        }
        case 'update':
          out.push({ ok: true, value: await backend.update(op.token, op.packed, op.ttl, op.silenceRead) });
          break;
        case 'delete':
          out.push({ ok: true, value: await backend.delete(op.token) });
          break;
        case 'touch':
          out.push({ ok: true, value: await backend.touch(op.token, op.ttl) });
          break;
      }
    } catch (e) {
      out.push({ ok: false, error: e as Error });
    }
  }
  return out;
}

function outcomeResult(id: number, outcome: BatchOutcome): BatchResult {
  if (!outcome.ok) return errorResult(id, outcome.error);
  const v = outcome.value;
  if (typeof v === 'string') return { id, token: v };
  if (typeof v === 'boolean') return { id, result: v };
  return { id, packed_data: v };
}

function errorResult(id: number, e: unknown): BatchResult {
  const { code, details, metadata } = toGrpcError(e);
  const cls = metadata.get(ERROR_CLASS_METADATA_KEY)[0];
  return { id, error_code: code, error_message: details, error_class: cls === undefined ? 'InternalError' : String(cls) };
}

// Runs `work` and calls back exactly once, with its value or its error
// converted to a status. Nothing escapes: a throwing callback is swallowed.
function respond<T>(callback: Callback<T>, work: () => Promise<T>): void {
  let done = false;
  const finish = (error: grpc.ServiceError | null, value?: T): void => {
    if (done) return;
    done = true;
    try {
      callback(error, value);
    } catch {
      // grpc-js already failed the call; nothing more to do.
    }
  };
  let promise: Promise<T>;
  try {
    promise = work();
  } catch (e) {
    finish(serviceError(e));
    return;
  }
  promise.then(
    (value) => finish(null, value),
    (e) => finish(serviceError(e)),
  );
}

function serviceError(e: unknown): grpc.ServiceError {
  const { code, details, metadata } = toGrpcError(e);
  const err = new Error(details) as grpc.ServiceError;
  err.code = code;
  err.details = details;
  err.metadata = metadata;
  return err;
}

function bind(server: grpc.Server, address: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, actual) => {
      if (err) reject(err);
      else resolve(actual);
    });
  });
}

export interface SocketOptions {
  /** Path of the Unix domain socket to listen on as well. */
  path: string;
  /** File mode of the socket (0o600 default: owner only; 0o660: owner and group). */
  mode: number;
}

/**
 * Binds a server for `backend` on host:port (0 = any free port) and, when
 * `socket` is given, on that Unix domain socket too (see prepareSocketPath).
 */
export async function startGrpcServer(
  backend: Backend,
  host: string,
  port: number,
  socket?: SocketOptions,
): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server(SERVER_OPTIONS);
  const master = new TokenServiceMaster(backend);
  master.addToServer(server);
  try {
    const bound = await bind(server, formatAddress(host, port));
    if (socket !== undefined) {
      await prepareSocketPath(socket.path);
      await bind(server, `unix:${socket.path}`);
      fs.chmodSync(socket.path, socket.mode);
    }
    // Batch streams and the four original unary RPCs straight on HTTP/2
    // (raw_batch.ts); grpc-js's own handlers stay registered for when that
    // cannot be installed.
    installBatchFastPath(server, backend, MAX_BATCH_OPS, executeBatch, master.unaryRoutes());
    return { server, port: bound };
  } catch (e) {
    server.forceShutdown();
    throw e;
  }
}

/**
 * Makes `path` free for a new socket: nothing there is fine; a socket file
 * nobody listens on (left by a master that was killed) is removed; a socket
 * a live server answers on, or any other kind of file, is InvalidState
 * (never deleted).
 */
export async function prepareSocketPath(path: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!st.isSocket()) {
    throw new InvalidState(`grpc_socket ${path} exists and is not a socket; refusing to replace it`);
  }
  const live = await new Promise<boolean>((resolve) => {
    const conn = net.connect(path);
    conn.once('connect', () => {
      conn.destroy();
      resolve(true);
    });
    conn.once('error', () => resolve(false));
  });
  if (live) throw new InvalidState(`grpc_socket ${path} is in use by another server`);
  fs.unlinkSync(path);
}

/** Removes the socket file after shutdown (only if it still is a socket). */
export function removeSocketFile(path: string): void {
  try {
    if (fs.lstatSync(path).isSocket()) fs.unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Stops accepting calls, lets running ones finish for up to `graceMs`, then forces. */
export async function stopGrpcServer(server: grpc.Server, graceMs = 2000): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
