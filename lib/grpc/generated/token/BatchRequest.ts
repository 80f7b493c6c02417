// Original file: proto/token_service.proto

import type { BatchOp as _token_BatchOp, BatchOp__Output as _token_BatchOp__Output } from '../token/BatchOp';

export interface BatchRequest {
  'ops'?: (_token_BatchOp)[];
}

export interface BatchRequest__Output {
  'ops': (_token_BatchOp__Output)[];
}
