// Original file: proto/token_service.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CreateTokenRequest as _token_CreateTokenRequest, CreateTokenRequest__Output as _token_CreateTokenRequest__Output } from '../token/CreateTokenRequest';
import type { CreateTokenResponse as _token_CreateTokenResponse, CreateTokenResponse__Output as _token_CreateTokenResponse__Output } from '../token/CreateTokenResponse';
import type { DeleteTokenRequest as _token_DeleteTokenRequest, DeleteTokenRequest__Output as _token_DeleteTokenRequest__Output } from '../token/DeleteTokenRequest';
import type { DeleteTokenResponse as _token_DeleteTokenResponse, DeleteTokenResponse__Output as _token_DeleteTokenResponse__Output } from '../token/DeleteTokenResponse';
import type { ReadTokenRequest as _token_ReadTokenRequest, ReadTokenRequest__Output as _token_ReadTokenRequest__Output } from '../token/ReadTokenRequest';
import type { ReadTokenResponse as _token_ReadTokenResponse, ReadTokenResponse__Output as _token_ReadTokenResponse__Output } from '../token/ReadTokenResponse';
import type { UpdateTokenRequest as _token_UpdateTokenRequest, UpdateTokenRequest__Output as _token_UpdateTokenRequest__Output } from '../token/UpdateTokenRequest';
import type { UpdateTokenResponse as _token_UpdateTokenResponse, UpdateTokenResponse__Output as _token_UpdateTokenResponse__Output } from '../token/UpdateTokenResponse';

export interface TokenServiceClient extends grpc.Client {
  CreateToken(argument: _token_CreateTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_CreateTokenResponse__Output>): grpc.ClientUnaryCall;
  CreateToken(argument: _token_CreateTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_CreateTokenResponse__Output>): grpc.ClientUnaryCall;
  CreateToken(argument: _token_CreateTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_CreateTokenResponse__Output>): grpc.ClientUnaryCall;
  CreateToken(argument: _token_CreateTokenRequest, callback: grpc.requestCallback<_token_CreateTokenResponse__Output>): grpc.ClientUnaryCall;
  createToken(argument: _token_CreateTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_CreateTokenResponse__Output>): grpc.ClientUnaryCall;
  createToken(argument: _token_CreateTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_CreateTokenResponse__Output>): grpc.ClientUnaryCall;
  createToken(argument: _token_CreateTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_CreateTokenResponse__Output>): grpc.ClientUnaryCall;
  createToken(argument: _token_CreateTokenRequest, callback: grpc.requestCallback<_token_CreateTokenResponse__Output>): grpc.ClientUnaryCall;
  
  DeleteToken(argument: _token_DeleteTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_DeleteTokenResponse__Output>): grpc.ClientUnaryCall;
  DeleteToken(argument: _token_DeleteTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_DeleteTokenResponse__Output>): grpc.ClientUnaryCall;
  DeleteToken(argument: _token_DeleteTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_DeleteTokenResponse__Output>): grpc.ClientUnaryCall;
  DeleteToken(argument: _token_DeleteTokenRequest, callback: grpc.requestCallback<_token_DeleteTokenResponse__Output>): grpc.ClientUnaryCall;
  deleteToken(argument: _token_DeleteTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_DeleteTokenResponse__Output>): grpc.ClientUnaryCall;
  deleteToken(argument: _token_DeleteTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_DeleteTokenResponse__Output>): grpc.ClientUnaryCall;
  deleteToken(argument: _token_DeleteTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_DeleteTokenResponse__Output>): grpc.ClientUnaryCall;
  deleteToken(argument: _token_DeleteTokenRequest, callback: grpc.requestCallback<_token_DeleteTokenResponse__Output>): grpc.ClientUnaryCall;
  
  ReadToken(argument: _token_ReadTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_ReadTokenResponse__Output>): grpc.ClientUnaryCall;
  ReadToken(argument: _token_ReadTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_ReadTokenResponse__Output>): grpc.ClientUnaryCall;
  ReadToken(argument: _token_ReadTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_ReadTokenResponse__Output>): grpc.ClientUnaryCall;
  ReadToken(argument: _token_ReadTokenRequest, callback: grpc.requestCallback<_token_ReadTokenResponse__Output>): grpc.ClientUnaryCall;
  readToken(argument: _token_ReadTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_ReadTokenResponse__Output>): grpc.ClientUnaryCall;
  readToken(argument: _token_ReadTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_ReadTokenResponse__Output>): grpc.ClientUnaryCall;
  readToken(argument: _token_ReadTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_ReadTokenResponse__Output>): grpc.ClientUnaryCall;
  readToken(argument: _token_ReadTokenRequest, callback: grpc.requestCallback<_token_ReadTokenResponse__Output>): grpc.ClientUnaryCall;
  
  UpdateToken(argument: _token_UpdateTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_UpdateTokenResponse__Output>): grpc.ClientUnaryCall;
  UpdateToken(argument: _token_UpdateTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_UpdateTokenResponse__Output>): grpc.ClientUnaryCall;
  UpdateToken(argument: _token_UpdateTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_UpdateTokenResponse__Output>): grpc.ClientUnaryCall;
  UpdateToken(argument: _token_UpdateTokenRequest, callback: grpc.requestCallback<_token_UpdateTokenResponse__Output>): grpc.ClientUnaryCall;
  updateToken(argument: _token_UpdateTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_UpdateTokenResponse__Output>): grpc.ClientUnaryCall;
  updateToken(argument: _token_UpdateTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_UpdateTokenResponse__Output>): grpc.ClientUnaryCall;
  updateToken(argument: _token_UpdateTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_UpdateTokenResponse__Output>): grpc.ClientUnaryCall;
  updateToken(argument: _token_UpdateTokenRequest, callback: grpc.requestCallback<_token_UpdateTokenResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface TokenServiceHandlers extends grpc.UntypedServiceImplementation {
  CreateToken: grpc.handleUnaryCall<_token_CreateTokenRequest__Output, _token_CreateTokenResponse>;
  
  DeleteToken: grpc.handleUnaryCall<_token_DeleteTokenRequest__Output, _token_DeleteTokenResponse>;
  
  ReadToken: grpc.handleUnaryCall<_token_ReadTokenRequest__Output, _token_ReadTokenResponse>;
  
  UpdateToken: grpc.handleUnaryCall<_token_UpdateTokenRequest__Output, _token_UpdateTokenResponse>;
  
}

export interface TokenServiceDefinition extends grpc.ServiceDefinition {
  CreateToken: MethodDefinition<_token_CreateTokenRequest, _token_CreateTokenResponse, _token_CreateTokenRequest__Output, _token_CreateTokenResponse__Output>
  DeleteToken: MethodDefinition<_token_DeleteTokenRequest, _token_DeleteTokenResponse, _token_DeleteTokenRequest__Output, _token_DeleteTokenResponse__Output>
  ReadToken: MethodDefinition<_token_ReadTokenRequest, _token_ReadTokenResponse, _token_ReadTokenRequest__Output, _token_ReadTokenResponse__Output>
  UpdateToken: MethodDefinition<_token_UpdateTokenRequest, _token_UpdateTokenResponse, _token_UpdateTokenRequest__Output, _token_UpdateTokenResponse__Output>
}
