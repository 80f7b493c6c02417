// Original file: proto/token_service.proto

import type { Long } from '@grpc/proto-loader';

// Original file: proto/token_service.proto

export const _token_BatchOp_Kind = {
  KIND_UNSPECIFIED: 'KIND_UNSPECIFIED',
  CREATE: 'CREATE',
  READ: 'READ',
  UPDATE: 'UPDATE',
  DELETE: 'DELETE',
  TOUCH: 'TOUCH',
} as const;

export type _token_BatchOp_Kind =
  | 'KIND_UNSPECIFIED'
  | 0
  | 'CREATE'
  | 1
  | 'READ'
  | 2
  | 'UPDATE'
  | 3
  | 'DELETE'
  | 4
  | 'TOUCH'
  | 5

export type _token_BatchOp_Kind__Output = typeof _token_BatchOp_Kind[keyof typeof _token_BatchOp_Kind]

export interface BatchOp {
  'id'?: (number);
  'kind'?: (_token_BatchOp_Kind);
  'token'?: (string);
  'packed_data'?: (Buffer | Uint8Array | string);
  'ttl'?: (number | string | Long);
  'silence_read'?: (number | string | Long);
  'subject'?: (string);
}

export interface BatchOp__Output {
  'id': (number);
  'kind': (_token_BatchOp_Kind__Output);
  'token': (string);
  'packed_data': (Buffer);
  'ttl': (number);
  'silence_read': (number);
  'subject': (string);
}
