'use strict';
// Deterministic session payloads for the benchmark.
//
// Every payload is a plain object shaped like what an app keeps in a session
// ({ user_id, role, name, ... }) whose MessagePack encoding (plain maps, the
// options crudjt itself uses) is a chosen size between 40 and 256 bytes.
// The same seed gives the same payloads in every process (the gRPC workers
// build their own copy instead of receiving it over IPC).

// The encoder: crudjt's own (dist/msgpack.js, what crudjt itself runs on
// every call), so that packing costs the same in every row; msgpackr with
// plain maps when crudjt is not built. The bench must still run the other
// peers then.
const path = require('path');

function loadCodec() {
  try {
    const m = require(path.join(__dirname, '..', '..', 'dist', 'msgpack.js'));
    if (typeof m.pack === 'function' && typeof m.unpack === 'function') {
      return { name: 'crudjt dist/msgpack.js', pack: (v) => m.pack(v), unpack: (b) => m.unpack(b) };
    }
  } catch {
    // not built: fall through
  }
  try {
    const { Packr } = require('msgpackr');
    const packr = new Packr({ useRecords: false, variableMapSize: true, moreTypes: false, structuredClone: false, bundleStrings: false });
    return { name: 'msgpackr (plain maps)', pack: (v) => packr.pack(v), unpack: (b) => packr.unpack(b) };
  } catch {
    throw new Error('no MessagePack encoder: build crudjt (npm run build) or install msgpackr');
  }
}

const codec = loadCodec();

function pack(value) {
  return codec.pack(value);
}

function unpack(bytes) {
  return codec.unpack(bytes);
}

/** mulberry32: a tiny seeded PRNG, good enough to vary payloads. */
function rng(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ROLES = ['user', 'admin', 'editor', 'viewer', 'owner', 'billing', 'support'];
const LOCALES = ['en-US', 'de-DE', 'fr-FR', 'uk-UA', 'ja-JP', 'pt-BR'];
const SCOPES = ['read', 'write', 'orders', 'billing', 'admin', 'reports', 'profile', 'export'];
const ALPHA = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomText(next, len) {
  let s = '';
  for (let i = 0; i < len; i++) s += ALPHA[Math.floor(next() * ALPHA.length)];
  return s;
}

/**
 * One payload whose MessagePack size is exactly `target` bytes when
 * 41 <= target <= 256 (below that, the smallest base object is returned).
 */
function makePayload(next, target) {
  const userId = 1 + Math.floor(next() * 2_000_000_000);
  const obj = {
    user_id: userId,
    role: ROLES[Math.floor(next() * ROLES.length)],
    name: 'u' + randomText(next, 9 + Math.floor(next() * 6)),
  };
  // Optional fields, added while they fit, in a fixed order.
  const extras = [
    ['org_id', () => 1 + Math.floor(next() * 100000)],
    ['locale', () => LOCALES[Math.floor(next() * LOCALES.length)]],
    ['email', () => `${obj.name}@example.com`],
    ['scopes', () => SCOPES.filter(() => next() < 0.4)],
    ['mfa', () => next() < 0.5],
    ['csrf', () => randomText(next, 22)],
    ['ip', () => `10.${Math.floor(next() * 256)}.${Math.floor(next() * 256)}.${Math.floor(next() * 256)}`],
    ['agent', () => 'Mozilla/5.0 (X11; Linux x86_64) ' + randomText(next, 12)],
  ];
  for (const [k, gen] of extras) {
    const v = gen();
    obj[k] = v;
    // Leave room for at least the "note" key (5 bytes) and a 1-byte string.
    if (pack(obj).length > target - 6) {
      delete obj[k];
      break;
    }
  }
  // Pad with a "note" string to hit the target exactly. A 32-byte gap cannot
  // be filled (fixstr holds 31, str8 costs one more header byte): then the
  // name grows by one character and the pad is sized again.
  for (let attempt = 0; attempt < 3; attempt++) {
    delete obj.note;
    const base = pack(obj).length;
    if (base + 6 > target) break;
    let len = target - base - 5 - 1; // key "note" = 5 bytes, fixstr header = 1
    if (len > 31) len -= 1; // str8 header is 2 bytes
    obj.note = randomText(next, Math.max(0, len));
    while (pack(obj).length > target && obj.note.length > 0) obj.note = obj.note.slice(1);
    if (pack(obj).length === target) break;
    obj.name += ALPHA[Math.floor(next() * ALPHA.length)];
  }
  return obj;
}

/**
 * `count` payloads with MessagePack sizes spread uniformly over
 * [minBytes, maxBytes]. Returns { payloads, sizes }.
 */
function makePayloads(count, seed, minBytes = 40, maxBytes = 256) {
  const next = rng(seed);
  const payloads = new Array(count);
  const sizes = new Array(count);
  for (let i = 0; i < count; i++) {
    const target = minBytes + Math.floor(next() * (maxBytes - minBytes + 1));
    payloads[i] = makePayload(next, target);
    sizes[i] = pack(payloads[i]).length;
  }
  return { payloads, sizes };
}

module.exports = { codec: codec.name, pack, unpack, rng, makePayload, makePayloads, randomText };
