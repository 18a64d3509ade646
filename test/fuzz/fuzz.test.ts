// Deterministic mutation fuzzing of the pure parsers (issue 6): a fixed number of iterations
// from a fixed seed per target, so every CI run tries the same inputs. A finding (an exception
// that is not the module's typed error, or a single call slower than SLOW_MS) fails the test
// with the input hex-dumped and the seed/iteration that reproduces it:
//   node scripts/fuzz-long.mjs --target=<name> --seed=<seed> --repro=<iteration>
// Longer runs: node scripts/fuzz-long.mjs --seconds=600 --seed=N (docs/reliability.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFinding, inputFor, runTarget, type Target } from './engine.js';
import { TARGETS } from './targets.js';

const SEED = 20261125;
/** Sized so the whole file takes well under 20 s on a 2-core machine. */
const ITERATIONS: Record<string, number> = {
  'sip-datagram': 20000,
  'sip-stream': 4000,
  'msrp-stream': 8000,
  'msrp-message': 20000,
  cpim: 20000,
  'conference-info': 6000,
  multipart: 20000,
  uri: 30000,
  sdp: 20000,
  'resource-lists': 10000,
};
// Generous on a shared CI machine: a super-linear path on a 64 KiB input takes far longer.
const SLOW_MS = 200;
// Rough bound on heap growth across one target's run (after GC when --expose-gc is given).
const HEAP_GROWTH_MB = 128;

for (const target of TARGETS) {
  test(`fuzz ${target.name}: ${ITERATIONS[target.name]} mutated inputs from seed ${SEED}`, () => {
    const iterations = ITERATIONS[target.name];
    assert.ok(iterations !== undefined, `no iteration count for ${target.name}`);
    assert.ok(target.corpus.length > 0, `${target.name}: empty corpus`);
    const r = runTarget(target, { seed: SEED, iterations, slowMs: SLOW_MS });
    console.log(`# ${target.name}: ${r.executions} executions, corpus ${target.corpus.length}, slowest ${r.slowestMs.toFixed(1)} ms, heap ${r.heapStartMB.toFixed(0)} -> ${r.heapEndMB.toFixed(0)} MB, ${r.findings.length} findings`);
    assert.equal(r.findings.length, 0, r.findings.map(formatFinding).join('\n\n'));
    assert.equal(r.executions, iterations);
    assert.ok(r.heapEndMB - r.heapStartMB < HEAP_GROWTH_MB, `heap grew ${(r.heapEndMB - r.heapStartMB).toFixed(0)} MB`);
  });
}

test('the oracle reports an untyped exception and a slow call, with a reproducible input', () => {
  const corpus = [Buffer.from('hello world')];
  const throws: Target = { name: 'self-check-throw', corpus, run: (b) => { if (b.length > 11) throw new TypeError('boom'); }, expected: () => false };
  const r = runTarget(throws, { seed: 1, iterations: 200, maxFindings: 1 });
  assert.equal(r.findings.length, 1);
  const f = r.findings[0]!;
  assert.match(f.detail, /TypeError: boom/);
  assert.match(formatFinding(f), /--repro=\d+/);
  assert.deepEqual(inputFor(throws, 1, f.iteration).input, f.input);
  const slow: Target = { name: 'self-check-slow', corpus, run: () => { const t = performance.now(); while (performance.now() - t < 5); }, expected: () => false };
  assert.equal(runTarget(slow, { seed: 1, iterations: 2, slowMs: 2 }).findings[0]?.kind, 'slow');
});
