// Original file: proto/token_service.proto


export interface RevokeHandleRequest {
  'handle'?: (string);
}

export interface RevokeHandleRequest__Output {
  'handle': (string);
}
