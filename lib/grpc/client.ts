// The client role's backend: calls token.TokenService on the master.
//
// Transport: plain gRPC over one HTTP/2 connection of our own (node:http2),
// not a grpc-js channel: grpc-js's client call stack (interceptors, retry
// and resolving layers, object-mode streams, promise hops per message) cost
// about 3x Node's own HTTP/2 per call on this project's machines, most of a
// sequential call's round trip. The bytes are standard gRPC (length-prefixed
// protobuf messages, grpc-timeout, status in trailers), so any gRPC master
// (a published SDK's) answers as before. The connection is made on first
// use, unref'd (in-flight calls hold the process through their timers), and
// made again after it closes, so a restarted master is found at once.
//
// Every call carries a deadline (deadline_ms) and does not wait for a
// connection, so a master that is down fails fast with Unavailable naming
// host:port.
//
// Batching (on by default): operations are not sent one unary call each
// but coalesced into BatchRequest messages on one long-lived Batch stream.
// An operation is queued; the queue is flushed at once (next microtask)
// when nothing is in flight, else on the next turn of the event loop, or as
// soon as it holds MAX_BATCH_OPS ops or MAX_BATCH_BYTES. Ops are written in
// the order they were called and the master executes them in that order,
// so the order of operations on one token is kept. Each op keeps its own
// result or its own typed error (one bad op never fails the others), and
// its own deadline, counted from the call: when it passes, the op fails
// with Unavailable and the stream is cancelled (its other ops fail too; the
// next op opens a new stream). A stream idle for STREAM_IDLE_MS is closed,
// so an idle client does not keep the process alive.
//
// A master without the Batch RPC (a published SDK's, or an older one of
// ours) answers UNIMPLEMENTED before any result: the client then switches
// to the four unary RPCs for good and resends the ops of that stream (the
// master executed none of them).
//
// Sessions (subject on create, touch, revokeSubject, listSubject,
// revokeHandle) need a master that knows them: an older master would
// silently ignore a subject field. So before the first create with a
// subject or batched touch, the client asks once whether the master has
// the session RPCs (ListSubject with an empty subject: INVALID_ARGUMENT =
// yes, UNIMPLEMENTED = no) and remembers the answer until the connection
// closes (the next one may reach a restarted master of another version). Against
// a master without them every session call fails with InternalError naming
// the feature; a subject is never sent to a master that would drop it.
import * as grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import net from 'node:net';
import type { Backend, ReadResult, SessionInfo, Stats } from '../backend';
import { ERROR_CLASS_METADATA_KEY, fromGrpcError, InternalError, Unavailable } from '../errors';
import { isPlainObject, unpack } from '../msgpack';
import { limitToWire, type Limit } from '../validation';
import type { BatchOp } from './generated/token/BatchOp';
import type { BatchResponse__Output } from './generated/token/BatchResponse';
import type { CreateTokenResponse__Output } from './generated/token/CreateTokenResponse';
import type { DeleteTokenResponse__Output } from './generated/token/DeleteTokenResponse';
import type { ListSubjectResponse__Output } from './generated/token/ListSubjectResponse';
import type { PutTokenResponse__Output } from './generated/token/PutTokenResponse';
import type { ReadTokenResponse__Output } from './generated/token/ReadTokenResponse';
import type { RevokeHandleResponse__Output } from './generated/token/RevokeHandleResponse';
import type { RevokeSubjectResponse__Output } from './generated/token/RevokeSubjectResponse';
import type { StatsResponse__Output } from './generated/token/StatsResponse';
import type { TouchTokenResponse__Output } from './generated/token/TouchTokenResponse';
import type { UpdateTokenResponse__Output } from './generated/token/UpdateTokenResponse';
import { decodeBatchResponse, encodeBatchRequestFrame, withBatchCodec } from './batch_codec';
import { formatAddress, tokenProto } from './proto';

export const DEFAULT_DEADLINE_MS = 5000;

/** Most ops per BatchRequest (the master refuses more). */
export const MAX_BATCH_OPS = 256;
/** Flush before a BatchRequest grows past this many (estimated) bytes: the master refuses messages over 64 KiB. */
export const MAX_BATCH_BYTES = 48 * 1024;
/** Bytes of a BatchOp beside its token and data (tags, lengths, id, limits), rounded up. */
const OP_OVERHEAD = 48;
/** An op bigger than this (only absurd tokens) goes as a unary call. */
export const MAX_BATCHED_OP_BYTES = 4 * 1024;
/** A Batch stream with nothing in flight for this long is closed. */
export const STREAM_IDLE_MS = 200;


export interface ClientBackendOptions {
  /** Path of the master's Unix domain socket; replaces host and port. */
  socket?: string;
  /** Coalesce operations into the Batch stream (default true). */
  batch?: boolean;
}

