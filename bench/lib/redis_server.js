'use strict';
// Starts a private redis-server for the benchmark on a free loopback port and
// stops it afterwards. Persistence: appendonly yes + appendfsync everysec,
// RDB snapshots off (--save ''): the closest match to crudjt's log written
// before acknowledging and fsynced every 500 ms.

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function findBinary() {
  // CRUDJT_BENCH_REDIS_SERVER names the binary (or a missing path, to test the skip).
  if (process.env.CRUDJT_BENCH_REDIS_SERVER) {
    try {
      fs.accessSync(process.env.CRUDJT_BENCH_REDIS_SERVER, fs.constants.X_OK);
      return process.env.CRUDJT_BENCH_REDIS_SERVER;
    } catch {
      return null;
    }
  }
  for (const dir of (process.env.PATH || '').split(path.delimiter).concat(['/usr/bin', '/usr/local/bin', '/usr/sbin'])) {
    const p = path.join(dir, 'redis-server');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return null;
}

function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`redis-server did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/**
 * Starts redis-server. Resolves with { port, dir, version, config, stop() }
 * or rejects with an Error whose message is the reason to print as "skipped".
 */
async function startRedis({ appendfsync = 'everysec' } = {}) {
  const bin = findBinary();
  if (!bin) throw new Error('no redis-server binary on PATH (Debian: apt-get install -y redis-server)');
  let version = 'unknown';
  try {
    version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // version is informational only
  }
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crudjt-bench-redis-'));
  const config = {
    bind: '127.0.0.1',
    port,
    save: "''",
    appendonly: 'yes',
    appendfsync,
    dir,
  };
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'yes',
    '--appendfsync', appendfsync,
    '--dir', dir,
    '--daemonize', 'no',
    '--protected-mode', 'yes',
    '--loglevel', 'warning',
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const killOnExit = () => {
    if (!exited) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);
  try {
    await Promise.race([
      waitForPort(port, 5000),
      new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${stderr.trim()}`)))),
    ]);
  } catch (e) {
    killOnExit();
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  async function stop() {
    process.removeListener('exit', killOnExit);
    if (!exited) {
      await new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
        setTimeout(() => {
          if (!exited) child.kill('SIGKILL');
        }, 3000).unref();
      });
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { port, dir, version, config, pid: child.pid, stop };
}

module.exports = { startRedis, freePort };
