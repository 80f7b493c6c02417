// Original file: proto/token_service.proto

import type { SessionInfo as _token_SessionInfo, SessionInfo__Output as _token_SessionInfo__Output } from '../token/SessionInfo';

export interface ListSubjectResponse {
  'sessions'?: (_token_SessionInfo)[];
}

export interface ListSubjectResponse__Output {
  'sessions': (_token_SessionInfo__Output)[];
}
