// Hand-written protobuf codec for BatchRequest and BatchResponse (see
// proto/token_service.proto), used by our client and master for the Batch
// and ExecuteBatch RPCs in place of protobufjs's generic encode + fromObject
// / decode + toObject: those allocate a message object per op and a Long
// per int64, which showed up as ~10% GC in the batched client. The bytes
// are plain proto3 (test 46 checks them against protobufjs both ways), so
// any other gRPC implementation talks to these RPCs unchanged.
//
// Decoding follows proto3 and proto-loader's options in proto.ts: absent
// fields read as their defaults, unknown fields are skipped, the last value
// of a repeated scalar wins, int64 arrive as JS numbers (rounded beyond
// 2^53), enums as names. Malformed bytes throw an Error, which grpc-js
// turns into an INTERNAL status for that call; nothing else escapes.
import type * as grpc from '@grpc/grpc-js';
import type { BatchOp, BatchOp__Output } from './generated/token/BatchOp';
import type { BatchRequest, BatchRequest__Output } from './generated/token/BatchRequest';
import type { BatchResponse, BatchResponse__Output } from './generated/token/BatchResponse';
import type { BatchResult, BatchResult__Output } from './generated/token/BatchResult';

const KIND_NAMES = ['KIND_UNSPECIFIED', 'CREATE', 'READ', 'UPDATE', 'DELETE', 'TOUCH'] as const;
const KIND_NUMBERS: Record<string, number> = { KIND_UNSPECIFIED: 0, CREATE: 1, READ: 2, UPDATE: 3, DELETE: 4, TOUCH: 5 };
const EMPTY = Buffer.alloc(0);

// ---- writing -----------------------------------------------------------------

function varintSize(v: number): number {
  // v: a non-negative integer below 2^53, or negative (10 bytes as int64).
  if (v < 0) return 10;
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

class Out {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  varint(v: number): void {
    const buf = this.buf;
    if (v < 0) {
      // Two's complement in 64 bits, as protobuf encodes a negative int64.
      let lo = v % 4294967296;
      let hi = Math.floor(v / 4294967296);
      lo = lo >>> 0;
      hi = hi >>> 0;
      for (let i = 0; i < 4; i++) {
        buf[this.pos++] = (lo & 0x7f) | 0x80;
        lo >>>= 7;
      }
      // 28 bits of lo written; 4 left, joined with hi's low 3 bits.
      buf[this.pos++] = ((lo & 0x0f) | ((hi & 0x07) << 4)) | 0x80;
      hi >>>= 3;
      for (let i = 0; i < 4; i++) {
        buf[this.pos++] = (hi & 0x7f) | 0x80;
        hi >>>= 7;
      }
      buf[this.pos++] = hi & 0x01;
      return;
    }
    while (v >= 128) {
      buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[this.pos++] = v;
  }

  bytes(tag: number, b: Uint8Array): void {
    this.buf[this.pos++] = tag;
    this.varint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  string(tag: number, s: string, byteLength: number): void {
    this.buf[this.pos++] = tag;
    this.varint(byteLength);
    this.pos += this.buf.write(s, this.pos, byteLength, 'utf8');
  }
}

function asBytes(v: unknown): Uint8Array {
  if (v === undefined || v === null) return EMPTY;
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return Buffer.from(v, 'base64');
  throw new TypeError('bytes field must be a Buffer, Uint8Array or base64 string');
}

function asInt(v: unknown, name: string): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n)) throw new TypeError(`${name} must be an integer, got ${String(v)}`);
  return n;
}

function kindNumber(kind: unknown): number {
  if (kind === undefined || kind === null) return 0;
  if (typeof kind === 'number') return kind;
  const n = KIND_NUMBERS[String(kind)];
  if (n === undefined) throw new TypeError(`unknown BatchOp kind ${String(kind)}`);
  return n;
}

// Per-op sizes of the message being encoded (reused: no arrays per call).
const scratchSizes: number[] = [];
const scratchLens: number[] = [];
const scratchLens2: number[] = [];