/** What an op answers, from a BatchResult or a unary response. */
interface OpAnswer {
  token?: string;
  packed_data?: Buffer;
  result?: boolean;
}

type OpKind = 'CREATE' | 'READ' | 'UPDATE' | 'DELETE' | 'TOUCH';

interface PendingOp {
  wire: BatchOp & { kind: OpKind };
  size: number;
  /** Absolute deadline (Date.now() clock). */
  deadline: number;
  resolve(answer: OpAnswer): void;
  reject(error: Error): void;
  done: boolean;
  flight: Flight | null;
}

/** A unary call in flight, as the client's one unary deadline timer sees it. */
interface UnaryCall {
  /** Absolute deadline (Date.now() clock). */
  deadline: number;
  done: boolean;
  /** Cancels the call and fails it with DEADLINE_EXCEEDED. */
  expire(): void;
}

/** Ops written in one BatchRequest. */
interface Flight {
  ops: PendingOp[];
  /** Ops not settled yet. */
  left: number;
  /** The earliest deadline of its ops. */
  deadline: number;
}

/** One Batch call: an HTTP/2 stream carrying gRPC messages both ways. */
interface BatchStream {
  req: http2.ClientHttp2Stream;
  inflight: Map<number, PendingOp>;
  /** A response message arrived (so the master runs Batch). */
  answered: boolean;
  /** The gRPC status (trailers, or headers of a trailers-only answer). */
  status: grpc.StatusObject | null;
  /** Why the stream broke without a status. */
  transportError: unknown;
  finished: boolean;
  lastActive: number;
  idleTimer: NodeJS.Timeout | null;
  /** Bytes of an incomplete message. */
  partial: Buffer | null;
  /** Flights in the order they were written. */
  flights: Flight[];
  deadlineTimer: NodeJS.Timeout | null;
  checkDeadlines: () => void;
}

const EMPTY = Buffer.alloc(0);
/** A Batch answer bigger than this is refused (the master keeps them under 256 KiB). */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** A unary answer bigger than this is refused (ListSubject: ~40 bytes a session; the master sends up to 8 MiB). */
const MAX_UNARY_RESPONSE_BYTES = 8 * 1024 * 1024;
const H2_WINDOW = 4 * 1024 * 1024;
const H2_SETTINGS: http2.Settings = { initialWindowSize: 1024 * 1024, enablePush: false };
const UNARY_HEADERS: http2.OutgoingHttpHeaders = {
  ':method': 'POST',
  'content-type': 'application/grpc',
  te: 'trailers',
  'grpc-accept-encoding': 'identity',
  'user-agent': 'crudjt-node/2',
};
const BATCH_HEADERS: http2.OutgoingHttpHeaders = {
  ':method': 'POST',
  ':path': '/token.TokenService/Batch',
  'content-type': 'application/grpc',
  te: 'trailers',
  'grpc-accept-encoding': 'identity',
  'user-agent': 'crudjt-node-batch/2',
};

/** Status OK (nothing reads an OK status's details or metadata). */
const OK_STATUS: grpc.StatusObject = { code: grpc.status.OK, details: '', metadata: new grpc.Metadata() };

/** The gRPC status carried by trailers (or trailers-only headers). */
function statusOf(h: http2.IncomingHttpHeaders): grpc.StatusObject {
  if (h['grpc-status'] === '0') return OK_STATUS;
  const code = Number(h['grpc-status']);
  let details = String(h['grpc-message'] ?? '');
  try {
    details = decodeURIComponent(details);
  } catch {
    // not percent-encoded after all
  }
  const metadata = new grpc.Metadata();
  const cls = h[ERROR_CLASS_METADATA_KEY];
  if (cls !== undefined) metadata.set(ERROR_CLASS_METADATA_KEY, String(cls));
  return { code: Number.isInteger(code) ? code : grpc.status.UNKNOWN, details, metadata };
}

