// Original file: proto/token_service.proto


export interface UpdateTokenResponse {
  'result'?: (boolean);
}

export interface UpdateTokenResponse__Output {
  'result': (boolean);
}
