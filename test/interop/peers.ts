// Real peers for interop tests: sipp and tshark, started by the test on loopback ports it
// chose, bounded in time, and killed by PID when the test ends.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/**
 * Skip reason when a peer binary is missing, or undefined when present. Under CI a missing
 * peer is a failure, not a skip: .ci/run installs them.
 */
export function missing(cmd: string): string | undefined {
  if (have(cmd)) return undefined;
  if (process.env.CI !== undefined && process.env.CI !== '') throw new Error(`${cmd} is not installed (CI must install it: see .ci/run)`);
  return `${cmd} not installed (apt-get install ${cmd === 'sipp' ? 'sip-tester' : cmd})`;
}

/** A port free for both UDP and TCP on the address, chosen by binding port 0. */
export async function freePort(address = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, address, () => {
        const a = srv.address();
        srv.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
      s.once('error', () => resolve(false));
      s.bind(port, address, () => s.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port found');
}

export interface PeerResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Peer {
  proc: ChildProcess;
  done: Promise<PeerResult>;
  /** What the process has written to stderr so far. */
  stderr(): string;
  kill(): void;
}

/** Start a process with a hard time limit; kill() (and the limit) end it by PID. */
export function startPeer(cmd: string, args: string[], limitMs: number, cwd?: string): Peer {
  const proc = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const kill = () => {
    if (proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null) {
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  const timer = setTimeout(kill, limitMs);
  const done = new Promise<PeerResult>((resolve) => {
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { proc, done, kill, stderr: () => stderr };
}

export const SIPP_DIR = join(process.cwd(), 'test', 'interop', 'sipp');

export interface SippOptions {
  /** Built-in scenario name (-sn) or scenario file under test/interop/sipp (-sf). */
  scenario: { builtin: string } | { file: string };
  remote?: string;
  localPort: number;
  transport?: 'UDP' | 'TCP';
  calls: number;
  rate?: number;
  lost?: number;
  extra?: string[];
  limitMs?: number;
}

/** Run sipp to completion; resolves with its exit code and the parsed call counters. */
export async function runSipp(o: SippOptions): Promise<PeerResult & { successful: number; failed: number; log: string; retransmissions: number; lost: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const args = [
    ...(o.remote !== undefined ? [o.remote] : []),
    ...('builtin' in o.scenario ? ['-sn', o.scenario.builtin] : ['-sf', join(SIPP_DIR, o.scenario.file)]),
    '-i', '127.0.0.1',
    '-p', String(o.localPort),
    '-t', o.transport === 'TCP' ? 't1' : 'u1',
    '-m', String(o.calls),
    '-r', String(o.rate ?? 50),
    '-nostdin',
    '-timeout', `${Math.ceil((o.limitMs ?? 30_000) / 1000)}s`,
    '-timeout_error',
    '-trace_err', '-error_file', join(dir, 'errors.log'),
    '-trace_stat', '-stf', join(dir, 'stats.csv'),
    ...(o.lost !== undefined ? ['-lost', String(o.lost)] : []),
    ...(o.extra ?? []),
  ];
  const peer = startPeer('sipp', args, (o.limitMs ?? 30_000) + 5_000, dir);
  const r = await peer.done;
  const count = (label: string) => {
    const m = new RegExp(`${label}\\s*\\|\\s*\\d+\\s*\\|\\s*(\\d+)`).exec(r.stdout);
    return m === null ? -1 : Number(m[1]);
  };
  let log = '';
  try {
    log = readFileSync(join(dir, 'errors.log'), 'utf8');
  } catch {
    // no errors logged
  }
  return { ...r, successful: count('Successful call'), failed: count('Failed call'), log, ...messageTable(r.stdout) };
}

/**
 * Totals of sipp's per-message table: retransmissions it sent and messages it dropped on
 * purpose (-lost), taken from the last screen it printed.
 */
export function messageTable(stdout: string): { retransmissions: number; lost: number } {
  const last = stdout.lastIndexOf('Messages  Retrans');
  let retransmissions = 0;
  let lost = 0;
  for (const line of stdout.slice(Math.max(0, last)).split('\n')) {
    const m = /^\s+\S+ (?:-+>|<-+)\s+(?:E-RTD\d+ )?(\d+)\s+(\d+)(.*)$/.exec(line);
    if (m === null) continue;
    retransmissions += Number(m[2]);
    const nums = (m[3] ?? '').trim().split(/\s+/).filter((x) => x !== '');
    if (nums.length === 3) lost += Number(nums[2]);
  }
  return { retransmissions, lost };
}

/** Start sipp in the background (e.g. as a UAS waiting for our calls). */
export function startSipp(o: SippOptions): Peer & { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const args = [
    ...('builtin' in o.scenario ? ['-sn', o.scenario.builtin] : ['-sf', join(SIPP_DIR, o.scenario.file)]),
    '-i', '127.0.0.1',
    '-p', String(o.localPort),
    '-t', o.transport === 'TCP' ? 't1' : 'u1',
    '-m', String(o.calls),
    '-nostdin',
    '-trace_err', '-error_file', join(dir, 'errors.log'),
    ...(o.lost !== undefined ? ['-lost', String(o.lost)] : []),
    ...(o.extra ?? []),
  ];
  return { ...startPeer('sipp', args, o.limitMs ?? 30_000, dir), dir };
}

/** tshark capturing loopback traffic on some ports into a pcap file. */
export async function startCapture(ports: number[], limitMs: number): Promise<{ file: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'cap-'));
  const file = join(dir, 'capture.pcapng');
  const filter = ports.map((p) => `port ${p}`).join(' or ');
  const peer = startPeer('tshark', ['-i', 'lo', '-f', filter, '-w', file, '-q'], limitMs, dir);
  // Wait until tshark says it is capturing (bounded).
  const start = Date.now();
  while (!/Capturing on/.test(peer.stderr()) && peer.proc.exitCode === null && Date.now() - start < 10_000) await delay(50);
  if (!/Capturing on/.test(peer.stderr())) throw new Error(`tshark did not start: ${peer.stderr()}`);
  await delay(200);
  return {
    file,
    async stop() {
      await delay(300);
      if (peer.proc.pid !== undefined) {
        try {
          process.kill(peer.proc.pid, 'SIGINT');
        } catch {
          // gone
        }
      }
      await peer.done;
    },
  };
}

/** Dissect a capture as SIP on the given ports; return packet counts. */
export function analyseCapture(file: string, ports: number[]): { sip: number; malformed: number; errors: string[] } {
  const decode = ports.flatMap((p) => ['-d', `udp.port==${p},sip`, '-d', `tcp.port==${p},sip`]);
  const run = (filter: string) =>
    spawnSync('tshark', ['-r', file, ...decode, '-Y', filter, '-T', 'fields', '-e', 'frame.number', '-e', '_ws.col.Info'], { encoding: 'utf8' });
  const sip = run('sip').stdout.trim();
  const bad = run('_ws.malformed || _ws.expert.severity == "error"').stdout.trim();
  return {
    sip: sip === '' ? 0 : sip.split('\n').length,
    malformed: bad === '' ? 0 : bad.split('\n').length,
    errors: bad === '' ? [] : bad.split('\n').slice(0, 10),
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