export class GrpcClientBackend implements Backend {
  readonly role = 'client' as const;
  readonly address: string;
  readonly deadlineMs: number;
  /** false once the master answered UNIMPLEMENTED to Batch (or batching is off). */
  private batching: boolean;
  private queue: PendingOp[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  private stream: BatchStream | null = null;
  private nextId = 0;
  private closed = false;
  /** Whether the master has the session RPCs: null = not known yet (see requireSessions). */
  private sessions: boolean | null = null;
  private sessionsProbe: Promise<boolean> | null = null;
  /** The Batch stream's own HTTP/2 connection (see h2session). */
  private session: http2.ClientHttp2Session | null = null;
  private readonly host: string;
  private readonly port: number;
  private readonly socketPath: string | undefined;
  /** host:port for :authority (localhost for a Unix socket). */
  private readonly authority: string;
  /** Unary calls in flight, and the one timer that watches their deadlines. */
  private readonly unaryCalls = new Set<UnaryCall>();
  private unaryTimer: NodeJS.Timeout | null = null;
  /** When unaryTimer fires (Infinity: not armed). */
  private unaryTimerAt = Infinity;

  constructor(host: string, port: number, deadlineMs = DEFAULT_DEADLINE_MS, options: ClientBackendOptions = {}) {
    this.address = options.socket !== undefined ? `unix:${options.socket}` : formatAddress(host, port);
    this.host = host;
    this.port = port;
    this.socketPath = options.socket;
    this.authority = options.socket !== undefined ? 'localhost' : formatAddress(host, port);
    this.deadlineMs = deadlineMs;
    this.batching = options.batch !== false;
  }

  /** 'batch' until the master is found not to implement Batch, then 'unary'. */
  get mode(): 'batch' | 'unary' {
    return this.batching ? 'batch' : 'unary';
  }

  /**
   * One unary RPC on the master's HTTP/2 connection (the one the Batch
   * stream uses): the request serialized with the method's protobufjs
   * serializer as one gRPC message, grpc-timeout from the deadline, the
   * answer's status from the trailers. `mapError` gets a {code, details,
   * metadata} status like grpc-js's ServiceError.
   */
  private call<Req, Res>(
    name: string,
    request: Req,
    deadline = Date.now() + this.deadlineMs,
    mapError = (err: unknown): Error => fromGrpcError(err, this.address, this.deadlineMs),
  ): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const method = serviceMethods()[name];
      let body: Buffer;
      try {
        body = method.requestSerialize(request);
      } catch (e) {
        reject(new InternalError(`could not encode a ${name} request: ${(e as Error).message}`));
        return;
      }
      const frame = Buffer.allocUnsafe(5 + body.length);
      frame[0] = 0;
      frame.writeUInt32BE(body.length, 1);
      body.copy(frame, 5);
      const timeoutMs = Math.max(1, Math.ceil(deadline - Date.now()));
      const status = (code: number, details: string): grpc.StatusObject => ({ code, details, metadata: new grpc.Metadata() });
      let req: http2.ClientHttp2Stream;
      try {
        req = this.h2session().request({ ...UNARY_HEADERS, ':path': method.path, 'grpc-timeout': `${timeoutMs}m` });
      } catch (e) {
        this.session?.destroy();
        this.session = null;
        reject(mapError(status(grpc.status.UNAVAILABLE, (e as Error).message)));
        return;
      }
      let answer: grpc.StatusObject | null = null;
      let transportError: Error | null = null;
      const chunks: Buffer[] = [];
      // The deadline is watched by the client's one unary timer (see
      // trackUnary), not by a timer of its own: a timer per call cost a
      // heap insert and removal on every sequential call.
      const pending: UnaryCall = {
        deadline,
        done: false,
        expire: () => {
          try {
            req.close(http2.constants.NGHTTP2_CANCEL);
          } catch {
            // gone
          }
          finish(mapError(status(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded')));
        },
      };
      const finish = (err: Error | null, value?: Res): void => {
        if (pending.done) return;
        pending.done = true;
        this.untrackUnary(pending);
        if (err !== null) reject(err);
        else resolve(value as Res);
      };
      this.trackUnary(pending);
      req.on('response', (h) => {
        if (h[':status'] !== 200) answer = status(grpc.status.UNKNOWN, `HTTP status ${String(h[':status'])}`);
        else if (h['grpc-status'] !== undefined) answer = statusOf(h);
      });
      req.on('trailers', (h) => {
        if (answer === null) answer = statusOf(h);
      });
      let received = 0;
      req.on('data', (c: Buffer) => {
        received += c.length;
        if (received > MAX_UNARY_RESPONSE_BYTES + 5) {
          try {
            req.close(http2.constants.NGHTTP2_CANCEL);
          } catch {
            // gone
          }
          finish(new InternalError(`CRUDJT master at ${this.address} sent a ${name} answer over ${MAX_UNARY_RESPONSE_BYTES} bytes`));
          return;
        }
        chunks.push(c);
      });
      req.on('error', (e) => {
        if (transportError === null) transportError = e;
      });
      req.on('close', () => {
        if (answer === null) {
          const why = (transportError as Error | null)?.message ?? `the call was reset (HTTP/2 code ${req.rstCode ?? '?'})`;
          finish(mapError(status(grpc.status.UNAVAILABLE, why)));
          return;
        }
        if (answer.code !== grpc.status.OK) {
          finish(mapError(answer));
          return;
        }
        const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        const len = buf.length >= 5 ? buf.readUInt32BE(1) : -1;
        if (len < 0 || buf[0] !== 0 || buf.length !== 5 + len) {
          finish(new InternalError(`CRUDJT master at ${this.address} sent a malformed ${name} answer (${buf.length} bytes)`));
          return;
        }
        let value: Res;
        try {
          value = method.responseDeserialize(buf.subarray(5)) as Res;
        } catch (e) {
          finish(new InternalError(`CRUDJT master at ${this.address} sent a malformed ${name} answer: ${(e as Error).message}`));
          return;
        }
        finish(null, value);
      });
      req.end(frame);
    });
  }

  // One timer for the deadlines of all unary calls: armed for the earliest,
  // it fails the calls whose deadline passed and re-arms for the next. A
  // sequential caller's calls all have later deadlines than the armed one,
  // so the timer is touched only when it fires (once per deadline_ms), not
  // per call. ref'd while a call is in flight (in-flight calls hold the
  // process, as a timer per call did), unref'd when none is.
  private trackUnary(c: UnaryCall): void {
    this.unaryCalls.add(c);
    if (this.unaryTimer === null || c.deadline < this.unaryTimerAt) this.armUnaryTimer(c.deadline);
    else if (this.unaryCalls.size === 1) this.unaryTimer.ref();
  }

  private untrackUnary(c: UnaryCall): void {
    this.unaryCalls.delete(c);
    if (this.unaryCalls.size === 0 && this.unaryTimer !== null) this.unaryTimer.unref();
  }

  private armUnaryTimer(at: number): void {
    if (this.unaryTimer !== null) clearTimeout(this.unaryTimer);
    this.unaryTimerAt = at;
    this.unaryTimer = setTimeout(this.checkUnaryDeadlines, Math.max(1, at - Date.now()));
    if (this.unaryCalls.size === 0) this.unaryTimer.unref();
  }

  private readonly checkUnaryDeadlines = (): void => {
    this.unaryTimer = null;
    this.unaryTimerAt = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const c of this.unaryCalls) {
      if (c.deadline <= now) c.expire(); // removes it (a Set may be changed while iterated)
      else if (c.deadline < next) next = c.deadline;
    }
    if (next !== Infinity) this.armUnaryTimer(next);
  };

