// Original file: proto/token_service.proto


export interface RevokeSubjectRequest {
  'subject'?: (string);
}

export interface RevokeSubjectRequest__Output {
  'subject': (string);
}
