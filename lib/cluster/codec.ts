// The engine's token hash and sealed-record format, through the addon's
// RecordCodec (src/record_codec_wrap.cc over cpp/include/crudjt/record_codec.h):
// one implementation of the crypto for the file store and the cluster.
import { InternalError } from '../errors';

import type { NativeRecordCodec, RecordCodecTreeKey } from '../../binding';

export type { NativeRecordCodec };
/** A tree key: 16 bytes, or its 22-character handle (binding.d.ts). */
export type TreeKey = RecordCodecTreeKey;

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
