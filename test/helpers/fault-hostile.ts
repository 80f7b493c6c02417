// fast-check arbitraries of hostile arguments for create/read/update/delete
// (test/95.hostile-api.test.ts): wrong types, huge and odd numbers, deep and
// cyclic objects, giant strings, Buffers, Symbols, functions, getters that
// throw, proxies whose traps throw, objects with __proto__ keys.
import fc from 'fast-check';

const GIANT = 'x'.repeat(1 << 20);
const GIANT_WIDE = '\u{1F511}'.repeat(1 << 16);
const BIG_BUFFER = Buffer.alloc(1 << 20, 7);

function deep(depth: number, arrays: boolean): unknown {
  let d: unknown = { v: 1 };
  for (let i = 0; i < depth; i++) d = arrays ? [d] : { a: d };
  return d;
}
const DEEP_OBJECT = deep(100_000, false);
const DEEP_ARRAY = deep(100_000, true);

class Point {
  x = 1;
}

class BadDate extends Date {
  override getTime(): number {
    throw new Error('getTime exploded');
  }
}

/** Factories, so that mutable hostile objects are fresh for every run. */
const FACTORIES: Array<() => unknown> = [
  () => 2 ** 62,
  () => -(2 ** 62),
  () => 2 ** 53,
  () => Number.MAX_SAFE_INTEGER,
  () => Number.MAX_VALUE,
  () => Number.MIN_VALUE,
  () => NaN,
  () => -0,
  () => Infinity,
  () => -Infinity,
  () => 10n ** 30n,
  () => -(2n ** 63n) - 1n,
  () => 2n ** 64n,
  () => -1n,
  () => Symbol('hostile'),
  () => Symbol.iterator,
  () => () => 1,
  () => async () => 1,
  () => function* gen() {
    yield 1;
  },
  () => Point,
  () => new Point(),
  () => GIANT,
  () => GIANT_WIDE,
  () => '\ud800',
  () => '\u0000',
  () => '',
  () => ' ',
  () => BIG_BUFFER,
  () => Buffer.alloc(0),
  () => new Uint8Array(300),
  () => new Float64Array([NaN, -0]),
  () => new ArrayBuffer(8),
  () => new DataView(new ArrayBuffer(4)),
  () => DEEP_OBJECT,
  () => DEEP_ARRAY,
  () => {
    const c: Record<string, unknown> = { a: 1 };
    c.self = c;
    return c;
  },
  () => {
    const a: unknown[] = [1];
    a.push({ back: a });
    return { a };
  },
  () => ({
    get boom(): never {
      throw new Error('getter exploded');
    },
  }),
  () => ({
    get boom(): never {
      // eslint-disable-next-line no-throw-literal
      throw 'a thrown string';
    },
  }),
  () => {
    // A value that is small while validated and giant when packed.
    let n = 0;
    return {
      get v(): string {
        n++;
        return n > 1 ? GIANT : 'ok';
      },
    };
  },
  () => {
    // A value that is a string while validated and a cyclic object when packed.
    let n = 0;
    const c: Record<string, unknown> = {};
    c.c = c;
    return {
      get v(): unknown {
        n++;
        return n > 1 ? c : 'ok';
      },
    };
  },
  () =>
    new Proxy({ a: 1 }, {
      get() {
        throw new Error('get trap exploded');
      },
    }),
  () =>
    new Proxy({ a: 1 }, {
      ownKeys() {
        throw new Error('ownKeys trap exploded');
      },
    }),
  () =>
    new Proxy({ a: 1 }, {
      getPrototypeOf() {
        throw new Error('getPrototypeOf trap exploded');
      },
    }),
  () =>
    new Proxy({ a: 1 }, {
      getOwnPropertyDescriptor() {
        throw new Error('getOwnPropertyDescriptor trap exploded');
      },
    }),
  () => new Proxy({ a: 1 }, {}),
  () => new Proxy([1, 2], {}),
  () => {
    const { proxy, revoke } = Proxy.revocable({ a: 1 }, {});
    revoke();
    return proxy;
  },
  () => new Proxy(() => 1, {}),
  () => JSON.parse('{"__proto__": {"polluted": 1}, "a": 1}'),
  () => JSON.parse('{"__proto__": null}'),
  () => ({ ['__proto__']: 'own' }),
  () => ({ constructor: 1, toString: 2, hasOwnProperty: 3, valueOf: 4 }),
  () => Object.assign(Object.create(null), { a: 1 }),
  () => Object.create(null),
  () => Object.freeze({ a: Object.freeze([1]) }),
  () => Object.defineProperty({ a: 1 }, 'hidden', { value: 2, enumerable: false }),
  () => ({ [Symbol('k')]: 1, a: 1 }),
  () => {
    const a: unknown[] = [];
    a.length = 2 ** 32 - 1;
    return { a };
  },
  () => new Array(1_000_000),
  () => {
    const o: Record<string, number> = {};
    for (let i = 0; i < 300; i++) o[`k${i}`] = i;
    return o;
  },
  () => ({ ['k'.repeat(300)]: 1 }),
  () => new Date(NaN),
  () => new Date(8.64e15),
  () => new Date(-8.64e15),
  () => new BadDate(),
  () => new Map([['a', 1]]),
  () => new Set([1]),
  () => new WeakMap(),
  () => Promise.resolve(1),
  () => new Error('an error'),
  () => new Number(5),
  () => new String('AAAAAAAAAAAAAAAAAAAAAA'),
  () => Object(Symbol('boxed')),
  () => /regex/,
  () => globalThis,
  () => process,
  () => ({ then: (resolve: (v: unknown) => void) => resolve(1) }),
  () => ({ valueOf: () => 5, toString: () => '5' }),
  () => ({
    valueOf(): never {
      throw new Error('valueOf exploded');
    },
  }),
];

