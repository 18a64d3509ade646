/**
 * The PostgreSQL backend against a throwaway server this file starts (test/helpers/postgres.ts):
 * the shared contract (a fresh database per store), then what only a shared server has:
 * two stores (two pools, as two instances) writing one history, migrations under
 * concurrent opens and a newer schema, reopening, group commit and its failure isolation,
 * limits, connection errors, and start-up clean-up limited to the instance's own histories.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PgStore, redactUrl } from '../../src/store/pg.js';
import { PG_LATEST_SCHEMA_VERSION, PG_MIGRATIONS, pgMigrate } from '../../src/store/pg-migrations.js';
import { NoSuchHistoryError, SchemaTooNewError, StoreClosedError, StoreOpenError, StoreOverloadedError } from '../../src/store/types.js';
import { usePostgres } from '../helpers/postgres.js';
import { newHistory, storeContract, textMessage } from './contract.js';
import { Client, Focus, startHistoryFunction, waitFor } from '../history/harness.js';

const server = usePostgres();

// One database for the contract, a fresh schema per store (CREATE DATABASE costs far more).
let contractDb: string | undefined;
let schemas = 0;
storeContract('PgStore (a schema per store)', async () => {
  contractDb ??= await server().createDatabase('contract');
  return PgStore.open(contractDb, { schema: `contract_${++schemas}` });
});


async function raw(url: string, sql: string, params: unknown[] = []): Promise<pg.QueryResultRow[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows;
  } finally {
    await c.end();
  }
}

describe('PgStore on a shared server', () => {
  test('two stores (two pools) writing the same histories at once: seqs 1..n without gaps or duplicates', async () => {
    const url = await server().createDatabase('two');
    const [s1, s2] = await Promise.all([PgStore.open(url, { poolSize: 3 }), PgStore.open(url, { poolSize: 3 })]);
    try {
      const hs = [await s1.createHistory(newHistory()), await s2.createHistory(newHistory()), await s1.createHistory(newHistory())];
      const N = 600;
      // Each store writes to every history, in different orders, so their transactions contend for the same rows.
      const calls = Array.from({ length: N }, (_, i) => {
        const s = i % 2 === 0 ? s1 : s2;
        const h = hs[(i * 7 + (i % 2)) % 3]!;
        return { h: h.id, s, p: s.addMessage(h.id, textMessage(`msg ${i}`)) };
      });
      // Interleave more waves while the first ones are in flight.
      for (let wave = 0; wave < 3; wave++) {
        await new Promise((r) => setTimeout(r, 5));
        for (let i = 0; i < 100; i++) {
          const s = i % 2 === 0 ? s2 : s1;
          const h = hs[i % 3]!;
          calls.push({ h: h.id, s, p: s.addMessage(h.id, textMessage(`wave ${wave} ${i}`)) });
        }
      }
      const seqs = await Promise.all(calls.map((c) => c.p));
      for (const h of hs) {
        const mine = calls.map((c, i) => ({ ...c, seq: seqs[i]! })).filter((c) => c.h === h.id);
        const sorted = mine.map((c) => c.seq).sort((a, b) => a - b);
        assert.deepEqual(sorted, Array.from({ length: mine.length }, (_, i) => i + 1), 'acknowledged seqs are 1..n');
        // Per store, in call order, seqs grow (writes are applied in call order).
        for (const s of [s1, s2]) {
          const own = mine.filter((c) => c.s === s).map((c) => c.seq);
          assert.deepEqual(own, [...own].sort((a, b) => a - b));
        }
        const stored = await s2.messages(h.id);
        assert.deepEqual(stored.map((m) => m.seq), sorted);
        // The seq each caller got is the seq its message is stored under.
        const bySeq = new Map(stored.map((m) => [m.seq, m.body.toString()]));
        for (const c of mine) assert.ok(bySeq.has(c.seq));
      }
      const rows = await raw(url, 'SELECT h.id, h.last_seq, MAX(m.seq) AS max FROM histories h JOIN messages m ON m.history = h.pk GROUP BY h.pk');
      for (const r of rows) assert.equal(Number(r.max), r.last_seq, 'the counter matches the rows');
      assert.ok(s1.writeStats().commits < N / 2 + 300, `s1 group-committed (${JSON.stringify(s1.writeStats())})`);
    } finally {
      await s1.close();
      await s2.close();
    }
  });

  test('migrations: one transaction, recorded in schema_version, applied once even with concurrent opens', async () => {
    const url = await server().createDatabase('migr');
    const stores = await Promise.all(Array.from({ length: 4 }, () => PgStore.open(url, { poolSize: 2 })));
    for (const s of stores) assert.equal(await s.schemaVersion(), PG_LATEST_SCHEMA_VERSION);
    await Promise.all(stores.map((s) => s.close()));
    const rows = await raw(url, 'SELECT version, description FROM schema_version ORDER BY version');
    assert.deepEqual(
      rows,
      PG_MIGRATIONS.map((m) => ({ version: m.version, description: m.description })),
    );
    const applied = await raw(url, 'SELECT version, applied_at FROM schema_version ORDER BY version');
    await (await PgStore.open(url)).close();
    assert.deepEqual(await raw(url, 'SELECT version, applied_at FROM schema_version ORDER BY version'), applied, 'nothing re-applied');
  });

  test('migrations: a version-3 database with a history is upgraded; the history reads back without an instance', async () => {
    const url = await server().createDatabase('upgrade');
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      assert.equal(await pgMigrate(c as unknown as pg.PoolClient, 3), 3);
      await c.query(
        `INSERT INTO histories (id, name, type, owner, conference_factory, im_users, refer_call_id, client_allow, client_contact,
           refer_headers, created_at, state) VALUES ('old-1', 'old', 'session', 'sip:alice@example.net', 'sip:f@x', '["sip:bob@example.net"]',
           'c', '[]', NULL, '[]', 5, 'active')`,
      );
      await c.query("INSERT INTO history_members (aor, history, role) SELECT 'sip:bob@example.net', pk, 'invited' FROM histories");
    } finally {
      await c.end();
    }
    const s = await PgStore.open(url);
    try {
      assert.equal(await s.schemaVersion(), PG_LATEST_SCHEMA_VERSION);
      const old = await s.getHistory('old-1');
      assert.equal(old?.name, 'old');
      assert.ok(old !== undefined && !('instance' in old));
      assert.deepEqual((await s.historiesVisibleTo('sip:bob@example.net')).map((h) => h.id), ['old-1']);
      assert.equal(await s.addMessage('old-1', textMessage('new message in an old history')), 1);
      assert.deepEqual(await s.listHistories({ instance: 'hf-1' }), []);
    } finally {
      await s.close();
    }
  });

  test('a database from a newer im-history is refused, and left as it was', async () => {
    const url = await server().createDatabase('newer');
    await (await PgStore.open(url)).close();
    await raw(url, "INSERT INTO schema_version (version, description, applied_at) VALUES ($1, 'from the future', 0)", [PG_LATEST_SCHEMA_VERSION + 1]);
    await assert.rejects(PgStore.open(url), (e: unknown) => {
      assert.ok(e instanceof SchemaTooNewError);
      assert.equal(e.found, PG_LATEST_SCHEMA_VERSION + 1);
      assert.match(e.message, /newer than this im-history supports/);
      return true;
    });
    assert.equal((await raw(url, 'SELECT COUNT(*)::int AS n FROM schema_version'))[0]?.n, PG_LATEST_SCHEMA_VERSION + 1);
  });

  test('everything survives close and reopen; the seq continues', async () => {
    const url = await server().createDatabase('reopen');
    const s1 = await PgStore.open(url);
    const rec = await s1.createHistory(newHistory({ imUsers: ['sip:bob@example.net'], instance: 'hf-1' }));
    await s1.updateHistory(rec.id, { state: 'ended', endedAt: 99, sessionHeaders: [{ name: 'Contact', value: '<sip:c@f>' }] });
    await s1.addSipEvent(rec.id, { at: 1, direction: 'in', summary: 'SIP/2.0 200 OK', headers: [{ name: 'Allow', value: 'INVITE' }] });
    await s1.addConferenceNotification(rec.id, { at: 2, contentType: 'application/conference-info+xml', body: '<conference-info/>' });
    await s1.addMessage(rec.id, textMessage('persistent words'));
    await s1.addRosterEvent(rec.id, { at: 3, kind: 'joined', user: 'sip:erin@example.net' });
    const snapshot = async (s: PgStore) => ({
      h: await s.getHistory(rec.id),
      ev: await s.sipEvents(rec.id),
      cn: await s.conferenceNotifications(rec.id),
      m: await s.messages(rec.id),
      r: await s.rosterEvents(rec.id),
      p: await s.participants(rec.id),
    });
    const before = await snapshot(s1);
    await s1.close();
    await s1.close();
    const s2 = await PgStore.open(url);
    try {
      assert.deepEqual(await snapshot(s2), before);
      assert.equal((await s2.searchMessages({ text: 'persistent' }))[0]?.seq, 1);
      assert.deepEqual((await s2.historiesVisibleTo('sip:erin@example.net')).map((h) => h.id), [rec.id]);
      assert.equal(await s2.addMessage(rec.id, textMessage('after reopen')), 2);
    } finally {
      await s2.close();
    }
  });

  test('group commit: 3,000 concurrent writes resolve in order in far fewer transactions', async () => {
    const s = await PgStore.open(await server().createDatabase('group'));
    try {
      const a = await s.createHistory(newHistory());
      const b = await s.createHistory(newHistory());
      const before = s.writeStats();
      const N = 3000;
      const seqs = await Promise.all(Array.from({ length: N }, (_, i) => s.addMessage(i % 10 === 9 ? b.id : a.id, textMessage(`message ${i}`))));
      let na = 0;
      let nb = 0;
      seqs.forEach((seq, i) => assert.equal(seq, i % 10 === 9 ? ++nb : ++na, `call ${i}`));
      assert.deepEqual(
        (await s.messages(a.id)).map((m) => m.body.toString()),
        Array.from({ length: N }, (_, i) => i).filter((i) => i % 10 !== 9).map((i) => `message ${i}`),
      );
      const stats = s.writeStats();
      assert.equal(stats.writes - before.writes, N);
      assert.ok(stats.commits - before.commits <= Math.ceil(N / 1000) + 2, `${stats.commits - before.commits} transactions for ${N} writes`);
    } finally {
      await s.close();
    }
  });

  test('a write failing its check fails alone; a write the database refuses rolls its batch back, which is rerun one by one', async () => {
    const s = await PgStore.open(await server().createDatabase('isolation'));
    try {
      const h = await s.createHistory(newHistory());
      const results = await Promise.allSettled([
        s.addMessage(h.id, textMessage('a')),
        s.addMessage('no-such-id', textMessage('b')),
        s.addMessage(h.id, textMessage('c')),
        // PostgreSQL text cannot hold NUL: the server refuses this row.
        s.addSipEvent(h.id, { at: 1, direction: 'in', summary: 'bad\u0000summary', headers: [] }),
        s.addMessage(h.id, textMessage('d')),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'],
      );
      assert.ok(results[1]?.status === 'rejected' && results[1].reason instanceof NoSuchHistoryError);
      assert.ok(results[3]?.status === 'rejected' && results[3].reason instanceof pg.DatabaseError);
      assert.deepEqual(
        (await s.messages(h.id)).map((m) => [m.seq, m.body.toString()]),
        [
          [1, 'a'],
          [2, 'c'],
          [3, 'd'],
        ],
      );
      assert.equal(s.writeStats().rollbacks, 1);
      // A body holding NUL is kept byte-exact and its text stays searchable.
      assert.equal(await s.addMessage(h.id, textMessage('nul\u0000inside words')), 4);
      assert.equal((await s.messages(h.id, { afterSeq: 3 }))[0]?.body.toString(), 'nul\u0000inside words');
      assert.deepEqual((await s.searchMessages({ text: 'inside' })).map((x) => x.seq), [4]);
    } finally {
      await s.close();
    }
  });

  test('over maxQueued writes waiting: StoreOverloadedError; after close: StoreClosedError; close commits what was issued', async () => {
    const url = await server().createDatabase('limits');
    const s = await PgStore.open(url, { maxQueued: 5 });
    const h = await s.createHistory(newHistory());
    const results = await Promise.allSettled(Array.from({ length: 7 }, (_, i) => s.addMessage(h.id, textMessage(`m${i}`))));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 5);
    assert.ok(results.slice(5).every((r) => r.status === 'rejected' && r.reason instanceof StoreOverloadedError));
    const pending = [s.addMessage(h.id, textMessage('x')), s.addMessage(h.id, textMessage('y'))];
    await s.close();
    assert.deepEqual(await Promise.all(pending), [6, 7]);
    await assert.rejects(s.addMessage(h.id, textMessage('late')), StoreClosedError);
    await assert.rejects(s.messages(h.id), StoreClosedError);
    const again = await PgStore.open(url);
    assert.equal((await again.messages(h.id)).length, 7);
    await again.close();
  });

  test('connections killed by the server while writing: writes fail or commit, none is half-done, the store recovers', async () => {
    const url = await server().createDatabase('killed');
    const idleErrors: Error[] = [];
    const s = await PgStore.open(url, { applicationName: 'im-history-killed', onIdleError: (e) => idleErrors.push(e) });
    try {
      const h = await s.createHistory(newHistory());
      // Settled as they come (allSettled only later would leave early rejections unhandled for a while).
      const calls: Promise<{ ok: true; seq: number } | { ok: false; error: unknown }>[] = [];
      let killing = true;
      const killer = (async () => {
        let kills = 0;
        while (killing) {
          const r = await raw(url, "SELECT COUNT(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'im-history-killed'");
          kills += Number(r[0]?.n ?? 0);
          await new Promise((r) => setTimeout(r, 3));
        }
        return kills;
      })();
      for (let i = 0; i < 40; i++) {
        for (let k = 0; k < 10; k++) {
          calls.push(
            s.addMessage(h.id, textMessage(`m${i}-${k}`)).then(
              (seq) => ({ ok: true as const, seq }),
              (error: unknown) => ({ ok: false as const, error }),
            ),
          );
        }
        await new Promise((r) => setTimeout(r, 2));
      }
      const settled = await Promise.all(calls);
      killing = false;
      const kills = await killer;
      assert.ok(kills > 0, 'connections were killed');
      const ok = settled.flatMap((r) => (r.ok ? [r.seq] : []));
      for (const r of settled) if (!r.ok) assert.match(String(r.error), /terminat|not queryable|Connection/i);
      assert.ok(ok.length > 0, 'some writes committed');
      // After the storm, the store works again with fresh connections.
      const next = await s.addMessage(h.id, textMessage('after'));
      const stored = (await s.messages(h.id)).map((m) => m.seq);
      assert.deepEqual(stored, Array.from({ length: stored.length }, (_, i) => i + 1), 'stored seqs have no gaps');
      assert.equal(next, stored.at(-1));
      // Every acknowledged seq is stored (a write whose COMMIT answer was lost may be stored without an acknowledgement).
      for (const seq of ok) assert.ok(stored.includes(seq), `acknowledged seq ${seq} stored`);
    } finally {
      await s.close();
    }
  });

  test('bad URL, unreachable server, unknown database: StoreOpenError naming the server, never the password', async () => {
    await assert.rejects(PgStore.open('not a url'), (e: unknown) => e instanceof StoreOpenError && /invalid PostgreSQL URL/.test(e.message));
    await assert.rejects(PgStore.open('mysql://u@127.0.0.1/db'), (e: unknown) => e instanceof StoreOpenError && /scheme/.test(e.message));
    // A port nobody listens on: the server's own port + 1 was free when it started; check rather than assume.
    const closed = await freePort();
    await assert.rejects(PgStore.open(`postgresql://u:s3cret@127.0.0.1:${closed}/db`, { connectTimeoutMs: 2000 }), (e: unknown) => {
      assert.ok(e instanceof StoreOpenError);
      assert.match(e.message, new RegExp(`cannot connect to PostgreSQL at postgresql://u:\\*\\*\\*@127\\.0\\.0\\.1:${closed}/db: .*ECONNREFUSED`));
      assert.ok(!e.message.includes('s3cret'));
      return true;
    });
    await assert.rejects(PgStore.open(server().urlFor('no_such_database')), (e: unknown) => e instanceof StoreOpenError && /does not exist/.test(e.message));
    assert.equal(redactUrl('postgresql://a:b@h/d'), 'postgresql://a:***@h/d');
  });

  test('start-up clean-up on a shared store closes only the instance\'s own histories (a live session of another instance stays open)', async () => {
    const url = await server().createDatabase('instances');
    const cleanup: (() => Promise<unknown>)[] = [];
    try {
      const focus = await new Focus().start();
      cleanup.push(() => focus.node.close());
      const client = await new Client().start();
      cleanup.push(() => client.node.close());
      const history = { conferenceFactories: [focus.uri], trustedDomains: ['example.net'] };
      const storeA = await PgStore.open(url);
      cleanup.push(() => storeA.close());
      const storeB = await PgStore.open(url);
      cleanup.push(() => storeB.close());
      const b = await startHistoryFunction(history, { store: storeB, instanceId: 'hf-b:5060', sharedStore: true });
      cleanup.push(() => b.close());
      // Instance A crashed earlier with two histories open, and one of unknown origin is open too.
      const goneActive = await storeA.createHistory(newHistory({ name: 'a-active', instance: 'hf-a:5060' }));
      await storeA.updateHistory(goneActive.id, { state: 'active', startedAt: 1 });
      const goneInviting = await storeA.createHistory(newHistory({ name: 'a-inviting', instance: 'hf-a:5060' }));
      const unknown = await storeA.createHistory(newHistory({ name: 'no-instance' }));
      // Instance B records a live session meanwhile.
      const res = await client.refer(`sip:history@127.0.0.1:${b.port};filename=live-on-b`, { referTo: `<${focus.uri}>` });
      assert.equal(res.status, 202);
      await waitFor(() => b.fn.sessions.size === 1 && [...b.fn.sessions][0]!.phase === 'active', 5000, 'session on B active');
      const live = [...b.fn.sessions][0]!.record.id;
      assert.equal((await storeB.getHistory(live))?.instance, 'hf-b:5060');
      assert.equal((await storeB.getHistory(live))?.state, 'active');

      // Instance A comes back.
      const a = await startHistoryFunction(history, { store: storeA, instanceId: 'hf-a:5060', sharedStore: true });
      try {
        assert.equal(await a.fn.closeAbandoned(), 2);
      } finally {
        await a.close();
      }
      const state = async (id: string) => {
        const h = await storeA.getHistory(id);
        return [h?.state, h?.endReason];
      };
      assert.deepEqual(await state(goneActive.id), ['ended', 'server restarted while the session was open']);
      assert.deepEqual(await state(goneInviting.id), ['failed', 'server restarted while the session was open']);
      assert.deepEqual(await state(live), ['active', undefined]);
      assert.deepEqual(await state(unknown.id), ['inviting', undefined]);
      // B keeps recording into its history.
      assert.equal(await storeB.addMessage(live, textMessage('still recording')), 1);
    } finally {
      for (const f of cleanup.reverse()) await f().catch(() => undefined);
    }
  });
});

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 1));
    });
  });
}
