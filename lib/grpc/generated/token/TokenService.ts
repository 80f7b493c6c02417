// Original file: proto/token_service.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BatchRequest as _token_BatchRequest, BatchRequest__Output as _token_BatchRequest__Output } from '../token/BatchRequest';
import type { BatchResponse as _token_BatchResponse, BatchResponse__Output as _token_BatchResponse__Output } from '../token/BatchResponse';
import type { CreateTokenRequest as _token_CreateTokenRequest, CreateTokenRequest__Output as _token_CreateTokenRequest__Output } from '../token/CreateTokenRequest';
import type { CreateTokenResponse as _token_CreateTokenResponse, CreateTokenResponse__Output as _token_CreateTokenResponse__Output } from '../token/CreateTokenResponse';
import type { DeleteTokenRequest as _token_DeleteTokenRequest, DeleteTokenRequest__Output as _token_DeleteTokenRequest__Output } from '../token/DeleteTokenRequest';
import type { DeleteTokenResponse as _token_DeleteTokenResponse, DeleteTokenResponse__Output as _token_DeleteTokenResponse__Output } from '../token/DeleteTokenResponse';
import type { ListSubjectRequest as _token_ListSubjectRequest, ListSubjectRequest__Output as _token_ListSubjectRequest__Output } from '../token/ListSubjectRequest';
import type { ListSubjectResponse as _token_ListSubjectResponse, ListSubjectResponse__Output as _token_ListSubjectResponse__Output } from '../token/ListSubjectResponse';
import type { PutTokenRequest as _token_PutTokenRequest, PutTokenRequest__Output as _token_PutTokenRequest__Output } from '../token/PutTokenRequest';
import type { PutTokenResponse as _token_PutTokenResponse, PutTokenResponse__Output as _token_PutTokenResponse__Output } from '../token/PutTokenResponse';
import type { ReadTokenRequest as _token_ReadTokenRequest, ReadTokenRequest__Output as _token_ReadTokenRequest__Output } from '../token/ReadTokenRequest';
import type { ReadTokenResponse as _token_ReadTokenResponse, ReadTokenResponse__Output as _token_ReadTokenResponse__Output } from '../token/ReadTokenResponse';
import type { RevokeHandleRequest as _token_RevokeHandleRequest, RevokeHandleRequest__Output as _token_RevokeHandleRequest__Output } from '../token/RevokeHandleRequest';
import type { RevokeHandleResponse as _token_RevokeHandleResponse, RevokeHandleResponse__Output as _token_RevokeHandleResponse__Output } from '../token/RevokeHandleResponse';
import type { RevokeSubjectRequest as _token_RevokeSubjectRequest, RevokeSubjectRequest__Output as _token_RevokeSubjectRequest__Output } from '../token/RevokeSubjectRequest';
import type { RevokeSubjectResponse as _token_RevokeSubjectResponse, RevokeSubjectResponse__Output as _token_RevokeSubjectResponse__Output } from '../token/RevokeSubjectResponse';
import type { StatsRequest as _token_StatsRequest, StatsRequest__Output as _token_StatsRequest__Output } from '../token/StatsRequest';
import type { StatsResponse as _token_StatsResponse, StatsResponse__Output as _token_StatsResponse__Output } from '../token/StatsResponse';
import type { TouchTokenRequest as _token_TouchTokenRequest, TouchTokenRequest__Output as _token_TouchTokenRequest__Output } from '../token/TouchTokenRequest';
import type { TouchTokenResponse as _token_TouchTokenResponse, TouchTokenResponse__Output as _token_TouchTokenResponse__Output } from '../token/TouchTokenResponse';
import type { UpdateTokenRequest as _token_UpdateTokenRequest, UpdateTokenRequest__Output as _token_UpdateTokenRequest__Output } from '../token/UpdateTokenRequest';
import type { UpdateTokenResponse as _token_UpdateTokenResponse, UpdateTokenResponse__Output as _token_UpdateTokenResponse__Output } from '../token/UpdateTokenResponse';