  // ---- operations ----------------------------------------------------------

  async create(packed: Buffer, ttl: Limit, silenceRead: Limit, subject: string | null = null): Promise<string> {
    if (subject !== null && subject !== undefined) {
      await this.requireSessions('create with a subject');
      const a = await this.submit(
        { kind: 'CREATE', packed_data: packed, ttl: limitToWire(ttl), silence_read: limitToWire(silenceRead), subject },
        packed.length + subject.length * 3 + OP_OVERHEAD,
      );
      return a.token ?? '';
    }
    const a = await this.submit(
      { kind: 'CREATE', packed_data: packed, ttl: limitToWire(ttl), silence_read: limitToWire(silenceRead) },
      packed.length + OP_OVERHEAD,
    );
    return a.token ?? '';
  }

  async touch(token: string, ttl: Limit): Promise<boolean> {
    await this.requireSessions('touch');
    const a = await this.submit({ kind: 'TOUCH', token, ttl: limitToWire(ttl) }, token.length * 3 + OP_OVERHEAD);
    return a.result === true;
  }

  async revokeSubject(subject: string): Promise<number> {
    const res = await this.call<object, RevokeSubjectResponse__Output>(
      'RevokeSubject', { subject }, undefined, this.sessionErrors('revokeSubject'));
    return res.count;
  }

  async listSubject(subject: string): Promise<SessionInfo[]> {
    const res = await this.call<object, ListSubjectResponse__Output>(
      'ListSubject', { subject }, undefined, this.sessionErrors('listSubject'));
    return res.sessions.map((s) => {
      const metadata: SessionInfo['metadata'] = {};
      if (s.ttl > 0) metadata.ttl = s.ttl;
      if (s.silence_read > 0) metadata.silence_read = s.silence_read;
      return { handle: s.handle, metadata };
    });
  }

  /**
   * Backend.put (internal, for the session store): the record of a token
   * the caller chose, over PutToken. InternalError from a master without it.
   */
  async put(token: string, packed: Buffer, ttl: Limit, silenceRead: Limit): Promise<boolean> {
    const res = await this.call<object, PutTokenResponse__Output>(
      'PutToken',
      { token, packed_data: packed, ttl: limitToWire(ttl), silence_read: limitToWire(silenceRead) },
      undefined,
      (err) => ((err as { code?: unknown })?.code === grpc.status.UNIMPLEMENTED
        ? new InternalError(`CRUDJT master at ${this.address} does not support put (PutToken: another crudjt SDK, or an older version); upgrade the master`)
        : fromGrpcError(err, this.address, this.deadlineMs)),
    );
    return res.result;
  }

