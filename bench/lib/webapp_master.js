'use strict';
// A standalone crudjt master for bench/webapp.js's gRPC-client variant:
// prints "READY <port>" once it serves on a free loopback port.
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const CRUDJT = require(path.join(__dirname, '..', '..', 'dist', 'index.js'));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crudjt-webapp-master-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
process.on('SIGTERM', () => CRUDJT.Config.shutdownServer().finally(() => process.exit(0)));
CRUDJT.Config.startMaster({ secret_key: crypto.randomBytes(48).toString('base64'), store_jt_path: dir, grpc_port: 0, logger: null })
  .then((info) => process.stdout.write(`READY ${info.grpc_port}\n`))
  .catch((e) => {
    process.stdout.write(`FAILED ${e.message}\n`);
    process.exit(1);
  });