/** Records a string field's UTF-8 length at lens[at]; returns the field's encoded size. */
function stringField(lens: number[], at: number, v: string | undefined): number {
  const l = v === undefined || v === '' ? 0 : Buffer.byteLength(v, 'utf8');
  lens[at] = l;
  return l === 0 ? 0 : 1 + varintSize(l) + l;
}

export function encodeBatchRequest(req: BatchRequest): Buffer {
  return encodeRequest(req, 0);
}

/**
 * The request as one gRPC length-prefixed message (flag byte 0 = not
 * compressed, 4-byte big-endian length, the message), ready to be written
 * to an HTTP/2 stream as is.
 */
export function encodeBatchRequestFrame(req: BatchRequest): Buffer {
  return encodeRequest(req, 5);
}

function encodeRequest(req: BatchRequest, prefix: number): Buffer {
  const ops = req.ops ?? [];
  // First pass: sizes (in module scratch arrays: encoding is synchronous).
  const sizes = scratchSizes;
  const tokenLens = scratchLens;
  const subjectLens = scratchLens2;
  let total = 0;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    let s = 0;
    const id = asInt(op.id, 'id') >>> 0;
    if (id !== 0) s += 1 + varintSize(id);
    const kind = kindNumber(op.kind);
    if (kind !== 0) s += 1 + varintSize(kind);
    const token = op.token ?? '';
    const tl = token === '' ? 0 : Buffer.byteLength(token, 'utf8');
    tokenLens[i] = tl;
    if (tl !== 0) s += 1 + varintSize(tl) + tl;
    const data = asBytes(op.packed_data);
    if (data.length !== 0) s += 1 + varintSize(data.length) + data.length;
    const ttl = asInt(op.ttl, 'ttl');
    if (ttl !== 0) s += 1 + varintSize(ttl);
    const sr = asInt(op.silence_read, 'silence_read');
    if (sr !== 0) s += 1 + varintSize(sr);
    const subject = op.subject ?? '';
    const sl = subject === '' ? 0 : Buffer.byteLength(subject, 'utf8');
    subjectLens[i] = sl;
    if (sl !== 0) s += 1 + varintSize(sl) + sl;
    sizes[i] = s;
    total += 1 + varintSize(s) + s;
  }
  const out = new Out(Buffer.allocUnsafe(prefix + total));
  if (prefix === 5) {
    out.buf[0] = 0;
    out.buf.writeUInt32BE(total, 1);
    out.pos = 5;
  }
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    out.buf[out.pos++] = 0x0a;
    out.varint(sizes[i]);
    const id = asInt(op.id, 'id') >>> 0;
    if (id !== 0) {
      out.buf[out.pos++] = 0x08;
      out.varint(id);
    }
    const kind = kindNumber(op.kind);
    if (kind !== 0) {
      out.buf[out.pos++] = 0x10;
      out.varint(kind);
    }
    if (tokenLens[i] !== 0) out.string(0x1a, op.token as string, tokenLens[i]);
    const data = asBytes(op.packed_data);
    if (data.length !== 0) out.bytes(0x22, data);
    const ttl = asInt(op.ttl, 'ttl');
    if (ttl !== 0) {
      out.buf[out.pos++] = 0x28;
      out.varint(ttl);
    }
    const sr = asInt(op.silence_read, 'silence_read');
    if (sr !== 0) {
      out.buf[out.pos++] = 0x30;
      out.varint(sr);
    }
    if (subjectLens[i] !== 0) out.string(0x3a, op.subject as string, subjectLens[i]);
  }
  return out.buf;
}

export function encodeBatchResponse(res: BatchResponse): Buffer {
  return encodeResponse(res, 0);
}

/** The response as one gRPC length-prefixed message (see encodeBatchRequestFrame). */
export function encodeBatchResponseFrame(res: BatchResponse): Buffer {
  return encodeResponse(res, 5);
}

