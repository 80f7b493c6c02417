// The client role's backend: calls token.TokenService on the master.
//
// Every call carries a deadline (deadline_ms) and does not wait for the
// channel to become ready (waitForReady false), so a master that is down
// fails fast with Unavailable naming host:port. grpc-js reconnects by
// itself when the master comes back; the reconnect backoff is capped at one
// second so that a restarted master is found again quickly.
import * as grpc from '@grpc/grpc-js';
import type { Backend, ReadResult } from '../backend';
import { fromGrpcError, InternalError } from '../errors';
import { isPlainObject, unpack } from '../msgpack';
import { limitToWire, type Limit } from '../validation';
import type { CreateTokenResponse__Output } from './generated/token/CreateTokenResponse';
import type { DeleteTokenResponse__Output } from './generated/token/DeleteTokenResponse';
import type { ReadTokenResponse__Output } from './generated/token/ReadTokenResponse';
import type { TokenServiceClient } from './generated/token/TokenService';
import type { UpdateTokenResponse__Output } from './generated/token/UpdateTokenResponse';
import { formatAddress, tokenProto } from './proto';

export const DEFAULT_DEADLINE_MS = 5000;

export const CLIENT_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 64 * 1024,
  'grpc.max_send_message_length': 64 * 1024,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.min_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
};

export class GrpcClientBackend implements Backend {
  readonly role = 'client' as const;
  readonly address: string;
  readonly deadlineMs: number;
  private readonly client: TokenServiceClient;

  constructor(host: string, port: number, deadlineMs = DEFAULT_DEADLINE_MS) {
    this.address = formatAddress(host, port);
    this.deadlineMs = deadlineMs;
    const TokenService = tokenProto().TokenService;
    this.client = new TokenService(this.address, grpc.credentials.createInsecure(), CLIENT_OPTIONS);
  }

  private call<Req, Res>(
    method: Function,
    request: Req,
  ): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const options: grpc.CallOptions = { deadline: Date.now() + this.deadlineMs };
      try {
        method.call(this.client, request, options, (err: grpc.ServiceError | null, response?: Res) => {
          if (err) reject(fromGrpcError(err, this.address, this.deadlineMs));
          else if (response === undefined) reject(new InternalError(`CRUDJT master at ${this.address} sent no response`));
          else resolve(response);
        });
      } catch (e) {
        reject(fromGrpcError(e, this.address, this.deadlineMs));
      }
    });
  }

  async create(packed: Buffer, ttl: Limit, silenceRead: Limit): Promise<string> {
    const res = await this.call<object, CreateTokenResponse__Output>(this.client.CreateToken, {
      packed_data: packed,
      ttl: limitToWire(ttl),
      silence_read: limitToWire(silenceRead),
    });
    return res.token;
  }

  async read(token: string): Promise<ReadResult | null> {
    const res = await this.call<object, ReadTokenResponse__Output>(this.client.ReadToken, { token });
    let value: unknown;
    try {
      value = unpack(res.packed_data, 'ReadToken packed_data');
    } catch (e) {
      throw new InternalError(`CRUDJT master at ${this.address} sent a malformed read result: ${(e as Error).message}`);
    }
    if (value === null) return null;
    if (!isPlainObject(value) || !isPlainObject(value.data)) {
      throw new InternalError(`CRUDJT master at ${this.address} sent a read result that is not {metadata?, data}`);
    }
    return value as unknown as ReadResult;
  }

  async update(token: string, packed: Buffer, ttl: Limit, silenceRead: Limit): Promise<boolean> {
    const res = await this.call<object, UpdateTokenResponse__Output>(this.client.UpdateToken, {
      token,
      packed_data: packed,
      ttl: limitToWire(ttl),
      silence_read: limitToWire(silenceRead),
    });
    return res.result;
  }

  async delete(token: string): Promise<boolean> {
    const res = await this.call<object, DeleteTokenResponse__Output>(this.client.DeleteToken, { token });
    return res.result;
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
