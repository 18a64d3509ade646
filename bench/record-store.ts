/**
 * Messages per second persisted by the SQLite store (a WAL file in a temp dir) and by the
 * PostgreSQL store (a throwaway server this bench starts, bench/pg-server.ts, with the
 * server's default durability: fsync of the WAL at each commit) from N concurrent recording
 * sessions. Each session is one writer that awaits every addMessage
 * before the next, as the user plane does when it answers MSRP 200 only after the store
 * committed; so N is also the most writes one transaction can group. Bodies are text/plain
 * made of words, so the FTS5 index does its full work.
 *
 * The peer, side by side: the same store with group commit off (maxBatch 1: one
 * transaction per message); `x` is batched msg/s over that, for the same row shape.
 * `CPU µs/msg` is the whole process (both threads) per message, which does not depend on
 * what else the machine runs; `main busy` is the event-loop utilisation of the caller's
 * thread, i.e. what recording leaves for SIP and MSRP (worker: the store's own thread).
 * For PostgreSQL, `server CPU µs/msg` is the server's processes (postmaster and its
 * children, from /proc) per message: its work is not in this process.
 *
 * Run: npx tsc && node dist/bench/record-store.js [--seconds 2] [--only sqlite|postgres]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore, type SqliteStoreOptions } from '../src/store/sqlite.js';
import { PgStore } from '../src/store/pg.js';
import type { HistoryStore } from '../src/store/types.js';
import type { WriteQueueStats } from '../src/store/write-queue.js';
import { startPgServer, type PgServer } from './pg-server.js';
import { procTreeCpuMs } from './lib/proc.js';
import { describeMachine, fmtInt, markdownTable } from './lib/report.js';

interface Run {
  backend: 'sqlite' | 'postgres';
  sessions: number;
  bodyBytes: number;
  /** SQLite: the store's thread. */
  thread: 'worker' | 'inline';
  /** SQLite: synchronous; PostgreSQL: synchronous_commit on (normal = off: commits are acknowledged before the WAL flush). */
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
  serverCpuMicros: number | undefined;
}

const treeCpuMicros = (pid: number): number | undefined => {
  const ms = procTreeCpuMs(pid);
  return ms === undefined ? undefined : ms * 1000;
};

const onlyArg = process.argv.indexOf('--only');
const ONLY = onlyArg > 0 ? process.argv[onlyArg + 1] : undefined;


async function openStore(run: Run, dir: string, pgServer: PgServer | undefined): Promise<{ store: HistoryStore & { writeStats(): WriteQueueStats | Promise<WriteQueueStats> }; serverPid?: number }> {
  if (run.backend === 'sqlite') {
    const options: SqliteStoreOptions = { thread: run.thread, synchronous: run.synchronous, ...(run.groupCommit ? {} : { maxBatch: 1 }) };
    return { store: await SqliteStore.open(join(dir, `${runs.indexOf(run)}.db`), options) };
  }
  const url = await pgServer!.createDatabase('bench');
  // synchronous_commit per connection (libpq `options`), so one server serves both settings.
  const sync = run.synchronous === 'full' ? 'on' : 'off';
  const store = await PgStore.open(`${url}?options=${encodeURIComponent(`-c synchronous_commit=${sync}`)}`, run.groupCommit ? {} : { maxBatch: 1 });
  return { store, serverPid: pgServer!.pid };
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

async function measure(run: Run, dir: string, pgServer: PgServer | undefined): Promise<Result> {
  const { store, serverPid } = await openStore(run, dir, pgServer);
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
  const server0 = serverPid === undefined ? undefined : treeCpuMicros(serverPid);
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
  const server1 = serverPid === undefined ? undefined : treeCpuMicros(serverPid);
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
    serverCpuMicros: server0 === undefined || server1 === undefined ? undefined : (server1 - server0) / latencies.length,
  };
}

