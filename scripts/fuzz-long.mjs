#!/usr/bin/env node
// Long fuzz runs of the targets in test/fuzz/targets.ts (compiled: run `npx tsc -p tsconfig.json` first).
//   node --expose-gc scripts/fuzz-long.mjs --seconds=600 --seed=N [--target=name[,name]]
//     splits the time evenly over the targets; prints executions and findings per target.
//   node scripts/fuzz-long.mjs --target=name --seed=N --repro=I
//     re-runs iteration I of that target and prints the input and what it did.
// Exit status 1 when anything was found.

import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  if (!m) throw new Error(`bad argument ${a}`);
  return [m[1], m[2] ?? 'true'];
}));
const dist = new URL('../dist/test/fuzz/', import.meta.url);
if (!existsSync(new URL('targets.js', dist))) {
  console.error('dist/test/fuzz/targets.js missing: run `npx tsc -p tsconfig.json` first');
  process.exit(2);
}
const { TARGETS } = await import(new URL('targets.js', dist).href);
const { runTarget, formatFinding, inputFor, hexdump } = await import(new URL('engine.js', dist).href);

const seed = Number(args.seed ?? 1);
const slowMs = Number(args['slow-ms'] ?? 200);
let targets = TARGETS;
if (args.target) {
  const names = args.target.split(',');
  targets = TARGETS.filter((t) => names.includes(t.name));
  if (targets.length !== names.length) {
    console.error(`unknown target in ${args.target}; known: ${TARGETS.map((t) => t.name).join(', ')}`);
    process.exit(2);
  }
}

if (args.repro !== undefined) {
  const t = targets[0];
  const i = Number(args.repro);
  const { input, rng } = inputFor(t, seed, i);
  console.log(`${t.name} seed ${seed} iteration ${i}: ${input.length} bytes\n${hexdump(input, Number(args.bytes ?? 400))}`);
  const t0 = performance.now();
  try {
    t.run(input, rng);
    console.log(`returned in ${(performance.now() - t0).toFixed(1)} ms`);
  } catch (e) {
    console.log(`threw after ${(performance.now() - t0).toFixed(1)} ms (${t.expected(e) ? 'expected' : 'FINDING'}):`);
    console.log(e);
  }
  process.exit(0);
}

const seconds = Number(args.seconds ?? 60);
const per = (seconds * 1000) / targets.length;
const rows = [];
let findings = 0;
const started = performance.now();
for (const t of targets) {
  const r = runTarget(t, { seed, deadline: performance.now() + per, slowMs, maxFindings: 20 });
  rows.push(r);
  findings += r.findings.length;
  for (const f of r.findings) console.log(formatFinding(f) + '\n');
  console.log(`${t.name.padEnd(16)} ${String(r.executions).padStart(9)} execs  slowest ${r.slowestMs.toFixed(1).padStart(7)} ms  heap ${r.heapStartMB.toFixed(0)} -> ${r.heapEndMB.toFixed(0)} MB  findings ${r.findings.length}`);
}
const total = rows.reduce((s, r) => s + r.executions, 0);
console.log(`\n| target | executions | slowest call (ms) | findings |\n|---|---|---|---|`);
for (const r of rows) console.log(`| ${r.target} | ${r.executions} | ${r.slowestMs.toFixed(1)} | ${r.findings.length} |`);
console.log(`\nseed ${seed}, ${((performance.now() - started) / 1000).toFixed(0)} s, ${total} executions, ${findings} findings`);
process.exit(findings > 0 ? 1 : 0);
