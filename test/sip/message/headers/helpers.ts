// Shared assertions for the header parser tests.
import assert from 'node:assert/strict';
import { ParseError } from '../../../../src/sip/message/errors.js';

/** Asserts that fn throws a ParseError (with a 400-class status unless told otherwise). */
export function assertParseError(fn: () => unknown, status = 400): void {
  assert.throws(fn, (e: unknown) => e instanceof ParseError && e.status === status);
}

/** Runs fn and returns its duration in ms, so hostile-input tests can bound the work. */
export function elapsed(fn: () => unknown): number {
  const t0 = performance.now();
  try {
    fn();
  } catch {
    // hostile inputs are expected to throw; only the time matters here
  }
  return performance.now() - t0;
}
