/**
 * Measurement helpers shared by the benches: a fixed-time throughput loop and a per-call
 * allocation estimate.
 *
 * Allocation: Node 20's v8.getHeapStatistics() has no cumulative "allocated bytes" counter
 * (only used_heap_size), so bytes per call are estimated as the growth of used_heap_size
 * (all V8 heap spaces) plus process.memoryUsage().arrayBuffers (off-heap Buffer memory)
 * across a batch of calls that ran with no garbage collection at all: forced GC before the
 * batch, and a v8.GCProfiler around it that must record zero GC events, otherwise the batch
 * is discarded and retried smaller. Run it in a process started with a big young generation
 * (--min-semi-space-size/--max-semi-space-size) so that a batch of a few thousand calls fits.
 */
import v8 from 'node:v8';

export type Op = () => void;

/** Calls `op` repeatedly for about `ms` milliseconds; returns calls per second. */
export function opsPerSecond(op: Op, ms: number, batch = 16): number {
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(ms * 1e6));
  let n = 0;
  let now = start;
  do {
    for (let i = 0; i < batch; i++) op();
    n += batch;
    now = process.hrtime.bigint();
  } while (now < deadline);
  return n / (Number(now - start) / 1e9);
}

export function forceGc(): void {
  const gc: unknown = (globalThis as Record<string, unknown>).gc;
  if (typeof gc !== 'function') throw new Error('run node with --expose-gc');
  (gc as () => void)();
  (gc as () => void)();
}

export interface AllocSample {
  /** Estimated bytes allocated per call (heap + array buffers). */
  bytesPerCall: number;
  /** Calls in the batch that produced the estimate. */
  calls: number;
}

/**
 * Estimated bytes allocated per call of `op`, from GC-free batches: the median over
 * `repeats` batches. The batch size is chosen from a small probe batch so that a batch
 * allocates about `budgetBytes` (keep it well under the young generation), clamped to
 * [minCalls, maxCalls]; a batch during which any GC ran is discarded and retried at half
 * the size. Throws when no GC-free batch of at least `minCalls` calls could be run.
 */
export function bytesPerCall(op: Op, repeats = 3, budgetBytes = 24 << 20, minCalls = 20, maxCalls = 4000): AllocSample {
  const probe = gcFreeBatch(op, minCalls);
  let n = maxCalls;
  if (probe !== undefined && probe > 0) n = Math.max(minCalls, Math.min(maxCalls, Math.floor(budgetBytes / probe)));
  const samples: number[] = [];
  let attempts = 0;
  while (samples.length < repeats) {
    if (++attempts > repeats + 8) throw new Error(`could not run a GC-free batch of ${n} calls`);
    const b = gcFreeBatch(op, n);
    if (b !== undefined) {
      samples.push(b);
    } else {
      if (n <= minCalls) throw new Error(`GC during every batch, even of ${n} calls`);
      n = Math.max(minCalls, Math.floor(n / 2));
    }
  }
  return { bytesPerCall: median(samples), calls: n };
}

/** Bytes per call over one batch of n calls, or undefined when a GC ran during it. */
function gcFreeBatch(op: Op, n: number): number | undefined {
  forceGc();
  const profiler = new v8.GCProfiler();
  profiler.start();
  const h0 = v8.getHeapStatistics().used_heap_size;
  const a0 = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < n; i++) op();
  const h1 = v8.getHeapStatistics().used_heap_size;
  const a1 = process.memoryUsage().arrayBuffers;
  const gcs = profiler.stop().statistics.length;
  return gcs > 0 ? undefined : (h1 - h0 + (a1 - a0)) / n;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