  async revokeHandle(handle: string): Promise<boolean> {
    const res = await this.call<object, RevokeHandleResponse__Output>(
      'RevokeHandle', { handle }, undefined, this.sessionErrors('revokeHandle'));
    return res.result;
  }

  // ---- sessions: does the master have them? ---------------------------------

  private unsupported(feature: string): InternalError {
    return new InternalError(
      `CRUDJT master at ${this.address} does not support ${feature} (it has no session RPCs: another crudjt SDK, or an older version); upgrade the master`,
    );
  }

  /** Error map of a session RPC: UNIMPLEMENTED = an older master. */
  private sessionErrors(feature: string): (err: unknown) => Error {
    return (err) => {
      if ((err as { code?: unknown })?.code === grpc.status.UNIMPLEMENTED) {
        this.sessions = false;
        return this.unsupported(feature);
      }
      return fromGrpcError(err, this.address, this.deadlineMs);
    };
  }

  /**
   * Resolves when the master is known to have the session RPCs; rejects with
   * InternalError when it is known not to (or with the probe's own error,
   * e.g. Unavailable, when it could not be asked).
   */
  private requireSessions(feature: string): Promise<void> | void {
    if (this.sessions === true) return;
    if (this.sessions === false) throw this.unsupported(feature);
    if (this.sessionsProbe === null) {
      const probe = this.probeSessions();
      this.sessionsProbe = probe;
      const forget = (): void => {
        if (this.sessionsProbe === probe) this.sessionsProbe = null;
      };
      probe.then(forget, forget);
    }
    return this.sessionsProbe.then((yes) => {
      if (!yes) throw this.unsupported(feature);
    });
  }

  // ListSubject('') is INVALID_ARGUMENT on a master with sessions and
  // UNIMPLEMENTED on one without; it touches no data.
  private async probeSessions(): Promise<boolean> {
    const session = this.h2session();
    let answer: boolean;
    try {
      await this.call<object, ListSubjectResponse__Output>('ListSubject', { subject: '' }, undefined, (err) => err as Error);
      answer = true;
    } catch (e) {
      const code = (e as { code?: unknown })?.code;
      if (code === grpc.status.INVALID_ARGUMENT) answer = true;
      else if (code === grpc.status.UNIMPLEMENTED) answer = false;
      else throw fromGrpcError(e, this.address, this.deadlineMs);
    }
    if (this.closed) return answer;
    // Known for this connection only: another one may reach another master.
    if (session === this.session && !session.closed && !session.destroyed) this.sessions = answer;
    return answer;
  }

  async read(token: string): Promise<ReadResult | null> {
    const a = await this.submit({ kind: 'READ', token }, token.length * 3 + OP_OVERHEAD);
    return this.decodeRead(a.packed_data ?? Buffer.alloc(0));
  }

  async update(token: string, packed: Buffer, ttl: Limit, silenceRead: Limit): Promise<boolean> {
    const a = await this.submit(
      { kind: 'UPDATE', token, packed_data: packed, ttl: limitToWire(ttl), silence_read: limitToWire(silenceRead) },
      token.length * 3 + packed.length + OP_OVERHEAD,
    );
    return a.result === true;
  }

  async delete(token: string): Promise<boolean> {
    const a = await this.submit({ kind: 'DELETE', token }, token.length * 3 + OP_OVERHEAD);
    return a.result === true;
  }

  /** The master's Stats; InternalError when the master does not implement it. */
  async stats(): Promise<Stats> {
    const res = await this.call<object, StatsResponse__Output>('Stats', {}, undefined, (err) =>
      (err as { code?: unknown })?.code === grpc.status.UNIMPLEMENTED
        ? new InternalError(`CRUDJT master at ${this.address} does not implement Stats (another crudjt SDK, or an older version)`)
        : fromGrpcError(err, this.address, this.deadlineMs));
    return {
      tokens: res.tokens,
      page_file_bytes: res.page_file_bytes,
      log_bytes: res.log_bytes,
      pages_total: res.pages_total,
      pages_free: res.pages_free,
      last_fsync_ms: res.last_fsync_ms,
      last_checkpoint_ms: res.last_checkpoint_ms,
      last_sweep_ms: res.last_sweep_ms,
      last_sweep_removed: res.last_sweep_removed,
      cache_enabled: res.cache_enabled,
      cache_entries: res.cache_entries,
      cache_hits: res.cache_hits,
      cache_misses: res.cache_misses,
      cache_hit_rate: res.cache_hit_rate,
      requests: { ...res.requests },
      operations: { ...res.operations },
      uptime_ms: res.uptime_ms,
    };
  }

