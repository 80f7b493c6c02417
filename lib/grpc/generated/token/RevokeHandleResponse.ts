// Original file: proto/token_service.proto


export interface RevokeHandleResponse {
  'result'?: (boolean);
}

export interface RevokeHandleResponse__Output {
  'result': (boolean);
}
