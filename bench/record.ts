/**
 * bench/record (issue 4): the whole History Function recording path, end to end.
 *
 * This process runs the History Function as `serve` wires it (startHistoryNode: SIP UDP+TCP,
 * MSRP endpoint, MsrpUserPlane) over a SqliteStore (WAL file in a temp dir, worker thread);
 * bench/record-peer.ts, a child process, plays the IM clients (REFERs) and a cheap conference
 * focus (200 + passive MSRP answer, conference SUBSCRIBE 200 + one NOTIFY, no dial-out), all
 * over SIP/TCP on 127.0.0.1. Per session: REFER -> 202, INVITE to the factory -> 200/ACK,
 * sipfrag NOTIFYs, SUBSCRIBE/NOTIFY conference, MSRP connection + binding SEND.
 *
 * 1. Sessions: ramps to N concurrent recorded sessions and takes this process's RSS after a
 *    forced GC at 0 sessions and at each checkpoint; RSS per session = (RSS_N - RSS_0) / N.
 * 2. Throughput: the focus sends message/cpim over S of those sessions (a window of SENDs in
 *    flight per session, as fast as the MSRP 200s come back) for a fixed time; persisted
 *    messages are counted when SqliteStore.addMessage resolves (committed), and the send ->
 *    committed latency is read from a timestamp the peer writes at the head of each text.
 *
 * Run: npm run bench:record [-- --sessions=10000 --seconds=5 --rows=1,10,100,1000 --window=16 --peer=lean|stack]
 * --repeat=N (3) pushes each row N times and reports the median run (by msg/s) with the range:
 * on this 2-core VM the same code's rate moves by a fifth between runs.
 * --heap-snapshot=FILE writes V8's heap snapshot once every session is up (what sessions keep).
 * --peer=stack has the focus send through MsrpSession.send instead of the lean pre-framed
 * writer (bench/lib/lean-push.ts), which leaves more of the 2 cores to the History Function.
 * (forced GCs through v8.setFlagsFromString('--expose-gc'), see below).
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { SqliteStore } from '../src/store/sqlite.js';
import type { NewMessage } from '../src/store/types.js';
import { startHistoryNode, type HistoryNode } from '../src/sim/history-node.js';
import { describeMachine, fmtInt, markdownTable } from './lib/report.js';
import { threadCpuMs } from './lib/proc.js';
import { RecordPeer, type PeerReply } from './lib/record-peer-client.js';

// --expose-gc on the command line would reach SqliteStore's worker through process.execArgv,
// which Worker refuses (ERR_WORKER_INVALID_EXEC_ARGV): turn it on from inside instead.
v8.setFlagsFromString('--expose-gc');
const forceGc = runInNewContext('gc') as () => void;

function arg(name: string, dflt: string): string {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? dflt : a.slice(name.length + 3);
}

/**
 * --heap-sample=PREFIX: V8's sampling heap profiler over each measured interval, counting
 * objects the scavenger collected too (what the GC time is spent on), written as
 * PREFIX.<sessions>.heapprofile (Chrome DevTools format; bench/heapprofile.ts summarises it).
 */
