import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { CreateTokenRequest as _token_CreateTokenRequest, CreateTokenRequest__Output as _token_CreateTokenRequest__Output } from './token/CreateTokenRequest';
import type { CreateTokenResponse as _token_CreateTokenResponse, CreateTokenResponse__Output as _token_CreateTokenResponse__Output } from './token/CreateTokenResponse';
import type { DeleteTokenRequest as _token_DeleteTokenRequest, DeleteTokenRequest__Output as _token_DeleteTokenRequest__Output } from './token/DeleteTokenRequest';
import type { DeleteTokenResponse as _token_DeleteTokenResponse, DeleteTokenResponse__Output as _token_DeleteTokenResponse__Output } from './token/DeleteTokenResponse';
import type { ReadTokenRequest as _token_ReadTokenRequest, ReadTokenRequest__Output as _token_ReadTokenRequest__Output } from './token/ReadTokenRequest';
import type { ReadTokenResponse as _token_ReadTokenResponse, ReadTokenResponse__Output as _token_ReadTokenResponse__Output } from './token/ReadTokenResponse';
import type { TokenServiceClient as _token_TokenServiceClient, TokenServiceDefinition as _token_TokenServiceDefinition } from './token/TokenService';
import type { UpdateTokenRequest as _token_UpdateTokenRequest, UpdateTokenRequest__Output as _token_UpdateTokenRequest__Output } from './token/UpdateTokenRequest';
import type { UpdateTokenResponse as _token_UpdateTokenResponse, UpdateTokenResponse__Output as _token_UpdateTokenResponse__Output } from './token/UpdateTokenResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  token: {
    CreateTokenRequest: MessageTypeDefinition<_token_CreateTokenRequest, _token_CreateTokenRequest__Output>
    CreateTokenResponse: MessageTypeDefinition<_token_CreateTokenResponse, _token_CreateTokenResponse__Output>
    DeleteTokenRequest: MessageTypeDefinition<_token_DeleteTokenRequest, _token_DeleteTokenRequest__Output>
    DeleteTokenResponse: MessageTypeDefinition<_token_DeleteTokenResponse, _token_DeleteTokenResponse__Output>
    ReadTokenRequest: MessageTypeDefinition<_token_ReadTokenRequest, _token_ReadTokenRequest__Output>
    ReadTokenResponse: MessageTypeDefinition<_token_ReadTokenResponse, _token_ReadTokenResponse__Output>
    TokenService: SubtypeConstructor<typeof grpc.Client, _token_TokenServiceClient> & { service: _token_TokenServiceDefinition }
    UpdateTokenRequest: MessageTypeDefinition<_token_UpdateTokenRequest, _token_UpdateTokenRequest__Output>
    UpdateTokenResponse: MessageTypeDefinition<_token_UpdateTokenResponse, _token_UpdateTokenResponse__Output>
  }
}

