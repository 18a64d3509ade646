/**
 * Messages per second persisted by the SQLite store (a WAL file in a temp dir) from N
 * concurrent recording sessions. Each session is one writer that awaits every addMessage
 * before the next, as the user plane does when it answers MSRP 200 only after the store
 * committed; so N is also the most writes one transaction can group. Bodies are text/plain
 * made of words, so the FTS5 index does its full work.
 *
 * The peer, side by side: the same store with group commit off (maxBatch 1: one
 * transaction per message); `x` is batched msg/s over that, for the same row shape.
 * `CPU µs/msg` is the whole process (both threads) per message, which does not depend on
 * what else the machine runs; `main busy` is the event-loop utilisation of the caller's
 * thread, i.e. what recording leaves for SIP and MSRP (worker: the store's own thread).
 *
 * Run: npx tsc && node dist/bench/record-store.js [--seconds 2]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore, type SqliteStoreOptions } from '../src/store/sqlite.js';
import { describeMachine, fmtInt, markdownTable } from './lib/report.js';

interface Run {
  sessions: number;
  bodyBytes: number;
  thread: 'worker' | 'inline';
  synchronous: 'normal' | 'full';
  groupCommit: boolean;
}

interface Result {
  messages: number;
  seconds: number;
  perCommit: number;
  p50: number;
  p99: number;
  cpuMicros: number;
  mainBusy: number;
}

const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 2;

const WORDS = 'the report meeting agenda review quarterly budget team release plan status update deadline coffee lunch tomorrow'.split(' ');

function bodies(size: number, count = 256): Buffer[] {
  const out: Buffer[] = [];
  let x = size * 7919;
  for (let i = 0; i < count; i++) {
    let s = '';
    while (s.length < size) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      s += WORDS[x % WORDS.length] + (x % 7 === 0 ? '. ' : ' ');
    }
    out.push(Buffer.from(s.slice(0, size)));
  }
  return out;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function measure(run: Run, dir: string): Promise<Result> {
  const options: SqliteStoreOptions = { thread: run.thread, synchronous: run.synchronous, ...(run.groupCommit ? {} : { maxBatch: 1 }) };
  const store = await SqliteStore.open(join(dir, `${runs.indexOf(run)}.db`), options);
  const pool = bodies(run.bodyBytes);
  const ids: string[] = [];
  for (let i = 0; i < run.sessions; i++) {
    const h = await store.createHistory({
      name: `bench-${i}`,
      type: 'session',
      owner: `sip:user${i}@example.net`,
      conferenceFactory: 'sip:factory@example.net',
      imUsers: [`sip:peer${i}@example.net`],
      referCallId: `bench-${i}`,
      clientAllow: [],
      clientContact: undefined,
      referHeaders: [],
      createdAt: Date.now(),
    });
    ids.push(h.id);
  }
  const latencies: number[] = [];
  const perSession = new Array<number>(run.sessions).fill(0);
  const before = await store.writeStats();
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(SECONDS * 1e9));
  let done = false;
  const session = async (historyId: string, s: number): Promise<void> => {
    for (let i = 0; !done; i++) {
      const t0 = process.hrtime.bigint();
      await store.addMessage(historyId, {
        at: Date.now(),
        sender: `sip:user${s}@example.net`,
        recipients: [],
        contentType: 'text/plain;charset=utf-8',
        body: pool[(s + i) & 255]!,
        msrpMessageId: `m${s}-${i}`,
      });
      const t1 = process.hrtime.bigint();
      latencies.push(Number(t1 - t0) / 1e6);
      perSession[s]!++;
      if (t1 >= deadline) done = true;
    }
  };
  await Promise.all(ids.map((id, s) => session(id, s)));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const mainBusy = performance.eventLoopUtilization(elu0).utilization;
  const after = await store.writeStats();
  for (const [s, id] of ids.entries()) {
    const n = perSession[s]!;
    const last = await store.messages(id, { afterSeq: n - 1 });
    if (last.length !== 1 || last[0]?.seq !== n) throw new Error(`session ${s}: ${n} acknowledged, store ends at ${last.at(-1)?.seq}`);
  }
  await store.close();
  const sorted = Float64Array.from(latencies).sort();
  return {
    messages: latencies.length,
    seconds,
    perCommit: (after.writes - before.writes) / Math.max(1, after.commits - before.commits),
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    cpuMicros: (cpu.user + cpu.system) / latencies.length,
    mainBusy,
  };
}

const runs: Run[] = [];
const run = (sessions: number, bodyBytes: number, more: Partial<Run> = {}): void => {
  runs.push({ sessions, bodyBytes, thread: 'worker', synchronous: 'normal', groupCommit: true, ...more });
};
for (const sessions of [1, 10, 100]) for (const bodyBytes of [100, 1024]) run(sessions, bodyBytes);
for (const bodyBytes of [100, 1024]) run(100, bodyBytes, { groupCommit: false });
for (const bodyBytes of [100, 1024]) run(100, bodyBytes, { thread: 'inline' });
run(100, 1024, { synchronous: 'full' });
run(100, 1024, { synchronous: 'full', groupCommit: false });

const dir = mkdtempSync(join(tmpdir(), 'im-history-bench-'));
const rows: string[][] = [];
const key = (r: Run): string => `${r.sessions}/${r.bodyBytes}/${r.thread}/${r.synchronous}`;
const results = new Map<Run, Result>();
try {
  for (const r of runs) results.set(r, await measure(r, dir));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const unbatched = new Map([...results].filter(([r]) => !r.groupCommit).map(([r, res]) => [key(r), res.messages / res.seconds]));
for (const [r, res] of results) {
  const rate = res.messages / res.seconds;
  const peer = r.groupCommit ? unbatched.get(key(r)) : undefined;
  rows.push([
    String(r.sessions),
    r.bodyBytes === 1024 ? '1 KB' : `${r.bodyBytes} B`,
    r.thread,
    r.synchronous.toUpperCase(),
    r.groupCommit ? 'on' : 'off (1 txn/msg)',
    fmtInt(rate),
    peer === undefined ? '' : `${(rate / peer).toFixed(1)}x`,
    res.perCommit.toFixed(1),
    res.p50.toFixed(2),
    res.p99.toFixed(2),
    res.cpuMicros.toFixed(1),
    `${Math.round(res.mainBusy * 100)}%`,
  ]);
}

const m = describeMachine();
console.log(`record-store: ${SECONDS}s per row, SQLite WAL file in ${tmpdir()}, FTS5 on; ${m.cpus} CPUs ${m.cpuModel}, node ${m.node}, ${m.platform}, load ${m.loadavg}, ${m.date}\n`);
console.log(
  markdownTable(
    ['sessions', 'body', 'thread', 'synchronous', 'group commit', 'msg/s', 'x', 'msgs/commit', 'p50 ms', 'p99 ms', 'CPU µs/msg', 'main busy'],
    rows,
    5,
  ),
);
