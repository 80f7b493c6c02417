// Key rotation: startMaster({ secret_key: B, previous_secret_keys: [A] })
// reads tokens sealed under A with their own payload, re-seals them under
// B in the background (after which B alone reads them) and logs once that
// A can be dropped; a key that never sealed the store reads them as null,
// never as another payload.
import { expect } from 'chai';
import { CRUDJT, freshStorePath, randomKey, sleep } from './00.setup';
import { expectReject } from './helpers/assert';


function capture(): { logger: CRUDJT.Logger; lines: { info: string[]; warn: string[] } } {
  const lines = { info: [] as string[], warn: [] as string[] };
  return { logger: { info: (m) => lines.info.push(m), warn: (m) => lines.warn.push(m) }, lines };
}

async function start(store: string, secret_key: string, previous?: string[], logger: CRUDJT.Logger | null = null): Promise<CRUDJT.MasterInfo> {
  return CRUDJT.Config.startMaster({
    secret_key,
    ...(previous === undefined ? {} : { previous_secret_keys: previous }),
    store_jt_path: store,
    grpc_port: 0,
    logger,
  });
}

const DROP_LINE = /previous_secret_keys can be dropped/;

async function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('key rotation (previous_secret_keys)', function () {
  this.timeout(60_000);
  afterEach(async () => {
    await CRUDJT.Config.shutdownServer();
  });

  describe('validation', () => {
    const bad: Array<[string, unknown, RegExp]> = [
      ['a string', randomKey(), /^'previous_secret_keys' must be an array/],
      ['an array with a non-base64 key', ['%%%'], /^'previous_secret_keys\[0\]' must be a valid Base64 string$/],
      ['an array with a 16-byte key', [randomKey(32), randomKey(16)], /^'previous_secret_keys\[1\]' must be exactly 32, 48, or 64 bytes. Got 16 bytes$/],
      ['an array with a number', [1], /previous_secret_keys\[0\]/],
    ];
    for (const [label, value, msg] of bad) {
      it(`rejects ${label} with a TypeError naming the entry, and stays idle`, async () => {
        await expectReject(
          CRUDJT.Config.startMaster({ secret_key: randomKey(), previous_secret_keys: value as never, store_jt_path: freshStorePath(), grpc_port: 0, logger: null }),
          TypeError,
          msg,
        );
        expect(CRUDJT.Config.role()).to.equal(null);
      });
    }
    it('accepts an empty list (no rotation, no re-seal log line)', async () => {
      const { logger, lines } = capture();
      await start(freshStorePath(), randomKey(), [], logger);
      await sleep(300);
      expect(lines.info.filter((l) => DROP_LINE.test(l))).to.deep.equal([]);
    });
  });

  it('A -> B + [A] -> B -> C: old tokens readable with their payload, re-sealed, log line; a foreign key reads null', async () => {
    const store = freshStorePath();
    const A = randomKey(48);
    const B = randomKey(32);
    const C = randomKey(64);

    await start(store, A);
    const old: Array<[string, Record<string, unknown>]> = [];
    for (let i = 0; i < 200; i++) {
      const data = { user: i, role: i % 3 === 0 ? 'admin' : 'user', pad: 'x'.repeat(i % 50) };
      old.push([await CRUDJT.create(data, i % 2 === 0 ? null : 3600), data]);
    }
    const limited = await CRUDJT.create({ limited: true }, null, 5);
    const withSubject = await CRUDJT.create({ s: 1 }, null, null, { subject: 'user-9' });
    const deleted = await CRUDJT.create({ gone: true });
    expect(await CRUDJT.delete(deleted)).to.equal(true);
    await CRUDJT.Config.shutdownServer();

    // B with A as a previous key
    const { logger, lines } = capture();
    const info = await start(store, B, [A], logger);
    expect(info.key_changed).to.equal(false);
    for (const [t, data] of old) {
      const r = await CRUDJT.read(t);
      expect(r?.data, t).to.deep.equal(data);
    }
    expect(await CRUDJT.read(limited)).to.deep.equal({ metadata: { silence_read: 4 }, data: { limited: true } });
    expect(await CRUDJT.read(deleted)).to.equal(null);
    const fresh = await CRUDJT.create({ fresh: 'B' });
    await waitFor(() => lines.info.some((l) => DROP_LINE.test(l)), 20_000, 'the "can be dropped" log line');
    expect(lines.info.filter((l) => DROP_LINE.test(l))).to.have.length(1);
    expect(lines.warn.filter((l) => /re-seal/i.test(l))).to.deep.equal([]);
    await CRUDJT.Config.shutdownServer();

    // B alone: everything was re-sealed under B
    await start(store, B);
    for (const [t, data] of old) expect((await CRUDJT.read(t))?.data, t).to.deep.equal(data);
    expect(await CRUDJT.read(limited)).to.deep.equal({ metadata: { silence_read: 3 }, data: { limited: true } });
    expect(await CRUDJT.read(fresh)).to.deep.equal({ data: { fresh: 'B' } });
    expect((await CRUDJT.listSubject('user-9')).length, 'the subject index follows the rotation').to.equal(1);
    await CRUDJT.Config.shutdownServer();

    // C, never used on this store: old tokens are null (never another payload), new ones fine
    const warned = capture();
    const infoC = await start(store, C, undefined, warned.logger);
    expect(infoC.key_changed).to.equal(true);
    for (const [t] of old) expect(await CRUDJT.read(t), t).to.equal(null);
    expect(await CRUDJT.read(fresh)).to.equal(null);
    expect(await CRUDJT.read(withSubject)).to.equal(null);
    expect(await CRUDJT.update(limited, { a: 1 })).to.equal(false);
    const c = await CRUDJT.create({ fresh: 'C' });
    expect(await CRUDJT.read(c)).to.deep.equal({ data: { fresh: 'C' } });
  });

  it('a wrong previous key changes nothing: old tokens read null, never a wrong payload', async () => {
    const store = freshStorePath();
    const A = randomKey();
    await start(store, A);
    const t = await CRUDJT.create({ who: 'A' });
    await CRUDJT.Config.shutdownServer();
    const { logger } = capture();
    await start(store, randomKey(), [randomKey(), randomKey(48)], logger);
    expect(await CRUDJT.read(t)).to.equal(null);
    await CRUDJT.Config.shutdownServer();
    // A still opens its records (nothing was re-sealed under the stranger)
    await start(store, A);
    expect(await CRUDJT.read(t)).to.deep.equal({ data: { who: 'A' } });
  });

  it('re-seals a token when it is written (update, touch) under the new key', async () => {
    const store = freshStorePath();
    const A = randomKey();
    const B = randomKey();
    await start(store, A);
    const t = await CRUDJT.create({ v: 1 }, 60);
    await CRUDJT.Config.shutdownServer();
    await start(store, B, [A]);
    expect(await CRUDJT.update(t, { v: 2 })).to.equal(true);
    expect(await CRUDJT.touch(t, 120)).to.equal(true);
    expect(await CRUDJT.read(t)).to.deep.equal({ metadata: { ttl: 120 }, data: { v: 2 } });
  });

  it('does not block the start (the pass runs in the background) and stops cleanly on shutdown', async () => {
    const store = freshStorePath();
    const A = randomKey();
    await start(store, A);
    for (let i = 0; i < 3000; i++) await CRUDJT.create({ i });
    await CRUDJT.Config.shutdownServer();
    const { logger, lines } = capture();
    await start(store, randomKey(), [A], logger);
    // shut down at once, mid-pass: no unhandled error, no warning
    await CRUDJT.Config.shutdownServer();
    await sleep(200);
    expect(lines.warn).to.deep.equal([]);
  });
});
