import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TIMERS, resolveTimerConfig, timerDurations } from '../../../src/sip/transaction/timers.js';

test('RFC 3261 Appendix A: default T1/T2/T4 and the timers derived from them (unreliable transport)', () => {
  assert.deepEqual({ ...DEFAULT_TIMERS }, { T1: 500, T2: 4000, T4: 5000 });
  const d = timerDurations(resolveTimerConfig(undefined), false);
  assert.deepEqual(d, {
    T1: 500, T2: 4000, T4: 5000,
    A: 500, B: 32_000, D: 32_000, E: 500, F: 32_000, G: 500, H: 32_000, I: 5000, J: 32_000, K: 5000,
    L: 32_000, M: 32_000,
  });
});

test('RFC 3261 Appendix A: on reliable transports A/E/G are not used and D/I/J/K are zero; B/F/H and RFC 6026 L/M stay 64*T1', () => {
  const d = timerDurations(resolveTimerConfig({}), true);
  assert.equal(d.A, undefined);
  assert.equal(d.E, undefined);
  assert.equal(d.G, undefined);
  assert.deepEqual([d.D, d.I, d.J, d.K], [0, 0, 0, 0]);
  assert.deepEqual([d.B, d.F, d.H, d.L, d.M], [32_000, 32_000, 32_000, 32_000, 32_000]);
});

test('RFC 3261 §17.1.1.1: a configured T1 scales the 64*T1 timers; Timer D never drops below 32 s', () => {
  const slow = timerDurations(resolveTimerConfig({ T1: 1000 }), false);
  assert.deepEqual([slow.B, slow.F, slow.H, slow.J, slow.L, slow.M, slow.D], [64_000, 64_000, 64_000, 64_000, 64_000, 64_000, 64_000]);
  const fast = timerDurations(resolveTimerConfig({ T1: 100, T2: 1000, T4: 2000 }), false);
  assert.deepEqual([fast.A, fast.B, fast.D, fast.I, fast.K], [100, 6400, 32_000, 2000, 2000]);
});

test('Timer configuration rejects non-positive values and T2 < T1', () => {
  assert.throws(() => resolveTimerConfig({ T1: 0 }), RangeError);
  assert.throws(() => resolveTimerConfig({ T4: Number.NaN }), RangeError);
  assert.throws(() => resolveTimerConfig({ T1: 5000, T2: 4000 }), RangeError);
  assert.deepEqual(resolveTimerConfig({ T1: undefined }), { T1: 500, T2: 4000, T4: 5000 });
});
