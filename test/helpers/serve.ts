// `im-history serve` as a child process, for tests and benches that need the real program:
// a config written to a temp file, the process bounded in time and killed by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './paths.js';
import { until } from './wait.js';

export const CLI = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

export interface Served {
  child: ChildProcess;
  /** Everything the process logged to stdout (pino JSON lines). */
  out(): string;
  /** Port of the first listener the log names for this transport/what, e.g. port('SIP', 'UDP'). */
  port(what: 'SIP' | 'MSRP' | 'API', transport?: string): number;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Start `im-history serve -c <config>` and wait for "im-history started". */
export async function serve(config: object, opts: { limitMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'imh-serve-'));
  const cfg = join(dir, 'config.json');
  writeFileSync(cfg, JSON.stringify(config));
  const child = spawn(process.execPath, [CLI, 'serve', '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.length > 4_000_000) out = out.slice(-2_000_000);
  });
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const guard = setTimeout(() => child.kill('SIGKILL'), opts.limitMs ?? 120_000);
  void exited.then(() => {
    clearTimeout(guard);
    rmSync(dir, { recursive: true, force: true });
  });
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  };
  try {
    await until(() => out.includes('"msg":"im-history started"') || child.exitCode !== null, 20_000, 'im-history serve started');
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}`);
  } catch (e) {
    await kill();
    throw new Error(`${(e as Error).message}\nstdout:\n${out.slice(-3000)}\nstderr:\n${err.slice(-3000)}`);
  }
  const port = (what: 'SIP' | 'MSRP' | 'API', transport?: string): number => {
    const msg = what === 'SIP' ? 'SIP listening' : what === 'MSRP' ? 'MSRP listening' : 'HTTP API and viewer listening';
    for (const line of out.split('\n')) {
      if (!line.includes(`"msg":"${msg}"`)) continue;
      const rec = JSON.parse(line) as { port: number; transport?: string };
      if (transport === undefined || rec.transport === transport) return rec.port;
    }
    throw new Error(`no "${msg}" line in the log`);
  };
  return { child, out: () => out, port, kill };
}
