/**
 * bench/transactions: sustained OPTIONS/s and INVITE-dialog calls/s with 0 failures, sipp as
 * the load generator, against im-history's SIP core (bench/sip-server.ts) and, in the same
 * run with the same procedure, against sipp as UAS (the reference) and against the "Node
 * floor" (bench/node-floor.ts: a stateless responder that only copies header lines, which
 * shows what Node's dgram path alone sustains; not a SIP implementation).
 *
 *   npm run bench:transactions            (= build + node dist/bench/transactions.js)
 *   node dist/bench/transactions.js [--seconds=4] [--scenarios=options,invite]
 *        [--targets=sipp,im-history,node-floor] [--resolution=1.1] [--max-steps=10] [--no-retry]
 *        [--profile] [--confirm-seconds=N] [--json=FILE] [--rates=a,b,...]
 *        [--server-recv-buffer=BYTES]
 *
 * Scenarios (UDP, one socket each side: sipp -t u1; loopback, ports found by binding port 0):
 *   OPTIONS        bench/sipp/options-uac.xml -> im-history (the UA answers OPTIONS itself,
 *                  RFC 3261 §11.2) | sipp -sf bench/sipp/options-uas.xml
 *   INVITE dialog  sipp -sn uac -d 0 (INVITE, 200, ACK, BYE, 200; no pause) -> im-history
 *                  (accepts with 200 + SDP) | sipp -sn uas (which also sends a 180)
 *
 * One step = a fresh target process (im-history: `node dist/bench/sip-server.js`, its own
 * process as sipp is), a warm-up of min(rate, 2000)/s for 0.5 s (same for both targets: it
 * lets V8 compile the hot path), then sipp -r RATE -rp 1000 -m RATE*SECONDS. A step passes
 * when sipp exits 0 with every call successful, 0 failed calls, 0 unexpected messages, 0
 * timeouts, and the achieved rate (successful calls / sipp's elapsed time, from its
 * -trace_stat file) is at least 95% of the offered rate; for im-history the server must also
 * have received every BYE (sipp takes a retransmitted INVITE 200 as the answer to its BYE, so
 * a BYE lost in a socket buffer would otherwise count as a successful call). A step that
 * fails on the achieved rate alone, or while other processes took more than half a core, is
 * run once more (sipp sometimes stalls ~0.3 s at the end of a run, 7% of a 4 s step; and
 * other people's builds share the machine): --no-retry turns this off. Before each step the
 * bench waits (at most 4 s, 30 s in all) for the machine to be nearly idle.
 * The search doubles the rate from a start value until a step fails, then bisects (geometric
 * mean) until the highest pass and lowest fail are within --resolution of each other.
 *
 * Recorded per step: achieved rate, sipp's retransmissions, CPU time of the target (from
 * /proc/PID/stat, over the measured run) and of the sipp UAC (sampled), peak RSS of the
 * target (VmHWM), CPU used by other processes on the machine (from /proc/stat, so a noisy
 * neighbour shows), kernel UDP receive-buffer drops (/proc/net/snmp RcvbufErrors), and for
 * im-history the transaction layer's counters (ua.layer.stats) from the server's STATS line.
 *
 * --profile re-runs im-history once per scenario under `node --cpu-prof` at 1.25x its best
 * rate (saturated) and prints the top self-time functions (bench/cpuprofile.ts).
 * --rates=a,b runs just those rates (no search), for diagnosis. --server-recv-buffer=BYTES is
 * an experiment: bench/sip-server sets SO_RCVBUF on its UDP socket, which the transport does
 * not do (the shipped configuration, measured by default, gets net.core.rmem_default), and
 * the sipp UAS reference gets the same size (-buff_size) so the comparison stays even.
 * --confirm-seconds=N re-runs im-history's best rate for N seconds (the 4 s steps do not reach
 * the steady state of Timer J/L, 32 s, in which 32*rate transactions are alive).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatSummary, loadProfile, summarizeProfile } from './cpuprofile.js';
import { CLK_TCK, procCpuMs } from './lib/proc.js';

const SELF = fileURLToPath(import.meta.url);
/** dist/bench/transactions.js -> repository root. */
const ROOT = join(dirname(SELF), '..', '..');
const SIPP_DIR = join(ROOT, 'bench', 'sipp');
const SERVER_JS = join(dirname(SELF), 'sip-server.js');
const FLOOR_JS = join(dirname(SELF), 'node-floor.js');
const HOST = '127.0.0.1';
const TARGET_RATIO = 0.7;
const MIN_ACHIEVED = 0.95;
const UAC_BUFFER_BYTES = 4 * 1024 * 1024;

// ---------------------------------------------------------------- options

const SCENARIO_NAMES = ['options', 'invite'] as const;
const TARGET_NAMES = ['sipp', 'im-history', 'node-floor'] as const;
type ScenarioName = (typeof SCENARIO_NAMES)[number];
type TargetName = (typeof TARGET_NAMES)[number];

interface Scenario {
  name: ScenarioName;
  label: string;
  unit: string;
  uac: string[];
  uas: string[];
  start: number;
  max: number;
}

