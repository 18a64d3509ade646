/**
 * A throwaway PostgreSQL server for tests and benchmarks: initdb into a temporary
 * directory, `postgres` on a free loopback port with its socket in that directory, stopped
 * by PID and deleted afterwards. Used by test/helpers/postgres.ts (which ties it to a test
 * file's before/after hooks) and by bench/record-store.ts.
 *
 * - Binaries: the highest version under /usr/lib/postgresql/<ver>/bin (Debian's
 *   `postgresql` package), or the directory in IM_HISTORY_PG_BIN.
 * - PostgreSQL refuses to run as root: when this process is root (CI), initdb and postgres
 *   run as the `postgres` system user the Debian package creates (spawn with its uid/gid,
 *   so the PID we hold is the server's own), and the directory is chowned to it.
 * - Bounded: initdb and start-up each have a time limit; stop() sends SIGINT (fast
 *   shutdown), then SIGKILL after a bound; a process exit hook kills a server still running.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PgServerOptions {
  /** Extra server settings (-c name=value); tests pass fsync=off. */
  settings?: Record<string, string>;
  /** Bound for initdb and for start-up each (default 30 s). */
  timeoutMs?: number;
}

export interface PgServer {
  /** Connection URL of the superuser to the `postgres` database. */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly version: string;
  /** URL of another database on the same server. */
  urlFor(database: string): string;
  /** CREATE DATABASE with a fresh name; returns its URL. */
  createDatabase(prefix?: string): Promise<string>;
  /** SIGINT, SIGKILL after `boundMs`, then the directory is removed. Idempotent. */
  stop(boundMs?: number): Promise<void>;
}

const SUPERUSER = 'imhistory';

export function findPgBin(): string {
  const fromEnv = process.env.IM_HISTORY_PG_BIN;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+(\.\d+)?$/.test(v) && existsSync(join(root, v, 'bin', 'postgres')) && existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL server binaries under ${root}/<version>/bin (apt-get install postgresql)`);
  return join(root, versions[0]!, 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error('running as root, and there is no `postgres` system user to run PostgreSQL as (apt-get install postgresql creates it)');
  }
}

const live = new Set<ChildProcess>();
let exitHook = false;

export async function startPgServer(options: PgServerOptions = {}): Promise<PgServer> {
  const bin = findPgBin();
  const bound = options.timeoutMs ?? 30_000;
  const user = runAs();
  const base = mkdtempSync(join(tmpdir(), 'im-history-pg-'));
  const data = join(base, 'data');
  const sock = join(base, 'sock');
  mkdirSync(sock);
  if (user !== undefined) {
    chownSync(base, user.uid, user.gid);
    chownSync(sock, user.uid, user.gid);
  }
  const env = { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
  const ids = user === undefined ? {} : { uid: user.uid, gid: user.gid };
  try {
    const init = spawnSync(
      join(bin, 'initdb'),
      ['-D', data, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync', '--no-instructions'],
      { cwd: base, env, encoding: 'utf8', timeout: bound, ...ids },
    );
    if (init.status !== 0) throw new Error(`initdb failed (${init.status ?? init.signal ?? init.error?.message}): ${init.stderr}`);
  } catch (e) {
    rmSync(base, { recursive: true, force: true });
    throw e;
  }

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: sock, max_connections: '100', ...options.settings };
    const args = ['-D', data, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const child = spawn(join(bin, 'postgres'), args, { cwd: base, env, stdio: ['ignore', 'ignore', 'pipe'], ...ids });
    live.add(child);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const c of live) c.kill('SIGKILL');
      });
    }
    let log = '';
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      if (log.length < 64 * 1024) log += s;
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => live.delete(child));
    const url = `postgresql://${SUPERUSER}@127.0.0.1:${port}/postgres`;
    const kill = async (boundMs: number): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), boundMs);
        await exited;
        clearTimeout(timer);
      }
    };
    const stop = async (boundMs = 10_000): Promise<void> => {
      try {
        await kill(boundMs);
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    };
    const version = await ready(url, bound, exited).catch(async (e: unknown) => {
      await kill(2000);
      return e instanceof Error ? e : new Error(String(e));
    });
    if (version instanceof Error) {
      // Another process may have taken the port between freePort() and the bind: try again.
      if (/could not bind|Address already in use/i.test(log) && attempt < 3) continue;
      rmSync(base, { recursive: true, force: true });
      throw new Error(`PostgreSQL did not start: ${version.message}\n${log}`);
    }
    let stopped: Promise<void> | undefined;
    let n = 0;
    const server: PgServer = {
      url,
      port,
      pid: child.pid!,
      version,
      urlFor: (db) => `postgresql://${SUPERUSER}@127.0.0.1:${port}/${encodeURIComponent(db)}`,
      async createDatabase(prefix = 'test') {
        const name = `${prefix}_${process.pid}_${++n}`;
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          await c.query(`CREATE DATABASE ${name}`);
        } finally {
          await c.end();
        }
        return server.urlFor(name);
      },
      stop(boundMs) {
        stopped ??= stop(boundMs);
        return stopped;
      },
    };
    return server;
  }
}

/** Polls until the server answers a query; rejects when it exits or the bound passes. */
async function ready(url: string, bound: number, exited: Promise<void>): Promise<string> {
  let gone = false;
  void exited.then(() => (gone = true));
  const end = Date.now() + bound;
  for (;;) {
    if (gone) throw new Error('the server exited');
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await c.connect();
      const r = await c.query<{ v: string }>("SELECT current_setting('server_version') AS v");
      await c.end();
      return r.rows[0]?.v ?? '?';
    } catch (e) {
      await c.end().catch(() => undefined);
      if (Date.now() > end) throw new Error(`not accepting connections within ${bound} ms: ${e instanceof Error ? e.message : String(e)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
