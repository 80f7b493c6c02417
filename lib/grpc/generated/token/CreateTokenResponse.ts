// Original file: proto/token_service.proto


export interface CreateTokenResponse {
  'token'?: (string);
}

export interface CreateTokenResponse__Output {
  'token': (string);
}
