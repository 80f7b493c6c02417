'use strict';
// A no-op token.TokenService on plain grpc-js: the transport's own cost on
// this machine, as a baseline for the "crudjt over gRPC" figures. ReadToken
// answers MessagePack nil without touching any store.

const path = require('path');

const ROOT = path.join(__dirname, '..', '..');
const PROTO = path.join(ROOT, 'proto', 'token_service.proto');

function load() {
  const grpc = require(require.resolve('@grpc/grpc-js', { paths: [ROOT] }));
  const loader = require(require.resolve('@grpc/proto-loader', { paths: [ROOT] }));
  const def = loader.loadSync(PROTO, { keepCase: true, longs: Number, defaults: true });
  return { grpc, TokenService: grpc.loadPackageDefinition(def).token.TokenService };
}

/** Starts the no-op server on 127.0.0.1:<free port>; resolves { port, stop() }. */
function startNoopServer() {
  const { grpc, TokenService } = load();
  const server = new grpc.Server();
  const nil = Buffer.from([0xc0]);
  server.addService(TokenService.service, {
    CreateToken: (call, cb) => cb(null, { token: 'AAAAAAAAAAAAAAAAAAAAAA' }),
    ReadToken: (call, cb) => cb(null, { packed_data: nil }),
    UpdateToken: (call, cb) => cb(null, { result: false }),
    DeleteToken: (call, cb) => cb(null, { result: false }),
  });
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
      if (err) reject(err);
      else resolve({ port, stop: () => new Promise((r) => server.tryShutdown(() => r())) });
    });
  });
}

/** A client of it: call() makes one ReadToken with a 30 s deadline. */
function noopClient(port) {
  const { grpc, TokenService } = load();
  const client = new TokenService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const req = { token: 'AAAAAAAAAAAAAAAAAAAAAA' };
  return {
    call: () =>
      new Promise((resolve, reject) => {
        client.ReadToken(req, { deadline: Date.now() + 30000 }, (err, res) => (err ? reject(err) : resolve(res)));
      }),
    close: () => client.close(),
  };
}

module.exports = { startNoopServer, noopClient };
