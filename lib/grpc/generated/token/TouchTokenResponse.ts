// Original file: proto/token_service.proto


export interface TouchTokenResponse {
  'result'?: (boolean);
}

export interface TouchTokenResponse__Output {
  'result': (boolean);
}
