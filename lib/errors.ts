// The error classes of the public API and the one place that converts
// errors between layers: native addon -> typed errors, typed errors <->
// gRPC status codes (plus the `crudjt-error` trailing metadata key that lets
// our client rethrow the very class the master threw).
//
// TypeError / RangeError are the built-in classes: bad arguments.
// InvalidState (55JT01): the call is not allowed in the current state
// (not started, already started, store locked by another master).
// InternalError (XX000): the store or the transport failed (corrupt file,
// I/O error, unreachable master).
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';

/** The operation is not allowed in the current state. */
export class InvalidState extends Error {
  readonly code = '55JT01' as const;
  constructor(message: string) {
    super(message);
    this.name = 'InvalidState';
  }
}

/** The store or the transport failed; the message names the file or host. */
export class InternalError extends Error {
  readonly code = 'XX000' as const;
  constructor(message: string) {
    super(message);
    this.name = 'InternalError';
  }
}

/** Client role: the master at host:port did not answer (down, or deadline passed). */
export class Unavailable extends InternalError {
  constructor(message: string) {
    super(message);
    this.name = 'Unavailable';
  }
}

export const Errors = { InvalidState, InternalError, Unavailable };

export const MESSAGES = {
  SECRET_KEY_BLANK: 'Secret key is blank',
  ALREADY_STARTED: 'CRUDJT already started',
  NOT_STARTED: 'CRUDJT has not started',
} as const;

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Converts an error thrown by the native addon (an Error with a stable
 * `code`) into the public class. Errors that already are public classes
 * pass through unchanged; anything unknown becomes an InternalError.
 */
export function fromNative(err: unknown): Error {
  if (err instanceof InvalidState || err instanceof InternalError ||
      err instanceof TypeError || err instanceof RangeError) {
    return err;
  }
  const code = (err as { code?: unknown } | null)?.code;
  const message = messageOf(err);
  switch (code) {
    case 'CRUDJT_BUSY':
      return new InvalidState(message);
    case 'CRUDJT_INVALID_ARGUMENT':
      return new TypeError(message);
    case 'CRUDJT_CORRUPTION':
    case 'CRUDJT_IO_ERROR':
    case 'CRUDJT_NOT_SUPPORTED':
    case 'CRUDJT_CLOSED':
    default:
      return new InternalError(message);
  }
}

// ---- gRPC ----------------------------------------------------------------

/** Trailing metadata key naming the class of the error the master threw. */
export const ERROR_CLASS_METADATA_KEY = 'crudjt-error';

type ErrorClassName = 'TypeError' | 'RangeError' | 'InvalidState' | 'InternalError';

/** The one map between error classes and gRPC status codes. */
const GRPC_CODE_BY_CLASS: Record<ErrorClassName, GrpcStatus> = {
  TypeError: GrpcStatus.INVALID_ARGUMENT,
  RangeError: GrpcStatus.INVALID_ARGUMENT,
  InvalidState: GrpcStatus.FAILED_PRECONDITION,
  InternalError: GrpcStatus.INTERNAL,
};

function classNameOf(err: Error): ErrorClassName {
  if (err instanceof InvalidState) return 'InvalidState';
  if (err instanceof InternalError) return 'InternalError';
  if (err instanceof RangeError) return 'RangeError';
  if (err instanceof TypeError) return 'TypeError';
  return 'InternalError';
}

export interface GrpcErrorPayload {
  code: GrpcStatus;
  details: string;
  metadata: Metadata;
}

/** Master side: any thrown value -> status + message + crudjt-error class. */
export function toGrpcError(err: unknown): GrpcErrorPayload {
  const e = err instanceof Error ? fromNative(err) : new InternalError(messageOf(err));
  const className = classNameOf(e);
  const metadata = new Metadata();
  metadata.set(ERROR_CLASS_METADATA_KEY, className);
  return { code: GRPC_CODE_BY_CLASS[className], details: e.message, metadata };
}

const CLASS_BY_NAME: Record<ErrorClassName, new (message: string) => Error> = {
  TypeError,
  RangeError,
  InvalidState,
  InternalError,
};

/**
 * Client side: a grpc-js ServiceError -> the class the master threw (from
 * crudjt-error, else from the status code). UNAVAILABLE and
 * DEADLINE_EXCEEDED become Unavailable naming the master's address.
 */
export function fromGrpcError(err: unknown, address: string, deadlineMs: number): Error {
  const e = err as { code?: number; details?: string; message?: string; metadata?: Metadata };
  const details = e?.details || messageOf(err);
  switch (e?.code) {
    case GrpcStatus.UNAVAILABLE:
      return new Unavailable(`CRUDJT master at ${address} is unavailable: ${details}`);
    case GrpcStatus.DEADLINE_EXCEEDED:
      return new Unavailable(`CRUDJT master at ${address} did not answer within ${deadlineMs} ms`);
    case GrpcStatus.CANCELLED:
      return new Unavailable(`call to CRUDJT master at ${address} was cancelled: ${details}`);
    default:
      break;
  }
  let name: string | undefined;
  try {
    const values = e?.metadata?.get(ERROR_CLASS_METADATA_KEY);
    if (values && values.length > 0) name = String(values[0]);
  } catch {
    name = undefined;
  }
  if (name && Object.prototype.hasOwnProperty.call(CLASS_BY_NAME, name)) {
    return new CLASS_BY_NAME[name as ErrorClassName](details);
  }
  switch (e?.code) {
    case GrpcStatus.INVALID_ARGUMENT:
      return new TypeError(details);
    case GrpcStatus.FAILED_PRECONDITION:
      return new InvalidState(details);
    default:
      return new InternalError(`CRUDJT master at ${address} failed: ${details}`);
  }
}
