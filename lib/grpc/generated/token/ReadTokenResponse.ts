// Original file: proto/token_service.proto


export interface ReadTokenResponse {
  'packed_data'?: (Buffer | Uint8Array | string);
}

export interface ReadTokenResponse__Output {
  'packed_data': (Buffer);
}
