// Original file: proto/token_service.proto

import type { Long } from '@grpc/proto-loader';

export interface TouchTokenRequest {
  'token'?: (string);
  'ttl'?: (number | string | Long);
}

export interface TouchTokenRequest__Output {
  'token': (string);
  'ttl': (number);
}