function encodeResponse(res: BatchResponse, prefix: number): Buffer {
  const results = res.results ?? [];
  const sizes = scratchSizes;
  const strLens = scratchLens;
  let total = 0;
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    let s = 0;
    const id = asInt(r.id, 'id') >>> 0;
    if (id !== 0) s += 1 + varintSize(id);
    const code = asInt(r.error_code, 'error_code') >>> 0;
    if (code !== 0) s += 1 + varintSize(code);
    s += stringField(strLens, i * 3, r.error_message);
    s += stringField(strLens, i * 3 + 1, r.error_class);
    s += stringField(strLens, i * 3 + 2, r.token);
    const data = asBytes(r.packed_data);
    if (data.length !== 0) s += 1 + varintSize(data.length) + data.length;
    if (r.result === true) s += 2;
    sizes[i] = s;
    total += 1 + varintSize(s) + s;
  }
  const out = new Out(Buffer.allocUnsafe(prefix + total));
  if (prefix === 5) {
    out.buf[0] = 0;
    out.buf.writeUInt32BE(total, 1);
    out.pos = 5;
  }
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    out.buf[out.pos++] = 0x0a;
    out.varint(sizes[i]);
    const id = asInt(r.id, 'id') >>> 0;
    if (id !== 0) {
      out.buf[out.pos++] = 0x08;
      out.varint(id);
    }
    const code = asInt(r.error_code, 'error_code') >>> 0;
    if (code !== 0) {
      out.buf[out.pos++] = 0x10;
      out.varint(code);
    }
    if (strLens[i * 3] !== 0) out.string(0x1a, r.error_message as string, strLens[i * 3]);
    if (strLens[i * 3 + 1] !== 0) out.string(0x22, r.error_class as string, strLens[i * 3 + 1]);
    if (strLens[i * 3 + 2] !== 0) out.string(0x2a, r.token as string, strLens[i * 3 + 2]);
    const data = asBytes(r.packed_data);
    if (data.length !== 0) out.bytes(0x32, data);
    if (r.result === true) {
      out.buf[out.pos++] = 0x38;
      out.buf[out.pos++] = 1;
    }
  }
  return out.buf;
}

// ---- reading -----------------------------------------------------------------

// The reader allocates nothing per field (no [lo, hi] or [field, wireType]
// tuples): a sequential client decodes one small message per call, and those
// short-lived arrays were most of its garbage.
class In {
  pos: number;
  /** High 32 bits of the last varint read by varint64(). */
  private hi = 0;
  constructor(readonly buf: Buffer, start: number, public end: number) {
    this.pos = start;
  }

  fail(what: string): never {
    throw new Error(`malformed protobuf: ${what} at byte ${this.pos}`);
  }

  /** A varint: returns its low 32 bits (unsigned) and leaves the high 32 in this.hi. */
  private varint64(): number {
    const buf = this.buf;
    // Fast path: one or two bytes (tags, ids, lengths of small fields).
    if (this.end - this.pos >= 2) {
      const b0 = buf[this.pos];
      if (b0 < 0x80) {
        this.pos++;
        this.hi = 0;
        return b0;
      }
      const b1 = buf[this.pos + 1];
      if (b1 < 0x80) {
        this.pos += 2;
        this.hi = 0;
        return (b0 & 0x7f) | (b1 << 7);
      }
    }
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = buf[this.pos++];
      if (shift < 28) {
        lo |= (b & 0x7f) << shift;
      } else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else {
        hi |= (b & 0x7f) << (shift - 32);
      }
      shift += 7;
      if ((b & 0x80) === 0) {
        this.hi = hi >>> 0;
        return lo >>> 0;
      }
    }
    return this.fail('varint longer than 10 bytes');
  }

  uint32(): number {
    return this.varint64();
  }

  /** int64 as a JS number (longs: Number). */
  int64(): number {
    const lo = this.varint64();
    const hi = this.hi;
    if (hi >>> 31) {
      const l = (~lo + 1) >>> 0;
      let h = ~hi >>> 0;
      if (l === 0) h = (h + 1) >>> 0;
      return -(l + h * 4294967296);
    }
    return lo + hi * 4294967296;
  }

  length(): number {
    const n = this.varint64();
    if (n > this.end - this.pos) this.fail('length past the end');
    return n;
  }

  bytes(): Buffer {
    const n = this.length();
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  string(): string {
    const n = this.length();
    const s = n === 0 ? '' : this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint64();
        return;
      case 1:
        if (this.end - this.pos < 8) this.fail('truncated fixed64');
        this.pos += 8;
        return;
      case 2: {
        const n = this.length(); // (not `this.pos += this.length()`: that reads pos first)
        this.pos += n;
        return;
      }
      case 5:
        if (this.end - this.pos < 4) this.fail('truncated fixed32');
        this.pos += 4;
        return;
      default:
        this.fail(`wire type ${wireType}`);
    }
  }

  /** Next field's key: field number << 3 | wire type (see fieldOf, wireOf). */
  tag(): number {
    const t = this.varint64();
    if (t >>> 3 === 0) this.fail('field number 0');
    return t;
  }
}

