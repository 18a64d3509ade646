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

test('TimerSet: named one-shot timers; restarting a name replaces it, cancel and cancelAll leave no expiry behind', async () => {
  const { FakeClock } = await import('../../../src/sip/clock.js');
  const { TimerQueues, TimerSet } = await import('../../../src/sip/transaction/context.js');
  const clock = new FakeClock();
  const fired: string[] = [];
  const set = new TimerSet<'A' | 'B' | 'C' | 'D'>(new TimerQueues(clock), { timerFired: (n) => fired.push(`${n}@${clock.now()}`) });
  set.start('A', 100);
  set.start('B', 200);
  set.start('C', 300);
  set.start('D', 400);
  assert.deepEqual(['A', 'B', 'C', 'D'].map((n) => set.has(n as 'A')), [true, true, true, true]);
  // The first of four is cancelled, then one kept in the overflow list, then a restart.
  set.cancel('A', 'C');
  set.start('B', 50);
  assert.deepEqual(['A', 'B', 'C', 'D'].map((n) => set.has(n as 'A')), [false, true, false, true]);
  clock.advance(1000);
  assert.deepEqual(fired, ['B@50', 'D@400']);
  assert.equal(set.has('B') || set.has('D'), false);
  assert.equal(clock.pending, 0);
  set.start('A', 10);
  set.start('B', 20);
  set.cancelAll();
  clock.advance(1000);
  assert.deepEqual(fired, ['B@50', 'D@400']);
  assert.equal(clock.pending, 0);
  // An expiry fired from the overflow list leaves the first slot's timer running.
  set.start('C', 500);
  set.start('D', 100);
  clock.advance(100);
  assert.deepEqual([set.has('C'), set.has('D')], [true, false]);
  clock.advance(400);
  assert.deepEqual(fired.slice(2), ['D@2100', 'C@2500']);
});

test('TimerSet: on a clock with fractional milliseconds a timer never fires early (expiries are rounded up)', async () => {
  const { TimerQueues, TimerSet } = await import('../../../src/sip/transaction/context.js');
  let now = 10.4;
  const armed: { at: number; fn: () => void }[] = [];
  const clock = { now: () => now, setTimer: (ms: number, fn: () => void) => (armed.push({ at: now + ms, fn }), { cancel: () => undefined }) };
  const fired: number[] = [];
  const set = new TimerSet<'J'>(new TimerQueues(clock), { timerFired: () => fired.push(now) });
  set.start('J', 32_000);
  // The clock timer fires a little early (as a platform timer may): the entry is not due yet.
  now = 32_010.3;
  armed.shift()!.fn();
  assert.deepEqual(fired, []);
  now = armed[0]!.at;
  armed.shift()!.fn();
  assert.equal(fired.length, 1);
  assert.ok(fired[0]! >= 10.4 + 32_000);
});
