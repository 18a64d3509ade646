// The `im-history` command as a person uses it: demo, histories list/show/search/export/delete,
// check-config, --help, and clear errors with non-zero exit codes for bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';

const CLI = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('im-history --help lists the commands; each has --help', () => {
  const r = run('--help');
  assert.equal(r.code, 0);
  for (const c of ['serve', 'demo', 'histories', 'check-config']) assert.match(r.out, new RegExp(`\\b${c}\\b`));
  for (const c of ['list', 'show', 'search', 'export', 'delete']) assert.equal(run('histories', c, '--help').code, 0, c);
});

test('demo records a session; histories list/show/search/export/delete read it with per-user visibility', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-'));
  const db = join(dir, 'h.db');
  const demo = run('demo', '--db', db);
  assert.equal(demo.code, 0, demo.err);
  assert.match(demo.out, /History "weekly-sync" \(session\)/);
  assert.match(demo.out, /messages: {4}4/);

  const list = run('histories', 'list', '--db', db);
  assert.equal(list.code, 0);
  assert.match(list.out, /weekly-sync\tsip:alice@example\.net\tended/);

  const hit = run('histories', 'search', 'release', 'candidate', '--db', db);
  assert.match(hit.out, /sip:bob@example\.net: .*«release» «candidate»/);
  assert.equal(run('histories', 'search', 'nothing-like-this', '--db', db).out.trim(), 'no matches');

  // Bob took part: he sees it. Eve did not: for her it does not exist (exit 2, clear message).
  assert.match(run('histories', 'show', 'weekly-sync', '--db', db, '--as', 'sip:bob@example.net').out, /Great — I will update the changelog\./);
  const eve = run('histories', 'show', 'weekly-sync', '--db', db, '--as', 'sip:eve@example.net');
  assert.equal(eve.code, 2);
  assert.match(eve.err, /no history "weekly-sync" visible to sip:eve@example\.net/);

  const out = join(dir, 'exports');
  const exp = run('histories', 'export', 'weekly-sync', '--db', db, '-o', out, '-f', 'json');
  assert.equal(exp.code, 0, exp.err);
  const file = exp.out.trim();
  assert.ok(file.startsWith(out) && existsSync(file));
  assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { messages: unknown[] }).messages.length, 4);

  // --all exports everything visible, one path per line.
  const all = run('histories', 'export', '--all', '--db', db, '-o', join(dir, 'all'));
  assert.equal(all.code, 0, all.err);
  assert.equal(all.out.trim().split('\n').length, 1);
  assert.equal(run('histories', 'export', '--db', db).code, 2);

  assert.equal(run('histories', 'delete', 'weekly-sync', '--db', db).code, 2);
  assert.equal(run('histories', 'delete', 'weekly-sync', '--db', db, '--yes').code, 0);
  assert.equal(run('histories', 'list', '--db', db).out.trim(), 'no histories');
});

test('check-config names the bad field and exits 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ sip: { udp: [{ address: '127.0.0.1', port: 70000 }] }, history: { trustedPeers: ['example.net'] } }));
  const r = run('check-config', bad);
  assert.equal(r.code, 2);
  assert.match(r.err, /sip\.udp\.0\.port/);
  assert.match(r.err, /history\.trustedPeers\.0: must be an IP address or CIDR block/);
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify({ history: { conferenceFactories: ['sip:factory@example.net'] } }));
  const ok = run('check-config', good);
  assert.equal(ok.code, 0, ok.err);
  assert.equal((JSON.parse(ok.out) as { history: { maxSessions: number } }).history.maxSessions, 1000);
  const notJson = join(dir, 'x.json');
  writeFileSync(notJson, '{ nope');
  assert.match(run('check-config', notJson).err, /not valid JSON/);
});

test('serve starts on the configured ports, answers /healthz, and shuts down cleanly on SIGTERM', async () => {
  const { spawn } = await import('node:child_process');
  const dir = mkdtempSync(join(tmpdir(), 'serve-'));
  const cfg = join(dir, 'c.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      logLevel: 'info',
      sip: { udp: [{ address: '127.0.0.1', port: 0 }], tcp: [{ address: '127.0.0.1', port: 0 }] },
      history: { msrp: { address: '127.0.0.1', port: 0 } },
      api: { port: 0 },
      store: { path: join(dir, 'h.db') },
    }),
  );
  const child = spawn(process.execPath, [CLI, 'serve', '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const killTimer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  try {
    const start = Date.now();
    while (!out.includes('"msg":"im-history started"') && Date.now() - start < 15_000) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /"msg":"im-history started"/);
    const api = /"port":(\d+),"msg":"HTTP API and viewer listening"/.exec(out);
    assert.ok(api, out);
    const health = await fetch(`http://127.0.0.1:${api[1]}/healthz`);
    assert.equal(health.status, 200);
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    assert.equal(code, 0);
    assert.match(out, /"msg":"shutting down"/);
    assert.ok(existsSync(join(dir, 'h.db')));
  } finally {
    clearTimeout(killTimer);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
