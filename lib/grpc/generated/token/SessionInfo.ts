// Original file: proto/token_service.proto

import type { Long } from '@grpc/proto-loader';

export interface SessionInfo {
  'handle'?: (string);
  'ttl'?: (number | string | Long);
  'silence_read'?: (number | string | Long);
}

export interface SessionInfo__Output {
  'handle': (string);
  'ttl': (number);
  'silence_read': (number);
}
