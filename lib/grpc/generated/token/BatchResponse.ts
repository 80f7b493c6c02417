// Original file: proto/token_service.proto

import type { BatchResult as _token_BatchResult, BatchResult__Output as _token_BatchResult__Output } from '../token/BatchResult';

export interface BatchResponse {
  'results'?: (_token_BatchResult)[];
}

export interface BatchResponse__Output {
  'results': (_token_BatchResult__Output)[];
}
