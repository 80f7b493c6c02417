// Original file: proto/token_service.proto


export interface DeleteTokenResponse {
  'result'?: (boolean);
}

export interface DeleteTokenResponse__Output {
  'result': (boolean);
}
