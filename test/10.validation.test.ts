import { expect } from 'chai';
import './00.setup';
import {
  MAX_TTL_SECONDS,
  checkOptionNames,
  validateData,
  validateLimit,
  validatePackedData,
  validateSecretKey,
  validateToken,
  validateTtl,
  validateWireLimit,
  validateSubject,
  validateCreateOptions,
  validateHandle,
  validatePreviousSecretKeys,
  MAX_SUBJECT_BYTES,
} from '../lib/validation';

describe('validation', () => {
  describe('validateData()', () => {
    it('returns the MessagePack encoding with a fixmap header', () => {
      expect(validateData({ a: 1 })).to.deep.equal(Buffer.from([0x81, 0xa1, 0x61, 0x01]));
    });

    it('accepts objects with a null prototype', () => {
      const o = Object.create(null);
      o.a = 1;
      expect(validateData(o).length).to.equal(4);
    });

    it('counts bytes, not characters, against the 256-byte limit', () => {
      // 'é' is 2 bytes in UTF-8: 126 of them = 252 bytes + 4 of headers > 256.
      expect(() => validateData({ a: 'é'.repeat(126) })).to.throw(RangeError, 'Hash can not be bigger than 256 bytesize');
      expect(validateData({ a: 'é'.repeat(125) }).length).to.equal(255);
    });

    it('allows shared (non-cyclic) references', () => {
      const shared = { x: 1 };
      expect(() => validateData({ a: shared, b: shared })).to.not.throw();
    });

    it('rejects a cycle through an array', () => {
      const arr: unknown[] = [];
      arr.push(arr);
      expect(() => validateData({ arr })).to.throw(TypeError, /circular/);
    });

    it('rejects Map, Set and class instances nested inside data', () => {
      expect(() => validateData({ m: new Map() })).to.throw(TypeError, /Map/);
      expect(() => validateData({ s: new Set() })).to.throw(TypeError, /Set/);
    });

    it('refuses a 10 MB string without encoding it', () => {
      const started = Date.now();
      expect(() => validateData({ a: 'x'.repeat(10 * 1024 * 1024) })).to.throw(RangeError, 'Hash can not be bigger than 256 bytesize');
      expect(() => validateData({ ['k'.repeat(300)]: 1 })).to.throw(RangeError, 'Hash can not be bigger than 256 bytesize');
      expect(Date.now() - started).to.be.below(200);
    });

    it('turns a throwing getter into a TypeError', () => {
      const data = { get boom(): number { throw new Error('nope'); } };
      expect(() => validateData(data)).to.throw(TypeError, /nope/);
    });

    it('rejects an invalid Date', () => {
      expect(() => validateData({ d: new Date(NaN) })).to.throw(TypeError, /invalid Date/);
    });

    it('encodes undefined values as nil', () => {
      expect(validateData({ a: undefined })).to.deep.equal(Buffer.from([0x81, 0xa1, 0x61, 0xc0]));
    });
  });

  describe('validateLimit()', () => {
    it('maps null and undefined to null (no limit)', () => {
      expect(validateLimit(null, 'ttl', 10)).to.equal(null);
      expect(validateLimit(undefined, 'ttl', 10)).to.equal(null);
    });

    it('accepts positive safe integers up to the maximum', () => {
      expect(validateLimit(1, 'ttl', 10)).to.equal(1);
      expect(validateLimit(10, 'ttl', 10)).to.equal(10);
      expect(() => validateLimit(11, 'ttl', 10)).to.throw(RangeError, /^ttl must be at most 10/);
    });

    it('says why a value is refused', () => {
      expect(() => validateTtl(0)).to.throw(RangeError, /greater than 0/);
      expect(() => validateTtl(1.5)).to.throw(RangeError, /whole number/);
      expect(() => validateTtl(NaN)).to.throw(RangeError, /finite/);
      expect(() => validateTtl('5')).to.throw(TypeError, /string/);
      expect(() => validateTtl(5n)).to.throw(TypeError, /bigint/);
      expect(() => validateTtl(2 ** 62)).to.throw(RangeError, new RegExp(`at most ${MAX_TTL_SECONDS}`));
    });
  });

  describe('validateWireLimit()', () => {
    it('maps -1 and 0 to no limit', () => {
      expect(validateWireLimit(-1, 'ttl', 10)).to.equal(null);
      expect(validateWireLimit(0, 'ttl', 10)).to.equal(null);
    });

    it('rejects other negatives and values beyond 2^53', () => {
      expect(() => validateWireLimit(-5, 'ttl', 10)).to.throw(RangeError);
      expect(() => validateWireLimit(2 ** 63, 'silence_read', Number.MAX_SAFE_INTEGER)).to.throw(RangeError, /^silence_read/);
    });
  });

  describe('validateToken()', () => {
    it('accepts any non-empty string', () => {
      expect(validateToken('x')).to.equal('x');
    });
    it('rejects everything else', () => {
      for (const bad of ['', null, undefined, 1, {}, []]) {
        expect(() => validateToken(bad)).to.throw(TypeError, 'token must be a non-empty String');
      }
    });
  });

  describe('validatePackedData()', () => {
    it('accepts a non-empty map of at most 256 bytes', () => {
      expect(validatePackedData(Buffer.from([0x81, 0xa1, 0x61, 0x01]))).to.deep.equal(Buffer.from([0x81, 0xa1, 0x61, 0x01]));
    });
    it('rejects malformed bytes, non-maps, empty maps and big payloads', () => {
      expect(() => validatePackedData(Buffer.from([0x82, 0xa1]))).to.throw(TypeError, /not valid MessagePack/);
      expect(() => validatePackedData(Buffer.from([0x92, 0x01, 0x02]))).to.throw(TypeError, 'Must be a Hash (Object)');
      expect(() => validatePackedData(Buffer.from([0xc0]))).to.throw(TypeError, 'Must be a Hash (Object)');
      expect(() => validatePackedData(Buffer.from([0x80]))).to.throw(TypeError, 'Hash can not be empty');
      expect(() => validatePackedData(Buffer.alloc(257, 0x01))).to.throw(RangeError, 'Hash can not be bigger than 256 bytesize');
      expect(() => validatePackedData(Buffer.alloc(0))).to.throw(TypeError);
    });
  });

  describe('validateSecretKey()', () => {
    const b64 = (n: number): string => Buffer.alloc(n, 1).toString('base64');

    it('accepts 32, 48 and 64 bytes of canonical base64', () => {
      for (const n of [32, 48, 64]) expect(validateSecretKey(b64(n)).length).to.equal(n);
    });

    it("rejects non-base64 with TypeError ''secret_key' must be a valid Base64 string'", () => {
      for (const bad of ['not base64!', `${b64(32)}\n`, b64(32).slice(0, -1), b64(32).replace(/=$/, ''), 'A'.repeat(42) + 'B=', 42, Buffer.alloc(32)]) {
        expect(() => validateSecretKey(bad), String(bad)).to.throw(TypeError, "'secret_key' must be a valid Base64 string");
      }
    });

    it('rejects other sizes naming the size', () => {
      expect(() => validateSecretKey(b64(16))).to.throw(TypeError, "'secret_key' must be exactly 32, 48, or 64 bytes. Got 16 bytes");
      expect(() => validateSecretKey(b64(33))).to.throw(TypeError, 'Got 33 bytes');
    });
  });

  describe('checkOptionNames()', () => {
    it('names the misspelled option', () => {
      expect(() => checkOptionNames({ grpc_prot: 1 }, ['grpc_port'], 'startMaster')).to.throw(TypeError, /'grpc_prot'/);
    });
  });

  describe('validateSubject()', () => {
    it('accepts 1..128 bytes of UTF-8, counted in bytes', () => {
      expect(validateSubject('u')).to.equal('u');
      expect(validateSubject('x'.repeat(MAX_SUBJECT_BYTES))).to.have.length(128);
      expect(validateSubject('é'.repeat(64))).to.have.length(64);
      expect(validateSubject('🔑'.repeat(32))).to.have.length(64);
      expect(() => validateSubject('é'.repeat(65))).to.throw(RangeError, 'subject can not be bigger than 128 bytes of UTF-8, got 130 bytes');
      expect(() => validateSubject('x'.repeat(129))).to.throw(RangeError, /^subject can not be bigger than 128 bytes/);
      expect(() => validateSubject('x'.repeat(1e6))).to.throw(RangeError);
    });

    it('rejects non-strings and the empty string with a TypeError naming the argument', () => {
      for (const v of ['', null, undefined, 5, 5n, {}, [], Buffer.from('u'), Symbol('s')]) {
        expect(() => validateSubject(v), String(typeof v)).to.throw(TypeError, /^subject must be a non-empty String/);
      }
      expect(() => validateSubject(7, 'options.subject')).to.throw(TypeError, 'options.subject must be a non-empty String, got 7');
    });

    it('rejects lone surrogates (they would collide as U+FFFD) but accepts pairs', () => {
      expect(() => validateSubject('a\uD800')).to.throw(TypeError, /lone surrogate/);
      expect(() => validateSubject('\uDC00a')).to.throw(TypeError, /lone surrogate/);
      expect(() => validateSubject('\uDC00\uD800')).to.throw(TypeError, /lone surrogate/);
      expect(validateSubject('\uD83D\uDD11')).to.equal('🔑');
    });
  });

  describe('validateCreateOptions()', () => {
    it('gives the subject or null', () => {
      expect(validateCreateOptions(undefined)).to.equal(null);
      expect(validateCreateOptions(null)).to.equal(null);
      expect(validateCreateOptions({})).to.equal(null);
      expect(validateCreateOptions({ subject: null })).to.equal(null);
      expect(validateCreateOptions({ subject: 'user-1' })).to.equal('user-1');
      expect(validateCreateOptions(Object.assign(Object.create(null), { subject: 'u' }))).to.equal('u');
    });

    it('rejects non-objects, unknown keys and throwing getters with a TypeError', () => {
      for (const v of ['u', 1, true, [], new Map(), new Date()]) {
        expect(() => validateCreateOptions(v)).to.throw(TypeError, /^create options must be an object/);
      }
      expect(() => validateCreateOptions({ subjects: 'u' })).to.throw(TypeError, "create: unknown option 'subjects' (allowed: subject)");
      const getter = { get subject(): string { throw new Error('boom'); } };
      expect(() => validateCreateOptions(getter)).to.throw(TypeError, /can not be read: boom/);
      const proxy = new Proxy({}, { ownKeys: () => { throw new Error('trap'); } });
      expect(() => validateCreateOptions(proxy)).to.throw(TypeError, /trap/);
    });
  });

  describe('validateHandle()', () => {
    it('accepts any non-empty string', () => {
      expect(validateHandle('x')).to.equal('x');
      for (const v of ['', null, undefined, 1, {}, Buffer.from('a')]) {
        expect(() => validateHandle(v)).to.throw(TypeError, 'handle must be a non-empty String');
      }
    });
  });

  describe('validatePreviousSecretKeys()', () => {
    const k32 = Buffer.alloc(32, 1).toString('base64');
    const k64 = Buffer.alloc(64, 2).toString('base64');
    it('decodes an array of keys like secret_key', () => {
      expect(validatePreviousSecretKeys(undefined)).to.deep.equal([]);
      expect(validatePreviousSecretKeys([])).to.deep.equal([]);
      expect(validatePreviousSecretKeys([k32, k64]).map((b) => b.length)).to.deep.equal([32, 64]);
    });

    it('names the bad entry', () => {
      expect(() => validatePreviousSecretKeys(k32)).to.throw(TypeError, /^'previous_secret_keys' must be an array/);
      expect(() => validatePreviousSecretKeys([k32, 'not base64!'])).to.throw(TypeError, "'previous_secret_keys[1]' must be a valid Base64 string");
      expect(() => validatePreviousSecretKeys([Buffer.alloc(16).toString('base64')])).to.throw(
        TypeError, "'previous_secret_keys[0]' must be exactly 32, 48, or 64 bytes. Got 16 bytes");
      expect(() => validatePreviousSecretKeys([5])).to.throw(TypeError, /previous_secret_keys\[0\]/);
      expect(() => validatePreviousSecretKeys(new Array(17).fill(k32))).to.throw(RangeError, /at most 16/);
    });
  });
});