  private decodeRead(packed: Buffer): ReadResult | null {
    let value: unknown;
    try {
      value = unpack(packed, 'ReadToken packed_data');
    } catch (e) {
      throw new InternalError(`CRUDJT master at ${this.address} sent a malformed read result: ${(e as Error).message}`);
    }
    if (value === null) return null;
    if (!isPlainObject(value) || !isPlainObject(value.data)) {
      throw new InternalError(`CRUDJT master at ${this.address} sent a read result that is not {metadata?, data}`);
    }
    return value as unknown as ReadResult;
  }

  // ---- routing -------------------------------------------------------------

  private submit(wire: PendingOp['wire'], size: number): Promise<OpAnswer> {
    const deadline = Date.now() + this.deadlineMs;
    if (!this.batching || this.closed || size > MAX_BATCHED_OP_BYTES) return this.unary(wire, deadline);
    return new Promise<OpAnswer>((resolve, reject) => {
      this.queue.push({ wire, size, deadline, resolve, reject, done: false, flight: null });
      this.queuedBytes += size;
      if (this.queue.length >= MAX_BATCH_OPS || this.queuedBytes >= MAX_BATCH_BYTES) {
        this.flush();
      } else if (!this.flushScheduled) {
        this.flushScheduled = true;
        // Idle: send with this turn's other calls; busy: gather until the next turn.
        if (this.stream === null || this.stream.inflight.size === 0) queueMicrotask(this.flushTask);
        else setImmediate(this.flushTask);
      }
    });
  }

  private readonly flushTask = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  private flush(): void {
    while (this.queue.length > 0) {
      let n = 0;
      let bytes = 0;
      while (n < this.queue.length && n < MAX_BATCH_OPS && bytes < MAX_BATCH_BYTES) bytes += this.queue[n++].size;
      const ops = n === this.queue.length ? this.queue : this.queue.slice(0, n);
      this.queue = n === this.queue.length ? [] : this.queue.slice(n);
      this.queuedBytes -= bytes;
      if (this.batching) this.send(ops);
      else for (const op of ops) this.sendUnary(op);
    }
    this.queuedBytes = 0;
  }

