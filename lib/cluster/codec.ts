// The engine's token hash and sealed-record format, through the addon's
// RecordCodec (src/record_codec_wrap.cc over cpp/include/crudjt/record_codec.h):
// one implementation of the crypto for the file store and the cluster.
import { InternalError } from '../errors';

/** binding.RecordCodec (typed here until binding.d.ts lists it). */
export interface NativeRecordCodec {
  /** The 16-byte tree key, or null for a string that can never be a token. */
  hashToken(token: string): Buffer | null;
  /** Keyed hash of a subject (1..128 UTF-8 bytes), apart from token hashes. */
  hashSubject(subject: Buffer): Buffer;
  newToken(): [token: string, treeKey: Buffer];
  /** expiresAtMs: 0 = never; readsLeft: -1 = unlimited. */
  seal(treeKey: Buffer, payload: Buffer, expiresAtMs: number, readsLeft: number): Buffer;
  /** null: sealed under another secret. Throws code CRUDJT_CORRUPTION when altered. */
  open(treeKey: Buffer, record: Buffer): [payload: Buffer, expiresAtMs: number, readsLeft: number] | null;
  readonly keyId: number;
}

type CodecClass = new (secret: Buffer) => NativeRecordCodec;

/** A codec for the raw secret (32/48/64 bytes). InternalError when the addon lacks it. */
export function newRecordCodec(secret: Buffer): NativeRecordCodec {
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
  return new ctor(secret);
}
