import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { BatchOp as _token_BatchOp, BatchOp__Output as _token_BatchOp__Output } from './token/BatchOp';
import type { BatchRequest as _token_BatchRequest, BatchRequest__Output as _token_BatchRequest__Output } from './token/BatchRequest';
import type { BatchResponse as _token_BatchResponse, BatchResponse__Output as _token_BatchResponse__Output } from './token/BatchResponse';
import type { BatchResult as _token_BatchResult, BatchResult__Output as _token_BatchResult__Output } from './token/BatchResult';
import type { CreateTokenRequest as _token_CreateTokenRequest, CreateTokenRequest__Output as _token_CreateTokenRequest__Output } from './token/CreateTokenRequest';
import type { CreateTokenResponse as _token_CreateTokenResponse, CreateTokenResponse__Output as _token_CreateTokenResponse__Output } from './token/CreateTokenResponse';
import type { DeleteTokenRequest as _token_DeleteTokenRequest, DeleteTokenRequest__Output as _token_DeleteTokenRequest__Output } from './token/DeleteTokenRequest';
import type { DeleteTokenResponse as _token_DeleteTokenResponse, DeleteTokenResponse__Output as _token_DeleteTokenResponse__Output } from './token/DeleteTokenResponse';
import type { ListSubjectRequest as _token_ListSubjectRequest, ListSubjectRequest__Output as _token_ListSubjectRequest__Output } from './token/ListSubjectRequest';
import type { ListSubjectResponse as _token_ListSubjectResponse, ListSubjectResponse__Output as _token_ListSubjectResponse__Output } from './token/ListSubjectResponse';
import type { PutTokenRequest as _token_PutTokenRequest, PutTokenRequest__Output as _token_PutTokenRequest__Output } from './token/PutTokenRequest';
import type { PutTokenResponse as _token_PutTokenResponse, PutTokenResponse__Output as _token_PutTokenResponse__Output } from './token/PutTokenResponse';
import type { ReadTokenRequest as _token_ReadTokenRequest, ReadTokenRequest__Output as _token_ReadTokenRequest__Output } from './token/ReadTokenRequest';
import type { ReadTokenResponse as _token_ReadTokenResponse, ReadTokenResponse__Output as _token_ReadTokenResponse__Output } from './token/ReadTokenResponse';
import type { RevokeHandleRequest as _token_RevokeHandleRequest, RevokeHandleRequest__Output as _token_RevokeHandleRequest__Output } from './token/RevokeHandleRequest';
import type { RevokeHandleResponse as _token_RevokeHandleResponse, RevokeHandleResponse__Output as _token_RevokeHandleResponse__Output } from './token/RevokeHandleResponse';
import type { RevokeSubjectRequest as _token_RevokeSubjectRequest, RevokeSubjectRequest__Output as _token_RevokeSubjectRequest__Output } from './token/RevokeSubjectRequest';
import type { RevokeSubjectResponse as _token_RevokeSubjectResponse, RevokeSubjectResponse__Output as _token_RevokeSubjectResponse__Output } from './token/RevokeSubjectResponse';
import type { SessionInfo as _token_SessionInfo, SessionInfo__Output as _token_SessionInfo__Output } from './token/SessionInfo';
import type { StatsRequest as _token_StatsRequest, StatsRequest__Output as _token_StatsRequest__Output } from './token/StatsRequest';
import type { StatsResponse as _token_StatsResponse, StatsResponse__Output as _token_StatsResponse__Output } from './token/StatsResponse';
import type { TokenServiceClient as _token_TokenServiceClient, TokenServiceDefinition as _token_TokenServiceDefinition } from './token/TokenService';
import type { TouchTokenRequest as _token_TouchTokenRequest, TouchTokenRequest__Output as _token_TouchTokenRequest__Output } from './token/TouchTokenRequest';
import type { TouchTokenResponse as _token_TouchTokenResponse, TouchTokenResponse__Output as _token_TouchTokenResponse__Output } from './token/TouchTokenResponse';
import type { UpdateTokenRequest as _token_UpdateTokenRequest, UpdateTokenRequest__Output as _token_UpdateTokenRequest__Output } from './token/UpdateTokenRequest';
import type { UpdateTokenResponse as _token_UpdateTokenResponse, UpdateTokenResponse__Output as _token_UpdateTokenResponse__Output } from './token/UpdateTokenResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  token: {
    BatchOp: MessageTypeDefinition<_token_BatchOp, _token_BatchOp__Output>
    BatchRequest: MessageTypeDefinition<_token_BatchRequest, _token_BatchRequest__Output>
    BatchResponse: MessageTypeDefinition<_token_BatchResponse, _token_BatchResponse__Output>
    BatchResult: MessageTypeDefinition<_token_BatchResult, _token_BatchResult__Output>
    CreateTokenRequest: MessageTypeDefinition<_token_CreateTokenRequest, _token_CreateTokenRequest__Output>
    CreateTokenResponse: MessageTypeDefinition<_token_CreateTokenResponse, _token_CreateTokenResponse__Output>
    DeleteTokenRequest: MessageTypeDefinition<_token_DeleteTokenRequest, _token_DeleteTokenRequest__Output>
    DeleteTokenResponse: MessageTypeDefinition<_token_DeleteTokenResponse, _token_DeleteTokenResponse__Output>
    ListSubjectRequest: MessageTypeDefinition<_token_ListSubjectRequest, _token_ListSubjectRequest__Output>
    ListSubjectResponse: MessageTypeDefinition<_token_ListSubjectResponse, _token_ListSubjectResponse__Output>
    PutTokenRequest: MessageTypeDefinition<_token_PutTokenRequest, _token_PutTokenRequest__Output>
    PutTokenResponse: MessageTypeDefinition<_token_PutTokenResponse, _token_PutTokenResponse__Output>
    ReadTokenRequest: MessageTypeDefinition<_token_ReadTokenRequest, _token_ReadTokenRequest__Output>
    ReadTokenResponse: MessageTypeDefinition<_token_ReadTokenResponse, _token_ReadTokenResponse__Output>
    RevokeHandleRequest: MessageTypeDefinition<_token_RevokeHandleRequest, _token_RevokeHandleRequest__Output>
    RevokeHandleResponse: MessageTypeDefinition<_token_RevokeHandleResponse, _token_RevokeHandleResponse__Output>
    RevokeSubjectRequest: MessageTypeDefinition<_token_RevokeSubjectRequest, _token_RevokeSubjectRequest__Output>
    RevokeSubjectResponse: MessageTypeDefinition<_token_RevokeSubjectResponse, _token_RevokeSubjectResponse__Output>
    SessionInfo: MessageTypeDefinition<_token_SessionInfo, _token_SessionInfo__Output>
    StatsRequest: MessageTypeDefinition<_token_StatsRequest, _token_StatsRequest__Output>
    StatsResponse: MessageTypeDefinition<_token_StatsResponse, _token_StatsResponse__Output>
    TokenService: SubtypeConstructor<typeof grpc.Client, _token_TokenServiceClient> & { service: _token_TokenServiceDefinition }
    TouchTokenRequest: MessageTypeDefinition<_token_TouchTokenRequest, _token_TouchTokenRequest__Output>
    TouchTokenResponse: MessageTypeDefinition<_token_TouchTokenResponse, _token_TouchTokenResponse__Output>
    UpdateTokenRequest: MessageTypeDefinition<_token_UpdateTokenRequest, _token_UpdateTokenRequest__Output>
    UpdateTokenResponse: MessageTypeDefinition<_token_UpdateTokenResponse, _token_UpdateTokenResponse__Output>
  }
}

