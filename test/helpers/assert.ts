// Assertions on rejected promises (chai@4 has none without plugins).
import { expect } from 'chai';

type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * Awaits `promise`, expects it to reject with an instance of `cls` whose
 * message equals `message` (string) or matches it (RegExp). Returns the error.
 */
export async function expectReject(
  promise: Promise<unknown>,
  cls: ErrorClass | ErrorClass[],
  message?: string | RegExp,
): Promise<Error> {
  let error: unknown;
  let value: unknown;
  try {
    value = await promise;
  } catch (e) {
    error = e;
  }
  if (error === undefined) {
    expect.fail(`expected a rejection, got ${JSON.stringify(value)}`);
  }
  const classes = Array.isArray(cls) ? cls : [cls];
  expect(classes.some((c) => error instanceof c), `error ${String(error)} is one of ${classes.map((c) => c.name).join('/')}`).to.equal(true);
  const err = error as Error;
  if (typeof message === 'string') expect(err.message).to.equal(message);
  else if (message instanceof RegExp) expect(err.message).to.match(message);
  return err;
}

/** Calls `fn` and expects the result to be a Promise (no synchronous throw). */
export function callAsync(fn: () => Promise<unknown>): Promise<unknown> {
  let p: Promise<unknown>;
  try {
    p = fn();
  } catch (e) {
    expect.fail(`threw synchronously: ${String(e)}`);
  }
  expect(p).to.be.instanceOf(Promise);
  return p;
}