async function startHeapSampling(): Promise<(file: string) => Promise<void>> {
  const { Session } = await import('node:inspector/promises');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  return async (file) => {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

function pct(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const MB = 1024 * 1024;

async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    forceGc();
    await sleep(150);
  }
  return process.memoryUsage();
}

async function main(): Promise<void> {
  const N = Number(arg('sessions', '10000'));
  const SECONDS = Number(arg('seconds', '5'));
  const ROWS = arg('rows', '1,10,100,1000').split(',').map(Number);
  const WINDOW = Number(arg('window', '16'));
  const BODY = Number(arg('body', '100'));
  const REPEAT = Number(arg('repeat', '3'));
  if (!Number.isInteger(REPEAT) || REPEAT < 1) throw new Error(`--repeat must be a whole number >= 1, got ${arg('repeat', '3')}`);
  // lean: the peer frames SENDs itself (bench/lib/lean-push.ts); stack: through MsrpSession.send.
  const PEER = arg('peer', 'lean');
  if (PEER !== 'lean' && PEER !== 'stack') throw new Error(`--peer must be lean or stack, got ${PEER}`);
  const INFLIGHT = Number(arg('inflight', '200'));
  // The History Function keeps each factory INVITE's client transaction for Timer M (64*T1 = 32 s,
  // RFC 6026 Accepted state, TCP too) and refuses new client transactions past 10,000
  // (TransactionLayer maxClientTransactions, not settable through startHistoryNode): 250/s stays under.
  const RATE = Number(arg('rate', '250'));
  const RAMP_S = Number(arg('ramp-seconds', '150'));
  const checkpoints = [...new Set([Math.min(1000, N), Math.round(N / 2), N])].filter((n) => n > 0).sort((a, b) => a - b);
  const wall0 = performance.now();
  const machine = describeMachine();

  const dir = mkdtempSync(join(tmpdir(), 'im-history-bench-record-'));
  const store = await SqliteStore.open(join(dir, 'history.db'));
  // Count commits as the user plane sees them: addMessage resolves once the row is committed.
  let persisted = 0;
  let sampling = false;
  let latencies: number[] = [];
  const addMessage = store.addMessage.bind(store);
  // The send time is read at the call, so the wrapper holds a number, not the message (and
  // its body, a view of a socket read), while the commit is pending: it would otherwise keep
  // more alive per message than the History Function itself does.
  store.addMessage = (historyId: string, m: NewMessage): Promise<number> => {
    const sentAt = sampling && m.body[0] === 0x74 && m.body[1] === 0x3d ? Number(m.body.toString('latin1', 2, m.body.indexOf(0x3b))) : NaN;
    return addMessage(historyId, m).then((seq) => {
      persisted++;
      if (!Number.isNaN(sentAt)) latencies.push(performance.timeOrigin + performance.now() - sentAt);
      return seq;
    });
  };

  const peer = RecordPeer.start();
  const child = peer.child;
  let node: HistoryNode | undefined;
  const out: string[] = [];
  const log = (s = ''): void => {
    out.push(s);
    console.log(s);
  };
  try {
    const { factory, pid } = await peer.ready;
    node = await startHistoryNode(
      store,
      { conferenceFactories: [factory], trustedPeers: ['127.0.0.1'], trustedDomains: ['example.net'], maxSessions: 20_000, maxImUsers: 10 },
      pino({ level: 'silent' }),
    );
    const hf = node.ua.contactFor('TCP').replace(/^<|>$/g, '');
    console.error(`peer pid ${pid}, History Function ${hf}, factory ${factory}, db ${dir}`);

    // ---- Phase 1: sessions and memory ----
    const mem0 = await settledMemory();
    const memRows: string[][] = [['0', '-', (mem0.rss / MB).toFixed(1), (mem0.heapUsed / MB).toFixed(1), '-', '-', '0 / 0', '0']];
    let reached = 0;
    let stopped = '';
    let rampMs = 0;
    let lastReply: PeerReply = {};
    const rampDeadline = performance.now() + RAMP_S * 1000;
    for (const cp of checkpoints) {
      const left = rampDeadline - performance.now();
      if (left <= 0) {
        stopped = `ramp time budget (${RAMP_S} s) used up`;
        break;
      }
      const r = await peer.ask({ cmd: 'sessions', hf, count: cp - reached, inflight: INFLIGHT, rate: RATE, timeoutMs: left });
      lastReply = r;
      rampMs += r.ms as number;
      const up = r.up as number;
      const rate = (up - reached) / ((r.ms as number) / 1000);
      const active = [...node.fn.sessions].filter((s) => s.phase === 'active').length;
      const m = await settledMemory();
      const tx = node.ua.layer.stats;
      memRows.push([
        fmtInt(up),
        fmtInt(rate),
        (m.rss / MB).toFixed(1),
        (m.heapUsed / MB).toFixed(1),
        up > 0 ? fmtInt((m.rss - mem0.rss) / up) : '-',
        up > 0 ? fmtInt((m.heapUsed - mem0.heapUsed) / up) : '-',
        `${fmtInt(node.fn.sessions.size)} / ${fmtInt(active)}`,
        fmtInt(tx.activeClientTransactions),
      ]);
      console.error(`sessions up ${up} (HF active ${active}, client tx ${tx.activeClientTransactions}), ${(r.ms as number).toFixed(0)} ms, failed ${String(r.failed)}, errors ${JSON.stringify(r.errors)}`);
      reached = up;
      if (up < cp) {
        stopped = `only ${up} of ${cp} sessions came up (failed REFERs ${String(r.failed)}; ${JSON.stringify(r.errors)})`;
        break;
      }
    }
    const memN = await settledMemory();
    // --heap-snapshot=FILE: V8's heap snapshot with every session up (what a session keeps).
    if (arg('heap-snapshot', '') !== '') console.error(`heap snapshot: ${v8.writeHeapSnapshot(arg('heap-snapshot', ''))}`);
    const perSession = reached > 0 ? (memN.rss - mem0.rss) / reached : NaN;

    // ---- Phase 2: throughput ----
    const tpRows: string[][] = [];
    const writeStats0 = await store.writeStats();
    // --repeat=N: each row N times; the table shows the median run by msg/s, with the range.
    // Rounds of every row, so slow spells of the machine spread over the rows.
    const plan = Array.from({ length: REPEAT }, () => ROWS).flat();
    const runs = new Map<number, { rate: number; row: string[] }[]>();
    for (const s of plan) {
      if (s > reached) continue;
      const warm = 500;
      const stats0 = await store.writeStats();
      const before = persisted;
      const reply = peer.ask({ cmd: 'push', sessions: s, ms: warm + SECONDS * 1000, window: WINDOW, bodyBytes: BODY, stack: PEER === 'stack' });
      await sleep(warm);
      const c0 = persisted;
      const cpu0 = process.cpuUsage();
      const main0 = threadCpuMs(process.pid, process.pid) ?? 0;
      const t0 = performance.now();
      latencies = [];
      sampling = true;
      const heap = arg('heap-sample', '') !== '' ? await startHeapSampling() : undefined;
      await sleep(SECONDS * 1000);
      sampling = false;
      if (heap !== undefined) await heap(`${arg('heap-sample', '')}.${s}.heapprofile`);
      const c1 = persisted;
      const secs = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const mainMs = (threadCpuMs(process.pid, process.pid) ?? 0) - main0;
      const r = await reply;
      if (typeof r.error === 'string') throw new Error(`peer push failed: ${r.error}`);
      // Drain: every SEND the focus got a 200 for must reach the store.
      const acked = r.acked as number;
      const peerCpu = (r.cpu as { user: number; system: number }).user + (r.cpu as { user: number; system: number }).system;
      const drainEnd = performance.now() + 10_000;
      while (persisted - before < acked && performance.now() < drainEnd) await sleep(20);
      const stats1 = await store.writeStats();
      const sorted = Float64Array.from(latencies).sort();
      const rate = (c1 - c0) / secs;
      const list = runs.get(s) ?? [];
      runs.set(s, list);
      list.push({ rate, row: [
        String(s),
        String(WINDOW),
        fmtInt(rate),
        pct(sorted, 0.5).toFixed(1),
        pct(sorted, 0.99).toFixed(1),
        ((stats1.writes - stats0.writes) / Math.max(1, stats1.commits - stats0.commits)).toFixed(1),
        `${Math.round(((cpu.user + cpu.system) / 1e6 / secs) * 100)}%`,
        `${Math.round((mainMs / 1e3 / secs) * 100)}%`,
        fmtInt(((cpu.user + cpu.system) / Math.max(1, c1 - c0))),
        `${Math.round((peerCpu / 1e3 / (r.ms as number)) * 100)}%`,
        fmtInt(peerCpu / Math.max(1, acked)),
        `${fmtInt(persisted - before)} / ${fmtInt(acked)}`,
        String(r.failed),
      ] });
      console.error(`push S=${s}: ${fmtInt(rate)} msg/s, acked ${acked}, persisted ${persisted - before}, errors ${JSON.stringify(r.errors)}`);
    }
    void writeStats0;
    for (const list of runs.values()) {
      const byRate = [...list].sort((a, b) => a.rate - b.rate);
      const median = byRate[Math.floor((byRate.length - 1) / 2)]!;
      const range = byRate.length > 1 ? `${fmtInt(byRate[0]!.rate)}-${fmtInt(byRate[byRate.length - 1]!.rate)}` : '-';
      tpRows.push([...median.row.slice(0, 3), range, ...median.row.slice(3)]);
    }

    // ---- Report ----
    const loadEnd = describeMachine().loadavg;
    log(`## bench/record run of ${machine.date}`);
    log();
    log(`- machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${(totalmem() / 1024 ** 3).toFixed(0)} GB, ${machine.platform}; node ${machine.node}`);
    log(`- load average at start: ${machine.loadavg}; at end: ${loadEnd}`);
    log(`- node flags of the History Function's process: ${process.execArgv.length > 0 ? process.execArgv.join(' ') : 'none'} (npm start and npm run bench:record give --max-semi-space-size=64)`);
    log(`- History Function: startHistoryNode (maxSessions 20,000) over SqliteStore (WAL, worker thread, synchronous=normal) in ${tmpdir()}; peer (clients + focus) in a separate process; SIP over TCP, MSRP over one TCP connection, 127.0.0.1`);
    log(`- ramp: ${INFLIGHT} REFERs in flight and ${RATE} REFERs/s at most; a session counts when the focus's MSRP session is bound and its conference NOTIFY got 200`);
    log();
    log(`### Concurrent recorded sessions: RSS of the History Function process (after forced GC)`);
    log();
    log(markdownTable(['sessions', 'set-up rate (sessions/s)', 'RSS MB', 'heap used MB', 'RSS B/session', 'heap B/session', 'HF sessions / active', 'HF client tx'], memRows, 1));
    log();
    const fits = reached > 0 ? `${fmtInt(reached)} sessions: ${(memN.rss / MB).toFixed(0)} MB RSS ${memN.rss < 1024 * MB ? '<' : '>='} 1 GiB` : 'no session came up';
    log(`RSS per session (RSS_N - RSS_0) / N = ${fmtInt(perSession)} B; ${fits}; projected RSS at 10,000 sessions: ${((mem0.rss + perSession * 10_000) / MB).toFixed(0)} MB (target < 1 GiB).${stopped !== '' ? ` Ramp stopped: ${stopped}.` : ''} Set-up time for ${fmtInt(reached)}: ${(rampMs / 1000).toFixed(1)} s.`);
    log();
    log(`### Throughput: message/cpim from the focus, persisted (committed) per second`);
    log();
    log(
      markdownTable(
        ['sessions', 'window/session', 'msg/s persisted', `range of ${REPEAT}`, 'p50 ms', 'p99 ms', 'msgs/commit', 'HF CPU', 'HF main thread', 'HF CPU µs/msg', 'peer CPU', 'peer CPU µs/msg', 'persisted / acked', 'SEND failures'],
        tpRows,
        2,
      ),
    );
    log();
    log(
      `Each row ${REPEAT} time(s), in rounds of all rows; shown: the median run by msg/s, with the range of the ${REPEAT}. ${SECONDS} s per row after 0.5 s warm-up, ${BODY}-byte text bodies in CPIM (about ${BODY + 200} bytes per SEND); latency = focus send() start -> SqliteStore.addMessage resolved; HF CPU = this process, all its threads (100% = one core), over the measured seconds; HF main thread = the event loop's thread alone (SIP, MSRP, CPIM; the store's worker and V8's GC helpers are the rest); peer CPU = the peer process over the whole push including warm-up; target >= 20,000 msg/s on 2 cores.`,
    );
    log();
    log(`(bench wall time ${((performance.now() - wall0) / 1000).toFixed(0)} s; last ramp reply ${JSON.stringify(lastReply.errors ?? {})})`);
  } finally {
    if (node !== undefined) await Promise.race([node.close(), sleep(15_000)]);
    // Ask the peer to exit (so a --cpu-prof given through RECORD_PEER_NODE_ARGS is written), then kill it.
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin?.write(JSON.stringify({ cmd: 'exit' }) + '\n');
      await Promise.race([exited, sleep(3_000)]);
    }
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    await Promise.race([store.close(), sleep(5_000)]);
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

await main();