const SCENARIOS: Record<ScenarioName, Scenario> = {
  options: {
    name: 'options',
    label: 'OPTIONS',
    unit: 'OPTIONS/s',
    uac: ['-sf', join(SIPP_DIR, 'options-uac.xml')],
    uas: ['-sf', join(SIPP_DIR, 'options-uas.xml')],
    start: 4000,
    max: 64_000,
  },
  invite: {
    name: 'invite',
    label: 'INVITE dialog',
    unit: 'calls/s',
    uac: ['-sn', 'uac', '-d', '0'],
    uas: ['-sn', 'uas'],
    start: 1000,
    max: 32_000,
  },
};

interface Options {
  seconds: number;
  scenarios: ScenarioName[];
  targets: TargetName[];
  resolution: number;
  maxSteps: number;
  retry: boolean;
  profile: boolean;
  confirmSeconds: number;
  json: string | undefined;
  /** Diagnosis: run exactly these rates (no search). */
  rates: number[] | undefined;
  /** Experiment: pass --recv-buffer BYTES to bench/sip-server (SO_RCVBUF). */
  serverRecvBuffer: number | undefined;
}

function argValue(name: string): string | undefined {
  const prefix = `--${name}=`;
  const a = process.argv.slice(2).find((x) => x.startsWith(prefix));
  return a?.slice(prefix.length);
}