const fieldOf = (key: number): number => key >>> 3;
const wireOf = (key: number): number => key & 7;

function decodeOp(r: In, end: number): BatchOp__Output {
  const op: BatchOp__Output = {
    id: 0, kind: 'KIND_UNSPECIFIED', token: '', packed_data: EMPTY, ttl: 0, silence_read: 0, subject: '',
  };
  // Parsed by the outer reader bounded to the op (no reader per op).
  const inner = r;
  const outerEnd = r.end;
  inner.end = end;
  while (inner.pos < end) {
    const key = inner.tag();
    const field = fieldOf(key);
    const wt = wireOf(key);
    if (field === 1 && wt === 0) op.id = inner.uint32();
    else if (field === 2 && wt === 0) {
      const k = inner.uint32();
      op.kind = (KIND_NAMES[k] ?? k) as BatchOp__Output['kind'];
    } else if (field === 3 && wt === 2) op.token = inner.string();
    else if (field === 4 && wt === 2) op.packed_data = inner.bytes();
    else if (field === 5 && wt === 0) op.ttl = inner.int64();
    else if (field === 6 && wt === 0) op.silence_read = inner.int64();
    else if (field === 7 && wt === 2) op.subject = inner.string();
    else inner.skip(wt);
  }
  r.end = outerEnd;
  return op;
}

export function decodeBatchRequest(buf: Buffer): BatchRequest__Output {
  const r = new In(buf, 0, buf.length);
  const ops: BatchOp__Output[] = [];
  while (r.pos < r.end) {
    const key = r.tag();
    const field = fieldOf(key);
    const wt = wireOf(key);
    if (field === 1 && wt === 2) {
      const n = r.length();
      ops.push(decodeOp(r, r.pos + n));
    } else {
      r.skip(wt);
    }
  }
  return { ops };
}

function decodeResult(r: In, end: number): BatchResult__Output {
  const res: BatchResult__Output = {
    id: 0, error_code: 0, error_message: '', error_class: '', token: '', packed_data: EMPTY, result: false,
  };
  const inner = r;
  const outerEnd = r.end;
  inner.end = end;
  while (inner.pos < end) {
    const key = inner.tag();
    const field = fieldOf(key);
    const wt = wireOf(key);
    if (field === 1 && wt === 0) res.id = inner.uint32();
    else if (field === 2 && wt === 0) res.error_code = inner.uint32();
    else if (field === 3 && wt === 2) res.error_message = inner.string();
    else if (field === 4 && wt === 2) res.error_class = inner.string();
    else if (field === 5 && wt === 2) res.token = inner.string();
    else if (field === 6 && wt === 2) res.packed_data = inner.bytes();
    else if (field === 7 && wt === 0) res.result = inner.uint32() !== 0;
    else inner.skip(wt);
  }
  r.end = outerEnd;
  return res;
}

