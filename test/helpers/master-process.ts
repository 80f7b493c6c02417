// A crudjt process for tests, run as a child:
//   node --require tsx/cjs test/helpers/master-process.ts
// CRUDJT_TEST_ROLE=master (default): startMaster with the JSON options in
// CRUDJT_TEST_OPTIONS; prints "READY <port>" and sends {ready, port} over
// IPC. CRUDJT_TEST_ROLE=client: connectToMaster with those options.
// Over IPC it then runs {id, op, args} (create/read/update/delete/shutdown)
// and answers {id, ok, value} or {id, ok: false, error: {name, message, code}}.
// SIGTERM shuts down cleanly; SIGKILL is what crash tests use.
import CRUDJT = require('../../lib/index');

type Request = { id: number; op: string; args: unknown[] };

function serializeError(e: unknown): { name: string; message: string; code?: string } {
  const err = e as { name?: string; message?: string; code?: string; constructor?: { name?: string } };
  const name = e instanceof TypeError ? 'TypeError' : e instanceof RangeError ? 'RangeError' : err?.name ?? 'Error';
  return { name, message: String(err?.message ?? e), code: err?.code };
}

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
    case 'shutdown':
      await CRUDJT.Config.shutdownServer();
      setImmediate(() => process.exit(0));
      return true;
    default:
      throw new Error(`unknown op ${op}`);
  }
}

async function main(): Promise<void> {
  const role = process.env.CRUDJT_TEST_ROLE ?? 'master';
  const options = JSON.parse(process.env.CRUDJT_TEST_OPTIONS ?? '{}');
  process.on('message', (msg: Request) => {
    run(msg.op, msg.args).then(
      (value) => send({ id: msg.id, ok: true, value }),
      (e) => send({ id: msg.id, ok: false, error: serializeError(e) }),
    );
  });
  process.on('SIGTERM', () => {
    CRUDJT.Config.shutdownServer().finally(() => process.exit(0));
  });
  process.on('disconnect', () => {
    // The parent went away: do not linger.
    CRUDJT.Config.shutdownServer().finally(() => process.exit(0));
  });
  try {
    if (role === 'client') {
      CRUDJT.Config.connectToMaster(options);
      send({ ready: true, pid: process.pid });
      return;
    }
    const info = await CRUDJT.Config.startMaster({ logger: null, ...options });
    process.stdout.write(`READY ${info.grpc_port}\n`);
    send({ ready: true, port: info.grpc_port, pid: process.pid, info });
  } catch (e) {
    send({ ready: false, error: serializeError(e) });
    setTimeout(() => process.exit(3), 50);
  }
}

void main();
