// Original file: proto/token_service.proto


export interface PutTokenResponse {
  'result'?: (boolean);
}

export interface PutTokenResponse__Output {
  'result': (boolean);
}
