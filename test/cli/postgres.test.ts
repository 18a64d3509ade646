// The command line with store.backend "postgres", against a throwaway server this file starts:
// check-config --store, the histories commands (also via IM_HISTORY__ environment overrides),
// serve (instance id, start-up clean-up of its own histories only, clean SIGTERM), and clear
// errors with exit code 2 for a missing URL or an unreachable server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { usePostgres } from '../helpers/postgres.js';
import { PgStore } from '../../src/store/pg.js';
import { newHistory, textMessage } from '../store/contract.js';

const CLI = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const server = usePostgres();
const dir = mkdtempSync(join(tmpdir(), 'cli-pg-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function config(name: string, store: unknown, more: Record<string, unknown> = {}): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ store, ...more }));
  return path;
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 1));
    });
  });
}

test('check-config: postgres needs a URL; the password is never printed; --store reports the schema', async () => {
  const missing = run(['check-config', config('missing', { backend: 'postgres' })]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /store\.postgres\.url: store\.backend "postgres" needs store\.postgres\.url/);
  const badUrl = run(['check-config', config('bad-url', { backend: 'postgres', postgres: { url: 'http://x' } })]);
  assert.equal(badUrl.code, 2);
  assert.match(badUrl.err, /store\.postgres\.url: must be a postgresql:\/\/user:password@host:port\/database URL/);

  const url = await server().createDatabase('cli_check');
  const withPassword = url.replace('imhistory@', 'imhistory:hunter2@');
  const good = run(['check-config', '--store', config('good', { backend: 'postgres', postgres: { url: withPassword } }, { instance: { id: 'hf-1' } })]);
  assert.equal(good.code, 0, good.err);
  assert.ok(!good.out.includes('hunter2') && !good.err.includes('hunter2'));
  const shown = JSON.parse(good.out) as { store: { backend: string; postgres: { url: string; poolSize: number } }; instance: { id: string } };
  assert.equal(shown.store.backend, 'postgres');
  assert.match(shown.store.postgres.url, /imhistory:\*\*\*@/);
  assert.equal(shown.store.postgres.poolSize, 10);
  assert.equal(shown.instance.id, 'hf-1');
  assert.match(good.err, /store: PostgreSQL \d+.* no im-history schema yet/);
});

test('histories commands read the configured PostgreSQL store, also set by environment overrides', async () => {
  const url = await server().createDatabase('cli_hist');
  const store = await PgStore.open(url);
  const h = await store.createHistory(newHistory({ name: 'pg-weekly', imUsers: ['sip:bob@example.net'] }));
  await store.addMessage(h.id, textMessage('the quarterly numbers are in'));
  await store.close();
  const env = { IM_HISTORY__store__backend: 'postgres', IM_HISTORY__store__postgres__url: url };
  const list = run(['histories', 'list'], env);
  assert.equal(list.code, 0, list.err);
  assert.match(list.out, /pg-weekly/);
  const search = run(['histories', 'search', 'QUARTERLY', '--as', 'sip:bob@example.net'], env);
  assert.equal(search.code, 0, search.err);
  assert.match(search.out, new RegExp(`${h.id.slice(0, 8)} #1 .*«quarterly»`));
  const hidden = run(['histories', 'list', '--as', 'sip:mallory@example.net'], env);
  assert.match(hidden.out, /no histories/);
});

test('an unreachable server: one clear line naming it (no password, no stack trace), exit 2', async () => {
  const port = await closedPort();
  const r = run(['histories', 'list'], {
    IM_HISTORY__store__backend: 'postgres',
    IM_HISTORY__store__postgres__url: `postgresql://u:pw123@127.0.0.1:${port}/x`,
    IM_HISTORY__store__postgres__connectTimeoutMs: '2000',
  });
  assert.equal(r.code, 2);
  assert.match(r.err, new RegExp(`^im-history: cannot connect to PostgreSQL at postgresql://u:\\*\\*\\*@127\\.0\\.0\\.1:${port}/x: .*ECONNREFUSED`));
  assert.ok(!r.err.includes('pw123'));
  assert.ok(!/\n\s+at /.test(r.err), r.err);
  const probe = run(['check-config', '--store', config('unreachable', { backend: 'postgres', postgres: { url: `postgresql://u@127.0.0.1:${port}/x` } })]);
  assert.equal(probe.code, 2);
  assert.match(probe.err, /cannot connect to PostgreSQL/);
});

test('serve on PostgreSQL: stamps its instance id, closes only its own abandoned histories, stops cleanly', async () => {
  const url = await server().createDatabase('cli_serve');
  const seed = await PgStore.open(url);
  const mine = await seed.createHistory(newHistory({ name: 'mine', instance: 'hf-a' }));
  await seed.updateHistory(mine.id, { state: 'active' });
  const theirs = await seed.createHistory(newHistory({ name: 'theirs', instance: 'hf-b' }));
  await seed.updateHistory(theirs.id, { state: 'active' });
  const cfg = config(
    'serve',
    { backend: 'postgres', postgres: { url } },
    {
      logLevel: 'info',
      instance: { id: 'hf-a' },
      sip: { udp: [{ address: '127.0.0.1', port: 0 }], tcp: [{ address: '127.0.0.1', port: 0 }] },
      history: { msrp: { address: '127.0.0.1', port: 0 } },
      api: { port: 0 },
    },
  );
  const child = spawn(process.execPath, [CLI, 'serve', '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const killTimer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  try {
    const start = Date.now();
    while (!out.includes('"msg":"im-history started"') && child.exitCode === null && Date.now() - start < 15_000) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /"backend":"postgres".*"instance":"hf-a".*"msg":"history store open"/);
    assert.match(out, /"count":1,"instance":"hf-a","msg":"closed histories left open by an earlier run"/);
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    assert.equal(code, 0);
    assert.equal((await seed.getHistory(mine.id))?.state, 'ended');
    assert.equal((await seed.getHistory(theirs.id))?.state, 'active');
  } finally {
    clearTimeout(killTimer);
    if (child.exitCode === null) child.kill('SIGKILL');
    await seed.close();
  }
});