/**
 * A hostile value made only when the call runs: fast-check itself must not
 * touch it (a revoked proxy throws on `in`), and each run gets a fresh one.
 */
export class Lazy {
  constructor(readonly index: number) {}
  make(): unknown {
    return FACTORIES[this.index]();
  }
  [fc.toStringMethod](): string {
    return `Lazy(${FACTORIES[this.index].toString().replace(/\s+/g, ' ').slice(0, 80)})`;
  }
}

/** Replaces Lazy values (at the top and one level into plain objects) by the real thing. */
export function materialize(v: unknown): unknown {
  if (v instanceof Lazy) return v.make();
  if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      Object.defineProperty(o, k, { value: materialize((v as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true });
    }
    return o;
  }
  return v;
}

/** How many hand-made hostile values there are (Lazy indexes 0..n-1). */
export const SPECIAL_COUNT = FACTORIES.length;

export const special: fc.Arbitrary<unknown> = fc.integer({ min: 0, max: FACTORIES.length - 1 }).map((i) => new Lazy(i));

/** Any value at all, with hostile ones often. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  special,
  fc.anything({
    maxDepth: 3,
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withObjectString: true,
    withTypedArray: true,
    withSparseArray: true,
    stringUnit: 'binary',
  }),
);

/** JSON-like values that MessagePack holds. */
const plainValue: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 2 });

/** Plain objects: valid ones, and ones with hostile values inside. */
export const validData: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(fc.string({ maxLength: 8 }), plainValue, { minKeys: 1, maxKeys: 6 });

export const hostileData: fc.Arbitrary<unknown> = fc.oneof(
  validData,
  hostileValue,
  fc.dictionary(fc.string({ maxLength: 8, unit: 'binary' }), hostileValue, { maxKeys: 4 }),
  fc.tuple(validData, hostileValue).map(([d, v]) => ({ ...d, z: v })),
);

export const hostileLimit: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, undefined, 1, 3600, Math.floor(Number.MAX_SAFE_INTEGER / 1000), Number.MAX_SAFE_INTEGER),
  fc.integer(),
  fc.double(),
  fc.bigInt(),
  fc.maxSafeInteger(),
  hostileValue,
);

export const hostileToken = (live: string[]): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constantFrom(...live),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.stringMatching(/^[A-Za-z0-9_-]{22}$/),
    fc.string({ maxLength: 300 }),
    hostileValue,
  );

/** True for a positive safe integer <= max, or null/undefined. */
export function isValidLimit(v: unknown, max: number): boolean {
  return v === null || v === undefined || (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 && v <= max);
}
