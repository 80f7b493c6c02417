// A load generator child for test/96 and test/99:
//   node --require tsx/cjs test/helpers/fault-load.ts <port> <calls>
// Connects to the master with the public client and fires <calls> calls at
// once (creates, then reads and deletes of what it created), then prints
// one JSON line: { ok, failed: { <error name>: n }, ms }.
import CRUDJT = require('../../lib/index');

async function main(): Promise<void> {
  const port = Number(process.argv[2]);
  const calls = Number(process.argv[3]);
  CRUDJT.Config.connectToMaster({ grpc_port: port, deadline_ms: 60_000 });
  const failed: Record<string, number> = {};
  let ok = 0;
  const t0 = Date.now();
  const note = (e: unknown): void => {
    const name = (e as Error)?.name ?? 'unknown';
    failed[name] = (failed[name] ?? 0) + 1;
  };
  const creates = Math.ceil(calls / 2);
  const tokens = await Promise.all(
    Array.from({ length: creates }, (_, i) =>
      CRUDJT.create({ i, pid: process.pid }, 600, 5).then(
        (t) => {
          ok++;
          return t;
        },
        (e) => {
          note(e);
          return null;
        },
      ),
    ),
  );
  await Promise.all(
    tokens.slice(0, calls - creates).map((t, i) => {
      if (t === null) return undefined;
      const p = i % 2 === 0 ? CRUDJT.read(t) : CRUDJT.delete(t);
      return (p as Promise<unknown>).then(
        () => {
          ok++;
        },
        note,
      );
    }),
  );
  process.stdout.write(JSON.stringify({ ok, failed, ms: Date.now() - t0 }) + '\n');
  await CRUDJT.Config.shutdownServer();
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ fatal: String((e as Error)?.stack ?? e) }) + '\n');
  process.exit(3);
});
