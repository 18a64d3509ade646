/**
 * The SQLite backend: the shared contract (in memory and on a WAL file), then what only a
 * file has: reopening, migrations, WAL, group commit and its failure isolation, limits.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, migrate, SchemaTooNewError } from '../../src/store/sqlite-migrations.js';
import { NoSuchHistoryError, StoreClosedError, StoreOverloadedError } from '../../src/store/types.js';
import { newHistory, storeContract, textMessage } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'im-history-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = (): string => join(dir, `db-${++n}`, 'history.db');

storeContract('SqliteStore :memory: (worker thread)', () => SqliteStore.open(':memory:'));
storeContract('SqliteStore file (WAL, worker thread)', () => SqliteStore.open(freshPath()));
storeContract('SqliteStore file (WAL, inline)', () => SqliteStore.open(freshPath(), { thread: 'inline' }));

describe('SqliteStore on a file', () => {
  test('open creates the directory, uses WAL, and everything survives close and reopen', async () => {
    const path = freshPath();
    const s1 = await SqliteStore.open(path);
    const rec = await s1.createHistory(newHistory({ imUsers: ['sip:bob@example.net'] }));
    await s1.updateHistory(rec.id, { state: 'ended', endedAt: 99, sessionHeaders: [{ name: 'Contact', value: '<sip:c@f>' }] });
    await s1.addSipEvent(rec.id, { at: 1, direction: 'in', summary: 'SIP/2.0 200 OK', headers: [{ name: 'Allow', value: 'INVITE' }] });
    await s1.addConferenceNotification(rec.id, { at: 2, contentType: 'application/conference-info+xml', body: '<conference-info/>' });
    await s1.addMessage(rec.id, textMessage('persistent words'));
    await s1.addRosterEvent(rec.id, { at: 3, kind: 'joined', user: 'sip:erin@example.net' });
    const before = {
      h: await s1.getHistory(rec.id),
      ev: await s1.sipEvents(rec.id),
      cn: await s1.conferenceNotifications(rec.id),
      m: await s1.messages(rec.id),
      r: await s1.rosterEvents(rec.id),
      p: await s1.participants(rec.id),
    };
    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    raw.close();
    await s1.close();
    await s1.close();

    const s2 = await SqliteStore.open(path);
    assert.deepEqual(
      {
        h: await s2.getHistory(rec.id),
        ev: await s2.sipEvents(rec.id),
        cn: await s2.conferenceNotifications(rec.id),
        m: await s2.messages(rec.id),
        r: await s2.rosterEvents(rec.id),
        p: await s2.participants(rec.id),
      },
      before,
    );
    assert.equal((await s2.searchMessages({ text: 'persistent' }))[0]?.seq, 1);
    assert.deepEqual((await s2.historiesVisibleTo('sip:erin@example.net')).map((h) => h.id), [rec.id]);
    // The seq continues where the file left off.
    assert.equal(await s2.addMessage(rec.id, textMessage('after reopen')), 2);
    assert.deepEqual(await s2.integrityCheck(), []);
    await s2.close();
  });

  test('migrations: ordered, recorded in schema_version, applied once, upgrading old data', async () => {
    const path = freshPath();
    await SqliteStore.open(path).then((s) => s.close());
    const raw = new Database(path);
    assert.deepEqual(
      raw.prepare('SELECT version, description FROM schema_version ORDER BY version').all(),
      MIGRATIONS.map((m) => ({ version: m.version, description: m.description })),
    );
    const applied = raw.prepare('SELECT version, applied_at FROM schema_version ORDER BY version').all();
    const schema = raw.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all();
    assert.equal(migrate(raw), LATEST_SCHEMA_VERSION);
    raw.close();
    const again = await SqliteStore.open(path);
    assert.equal(await again.schemaVersion(), LATEST_SCHEMA_VERSION);
    await again.close();
    const check = new Database(path);
    assert.deepEqual(check.prepare('SELECT version, applied_at FROM schema_version ORDER BY version').all(), applied, 'nothing re-applied');
    assert.deepEqual(check.prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all(), schema);
    check.close();
  });

  test('migrations: a version-1 database with a history is upgraded, its owner and IM users become members', async () => {
    const path = freshPath();
    await SqliteStore.open(path).then((s) => s.close());
    rmSync(path);
    const raw = new Database(path);
    assert.equal(migrate(raw, 1), 1);
    raw
      .prepare(
        `INSERT INTO histories (id, name, type, owner, conference_factory, im_users, refer_call_id, client_allow, client_contact,
           refer_headers, created_at, state) VALUES ('old-1', 'old', 'session', 'sip:alice@example.net', 'sip:f@x', '["sip:bob@example.net"]',
           'c', '[]', NULL, '[]', 5, 'ended')`,
      )
      .run();
    raw.close();
    const s = await SqliteStore.open(path);
    assert.equal(await s.schemaVersion(), LATEST_SCHEMA_VERSION);
    assert.equal((await s.getHistory('old-1'))?.name, 'old');
    assert.deepEqual((await s.historiesVisibleTo('sip:bob@example.net')).map((h) => h.id), ['old-1']);
    assert.deepEqual((await s.historiesVisibleTo('sip:alice@example.net')).map((h) => h.id), ['old-1']);
    assert.equal(await s.addMessage('old-1', textMessage('new message in an old history')), 1);
    await s.close();
  });

  test('open errors reach the caller (worker and inline)', async () => {
    const file = join(dir, 'not-a-directory');
    writeFileSync(file, 'x');
    await assert.rejects(SqliteStore.open(join(file, 'history.db')), /EEXIST|ENOTDIR/);
    await assert.rejects(SqliteStore.open(join(file, 'history.db'), { thread: 'inline' }), /EEXIST|ENOTDIR/);
  });

  test('an idle store does not keep the process alive; a call in flight does', () => {
    const store = join(dirname(fileURLToPath(import.meta.url)), '../../src/store/sqlite.js');
    const script = `
      import { SqliteStore } from ${JSON.stringify(store)};
      const s = await SqliteStore.open(${JSON.stringify(freshPath())});
      const h = await s.createHistory(${JSON.stringify(newHistory())});
      s.addMessage(h.id, { at: 1, sender: 'sip:a@x', recipients: [], contentType: 'text/plain', body: Buffer.from('x') })
        .then((seq) => console.log('seq', seq));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'seq 1');
  });

  test('a database from a newer im-history is refused', async () => {
    const path = freshPath();
    await SqliteStore.open(path).then((s) => s.close());
    const raw = new Database(path);
    raw.prepare("INSERT INTO schema_version (version, description, applied_at) VALUES (?, 'from the future', 0)").run(LATEST_SCHEMA_VERSION + 1);
    raw.close();
    await assert.rejects(SqliteStore.open(path), SchemaTooNewError);
  });
});

describe('SqliteStore group commit', () => {
  test('10,000 concurrent addMessage calls all resolve, in order, in far fewer transactions', async () => {
    const s = await SqliteStore.open(freshPath());
    const a = await s.createHistory(newHistory());
    const b = await s.createHistory(newHistory());
    const before = await s.writeStats();
    const N = 10_000;
    const seqs = await Promise.all(Array.from({ length: N }, (_, i) => s.addMessage(i % 10 === 9 ? b.id : a.id, textMessage(`message ${i}`))));
    const stats = await s.writeStats();
    let na = 0;
    let nb = 0;
    seqs.forEach((seq, i) => assert.equal(seq, i % 10 === 9 ? ++nb : ++na, `call ${i}`));
    const msgs = await s.messages(a.id);
    assert.equal(msgs.length, na);
    assert.deepEqual(
      msgs.map((m) => m.body.toString()),
      Array.from({ length: N }, (_, i) => i).filter((i) => i % 10 !== 9).map((i) => `message ${i}`),
    );
    assert.equal((await s.messages(b.id)).length, nb);
    const commits = stats.commits - before.commits;
    assert.equal(stats.writes - before.writes, N);
    assert.ok(commits <= Math.ceil(N / 4096) + 1, `${commits} transactions for ${N} writes`);
    assert.deepEqual(await s.integrityCheck(), []);
    await s.close();
  });

  test('one bad write in a batch fails alone; the others commit', async () => {
    const s = await SqliteStore.open(':memory:');
    const h = await s.createHistory(newHistory());
    const results = await Promise.allSettled([
      s.addMessage(h.id, textMessage('a')),
      s.addMessage('no-such-id', textMessage('b')),
      s.addMessage(h.id, textMessage('c')),
      s.updateHistory('no-such-id', { state: 'failed' }),
      s.addMessage(h.id, textMessage('d')),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'],
    );
    assert.ok(results[1]?.status === 'rejected' && results[1].reason instanceof NoSuchHistoryError);
    assert.deepEqual(
      (await s.messages(h.id)).map((m) => [m.seq, m.body.toString()]),
      [
        [1, 'a'],
        [2, 'c'],
        [3, 'd'],
      ],
    );
    assert.equal((await s.writeStats()).rollbacks, 1);
    await s.close();
  });

  test('over maxQueued writes waiting: StoreOverloadedError; after close: StoreClosedError', async () => {
    const s = await SqliteStore.open(':memory:', { maxQueued: 5 });
    const h = await s.createHistory(newHistory());
    const calls = Array.from({ length: 7 }, (_, i) => s.addMessage(h.id, textMessage(`m${i}`)));
    const results = await Promise.allSettled(calls);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 5);
    assert.ok(results.slice(5).every((r) => r.status === 'rejected' && r.reason instanceof StoreOverloadedError));
    await s.close();
    await assert.rejects(s.addMessage(h.id, textMessage('late')), StoreClosedError);
    await assert.rejects(s.messages(h.id), StoreClosedError);
  });

  test('close commits writes that were not awaited', async () => {
    const path = freshPath();
    const s = await SqliteStore.open(path);
    const h = await s.createHistory(newHistory());
    const pending = Array.from({ length: 100 }, (_, i) => s.addMessage(h.id, textMessage(`m${i}`)));
    await s.close();
    assert.equal((await Promise.all(pending)).at(-1), 100);
    const again = await SqliteStore.open(path);
    assert.equal((await again.messages(h.id)).length, 100);
    await again.close();
  });
});

test('a host started with heap-size flags (node --max-semi-space-size / --max-old-space-size) still gets its store worker', () => {
  const store = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'store', 'sqlite.js');
  const script = `const { SqliteStore } = await import(${JSON.stringify(store)}); const s = await SqliteStore.open(':memory:'); const h = await s.createHistory({ name: 'n', type: 'session', owner: 'sip:a@example.net', conferenceFactory: 'sip:f@example.net', imUsers: [], referCallId: 'c', clientAllow: [], clientContact: undefined, referHeaders: [], createdAt: 1 }); console.log(await s.addMessage(h.id, { at: 1, sender: 'sip:a@example.net', recipients: [], contentType: 'text/plain', body: Buffer.from('x') })); await s.close();`;
  const r = spawnSync(process.execPath, ['--max-semi-space-size=16', '--max-old-space-size=256', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '1');
});