  private send(ops: PendingOp[]): void {
    let s = this.stream;
    if (s === null || s.finished) s = this.openStream();
    const wire: BatchOp[] = new Array(ops.length);
    const flight: Flight = { ops, left: ops.length, deadline: Infinity };
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      const id = (this.nextId = (this.nextId + 1) >>> 0);
      op.wire.id = id;
      op.flight = flight;
      wire[i] = op.wire;
      s.inflight.set(id, op);
      if (op.deadline < flight.deadline) flight.deadline = op.deadline;
    }
    s.lastActive = Date.now();
    s.flights.push(flight);
    // One deadline timer per stream, armed for the oldest flight (see checkDeadlines).
    if (s.deadlineTimer === null) s.deadlineTimer = setTimeout(s.checkDeadlines, Math.max(0, flight.deadline - s.lastActive));
    let frame: Buffer;
    try {
      frame = encodeBatchRequestFrame({ ops: wire });
    } catch (e) {
      this.failStream(s, new InternalError(`could not encode a BatchRequest: ${(e as Error).message}`));
      return;
    }
    try {
      s.req.write(frame);
    } catch (e) {
      this.failStream(s, this.transportError(e));
    }
  }

  // The master's HTTP/2 connection for the Batch stream: our own, beside
  // grpc-js's channel (which carries the unary RPCs). unref'd: in-flight ops
  // hold the process through their stream's deadline timer instead.
  private h2session(): http2.ClientHttp2Session {
    const cur = this.session;
    if (cur !== null && !cur.closed && !cur.destroyed) return cur;
    const createConnection = this.socketPath !== undefined
      ? () => net.connect({ path: this.socketPath as string })
      : () => net.connect({ host: this.host, port: this.port, noDelay: true });
    const session = http2.connect(`http://${this.authority}`, { createConnection, settings: H2_SETTINGS });
    session.on('error', () => undefined); // surfaces on the streams
    const forget = (): void => {
      if (this.session === session) {
        this.session = null;
        this.sessions = null; // the next connection may reach another master
      }
    };
    session.on('close', forget);
    session.on('goaway', forget);
    session.on('connect', () => {
      try {
        session.setLocalWindowSize(H2_WINDOW);
      } catch {
        // closed meanwhile
      }
    });
    session.unref();
    this.session = session;
    return session;
  }

  private openStream(): BatchStream {
    let req: http2.ClientHttp2Stream;
    let openError: unknown = null;
    try {
      req = this.h2session().request(BATCH_HEADERS);
    } catch (e) {
      // The session is closing: a fresh one next time.
      this.session?.destroy();
      this.session = null;
      openError = e;
      req = this.h2session().request(BATCH_HEADERS);
    }
    const s: BatchStream = {
      req,
      inflight: new Map(),
      answered: false,
      status: null,
      transportError: openError,
      finished: false,
      lastActive: Date.now(),
      idleTimer: null,
      partial: null,
      flights: [],
      deadlineTimer: null,
      checkDeadlines: () => this.checkDeadlines(s),
    };
    this.stream = s;
    req.on('response', (headers) => {
      const st = headers[':status'];
      if (st !== 200) s.status = { code: grpc.status.UNKNOWN, details: `HTTP status ${String(st)}`, metadata: new grpc.Metadata() };
      else if (headers['grpc-status'] !== undefined) s.status = statusOf(headers); // trailers-only
    });
    req.on('trailers', (trailers) => {
      if (s.status === null) s.status = statusOf(trailers);
    });
    req.on('data', (chunk: Buffer) => this.onData(s, chunk));
    req.on('error', (e) => {
      if (s.transportError === null) s.transportError = e;
    });
    // The master's side is over (its status came with trailers, or with the
    // headers of a trailers-only answer): the stream is done even if ours is
    // still open for writing.
    req.on('end', () => {
      this.finishStream(s);
      try {
        req.close();
      } catch {
        // already closed
      }
    });
    req.on('close', () => this.finishStream(s));
    return s;
  }

  // Splits the stream's bytes into gRPC messages (5-byte prefix each).
  private onData(s: BatchStream, chunk: Buffer): void {
    let buf = s.partial === null ? chunk : Buffer.concat([s.partial, chunk]);
    s.partial = null;
    let pos = 0;
    while (buf.length - pos >= 5) {
      const len = buf.readUInt32BE(pos + 1);
      if (buf[pos] !== 0 || len > MAX_RESPONSE_BYTES) {
        this.failStream(s, new InternalError(`CRUDJT master at ${this.address} sent a ${buf[pos] !== 0 ? 'compressed' : `${len}-byte`} Batch answer`));
        return;
      }
      if (buf.length - pos - 5 < len) break;
      let res: BatchResponse__Output;
      try {
        res = decodeBatchResponse(buf.subarray(pos + 5, pos + 5 + len));
      } catch (e) {
        this.failStream(s, new InternalError(`CRUDJT master at ${this.address} sent a malformed Batch answer: ${(e as Error).message}`));
        return;
      }
      pos += 5 + len;
      this.onResponse(s, res);
      if (s.finished) return;
    }
    if (pos < buf.length) s.partial = pos === 0 ? buf : buf.subarray(pos);
    buf = EMPTY;
  }

  private onResponse(s: BatchStream, res: BatchResponse__Output): void {
    s.answered = true;
    s.lastActive = Date.now();
    for (const r of res.results) {
      const op = s.inflight.get(r.id);
      if (op === undefined) continue; // its deadline passed
      s.inflight.delete(r.id);
      if (r.error_code !== 0) {
        const metadata = new grpc.Metadata();
        if (r.error_class !== '') metadata.set(ERROR_CLASS_METADATA_KEY, r.error_class);
        this.settle(op, null, fromGrpcError({ code: r.error_code, details: r.error_message, metadata }, this.address, this.deadlineMs));
      } else {
        this.settle(op, r, null);
      }
    }
    if (s.inflight.size === 0) {
      s.flights.length = 0;
      this.armIdle(s);
    }
  }

  // Resolves or rejects one op.
  private settle(op: PendingOp, answer: OpAnswer | null, error: Error | null): void {
    if (op.done) return;
    op.done = true;
    if (op.flight !== null) op.flight.left--;
    if (error !== null) op.reject(error);
    else op.resolve(answer as OpAnswer);
  }

  // The stream's one deadline timer: drops answered flights from the head
  // (flights are sent in call order, so the head has the earliest deadline),
  // fails the stream when the head's deadline has passed, else re-arms for it.
  private checkDeadlines(s: BatchStream): void {
    s.deadlineTimer = null;
    if (s.finished) return;
    const f = s.flights;
    let i = 0;
    while (i < f.length && f[i].left === 0) i++;
    if (i > 0) f.splice(0, i);
    if (f.length === 0) return;
    const now = Date.now();
    if (f[0].deadline <= now) {
      this.failStream(s, new Unavailable(`CRUDJT master at ${this.address} did not answer within ${this.deadlineMs} ms`));
      return;
    }
    s.deadlineTimer = setTimeout(s.checkDeadlines, f[0].deadline - now);
  }

  private transportError(e: unknown): Error {
    const msg = e instanceof Error ? e.message : String(e);
    return new Unavailable(`CRUDJT master at ${this.address} is unavailable: ${msg}`);
  }

  private stopTimers(s: BatchStream): void {
    if (s.idleTimer !== null) clearTimeout(s.idleTimer);
    if (s.deadlineTimer !== null) clearTimeout(s.deadlineTimer);
    s.idleTimer = null;
    s.deadlineTimer = null;
  }

  private failStream(s: BatchStream, err: Error): void {
    if (s.finished) return;
    s.finished = true;
    if (this.stream === s) this.stream = null;
    this.stopTimers(s);
    for (const op of s.inflight.values()) this.settle(op, null, err);
    s.inflight.clear();
    s.flights.length = 0;
    try {
      s.req.close(http2.constants.NGHTTP2_CANCEL);
    } catch {
      // already over
    }
  }

  // The stream is closed (after its status, or without one when the
  // connection broke).
  private finishStream(s: BatchStream): void {
    if (s.finished) return;
    s.finished = true;
    if (this.stream === s) this.stream = null;
    this.stopTimers(s);
    const ops = [...s.inflight.values()];
    s.inflight.clear();
    s.flights.length = 0;
    if (ops.length === 0) return;
    const status = s.status;
    if (status !== null && status.code === grpc.status.UNIMPLEMENTED && !s.answered) {
      // Not one of ours (or an older one): the master ran none of these.
      this.batching = false;
      this.sessions = false;
      for (const op of ops) this.sendUnary(op);
      return;
    }
    let err: Error;
    if (status === null) {
      err = this.transportError(s.transportError ?? `the Batch stream was reset (HTTP/2 code ${s.req.rstCode ?? '?'})`);
    } else if (status.code === grpc.status.OK) {
      err = new InternalError(`CRUDJT master at ${this.address} closed the Batch stream with ${ops.length} operations unanswered`);
    } else {
      err = fromGrpcError(status, this.address, this.deadlineMs);
    }
    for (const op of ops) this.settle(op, null, err);
  }

  // Closes a stream that stays idle, so that it does not hold the process.
  private armIdle(s: BatchStream): void {
    if (s.idleTimer !== null) return;
    const check = (): void => {
      s.idleTimer = null;
      if (s.finished) return;
      const idleFor = Date.now() - s.lastActive;
      if (s.inflight.size > 0) return; // re-armed when it empties
      if (idleFor < STREAM_IDLE_MS) {
        s.idleTimer = setTimeout(check, STREAM_IDLE_MS - idleFor);
        s.idleTimer.unref();
        return;
      }
      this.endStream(s);
    };
    s.idleTimer = setTimeout(check, STREAM_IDLE_MS);
    s.idleTimer.unref();
  }

  private endStream(s: BatchStream): void {
    if (this.stream === s) this.stream = null;
    this.stopTimers(s);
    try {
      s.req.end();
    } catch {
      // already over
    }
  }

  private sendUnary(op: PendingOp): void {
    // A resent op no longer belongs to a stream flight.
    op.flight = null;
    this.unary(op.wire, op.deadline).then(
      (a) => this.settle(op, a, null),
      (e) => this.settle(op, null, e as Error),
    );
  }

  private async unary(wire: PendingOp['wire'], deadline: number): Promise<OpAnswer> {
    switch (wire.kind) {
      case 'CREATE': {
        if (wire.subject && this.sessions === false) throw this.unsupported('create with a subject');
        const res = await this.call<object, CreateTokenResponse__Output>('CreateToken', {
          packed_data: wire.packed_data,
          ttl: wire.ttl,
          silence_read: wire.silence_read,
          subject: wire.subject,
        }, deadline);
        return { token: res.token };
      }
      case 'READ': {
        const res = await this.call<object, ReadTokenResponse__Output>('ReadToken', { token: wire.token }, deadline);
        return { packed_data: res.packed_data };
      }
      case 'UPDATE': {
        const res = await this.call<object, UpdateTokenResponse__Output>('UpdateToken', {
          token: wire.token,
          packed_data: wire.packed_data,
          ttl: wire.ttl,
          silence_read: wire.silence_read,
        }, deadline);
        return { result: res.result };
      }
      case 'DELETE': {
        const res = await this.call<object, DeleteTokenResponse__Output>('DeleteToken', { token: wire.token }, deadline);
        return { result: res.result };
      }
      case 'TOUCH': {
        const res = await this.call<object, TouchTokenResponse__Output>(
          'TouchToken', { token: wire.token, ttl: wire.ttl }, deadline, this.sessionErrors('touch'));
        return { result: res.result };
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.flush();
    const s = this.stream;
    if (s !== null) this.endStream(s);
    // Graceful: an ended stream still gets its answers.
    this.session?.close();
    this.session = null;
  }
}


let methods: grpc.ServiceDefinition | null = null;

/** TokenService's methods (paths and serializers), with the hand-written codec for Batch/ExecuteBatch. */
function serviceMethods(): grpc.ServiceDefinition {
  if (methods === null) methods = withBatchCodec(tokenProto().TokenService.service);
  return methods;
}
