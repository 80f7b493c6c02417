// A master child for the wire and concurrency fault tests:
//   node --require tsx/cjs test/helpers/fault-master.ts
// startMaster with the JSON options in FAULT_OPTIONS (logger silenced),
// then {ready, port, pid} over IPC. IPC requests {id, op, args}:
// create/read/update/delete run the public API; 'rss' answers
// process.memoryUsage().rss after a garbage collection when --expose-gc is
// on; 'stats' answers the handle count. SIGTERM shuts down cleanly.
import CRUDJT = require('../../lib/index');

type Request = { id: number; op: string; args: unknown[] };

function send(msg: unknown): void {
  if (process.send) process.send(msg);
}

async function run(op: string, args: unknown[]): Promise<unknown> {
  switch (op) {
    case 'create':
      return CRUDJT.create(args[0] as Record<string, unknown>, args[1] as number | null, args[2] as number | null);
    case 'read':
      return CRUDJT.read(args[0] as string);
    case 'update':
      return CRUDJT.update(args[0] as string, args[1] as Record<string, unknown>, args[2] as number | null, args[3] as number | null);
    case 'delete':
      return CRUDJT.delete(args[0] as string);
    case 'rss': {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc) gc();
      return process.memoryUsage().rss;
    }
    default:
      throw new Error(`unknown op ${op}`);
  }
}

async function main(): Promise<void> {
  const options = JSON.parse(process.env.FAULT_OPTIONS ?? '{}');
  process.on('message', (msg: Request) => {
    run(msg.op, msg.args).then(
      (value) => send({ id: msg.id, ok: true, value }),
      (e) => send({ id: msg.id, ok: false, error: { name: (e as Error).name, message: (e as Error).message } }),
    );
  });
  process.on('SIGTERM', () => {
    CRUDJT.Config.shutdownServer().finally(() => process.exit(0));
  });
  process.on('disconnect', () => {
    CRUDJT.Config.shutdownServer().finally(() => process.exit(0));
  });
  try {
    const info = await CRUDJT.Config.startMaster({ logger: null, ...options });
    send({ ready: true, port: info.grpc_port, pid: process.pid, info });
  } catch (e) {
    send({ ready: false, error: { name: (e as Error).name, message: (e as Error).message } });
    setTimeout(() => process.exit(3), 50);
  }
}

void main();
