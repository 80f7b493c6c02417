// Original file: proto/token_service.proto


export interface BatchResult {
  'id'?: (number);
  'error_code'?: (number);
  'error_message'?: (string);
  'error_class'?: (string);
  'token'?: (string);
  'packed_data'?: (Buffer | Uint8Array | string);
  'result'?: (boolean);
}

export interface BatchResult__Output {
  'id': (number);
  'error_code': (number);
  'error_message': (string);
  'error_class': (string);
  'token': (string);
  'packed_data': (Buffer);
  'result': (boolean);
}
