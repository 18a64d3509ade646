/**
 * Summarise a V8 .cpuprofile (written by `node --cpu-prof`): self time per function and per
 * file, from the samples and their time deltas (not hitCount * interval, which is off when
 * the sampler falls behind).
 *
 *   node dist/bench/cpuprofile.js FILE.cpuprofile [--top=N]
 *
 * Compiled paths are shown as their sources (dist/src/x.js -> src/x.ts, same function
 * names; line numbers stay those of the .js). "(garbage collector)", "(program)" (native code
 * V8 cannot attribute: libuv, syscalls, the JIT) and "(idle)" are V8's own buckets.
 * Percentages are of the busy time (everything but "(idle)").
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  name: string;
  file: string;
  ms: number;
  /** Share of busy time, 0..100. */
  pct: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  busyMs: number;
  functions: SelfTime[];
  files: SelfTime[];
}

/** "file:///work/main/dist/src/sip/x.js" -> "src/sip/x.ts"; node internals keep their name. */
export function shortFile(url: string): string {
  if (url === '') return '';
  let p = url;
  if (p.startsWith('file://')) {
    try {
      p = fileURLToPath(p);
    } catch {
      // keep the URL
    }
  }
  const m = /\/dist\/((?:src|bench|test)\/.*)\.js$/.exec(p);
  if (m?.[1] !== undefined) return `${m[1]}.ts`;
  const nm = /\/node_modules\/(.*)$/.exec(p);
  if (nm?.[1] !== undefined) return `node_modules/${nm[1]}`;
  return p;
}

export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // timeDeltas[i] is the time between sample i-1 and sample i: attribute it to sample i.
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i]!;
    const d = Math.max(0, deltas[i] ?? 0);
    selfUs.set(id, (selfUs.get(id) ?? 0) + d);
  }
  const fn = new Map<string, { name: string; file: string; us: number }>();
  const file = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined) continue;
    const cf = node.callFrame;
    total += us;
    if (cf.functionName === '(idle)') idle += us;
    const f = shortFile(cf.url);
    const name = cf.functionName === '' ? '(anonymous)' : cf.functionName;
    const key = `${f}\u0000${name}\u0000${cf.lineNumber}`;
    const e = fn.get(key) ?? { name: f === '' ? name : `${name}:${cf.lineNumber + 1}`, file: f, us: 0 };
    e.us += us;
    fn.set(key, e);
    const fk = f === '' ? name : f;
    file.set(fk, (file.get(fk) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number): number => (busy > 0 ? (100 * us) / busy : 0);
  const functions = [...fn.values()]
    .filter((e) => e.name !== '(idle)')
    .sort((a, b) => b.us - a.us)
    .map((e) => ({ name: e.name, file: e.file, ms: e.us / 1000, pct: pct(e.us) }));
  const files = [...file.entries()]
    .filter(([k]) => k !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .map(([k, us]) => ({ name: k, file: k, ms: us / 1000, pct: pct(us) }));
  return { totalMs: total / 1000, idleMs: idle / 1000, busyMs: busy / 1000, functions, files };
}

export function loadProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}

/** Plain-text report: the top functions and files by self time. */
export function formatSummary(s: ProfileSummary, top = 25): string {
  const lines = [
    `profile: ${s.totalMs.toFixed(0)} ms sampled, ${s.busyMs.toFixed(0)} ms busy, ${s.idleMs.toFixed(0)} ms idle; % = share of busy time`,
    '',
    'self time by function:',
    ...s.functions.slice(0, top).map((f) => `  ${f.pct.toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(6)} ms  ${f.file === '' ? '' : `${f.file}:`}${f.name}`),
    '',
    'self time by file:',
    ...s.files.slice(0, Math.min(top, 15)).map((f) => `  ${f.pct.toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}`),
  ];
  return lines.join('\n');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv.slice(2).find((a) => !a.startsWith('--'));
  const topArg = process.argv.find((a) => a.startsWith('--top='));
  if (file === undefined) {
    process.stderr.write('usage: cpuprofile FILE.cpuprofile [--top=N]\n');
    process.exit(2);
  }
  process.stdout.write(formatSummary(summarizeProfile(loadProfile(file)), topArg !== undefined ? Number(topArg.slice(6)) : 25) + '\n');
}
