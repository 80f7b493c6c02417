// Original file: proto/token_service.proto


export interface ListSubjectRequest {
  'subject'?: (string);
}

export interface ListSubjectRequest__Output {
  'subject': (string);
}