const runs: Run[] = [];
const run = (sessions: number, bodyBytes: number, more: Partial<Run> = {}): void => {
  const r: Run = { backend: 'sqlite', sessions, bodyBytes, thread: 'worker', synchronous: 'normal', groupCommit: true, ...more };
  if (ONLY === undefined || ONLY === r.backend) runs.push(r);
};
for (const sessions of [1, 10, 100]) for (const bodyBytes of [100, 1024]) run(sessions, bodyBytes);
for (const bodyBytes of [100, 1024]) run(100, bodyBytes, { groupCommit: false });
for (const bodyBytes of [100, 1024]) run(100, bodyBytes, { thread: 'inline' });
run(100, 1024, { synchronous: 'full' });
run(100, 1024, { synchronous: 'full', groupCommit: false });
// PostgreSQL: 'full' = synchronous_commit on (the server default: WAL flushed before COMMIT returns).
const pg = (sessions: number, bodyBytes: number, more: Partial<Run> = {}): void =>
  run(sessions, bodyBytes, { backend: 'postgres', synchronous: 'full', ...more });
for (const sessions of [1, 10, 100]) for (const bodyBytes of [100, 1024]) pg(sessions, bodyBytes);
for (const bodyBytes of [100, 1024]) pg(100, bodyBytes, { groupCommit: false });
pg(100, 1024, { synchronous: 'normal' });
pg(100, 1024, { synchronous: 'normal', groupCommit: false });

const dir = mkdtempSync(join(tmpdir(), 'im-history-bench-'));
const rows: string[][] = [];
const key = (r: Run): string => `${r.backend}/${r.sessions}/${r.bodyBytes}/${r.thread}/${r.synchronous}`;
const results = new Map<Run, Result>();
let pgServer: PgServer | undefined;
try {
  // The server's defaults (fsync on, synchronous_commit per run), as a deployment would run it.
  if (runs.some((r) => r.backend === 'postgres')) pgServer = await startPgServer({ settings: { max_connections: '50' } });
  for (const r of runs) results.set(r, await measure(r, dir, pgServer));
} finally {
  await pgServer?.stop();
  rmSync(dir, { recursive: true, force: true });
}
const unbatched = new Map([...results].filter(([r]) => !r.groupCommit).map(([r, res]) => [key(r), res.messages / res.seconds]));
for (const [r, res] of results) {
  const rate = res.messages / res.seconds;
  const peer = r.groupCommit ? unbatched.get(key(r)) : undefined;
  rows.push([
    r.backend === 'sqlite' ? 'SQLite' : 'PostgreSQL',
    String(r.sessions),
    r.bodyBytes === 1024 ? '1 KB' : `${r.bodyBytes} B`,
    r.backend === 'sqlite' ? r.thread : '-',
    r.backend === 'sqlite' ? r.synchronous.toUpperCase() : `commit ${r.synchronous === 'full' ? 'on' : 'off'}`,
    r.groupCommit ? 'on' : 'off (1 txn/msg)',
    fmtInt(rate),
    peer === undefined ? '' : `${(rate / peer).toFixed(1)}x`,
    res.perCommit.toFixed(1),
    res.p50.toFixed(2),
    res.p99.toFixed(2),
    res.cpuMicros.toFixed(1),
    `${Math.round(res.mainBusy * 100)}%`,
    res.serverCpuMicros === undefined ? '' : res.serverCpuMicros.toFixed(1),
  ]);
}

const m = describeMachine();
console.log(
  `record-store: ${SECONDS}s per row; SQLite WAL file in ${tmpdir()}, FTS5 on; PostgreSQL ${pgServer?.version ?? '(not run)'} on 127.0.0.1 (data in ${tmpdir()}, default settings, tsvector + GIN); ${m.cpus} CPUs ${m.cpuModel}, node ${m.node}, ${m.platform}, load ${m.loadavg}, ${m.date}\n`,
);
console.log(
  markdownTable(
    ['store', 'sessions', 'body', 'thread', 'durability', 'group commit', 'msg/s', 'x', 'msgs/commit', 'p50 ms', 'p99 ms', 'CPU µs/msg', 'main busy', 'server CPU µs/msg'],
    rows,
    6,
  ),
);
console.log(`\nSQLite NORMAL/FULL = synchronous; PostgreSQL "commit on" = synchronous_commit on (WAL fsync before COMMIT returns, the default), "commit off" = acknowledged before the flush.`);