function num(name: string, dflt: number, min: number): number {
  const v = argValue(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got ${v}`);
  return n;
}

function list<T extends string>(name: string, all: readonly T[]): T[] {
  const v = argValue(name);
  if (v === undefined) return [...all];
  const picked = v.split(',').map((s) => s.trim());
  for (const p of picked) if (!(all as readonly string[]).includes(p)) throw new Error(`--${name}: unknown ${p} (known: ${all.join(', ')})`);
  return all.filter((x) => picked.includes(x));
}

function readOptions(): Options {
  return {
    seconds: num('seconds', 4, 1),
    scenarios: list('scenarios', SCENARIO_NAMES),
    targets: list('targets', TARGET_NAMES),
    resolution: num('resolution', 1.1, 1.01),
    maxSteps: Math.round(num('max-steps', 10, 1)),
    retry: !process.argv.includes('--no-retry'),
    profile: process.argv.includes('--profile'),
    confirmSeconds: num('confirm-seconds', 0, 0),
    json: argValue('json'),
    rates: argValue('rates')
      ?.split(',')
      .map((x) => Number(x))
      .filter((x) => Number.isFinite(x) && x > 0),
    serverRecvBuffer: argValue('server-recv-buffer') !== undefined ? num('server-recv-buffer', 0, 1024) : undefined,
  };
}

// ---------------------------------------------------------------- processes

const live = new Set<ChildProcess>();
/** Extra arguments for bench/sip-server (set from the options in main). */
let serverExtraArgs: string[] = [];
/** Extra arguments for the sipp UAS reference (the same experiment). */
let uasExtraArgs: string[] = [];

function killPid(p: ChildProcess, signal: NodeJS.Signals): void {
  if (p.pid !== undefined && p.exitCode === null && p.signalCode === null) {
    try {
      process.kill(p.pid, signal);
    } catch {
      // already gone
    }
  }
}

function killAll(): void {
  for (const p of live) killPid(p, 'SIGKILL');
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

interface Proc {
  proc: ChildProcess;
  pid: number;
  /** Resolves with the exit code (null if killed by a signal) once the process is gone. */
  done: Promise<number | null>;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<number | null>;
  onLine(fn: (line: string) => void): void;
}

/** Spawn with a hard time limit (SIGKILL by PID); keeps the last 256 KB of each output. */
function startProc(cmd: string, args: readonly string[], limitMs: number, cwd: string): Proc {
  const proc = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  if (proc.pid === undefined) throw new Error(`cannot start ${cmd}`);
  live.add(proc);
  const cap = 256 * 1024;
  let out = '';
  let err = '';
  let partial = '';
  const listeners: ((line: string) => void)[] = [];
  proc.stdout?.on('data', (d: Buffer) => {
    const s = d.toString();
    out = (out + s).slice(-cap);
    partial += s;
    let nl;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      for (const l of listeners) l(line);
    }
  });
  proc.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-cap)));
  const timer = setTimeout(() => killPid(proc, 'SIGKILL'), limitMs);
  const done = new Promise<number | null>((resolve) => {
    proc.on('close', (code) => {
      clearTimeout(timer);
      live.delete(proc);
      resolve(code);
    });
  });
  const stop = async (graceMs = 3000): Promise<number | null> => {
    killPid(proc, 'SIGTERM');
    const hard = setTimeout(() => killPid(proc, 'SIGKILL'), graceMs);
    const code = await done;
    clearTimeout(hard);
    return code;
  };
  return { proc, pid: proc.pid, done, stdout: () => out, stderr: () => err, stop, onLine: (fn) => listeners.push(fn) };
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Other engineers' builds and tests share this machine: before a step, wait (bounded) until
 * the machine is nearly idle, i.e. less than 30% of one core busy over 300 ms.
 */
let quietBudgetMs = 30_000;
async function waitQuiet(): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const b0 = machineBusyMs();
    await delay(300);
    const busyPct = ((machineBusyMs() - b0) / 300) * 100;
    const waited = Date.now() - t0;
    if (busyPct < 30 || waited > 4000 || waited > quietBudgetMs) {
      quietBudgetMs -= waited;
      return waited;
    }
    await delay(500);
  }
}

/** A UDP port free on HOST, found by binding port 0. */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, HOST, () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

/** True once something is bound to the UDP port (our bind fails with EADDRINUSE). */
function udpPortTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(true));
    s.bind(port, HOST, () => s.close(() => resolve(false)));
  });
}

// ---------------------------------------------------------------- /proc


/** Peak resident set size (VmHWM) in bytes. */
function procPeakRss(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] !== undefined ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Machine-wide CPU time in ms spent by processes (user+nice+system+irq+steal, all cores),
 * less the kernel's softirq work (the loopback network stack under load, also done by the
 * ksoftirqd threads): what is left once the target and sipp are subtracted is other processes.
 */
function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, , steal = 0] = f;
  return ((user + nice + system + irq + steal) * 1000) / CLK_TCK - ksoftirqdMs();
}

const KSOFTIRQD = readdirSync('/proc')
  .filter((d) => /^\d+$/.test(d))
  .filter((d) => {
    try {
      return readFileSync(`/proc/${d}/comm`, 'utf8').startsWith('ksoftirqd/');
    } catch {
      return false;
    }
  })
  .map(Number);

function ksoftirqdMs(): number {
  return KSOFTIRQD.reduce((sum, pid) => sum + (procCpuMs(pid) ?? 0), 0);
}

/** Kernel UDP counters: datagrams dropped because a receive buffer was full. */
function udpRcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = (lines[0] ?? '').split(/\s+/);
  const values = (lines[1] ?? '').split(/\s+/);
  const i = names.indexOf('RcvbufErrors');
  return i < 0 ? 0 : Number(values[i] ?? 0);
}

/** Datagrams the kernel dropped on the UDP sockets bound to HOST:port (/proc/net/udp "drops"). */
function udpSocketDrops(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let drops = 0;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local) drops += Number(f[f.length - 1] ?? 0);
  }
  return drops;
}

// ---------------------------------------------------------------- sipp

interface SippCsv {
  [column: string]: string;
}

/** The last line of a sipp -trace_stat CSV as column -> value. */
function readSippCsv(path: string): SippCsv | undefined {
  if (!existsSync(path)) return undefined;
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return undefined;
  const head = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const out: SippCsv = {};
  head.forEach((h, i) => {
    if (h !== '') out[h] = last[i] ?? '';
  });
  return out;
}

function csvNum(c: SippCsv | undefined, col: string): number {
  const v = c?.[col];
  return v === undefined || v === '' ? 0 : Number(v);
}

/** "2026-11-25\t11:23:00.082242\t1795605780.082242" -> epoch seconds. */
function csvTime(c: SippCsv | undefined, col: string): number {
  const v = c?.[col] ?? '';
  return Number(v.split('\t')[2] ?? NaN);
}

/**
 * From sipp's last message table: the Timeout and Unexpected-Msg column sums, and how many
 * of each message it received. A UAC prints "INVITE ---->" / "200 <----", a UAS "----> INVITE"
 * / "<---- 200"; received rows carry Messages, Retrans, Timeout, Unexpected-Msg.
 */
function screenCounters(stdout: string): { timeouts: number; unexpected: number; received: Record<string, number> } {
  const last = stdout.lastIndexOf('Messages  Retrans');
  let timeouts = 0;
  let unexpected = 0;
  const received: Record<string, number> = {};
  if (last < 0) return { timeouts, unexpected, received };
  for (const line of stdout.slice(last).split('\n').slice(1)) {
    if (/^-{5,}/.test(line)) break;
    const cols = String.raw`\s+(?:E-RTD\d+\s+)?(\d+)\s+(\d+)\s*(\d+)?\s*(\d+)?`;
    let name: string;
    let isReceived: boolean;
    let m = new RegExp(String.raw`^\s+(\S+)\s+(-+>|<-+)` + cols).exec(line);
    if (m !== null) {
      name = m[1]!;
      isReceived = m[2]!.startsWith('<');
    } else {
      m = new RegExp(String.raw`^\s+(-+>|<-+)\s+(\S+)` + cols).exec(line);
      if (m === null) continue;
      name = m[2]!;
      isReceived = m[1]!.endsWith('>');
    }
    timeouts += Number(m[5] ?? 0);
    if (isReceived) {
      unexpected += Number(m[6] ?? 0);
      received[name] ??= Number(m[3]);
    }
  }
  return { timeouts, unexpected, received };
}

interface UacResult {
  exitCode: number | null;
  calls: number;
  successful: number;
  failed: number;
  unexpected: number;
  timeouts: number;
  retransmissions: number;
  outOfCall: number;
  deadCall: number;
  elapsedS: number;
  achieved: number;
  uacCpuMs: number | undefined;
  /** Datagrams dropped on sipp's own socket (sampled every 100 ms while it ran). */
  uacDrops: number;
  wallMs: number;
}

async function runUac(sc: Scenario, port: number, uacPort: number, rate: number, calls: number, seconds: number, dir: string, tag: string): Promise<UacResult> {
  const csv = join(dir, `${tag}-uac.csv`);
  // A run still going at seconds/0.95 has already failed the 95% criterion: end it soon after
  // (sipp's -timeout counts whole seconds).
  const timeoutS = Math.ceil(seconds / MIN_ACHIEVED + 0.5);
  const args = [
    `${HOST}:${port}`,
    ...sc.uac,
    '-i', HOST,
    '-p', String(uacPort),
    '-t', 'u1',
    '-nostdin',
    '-r', String(rate),
    '-rp', '1000',
    '-m', String(calls),
    // No self-throttling on open calls: an overloaded target must show as failures/lateness.
    '-l', String(calls),
    '-timeout', `${timeoutS}s`,
    '-timeout_error',
    '-trace_stat', '-stf', csv, '-fd', '1',
    // The generator's own socket must not be what drops: 4 MB (the kernel caps it at
    // net.core.rmem_max) instead of sipp's 64 KB. Targets keep their defaults.
    '-buff_size', String(UAC_BUFFER_BYTES),
  ];
  const t0 = performance.now();
  const p = startProc('sipp', args, timeoutS * 1000 + 5000, dir);
  let cpu: number | undefined;
  let uacDrops = 0;
  const sampler = setInterval(() => {
    const c = procCpuMs(p.pid);
    if (c !== undefined) cpu = c;
    uacDrops = Math.max(uacDrops, udpSocketDrops(uacPort));
  }, 100);
  const code = await p.done;
  clearInterval(sampler);
  const wallMs = performance.now() - t0;
  writeFileSync(join(dir, `${tag}-uac.out`), p.stdout() + p.stderr());
  const c = readSippCsv(csv);
  const screen = screenCounters(p.stdout());
  const successful = csvNum(c, 'SuccessfulCall(C)');
  const elapsedS = csvTime(c, 'CurrentTime') - csvTime(c, 'StartTime');
  const timeouts =
    csvNum(c, 'FailedTimeoutOnRecv(C)') + csvNum(c, 'FailedTimeoutOnSend(C)') + csvNum(c, 'FailedMaxUDPRetrans(C)') + screen.timeouts;
  return {
    exitCode: code,
    calls,
    successful,
    failed: csvNum(c, 'FailedCall(C)'),
    unexpected: csvNum(c, 'FailedUnexpectedMessage(C)') + screen.unexpected,
    timeouts,
    retransmissions: csvNum(c, 'Retransmissions(C)'),
    outOfCall: csvNum(c, 'OutOfCallMsgs(C)'),
    deadCall: csvNum(c, 'DeadCallMsgs(C)'),
    elapsedS,
    achieved: elapsedS > 0 ? successful / elapsedS : 0,
    uacCpuMs: cpu,
    uacDrops,
    wallMs,
  };
}

// ---------------------------------------------------------------- targets

interface ServerStats {
  layer: {
    serverTransactionsCreated: number;
    retransmissionsSent: number;
    retransmissionsReceived: number;
    timeouts: number;
    rejectedOverLimit: number;
    malformed: number;
    activeServerTransactions: number;
    strayAcks: number;
  };
  invitesAccepted: number;
  byesReceived: number;
  openDialogs: number;
  rssBytes: number;
  heapUsedBytes: number;
}

interface Target {
  name: TargetName;
  pid: number;
  /** im-history only: ask for a STATS line (SIGUSR2). */
  stats(): Promise<ServerStats | undefined>;
  /**
   * sipp UAS only: its own failure counters, read after stop(); byes is undefined when sipp
   * printed no final screen to read it from.
   */
  uasCounters(): { failed: number; unexpected: number; byes: number | undefined } | undefined;
  stop(): Promise<void>;
}

async function startTarget(name: TargetName, sc: Scenario, port: number, dir: string, tag: string, nodeFlags: string[] = []): Promise<Target> {
  if (name === 'sipp') {
    const csv = join(dir, `${tag}-uas.csv`);
    const p = startProc('sipp', [...sc.uas, '-i', HOST, '-p', String(port), '-t', 'u1', '-nostdin', '-trace_stat', '-stf', csv, '-fd', '1', ...uasExtraArgs], 120_000, dir);
    const t0 = Date.now();
    while (!(await udpPortTaken(port))) {
      if (p.proc.exitCode !== null || Date.now() - t0 > 5000) {
        await p.stop();
        throw new Error(`sipp UAS did not bind ${HOST}:${port}: ${p.stdout().slice(-500)}${p.stderr().slice(-500)}`);
      }
      await delay(20);
    }
    let counters: { failed: number; unexpected: number; byes: number | undefined } | undefined;
    let stopped = false;
    return {
      name,
      pid: p.pid,
      stats: () => Promise.resolve(undefined),
      uasCounters: () => counters,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await p.stop();
        writeFileSync(join(dir, `${tag}-uas.out`), p.stdout() + p.stderr());
        const c = readSippCsv(csv);
        const screen = screenCounters(p.stdout());
        counters = { failed: csvNum(c, 'FailedCall(C)'), unexpected: csvNum(c, 'FailedUnexpectedMessage(C)') + screen.unexpected, byes: screen.received['BYE'] };
      },
    };
  }
  const floor = name === 'node-floor';
  const p = floor
    ? startProc(process.execPath, [FLOOR_JS, '--port', String(port), ...serverExtraArgs], 180_000, dir)
    : startProc(process.execPath, [...nodeFlags, SERVER_JS, '--port', String(port), '--transport', 'udp', ...serverExtraArgs], 180_000, dir);
  const waiting: ((s: ServerStats) => void)[] = [];
  let ready: () => void = () => undefined;
  const isReady = new Promise<void>((r) => (ready = r));
  p.onLine((line) => {
    if (line.startsWith('READY ')) ready();
    else if (line.startsWith('STATS ')) {
      const s = JSON.parse(line.slice(6)) as ServerStats;
      for (const w of waiting.splice(0)) w(s);
    }
  });
  const timeout = <T>(ms: number, v: T) => new Promise<T>((r) => setTimeout(() => r(v), ms).unref());
  const ok = await Promise.race([isReady.then(() => true), p.done.then(() => false), timeout(10_000, false)]);
  if (!ok) {
    await p.stop();
    throw new Error(`${floor ? 'node-floor' : 'sip-server'} did not start: ${p.stderr().slice(-1000)}`);
  }
  return {
    name,
    pid: p.pid,
    stats: () => {
      if (floor) return Promise.resolve(undefined);
      const got = new Promise<ServerStats>((r) => waiting.push(r));
      killPid(p.proc, 'SIGUSR2');
      return Promise.race([got, timeout(5000, undefined)]);
    },
    uasCounters: () => undefined,
    stop: async () => {
      if (p.proc.exitCode !== null || p.proc.signalCode !== null) return;
      await p.stop(10_000);
      writeFileSync(join(dir, `${tag}-server.out`), p.stdout() + p.stderr());
    },
  };
}

// ---------------------------------------------------------------- one step

interface Step {
  scenario: ScenarioName;
  target: TargetName;
  rate: number;
  attempt: number;
  pass: boolean;
  reasons: string[];
  uac: UacResult;
  warmupOk: boolean;
  targetCpuMs: number | undefined;
  peakRssBytes: number | undefined;
  otherCpuMs: number;
  /** Time spent waiting for the machine to go quiet before the step. */
  waitedMs: number;
  udpDrops: number;
  /** Of those, dropped on the target's socket. */
  targetDrops: number;
  server?: { retransmissionsSent: number; retransmissionsReceived: number; timeouts: number; rejectedOverLimit: number; byes: number; invites: number; activeServerTransactions: number; heapUsedBytes: number };
}

async function runStep(sc: Scenario, target: TargetName, rate: number, seconds: number, dir: string, attempt: number, nodeFlags: string[] = []): Promise<Step> {
  const tag = `${sc.name}-${target}-${rate}-${attempt}${nodeFlags.length > 0 ? '-prof' : ''}`;
  const waitedMs = await waitQuiet();
  // Another process may take a probed port before the target binds it: try a few.
  let t: Target | undefined;
  let port = 0;
  for (let i = 0; t === undefined; i++) {
    port = await freeUdpPort();
    try {
      t = await startTarget(target, sc, port, dir, tag, nodeFlags);
    } catch (e) {
      if (i >= 2) throw e;
    }
  }
  let uacPort = await freeUdpPort();
  while (uacPort === port) uacPort = await freeUdpPort();
  try {
    const wRate = Math.min(rate, 2000);
    const warmCalls = Math.max(100, Math.round(wRate / 2));
    const warm = await runUac(sc, port, uacPort, wRate, warmCalls, 0.5, dir, `${tag}-warmup`);
    const warmupOk = warm.exitCode === 0 && warm.failed === 0;
    await delay(200);
    const calls = Math.round(rate * seconds);
    const s0 = await t.stats();
    const cpu0 = procCpuMs(t.pid);
    const busy0 = machineBusyMs();
    const drops0 = udpRcvbufErrors();
    const tdrops0 = udpSocketDrops(port);
    const uac = await runUac(sc, port, uacPort, rate, calls, seconds, dir, tag);
    const cpu1 = procCpuMs(t.pid);
    const busy1 = machineBusyMs();
    const drops1 = udpRcvbufErrors();
    const targetDrops = udpSocketDrops(port) - tdrops0;
    const peakRssBytes = procPeakRss(t.pid);
    const s1 = await t.stats();
    const targetCpuMs = cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined;
    const reasons: string[] = [];
    if (!warmupOk) reasons.push('warm-up failed');
    if (uac.exitCode !== 0) reasons.push(`sipp exit ${uac.exitCode}`);
    if (uac.successful !== calls) reasons.push(`${uac.successful}/${calls} calls successful`);
    if (uac.failed > 0) reasons.push(`${uac.failed} failed`);
    if (uac.unexpected > 0) reasons.push(`${uac.unexpected} unexpected msgs`);
    if (uac.timeouts > 0) reasons.push(`${uac.timeouts} timeouts`);
    let server: Step['server'];
    if (target === 'im-history') {
      if (s0 === undefined || s1 === undefined) reasons.push('no STATS from server');
      else {
        server = {
          retransmissionsSent: s1.layer.retransmissionsSent - s0.layer.retransmissionsSent,
          retransmissionsReceived: s1.layer.retransmissionsReceived - s0.layer.retransmissionsReceived,
          timeouts: s1.layer.timeouts - s0.layer.timeouts,
          rejectedOverLimit: s1.layer.rejectedOverLimit - s0.layer.rejectedOverLimit,
          byes: s1.byesReceived - s0.byesReceived,
          invites: s1.invitesAccepted - s0.invitesAccepted,
          activeServerTransactions: s1.layer.activeServerTransactions,
          heapUsedBytes: s1.heapUsedBytes,
        };
        if (server.rejectedOverLimit > 0) reasons.push(`${server.rejectedOverLimit} x 503 over maxServerTransactions`);
        if (sc.name === 'invite' && server.byes !== calls) reasons.push(`server got ${server.byes}/${calls} BYEs`);
      }
    }
    const rateOk = uac.achieved >= MIN_ACHIEVED * rate;
    if (!rateOk) reasons.push(`achieved ${fmt(uac.achieved)}/s = ${((100 * uac.achieved) / rate).toFixed(1)}% < 95%`);
    await t.stop();
    const uas = t.uasCounters();
    if (uas !== undefined && (uas.failed > 0 || uas.unexpected > 0)) reasons.push(`sipp UAS: ${uas.failed} failed, ${uas.unexpected} unexpected`);
    // The same BYE check as for im-history (the UAS's counts include the warm-up calls).
    if (uas !== undefined && sc.name === 'invite') {
      if (uas.byes === undefined) reasons.push('sipp UAS printed no final screen (BYE count unknown)');
      else if (uas.byes !== warmCalls + calls) reasons.push(`sipp UAS got ${uas.byes - warmCalls}/${calls} BYEs`);
    }
    const other = busy1 - busy0 - (targetCpuMs ?? 0) - (uac.uacCpuMs ?? 0);
    return {
      scenario: sc.name,
      target,
      rate,
      attempt,
      pass: reasons.length === 0,
      reasons,
      uac,
      warmupOk,
      targetCpuMs,
      peakRssBytes,
      otherCpuMs: Math.max(0, other),
      waitedMs,
      udpDrops: drops1 - drops0,
      targetDrops,
      ...(server !== undefined ? { server } : {}),
    };
  } finally {
    await t.stop();
  }
}

/** Other processes took more than half a core during the step: its failure says little. */
function noisy(s: Step): boolean {
  return s.uac.elapsedS > 0 && s.otherCpuMs / (s.uac.elapsedS * 1000) > 0.5;
}

function onlyRateFailed(s: Step): boolean {
  return s.reasons.length === 1 && s.reasons[0]!.startsWith('achieved ');
}

// ---------------------------------------------------------------- search

interface Search {
  scenario: ScenarioName;
  target: TargetName;
  best: Step | undefined;
  lowestFail: number | undefined;
  steps: Step[];
}

function roundRate(r: number): number {
  const unit = r >= 10_000 ? 500 : r >= 1000 ? 100 : 10;
  return Math.max(unit, Math.round(r / unit) * unit);
}

async function search(sc: Scenario, target: TargetName, o: Options, dir: string): Promise<Search> {
  const steps: Step[] = [];
  let best: Step | undefined;
  let fail: number | undefined;
  let rate = sc.start;
  let count = 0;
  if (o.rates !== undefined) {
    for (const r of o.rates) {
      const s = await runStep(sc, target, r, o.seconds, dir, 1);
      steps.push(s);
      logStep(s);
      if (s.pass && (best === undefined || r > best.rate)) best = s;
      if (!s.pass) fail = fail === undefined ? r : Math.min(fail, r);
    }
    return { scenario: sc.name, target, best, lowestFail: fail, steps };
  }
  while (count < o.maxSteps) {
    count++;
    let attempt = 1;
    let s = await runStep(sc, target, rate, o.seconds, dir, attempt);
    steps.push(s);
    logStep(s);
    if (!s.pass && o.retry && (noisy(s) || onlyRateFailed(s))) {
      s = await runStep(sc, target, rate, o.seconds, dir, ++attempt);
      steps.push(s);
      logStep(s);
    }
    if (s.pass) best = s;
    else fail = fail === undefined ? rate : Math.min(fail, rate);
    const lo = best?.rate;
    let next: number;
    if (fail === undefined) {
      if (rate >= sc.max) break;
      next = Math.min(sc.max, rate * 2);
    } else if (lo === undefined) {
      next = roundRate(rate / 2);
      if (next >= rate || next < 50) break;
    } else {
      if (fail / lo <= o.resolution) break;
      next = roundRate(Math.sqrt(lo * fail));
      if (next <= lo || next >= fail) break;
    }
    rate = next;
  }
  return { scenario: sc.name, target, best, lowestFail: fail, steps };
}

// ---------------------------------------------------------------- output

function fmt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
}

function mb(b: number | undefined): string {
  return b === undefined ? 'n/a' : (b / 1024 / 1024).toFixed(0);
}

function table(header: readonly string[], rows: readonly (readonly string[])[], left = 1): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => '| ' + cells.map((c, i) => (i < left ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join(' | ') + ' |';
  const rule = '|' + w.map((n, i) => (i < left ? ':' + '-'.repeat(n + 1) : '-'.repeat(n + 1) + ':')).join('|') + '|';
  return [line(header), rule, ...rows.map(line)].join('\n');
}

function cpuPct(ms: number | undefined, wallS: number): string {
  return ms === undefined || !(wallS > 0) ? 'n/a' : `${((ms / 10) / wallS).toFixed(0)}%`;
}

function logStep(s: Step): void {
  const u = s.uac;
  const parts = [
    `${s.scenario.padEnd(7)} ${s.target.padEnd(10)} r=${String(s.rate).padStart(6)}${s.attempt > 1 ? ' (retry)' : ''}`,
    s.pass ? 'PASS' : 'FAIL',
    `achieved ${fmt(u.achieved)}/s (${((100 * u.achieved) / s.rate).toFixed(1)}%) in ${u.elapsedS.toFixed(2)} s`,
    `retrans ${u.retransmissions}`,
    `target cpu ${cpuPct(s.targetCpuMs, u.elapsedS)}`,
    `uac cpu ${cpuPct(u.uacCpuMs, u.elapsedS)}`,
    `others ${cpuPct(s.otherCpuMs, u.elapsedS)}`,
    `udp drops ${s.udpDrops} (target ${s.targetDrops}, uac ${u.uacDrops})`,
    `rss ${mb(s.peakRssBytes)} MB`,
  ];
  if (s.waitedMs > 1000) parts.push(`waited ${(s.waitedMs / 1000).toFixed(1)} s for quiet`);
  if (s.server !== undefined) parts.push(`srv retrans sent/absorbed ${s.server.retransmissionsSent}/${s.server.retransmissionsReceived}`);
  if (!s.pass) parts.push(`<- ${s.reasons.join('; ')}`);
  process.stderr.write(parts.join(' | ') + '\n');
}

function machine(): string[] {
  let model = os.cpus()[0]?.model ?? 'unknown';
  const m = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  if (m?.[1] !== undefined) model = m[1].trim();
  const sipp = spawnSync('sipp', ['-v'], { encoding: 'utf8' });
  const sv = /SIPp v?(\S+)/.exec(`${sipp.stdout}${sipp.stderr}`)?.[1] ?? 'unknown';
  const dpkg = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'sip-tester'], { encoding: 'utf8' });
  // Read-only git queries: which code was measured.
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' });
  const changed = dirty.status === 0 ? dirty.stdout.split('\n').filter((l) => l.trim() !== '').length : 0;
  const code =
    head.status === 0 ? `- Code: commit ${head.stdout.trim()}${changed > 0 ? ` + uncommitted changes in ${changed} file(s) under src/` : ''}` : undefined;
  return [
    `- Machine: ${os.availableParallelism()} CPUs (nproc), ${model}, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM, ${os.platform()} ${os.release()}`,
    `- Node ${process.version}; sipp ${sv}${dpkg.status === 0 ? ` (Debian sip-tester ${dpkg.stdout.trim()})` : ''}`,
    `- Load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `- Date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
    ...(code !== undefined ? [code] : []),
  ];
}

function report(searches: Search[], o: Options): string {
  const out: string[] = [];
  const find = (sc: ScenarioName, t: TargetName) => searches.find((s) => s.scenario === sc && s.target === t);
  const rateCell = (s: Search | undefined): string => {
    if (s === undefined) return 'not run';
    if (s.best === undefined) return `< ${fmt(s.lowestFail ?? 0)}`;
    const capped = s.lowestFail === undefined ? ' (max tried)' : '';
    return `${fmt(s.best.rate)}${capped}`;
  };
  const rows = o.scenarios.map((name) => {
    const sc = SCENARIOS[name];
    const ref = find(name, 'sipp');
    const ours = find(name, 'im-history');
    const floor = find(name, 'node-floor');
    const ratio = ref?.best !== undefined && ours !== undefined ? (100 * (ours.best?.rate ?? 0)) / ref.best.rate : undefined;
    const floorRatio = ref?.best !== undefined && floor !== undefined ? (100 * (floor.best?.rate ?? 0)) / ref.best.rate : undefined;
    return [
      `${sc.label} (${sc.unit})`,
      rateCell(ref),
      rateCell(ours),
      ratio === undefined ? 'n/a' : `${ratio.toFixed(0)}%`,
      floor === undefined ? 'not run' : `${rateCell(floor)}${floorRatio === undefined ? '' : ` (${floorRatio.toFixed(0)}%)`}`,
      `${(TARGET_RATIO * 100).toFixed(0)}%`,
      ratio === undefined ? 'n/a' : ratio >= TARGET_RATIO * 100 ? 'yes' : 'no',
    ];
  });
  out.push(table(['Scenario', 'sipp UAS (reference)', 'im-history', 'ratio', 'Node floor (ratio)', 'target', 'met'], rows));
  out.push('');
  out.push(
    `Rate = highest offered rate (sipp -r, -rp 1000, ${o.seconds} s per step) with 0 failed calls, 0 unexpected messages, 0 timeouts and >= 95% of it achieved; search resolution ${o.resolution}x.`,
    `Load: sipp -t u1 -r R -rp 1000 -m ${o.seconds}*R -l ${o.seconds}*R -buff_size ${UAC_BUFFER_BYTES}; OPTIONS = bench/sipp/options-uac.xml against bench/sipp/options-uas.xml or im-history, INVITE dialog = -sn uac -d 0 against -sn uas or im-history (bench/sip-server.ts, maxServerTransactions 1,000,000). Each step starts a fresh target and warms it up for 0.5 s.`,
    'Node floor = bench/node-floor.ts, a stateless responder that copies five header lines into a 200 and does nothing else (no parsing, validation, transactions or dialogs): what Node\'s dgram path sustains here. Not a SIP implementation; shown to split the gap into Node and our own work.',
  );
  out.push('');
  const best = searches.filter((s) => s.best !== undefined);
  out.push(
    table(
      ['Best run', 'rate', 'achieved/s', 'target CPU s', 'target CPU', 'peak RSS MB', 'sipp retrans', 'our retrans sent/absorbed', 'live server tx', 'sipp UAC CPU', 'other procs CPU'],
      best.map((s) => {
        const b = s.best!;
        const w = b.uac.elapsedS;
        return [
          `${SCENARIOS[s.scenario].label}, ${targetLabel(s.target)}`,
          fmt(b.rate),
          fmt(b.uac.achieved),
          b.targetCpuMs === undefined ? 'n/a' : (b.targetCpuMs / 1000).toFixed(2),
          cpuPct(b.targetCpuMs, w),
          mb(b.peakRssBytes),
          String(b.uac.retransmissions),
          b.server === undefined ? '-' : `${b.server.retransmissionsSent}/${b.server.retransmissionsReceived}`,
          b.server === undefined ? '-' : fmt(b.server.activeServerTransactions),
          cpuPct(b.uac.uacCpuMs, w),
          cpuPct(b.otherCpuMs, w),
        ];
      }),
    ),
  );
  out.push('');
  out.push('CPU % are of one core over the measured run (2 cores = 200%); "other procs" is the rest of the machine\'s busy time in that run.');
  return out.join('\n');
}

function targetLabel(t: TargetName): string {
  return t === 'sipp' ? 'sipp UAS' : t === 'node-floor' ? 'Node floor' : 'im-history';
}

function searchLog(searches: Search[]): string {
  return searches
    .map((s) => {
      const steps = s.steps
        .map((x) => `${fmt(x.rate)}${x.attempt > 1 ? ' (retry)' : ''} ${x.pass ? 'pass' : `FAIL (${x.reasons.join('; ')})`}`)
        .join(', ');
      return `- ${SCENARIOS[s.scenario].label} / ${targetLabel(s.target)}: ${steps}`;
    })
    .join('\n');
}

// ---------------------------------------------------------------- profile / confirm

async function profile(sc: Scenario, rate: number, o: Options, dir: string): Promise<string> {
  const profDir = mkdtempSync(join(dir, `prof-${sc.name}-`));
  const s = await runStep(sc, 'im-history', rate, o.seconds, dir, 1, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
  logStep(s);
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) return `no .cpuprofile written in ${profDir}`;
  return `${SCENARIOS[sc.name].label} at ${fmt(rate)}/s offered (achieved ${fmt(s.uac.achieved)}/s), ${join(profDir, file)}\n(V8 samples wall-clock time: a native call during which the process is descheduled, e.g. a loopback dgram send that wakes sipp, absorbs that time; \`perf record\` shows on-CPU time)\n${formatSummary(summarizeProfile(loadProfile(join(profDir, file))), 20)}`;
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const o = readOptions();
  if (o.serverRecvBuffer !== undefined) {
    serverExtraArgs = ['--recv-buffer', String(o.serverRecvBuffer)];
    uasExtraArgs = ['-buff_size', String(o.serverRecvBuffer)];
  }
  if (spawnSync('sh', ['-c', 'command -v sipp']).status !== 0) throw new Error('sipp is not installed (apt-get install sip-tester)');
  if (!existsSync(SERVER_JS)) throw new Error(`${SERVER_JS} missing: run npm run build`);
  const dir = mkdtempSync(join(os.tmpdir(), 'bench-transactions-'));
  const t0 = Date.now();
  const head = machine();
  if (o.serverRecvBuffer !== undefined) {
    head.push(`- EXPERIMENT: every target's UDP socket with SO_RCVBUF ${o.serverRecvBuffer} bytes (im-history: not its shipped configuration; sipp UAS: -buff_size; Node floor: recvBufferSize)`);
  }
  process.stderr.write(`bench/transactions: logs in ${dir}\n${head.join('\n')}\n`);
  const searches: Search[] = [];
  for (const name of o.scenarios) {
    for (const target of o.targets) searches.push(await search(SCENARIOS[name], target, o, dir));
  }
  const extra: string[] = [];
  for (const name of o.scenarios) {
    const ours = searches.find((s) => s.scenario === name && s.target === 'im-history')?.best;
    if (ours === undefined) continue;
    if (o.confirmSeconds > 0) {
      const c = await runStep(SCENARIOS[name], 'im-history', ours.rate, o.confirmSeconds, dir, 1);
      logStep(c);
      extra.push(
        `Confirmation, ${SCENARIOS[name].label} at ${fmt(ours.rate)}/s for ${o.confirmSeconds} s: ${c.pass ? 'pass' : `FAIL (${c.reasons.join('; ')})`}, achieved ${fmt(c.uac.achieved)}/s, peak RSS ${mb(c.peakRssBytes)} MB, live server transactions ${fmt(c.server?.activeServerTransactions ?? NaN)}`,
      );
    }
    if (o.profile) extra.push(await profile(SCENARIOS[name], roundRate(ours.rate * 1.25), o, dir));
  }
  const wall = (Date.now() - t0) / 1000;
  const lines = [
    '## Transactions (bench/transactions)',
    '',
    ...head,
    '',
    report(searches, o),
    '',
    'Search log (offered rate per step):',
    '',
    searchLog(searches),
    '',
    `Bench wall time ${wall.toFixed(0)} s; per-step sipp output and CSVs in ${dir}.`,
  ];
  if (extra.length > 0) lines.push('', ...extra);
  process.stdout.write(lines.join('\n') + '\n');
  if (o.json !== undefined) writeFileSync(o.json, JSON.stringify({ options: o, searches }, null, 2));
}

main().catch((e: unknown) => {
  process.stderr.write(`bench/transactions: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  killAll();
  process.exit(1);
});
