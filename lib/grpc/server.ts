// The gRPC master: serves token.TokenService over a local Backend.
//
// Every handler decodes and validates its request exactly as the public API
// validates arguments (malformed MessagePack, a non-map, more than 256
// bytes, a bad limit -> INVALID_ARGUMENT), calls the backend, and answers
// through the one error map in errors.ts. A handler calls back exactly
// once and never throws past grpc-js, so no request can crash the master.
import * as grpc from '@grpc/grpc-js';
import type { Backend } from '../backend';
import { toGrpcError } from '../errors';
import { NIL, pack } from '../msgpack';
import {
  MAX_READS,
  MAX_TTL_SECONDS,
  validatePackedData,
  validateToken,
  validateWireLimit,
} from '../validation';
import type { TokenServiceHandlers } from './generated/token/TokenService';
import { formatAddress, tokenProto } from './proto';

/** Requests are tiny (<= 256 bytes of data + a token): refuse big frames early. */
export const SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.max_receive_message_length': 64 * 1024,
  'grpc.max_send_message_length': 64 * 1024,
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.max_concurrent_streams': 1024,
};

type Callback<T> = (error: grpc.ServiceError | null, value?: T) => void;

export class TokenServiceMaster {
  private readonly backend: Backend;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  /** Registers the TokenService handlers on `server`. */
  addToServer(server: grpc.Server): void {
    server.addService(tokenProto().TokenService.service, this.handlers());
  }

  private handlers(): TokenServiceHandlers {
    const backend = this.backend;
    return {
      CreateToken: (call, callback) => {
        respond(callback, async () => {
          const req = call.request;
          const packed = validatePackedData(req.packed_data);
          const ttl = validateWireLimit(req.ttl, 'ttl', MAX_TTL_SECONDS);
          const silenceRead = validateWireLimit(req.silence_read, 'silence_read', MAX_READS);
          return { token: await backend.create(packed, ttl, silenceRead) };
        });
      },
      ReadToken: (call, callback) => {
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
        respond(callback, async () => {
          const token = validateToken(call.request.token);
          return { result: await backend.delete(token) };
        });
      },
    };
  }
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

/** Binds a server for `backend` on host:port (0 = any free port). */
export async function startGrpcServer(
  backend: Backend,
  host: string,
  port: number,
): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server(SERVER_OPTIONS);
  new TokenServiceMaster(backend).addToServer(server);
  try {
    const bound = await new Promise<number>((resolve, reject) => {
      server.bindAsync(formatAddress(host, port), grpc.ServerCredentials.createInsecure(), (err, actual) => {
        if (err) reject(err);
        else resolve(actual);
      });
    });
    return { server, port: bound };
  } catch (e) {
    server.forceShutdown();
    throw e;
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
