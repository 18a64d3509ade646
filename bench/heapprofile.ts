/**
 * Summarise a V8 sampling heap profile (.heapprofile, from bench/record.ts --heap-sample or
 * DevTools): bytes allocated per function (self) and per file, largest first.
 *
 *   node dist/bench/heapprofile.js FILE.heapprofile [--top=N]
 */
import { readFileSync } from 'node:fs';

interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}

const file = process.argv[2];
if (file === undefined) {
  console.error('usage: heapprofile FILE.heapprofile [--top=N]');
  process.exit(2);
}
const top = Number(process.argv.find((a) => a.startsWith('--top='))?.slice(6) ?? 30);
const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: Node };
const byFn = new Map<string, number>();
const byFile = new Map<string, number>();
let total = 0;
const source = (url: string): string => url.replace(/^file:\/\/.*?\/dist\//, '').replace(/\.js$/, '.ts') || '(native)';
const walk = (n: Node): void => {
  const where = source(n.callFrame.url);
  const key = `${where}:${n.callFrame.functionName || '(anonymous)'}:${n.callFrame.lineNumber + 1}`;
  byFn.set(key, (byFn.get(key) ?? 0) + n.selfSize);
  byFile.set(where, (byFile.get(where) ?? 0) + n.selfSize);
  total += n.selfSize;
  for (const c of n.children) walk(c);
};
walk(head);
const show = (title: string, m: Map<string, number>): void => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * v) / total).toFixed(1).padStart(6)}%  ${(v / 1048576).toFixed(1).padStart(8)} MiB  ${k}`);
};
console.log(`sampled allocations: ${(total / 1048576).toFixed(1)} MiB`);
show('by function (self)', byFn);
show('by file', byFile);
