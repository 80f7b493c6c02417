// The engine's token hash and sealed-record format, through the addon's
// RecordCodec (src/record_codec_wrap.cc over cpp/include/crudjt/record_codec.h):
// one implementation of the crypto for the file store and the cluster.
import { InternalError } from '../errors';

/**
 * A tree key: 16 bytes, or its handle (the 22-character base64url of them,
 * which the read path passes instead of allocating a Buffer).
 */
export type TreeKey = Buffer | string;

/** binding.RecordCodec (typed here until binding.d.ts lists it). */
export interface NativeRecordCodec {
  /** The 16-byte tree key, or null for a string that can never be a token. */
  hashToken(token: string): Buffer | null;
  /** The tree key's handle (base64url, 22 chars), or null as hashToken. */
  tokenHandle(token: string): string | null;
  /** Keyed hash of a subject (1..128 UTF-8 bytes), apart from token hashes. */
  hashSubject(subject: Buffer): Buffer;
  newToken(): [token: string, treeKey: Buffer];
  /** newToken() and seal() in one call: the token, its handle and its record. */
  sealNew(payload: Buffer, expiresAtMs: number, readsLeft: number): [token: string, handle: string, record: Buffer];
  /** Under the current secret. expiresAtMs: 0 = never; readsLeft: -1 = unlimited. */
  seal(treeKey: TreeKey, payload: Buffer, expiresAtMs: number, readsLeft: number): Buffer;
  /** null: sealed under a secret the codec was not given. Throws code CRUDJT_CORRUPTION when altered. */
  open(treeKey: TreeKey, record: Buffer): [payload: Buffer, expiresAtMs: number, readsLeft: number] | null;
  /** open() into `out` (>= 256 bytes): the payload's length, or -1 for another secret's record. */
  openInto(treeKey: TreeKey, record: Buffer, out: Buffer): number;
  /** The current secret's key id (u32 at record offset 16). */
  readonly keyId: number;
  /** The key ids it opens (u32 LE each): the current one, then previous ones'. */
  readonly keyIds: Buffer;
  /** The index key (token and subject hashes) wrapped under the current secret (72 bytes). */
  wrapIndexKey(): Buffer;
  /** Takes the index key inside `wrapped` when one of its secrets opens it; false otherwise. */
  adoptIndexKey(wrapped: Buffer): boolean;
}

type CodecClass = new (secret: Buffer, previous?: Buffer[]) => NativeRecordCodec;

/**
 * A codec for the raw secret (32/48/64 bytes) and previous secrets (newest
 * first) whose records still open. Its index key is the OLDEST secret's
 * until adoptIndexKey(). InternalError when the addon lacks it.
 */
export function newRecordCodec(secret: Buffer, previous: Buffer[] = []): NativeRecordCodec {
  let ctor: CodecClass | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const mod = require('../binding');
    ctor = ((mod.default ?? mod) as { RecordCodec?: CodecClass }).RecordCodec;
  } catch (e) {
    throw new InternalError(`CRUDJT native addon could not be loaded: ${(e as Error).message}`);
  }
  if (typeof ctor !== 'function') {
    throw new InternalError('CRUDJT native addon has no RecordCodec: rebuild it (npm run build:native)');
  }
  const codec = previous.length === 0 ? new ctor(secret) : new ctor(secret, previous);
  if (typeof codec.openInto !== 'function' || typeof codec.sealNew !== 'function') {
    throw new InternalError('CRUDJT native addon has an older RecordCodec: rebuild it (npm run build:native)');
  }
  return codec;
}
