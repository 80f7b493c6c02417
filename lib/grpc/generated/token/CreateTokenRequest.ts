// Original file: proto/token_service.proto

import type { Long } from '@grpc/proto-loader';

export interface CreateTokenRequest {
  'packed_data'?: (Buffer | Uint8Array | string);
  'ttl'?: (number | string | Long);
  'silence_read'?: (number | string | Long);
  'subject'?: (string);
}

export interface CreateTokenRequest__Output {
  'packed_data': (Buffer);
  'ttl': (number);
  'silence_read': (number);
  'subject': (string);
}
