// Original file: proto/token_service.proto


export interface ReadTokenRequest {
  'token'?: (string);
}

export interface ReadTokenRequest__Output {
  'token': (string);
}