export function decodeBatchResponse(buf: Buffer): BatchResponse__Output {
  const r = new In(buf, 0, buf.length);
  const results: BatchResult__Output[] = [];
  while (r.pos < r.end) {
    const key = r.tag();
    const field = fieldOf(key);
    const wt = wireOf(key);
    if (field === 1 && wt === 2) {
      const n = r.length();
      results.push(decodeResult(r, r.pos + n));
    } else {
      r.skip(wt);
    }
  }
  return { results };
}

// ---- session requests (master side) ----------------------------------------

/**
 * A session RPC's request as the master sees it. Never thrown from the
 * deserializer: a malformed message (truncated, a known field with the wrong
 * wire type, a string that is not UTF-8) comes back with `malformed` set,
 * and the handler answers INVALID_ARGUMENT rather than grpc-js's INTERNAL.
 */
export interface SessionRequest {
  token: string;
  ttl: number;
  subject: string;
  handle: string;
  malformed: string | null;
}

const SESSION_FIELDS: Record<string, Array<[number, 'token' | 'ttl' | 'subject' | 'handle']>> = {
  TouchToken: [[1, 'token'], [2, 'ttl']],
  RevokeSubject: [[1, 'subject']],
  ListSubject: [[1, 'subject']],
  RevokeHandle: [[1, 'handle']],
};

const utf8Valid: (b: Buffer) => boolean = (() => {
  const native = (require('node:buffer') as { isUtf8?: (b: Buffer) => boolean }).isUtf8;
  if (typeof native === 'function') return native;
  return (b: Buffer) => Buffer.from(b.toString('utf8'), 'utf8').equals(b);
})();

function sessionDecoder(method: string): (buf: Buffer) => SessionRequest {
  const fields = SESSION_FIELDS[method];
  return (buf: Buffer): SessionRequest => {
    const req: SessionRequest = { token: '', ttl: 0, subject: '', handle: '', malformed: null };
    try {
      const r = new In(buf, 0, buf.length);
      while (r.pos < r.end) {
        const key = r.tag();
        const field = fieldOf(key);
        const wt = wireOf(key);
        const known = fields.find(([f]) => f === field);
        if (known === undefined) {
          r.skip(wt);
          continue;
        }
        const name = known[1];
        if (name === 'ttl') {
          if (wt !== 0) r.fail(`field ${field} (ttl) has wire type ${wt}, not a varint`);
          req.ttl = r.int64();
        } else {
          if (wt !== 2) r.fail(`field ${field} (${name}) has wire type ${wt}, not a string`);
          const b = r.bytes();
          if (!utf8Valid(b)) r.fail(`field ${field} (${name}) is not UTF-8`);
          req[name] = b.toString('utf8');
        }
      }
    } catch (e) {
      req.malformed = `${method}Request: ${(e as Error).message}`;
    }
    return req;
  };
}

/**
 * A copy of the TokenService definition whose Batch and ExecuteBatch use
 * this codec (same method paths, same bytes on the wire), and whose session
 * RPCs decode requests with sessionDecoder (master side; clients encode
 * them with protobufjs as before).
 */
export function withBatchCodec(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = { ...service };
  for (const name of Object.keys(SESSION_FIELDS)) {
    const m = service[name];
    if (m === undefined) continue;
    out[name] = { ...m, requestDeserialize: sessionDecoder(name) };
  }
  for (const name of ['Batch', 'ExecuteBatch']) {
    const m = service[name];
    if (m === undefined) continue;
    out[name] = {
      ...m,
      requestSerialize: encodeBatchRequest as (v: unknown) => Buffer,
      requestDeserialize: decodeBatchRequest,
      responseSerialize: encodeBatchResponse as (v: unknown) => Buffer,
      responseDeserialize: decodeBatchResponse,
    };
  }
  return out as grpc.ServiceDefinition;
}

/** Re-exported for tests. */
export type { BatchOp, BatchResult };
