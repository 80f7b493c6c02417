// Original file: proto/token_service.proto

import type { Long } from '@grpc/proto-loader';

export interface PutTokenRequest {
  'token'?: (string);
  'packed_data'?: (Buffer | Uint8Array | string);
  'ttl'?: (number | string | Long);
  'silence_read'?: (number | string | Long);
}

export interface PutTokenRequest__Output {
  'token': (string);
  'packed_data': (Buffer);
  'ttl': (number);
  'silence_read': (number);
}
