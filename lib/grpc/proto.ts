// Loads proto/token_service.proto once, with fixed options:
//   keepCase  field names as on the wire (packed_data, silence_read)
//   longs     Number: int64 arrive as JS numbers; values beyond 2^53 arrive
//             rounded, are never safe integers and are rejected by validation
//   defaults  absent fields read as 0 / empty (0 = "no limit" for limits)
// Types in ./generated come from (re-run after a proto change):
//   npx proto-loader-gen-types --keepCase --longs=Number --enums=String \
//     --defaults --oneofs --grpcLib=@grpc/grpc-js \
//     --outDir=lib/grpc/generated proto/token_service.proto
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/token_service';

/** lib/grpc/ (sources) and dist/grpc/ (build) both sit two levels below the package root. */
export const PROTO_PATH = path.join(__dirname, '..', '..', 'proto', 'token_service.proto');

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

let loaded: ProtoGrpcType | null = null;

export function tokenProto(): ProtoGrpcType['token'] {
  if (loaded === null) {
    const definition = protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
    loaded = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return loaded.token;
}

/** host:port as grpc-js expects it (IPv6 literals in brackets). */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}