export interface TokenServiceClient extends grpc.Client {
  Batch(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_token_BatchRequest, _token_BatchResponse__Output>;
  Batch(options?: grpc.CallOptions): grpc.ClientDuplexStream<_token_BatchRequest, _token_BatchResponse__Output>;
  batch(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_token_BatchRequest, _token_BatchResponse__Output>;
  batch(options?: grpc.CallOptions): grpc.ClientDuplexStream<_token_BatchRequest, _token_BatchResponse__Output>;
  
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
  
  ExecuteBatch(argument: _token_BatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_BatchResponse__Output>): grpc.ClientUnaryCall;
  ExecuteBatch(argument: _token_BatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_BatchResponse__Output>): grpc.ClientUnaryCall;
  ExecuteBatch(argument: _token_BatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_BatchResponse__Output>): grpc.ClientUnaryCall;
  ExecuteBatch(argument: _token_BatchRequest, callback: grpc.requestCallback<_token_BatchResponse__Output>): grpc.ClientUnaryCall;
  executeBatch(argument: _token_BatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_BatchResponse__Output>): grpc.ClientUnaryCall;
  executeBatch(argument: _token_BatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_BatchResponse__Output>): grpc.ClientUnaryCall;
  executeBatch(argument: _token_BatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_BatchResponse__Output>): grpc.ClientUnaryCall;
  executeBatch(argument: _token_BatchRequest, callback: grpc.requestCallback<_token_BatchResponse__Output>): grpc.ClientUnaryCall;
  
  ListSubject(argument: _token_ListSubjectRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_ListSubjectResponse__Output>): grpc.ClientUnaryCall;
  ListSubject(argument: _token_ListSubjectRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_ListSubjectResponse__Output>): grpc.ClientUnaryCall;
  ListSubject(argument: _token_ListSubjectRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_ListSubjectResponse__Output>): grpc.ClientUnaryCall;
  ListSubject(argument: _token_ListSubjectRequest, callback: grpc.requestCallback<_token_ListSubjectResponse__Output>): grpc.ClientUnaryCall;
  listSubject(argument: _token_ListSubjectRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_ListSubjectResponse__Output>): grpc.ClientUnaryCall;
  listSubject(argument: _token_ListSubjectRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_ListSubjectResponse__Output>): grpc.ClientUnaryCall;
  listSubject(argument: _token_ListSubjectRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_ListSubjectResponse__Output>): grpc.ClientUnaryCall;
  listSubject(argument: _token_ListSubjectRequest, callback: grpc.requestCallback<_token_ListSubjectResponse__Output>): grpc.ClientUnaryCall;
  
  PutToken(argument: _token_PutTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_PutTokenResponse__Output>): grpc.ClientUnaryCall;
  PutToken(argument: _token_PutTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_PutTokenResponse__Output>): grpc.ClientUnaryCall;
  PutToken(argument: _token_PutTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_PutTokenResponse__Output>): grpc.ClientUnaryCall;
  PutToken(argument: _token_PutTokenRequest, callback: grpc.requestCallback<_token_PutTokenResponse__Output>): grpc.ClientUnaryCall;
  putToken(argument: _token_PutTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_PutTokenResponse__Output>): grpc.ClientUnaryCall;
  putToken(argument: _token_PutTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_PutTokenResponse__Output>): grpc.ClientUnaryCall;
  putToken(argument: _token_PutTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_PutTokenResponse__Output>): grpc.ClientUnaryCall;
  putToken(argument: _token_PutTokenRequest, callback: grpc.requestCallback<_token_PutTokenResponse__Output>): grpc.ClientUnaryCall;
  
  ReadToken(argument: _token_ReadTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_ReadTokenResponse__Output>): grpc.ClientUnaryCall;
  ReadToken(argument: _token_ReadTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_ReadTokenResponse__Output>): grpc.ClientUnaryCall;
  ReadToken(argument: _token_ReadTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_ReadTokenResponse__Output>): grpc.ClientUnaryCall;
  ReadToken(argument: _token_ReadTokenRequest, callback: grpc.requestCallback<_token_ReadTokenResponse__Output>): grpc.ClientUnaryCall;
  readToken(argument: _token_ReadTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_ReadTokenResponse__Output>): grpc.ClientUnaryCall;
  readToken(argument: _token_ReadTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_ReadTokenResponse__Output>): grpc.ClientUnaryCall;
  readToken(argument: _token_ReadTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_ReadTokenResponse__Output>): grpc.ClientUnaryCall;
  readToken(argument: _token_ReadTokenRequest, callback: grpc.requestCallback<_token_ReadTokenResponse__Output>): grpc.ClientUnaryCall;
  
  RevokeHandle(argument: _token_RevokeHandleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_RevokeHandleResponse__Output>): grpc.ClientUnaryCall;
  RevokeHandle(argument: _token_RevokeHandleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_RevokeHandleResponse__Output>): grpc.ClientUnaryCall;
  RevokeHandle(argument: _token_RevokeHandleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_RevokeHandleResponse__Output>): grpc.ClientUnaryCall;
  RevokeHandle(argument: _token_RevokeHandleRequest, callback: grpc.requestCallback<_token_RevokeHandleResponse__Output>): grpc.ClientUnaryCall;
  revokeHandle(argument: _token_RevokeHandleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_RevokeHandleResponse__Output>): grpc.ClientUnaryCall;
  revokeHandle(argument: _token_RevokeHandleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_RevokeHandleResponse__Output>): grpc.ClientUnaryCall;
  revokeHandle(argument: _token_RevokeHandleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_RevokeHandleResponse__Output>): grpc.ClientUnaryCall;
  revokeHandle(argument: _token_RevokeHandleRequest, callback: grpc.requestCallback<_token_RevokeHandleResponse__Output>): grpc.ClientUnaryCall;
  
  RevokeSubject(argument: _token_RevokeSubjectRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_RevokeSubjectResponse__Output>): grpc.ClientUnaryCall;
  RevokeSubject(argument: _token_RevokeSubjectRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_RevokeSubjectResponse__Output>): grpc.ClientUnaryCall;
  RevokeSubject(argument: _token_RevokeSubjectRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_RevokeSubjectResponse__Output>): grpc.ClientUnaryCall;
  RevokeSubject(argument: _token_RevokeSubjectRequest, callback: grpc.requestCallback<_token_RevokeSubjectResponse__Output>): grpc.ClientUnaryCall;
  revokeSubject(argument: _token_RevokeSubjectRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_RevokeSubjectResponse__Output>): grpc.ClientUnaryCall;
  revokeSubject(argument: _token_RevokeSubjectRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_RevokeSubjectResponse__Output>): grpc.ClientUnaryCall;
  revokeSubject(argument: _token_RevokeSubjectRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_RevokeSubjectResponse__Output>): grpc.ClientUnaryCall;
  revokeSubject(argument: _token_RevokeSubjectRequest, callback: grpc.requestCallback<_token_RevokeSubjectResponse__Output>): grpc.ClientUnaryCall;
  
  Stats(argument: _token_StatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_StatsResponse__Output>): grpc.ClientUnaryCall;
  Stats(argument: _token_StatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_StatsResponse__Output>): grpc.ClientUnaryCall;
  Stats(argument: _token_StatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_StatsResponse__Output>): grpc.ClientUnaryCall;
  Stats(argument: _token_StatsRequest, callback: grpc.requestCallback<_token_StatsResponse__Output>): grpc.ClientUnaryCall;
  stats(argument: _token_StatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_StatsResponse__Output>): grpc.ClientUnaryCall;
  stats(argument: _token_StatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_StatsResponse__Output>): grpc.ClientUnaryCall;
  stats(argument: _token_StatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_StatsResponse__Output>): grpc.ClientUnaryCall;
  stats(argument: _token_StatsRequest, callback: grpc.requestCallback<_token_StatsResponse__Output>): grpc.ClientUnaryCall;
  
  TouchToken(argument: _token_TouchTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_TouchTokenResponse__Output>): grpc.ClientUnaryCall;
  TouchToken(argument: _token_TouchTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_TouchTokenResponse__Output>): grpc.ClientUnaryCall;
  TouchToken(argument: _token_TouchTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_TouchTokenResponse__Output>): grpc.ClientUnaryCall;
  TouchToken(argument: _token_TouchTokenRequest, callback: grpc.requestCallback<_token_TouchTokenResponse__Output>): grpc.ClientUnaryCall;
  touchToken(argument: _token_TouchTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_token_TouchTokenResponse__Output>): grpc.ClientUnaryCall;
  touchToken(argument: _token_TouchTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_token_TouchTokenResponse__Output>): grpc.ClientUnaryCall;
  touchToken(argument: _token_TouchTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_token_TouchTokenResponse__Output>): grpc.ClientUnaryCall;
  touchToken(argument: _token_TouchTokenRequest, callback: grpc.requestCallback<_token_TouchTokenResponse__Output>): grpc.ClientUnaryCall;
  
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
  Batch: grpc.handleBidiStreamingCall<_token_BatchRequest__Output, _token_BatchResponse>;
  
  CreateToken: grpc.handleUnaryCall<_token_CreateTokenRequest__Output, _token_CreateTokenResponse>;
  
  DeleteToken: grpc.handleUnaryCall<_token_DeleteTokenRequest__Output, _token_DeleteTokenResponse>;
  
  ExecuteBatch: grpc.handleUnaryCall<_token_BatchRequest__Output, _token_BatchResponse>;
  
  ListSubject: grpc.handleUnaryCall<_token_ListSubjectRequest__Output, _token_ListSubjectResponse>;
  
  PutToken: grpc.handleUnaryCall<_token_PutTokenRequest__Output, _token_PutTokenResponse>;
  
  ReadToken: grpc.handleUnaryCall<_token_ReadTokenRequest__Output, _token_ReadTokenResponse>;
  
  RevokeHandle: grpc.handleUnaryCall<_token_RevokeHandleRequest__Output, _token_RevokeHandleResponse>;
  
  RevokeSubject: grpc.handleUnaryCall<_token_RevokeSubjectRequest__Output, _token_RevokeSubjectResponse>;
  
  Stats: grpc.handleUnaryCall<_token_StatsRequest__Output, _token_StatsResponse>;
  
  TouchToken: grpc.handleUnaryCall<_token_TouchTokenRequest__Output, _token_TouchTokenResponse>;
  
  UpdateToken: grpc.handleUnaryCall<_token_UpdateTokenRequest__Output, _token_UpdateTokenResponse>;
  
}

export interface TokenServiceDefinition extends grpc.ServiceDefinition {
  Batch: MethodDefinition<_token_BatchRequest, _token_BatchResponse, _token_BatchRequest__Output, _token_BatchResponse__Output>
  CreateToken: MethodDefinition<_token_CreateTokenRequest, _token_CreateTokenResponse, _token_CreateTokenRequest__Output, _token_CreateTokenResponse__Output>
  DeleteToken: MethodDefinition<_token_DeleteTokenRequest, _token_DeleteTokenResponse, _token_DeleteTokenRequest__Output, _token_DeleteTokenResponse__Output>
  ExecuteBatch: MethodDefinition<_token_BatchRequest, _token_BatchResponse, _token_BatchRequest__Output, _token_BatchResponse__Output>
  ListSubject: MethodDefinition<_token_ListSubjectRequest, _token_ListSubjectResponse, _token_ListSubjectRequest__Output, _token_ListSubjectResponse__Output>
  PutToken: MethodDefinition<_token_PutTokenRequest, _token_PutTokenResponse, _token_PutTokenRequest__Output, _token_PutTokenResponse__Output>
  ReadToken: MethodDefinition<_token_ReadTokenRequest, _token_ReadTokenResponse, _token_ReadTokenRequest__Output, _token_ReadTokenResponse__Output>
  RevokeHandle: MethodDefinition<_token_RevokeHandleRequest, _token_RevokeHandleResponse, _token_RevokeHandleRequest__Output, _token_RevokeHandleResponse__Output>
  RevokeSubject: MethodDefinition<_token_RevokeSubjectRequest, _token_RevokeSubjectResponse, _token_RevokeSubjectRequest__Output, _token_RevokeSubjectResponse__Output>
  Stats: MethodDefinition<_token_StatsRequest, _token_StatsResponse, _token_StatsRequest__Output, _token_StatsResponse__Output>
  TouchToken: MethodDefinition<_token_TouchTokenRequest, _token_TouchTokenResponse, _token_TouchTokenRequest__Output, _token_TouchTokenResponse__Output>
  UpdateToken: MethodDefinition<_token_UpdateTokenRequest, _token_UpdateTokenResponse, _token_UpdateTokenRequest__Output, _token_UpdateTokenResponse__Output>
}
