// A small deterministic mutation fuzzer (issue 6): seeded PRNG, byte-level mutations over a
// corpus of real inputs, and an oracle that accepts a return or one of the target's typed
// errors and nothing else. Shared by test/fuzz/fuzz.test.ts (fixed iterations, CI) and
// scripts/fuzz-long.mjs (fixed duration, by hand).
import { performance } from 'node:perf_hooks';

/** mulberry32: a 32-bit PRNG, fast and good enough for picking mutations. */
export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer in [0, n). */
export function pick(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** The seed of one iteration: each iteration is reproducible on its own from (seed, target, iteration). */
export function iterationSeed(seed: number, target: string, iteration: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < target.length; i++) h = Math.imul(h ^ target.charCodeAt(i), 0x01000193) >>> 0;
  h = Math.imul(h ^ iteration, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

const LONG = 10_000;
const enc = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Tokens every target gets; targets add their own (e.g. MSRP end-lines). */
export const COMMON_TOKENS: Buffer[] = [
  '\r\n', '\n', '\r', '\r\n\r\n', ':', ';', ',', '"', '\\', '<', '>', '%00', '\0', ' ', '\t', '=', '@', '[', ']', '/', '*', '-', '&', '#', '\x7f', '\xff',
  '4294967296', '4294967295', '-1', '0', '99999999999999999999', '1e400', '0x10', 'NaN', '65536', '2147483648',
  '\xc3\xa9', '\xe2\x80\x8b', '\xf0\x9f\x98\x80', '\xc0\x80', '\xed\xa0\x80',
  '<![CDATA[', ']]>', '<!--', '-->', '&amp;', '&#0;', '&#x110000;', '<!DOCTYPE x>', '<?xml version="1.0"?>', 'xmlns:a="x"',
].map(enc);

/** Very long runs: built lazily once. */
export const LONG_TOKENS: Buffer[] = ['a', ';', ',', '"', '<', '\\', ' ', '\r\n', '9', '%', '[', ':', '=', '-', '<a>'].map((c) => enc(c.repeat(Math.ceil(LONG / c.length))));

export interface MutateOptions {
  tokens: readonly Buffer[];
  /** Inputs are cut to this many bytes after mutation (default 64 KiB). */
  maxLen?: number;
}

/** Replaces the digits after a `Content-Length:`-like header (or any `name: digits`) with an interesting number. */
function changeLength(rng: Rng, input: Buffer): Buffer | undefined {
  const text = input.toString('latin1');
  const names = ['content-length:', '\nl:', 'byte-range:', 'content-length :'];
  const lower = text.toLowerCase();
  const starts: number[] = [];
  for (const n of names) {
    let i = lower.indexOf(n);
    while (i >= 0 && starts.length < 16) {
      starts.push(i + n.length);
      i = lower.indexOf(n, i + 1);
    }
  }
  if (starts.length === 0) return undefined;
  let s = starts[pick(rng, starts.length)]!;
  while (s < text.length && (text[s] === ' ' || text[s] === '\t')) s++;
  let e = s;
  while (e < text.length && text.charCodeAt(e) >= 48 && text.charCodeAt(e) <= 57) e++;
  const old = e > s ? Number(text.slice(s, e)) : 0;
  const choices = [String(old + 1), String(Math.max(0, old - 1)), '0', String(old * 2), '4294967296', '-1', '99999999999999999999', '', ' 1', '0001', String(input.length)];
  return Buffer.concat([input.subarray(0, s), enc(choices[pick(rng, choices.length)]!), input.subarray(e)]);
}

/** One to four stacked mutations of a corpus entry. */
export function mutate(rng: Rng, corpus: readonly Buffer[], opts: MutateOptions): Buffer {
  const maxLen = opts.maxLen ?? 64 * 1024;
  let b: Buffer = Buffer.from(corpus[pick(rng, corpus.length)]!);
  const n = 1 + pick(rng, 4);
  for (let k = 0; k < n; k++) {
    const at = pick(rng, b.length + 1);
    switch (pick(rng, 11)) {
      case 0: { // bit flips
        if (b.length === 0) break;
        const flips = 1 + pick(rng, 4);
        for (let f = 0; f < flips; f++) {
          const i = pick(rng, b.length);
          b[i] = b[i]! ^ (1 << pick(rng, 8));
        }
        break;
      }
      case 1: { // random byte insert
        const len = 1 + pick(rng, 8);
        const ins = Buffer.alloc(len);
        for (let i = 0; i < len; i++) ins[i] = pick(rng, 256);
        b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
        break;
      }
      case 2: { // delete a range
        const len = 1 + pick(rng, Math.min(64, Math.max(1, b.length - at)));
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
        break;
      }
      case 3: { // duplicate a range
        const len = 1 + pick(rng, Math.min(256, Math.max(1, b.length - at)));
        const times = 1 + pick(rng, 3);
        const piece = b.subarray(at, at + len);
        b = Buffer.concat([b.subarray(0, at + len), ...Array<Buffer>(times).fill(piece), b.subarray(at + len)]);
        break;
      }
      case 4: { // splice with another seed
        const other = corpus[pick(rng, corpus.length)]!;
        const from = pick(rng, other.length + 1);
        b = Buffer.concat([b.subarray(0, at), other.subarray(from)]);
        break;
      }
      case 5: case 6: { // insert an interesting token
        const tok = opts.tokens[pick(rng, opts.tokens.length)]!;
        b = Buffer.concat([b.subarray(0, at), tok, b.subarray(at)]);
        break;
      }
      case 7: { // replace a range with an interesting token
        const tok = opts.tokens[pick(rng, opts.tokens.length)]!;
        const len = 1 + pick(rng, 16);
        b = Buffer.concat([b.subarray(0, at), tok, b.subarray(at + len)]);
        break;
      }
      case 8: { // a very long run
        const tok = LONG_TOKENS[pick(rng, LONG_TOKENS.length)]!;
        b = Buffer.concat([b.subarray(0, at), tok, b.subarray(at)]);
        break;
      }
      case 9: { // length header change
        b = changeLength(rng, b) ?? b;
        break;
      }
      case 10: { // truncate
        b = b.subarray(0, at);
        break;
      }
    }
    if (b.length > maxLen) b = b.subarray(0, maxLen);
  }
  return b;
}

export interface Target {
  name: string;
  corpus: Buffer[];
  /** Extra interesting tokens for this format. */
  tokens?: Buffer[];
  /** Feeds one input; throws only what the oracle should judge. `rng` is for chunking etc. */
  run(input: Buffer, rng: Rng): void;
  /** True for the module's typed errors (the expected way to refuse input). */
  expected(e: unknown): boolean;
}

export interface Finding {
  target: string;
  seed: number;
  iteration: number;
  kind: 'exception' | 'slow';
  detail: string;
  input: Buffer;
}

export interface RunResult {
  target: string;
  executions: number;
  findings: Finding[];
  slowestMs: number;
  heapStartMB: number;
  heapEndMB: number;
}

export interface RunOptions {
  seed: number;
  /** Stop after this many executions ... */
  iterations?: number;
  /** ... or at this performance.now() deadline. */
  deadline?: number;
  /** A single call slower than this is a finding (default 200 ms). */
  slowMs?: number;
  /** Stop after this many findings (default 5). */
  maxFindings?: number;
  /** Start at this iteration (to reproduce one). */
  first?: number;
}

/** The input of one iteration, regenerated from (seed, target, iteration). */
export function inputFor(target: Target, seed: number, iteration: number): { input: Buffer; rng: Rng } {
  const rng = mulberry32(iterationSeed(seed, target.name, iteration));
  const tokens = target.tokens ? [...COMMON_TOKENS, ...target.tokens] : COMMON_TOKENS;
  // One iteration in 16 runs a seed unmutated, so the valid paths stay exercised.
  const input = pick(rng, 16) === 0 ? target.corpus[pick(rng, target.corpus.length)]! : mutate(rng, target.corpus, { tokens });
  return { input, rng };
}

function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}\n${(e.stack ?? '').split('\n').slice(1, 6).join('\n')}`;
  return `non-Error thrown: ${String(e)}`;
}

function heapMB(): number {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) g();
  return process.memoryUsage().heapUsed / 1048576;
}

export function runTarget(target: Target, opts: RunOptions): RunResult {
  const slowMs = opts.slowMs ?? 200;
  const maxFindings = opts.maxFindings ?? 5;
  const findings: Finding[] = [];
  let slowest = 0;
  const heapStart = heapMB();
  let i = opts.first ?? 0;
  let executions = 0;
  for (;;) {
    if (opts.iterations !== undefined && executions >= opts.iterations) break;
    if (opts.deadline !== undefined && (executions & 15) === 0 && performance.now() >= opts.deadline) break;
    const { input, rng } = inputFor(target, opts.seed, i);
    const t0 = performance.now();
    let err: unknown;
    let threw = false;
    try {
      target.run(input, rng);
    } catch (e) {
      threw = true;
      err = e;
    }
    const ms = performance.now() - t0;
    if (ms > slowest) slowest = ms;
    if (threw && !target.expected(err)) {
      findings.push({ target: target.name, seed: opts.seed, iteration: i, kind: 'exception', detail: describeError(err), input });
    } else if (ms > slowMs) {
      // Re-run once: a GC pause or a busy machine is not a finding, a super-linear path is.
      const t1 = performance.now();
      try { target.run(input, rng); } catch { /* judged above */ }
      const again = performance.now() - t1;
      if (again > slowMs) findings.push({ target: target.name, seed: opts.seed, iteration: i, kind: 'slow', detail: `${ms.toFixed(0)} ms, then ${again.toFixed(0)} ms (${input.length} bytes)`, input });
    }
    executions++;
    i++;
    if (findings.length >= maxFindings) break;
  }
  return { target: target.name, executions, findings, slowestMs: slowest, heapStartMB: heapStart, heapEndMB: heapMB() };
}

/** Hex dump of the first `max` bytes, 16 per line, with a latin1 column. */
export function hexdump(buf: Buffer, max = 400): string {
  const lines: string[] = [];
  const n = Math.min(buf.length, max);
  for (let off = 0; off < n; off += 16) {
    const row = buf.subarray(off, Math.min(off + 16, n));
    const hex = [...row].map((x) => x.toString(16).padStart(2, '0')).join(' ');
    const txt = [...row].map((x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.')).join('');
    lines.push(`${off.toString(16).padStart(6, '0')}  ${hex.padEnd(47)}  ${txt}`);
  }
  if (buf.length > max) lines.push(`... (${buf.length} bytes in all)`);
  return lines.join('\n');
}

export function formatFinding(f: Finding): string {
  return [
    `${f.target}: ${f.kind} at seed ${f.seed} iteration ${f.iteration} (reproduce: node scripts/fuzz-long.mjs --target=${f.target} --seed=${f.seed} --repro=${f.iteration})`,
    f.detail,
    hexdump(f.input),
  ].join('\n');
}
