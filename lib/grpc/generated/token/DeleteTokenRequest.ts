// Original file: proto/token_service.proto


export interface DeleteTokenRequest {
  'token'?: (string);
}

export interface DeleteTokenRequest__Output {
  'token': (string);
}
