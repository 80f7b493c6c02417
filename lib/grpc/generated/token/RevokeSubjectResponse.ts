// Original file: proto/token_service.proto

import type { Long } from '@grpc/proto-loader';

export interface RevokeSubjectResponse {
  'count'?: (number | string | Long);
}

export interface RevokeSubjectResponse__Output {
  'count': (number);
}
