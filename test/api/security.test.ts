/**
 * Issue 6, HTTP API: per-user visibility on every endpoint, over both store backends. For
 * each route: no token / a bad token -> 401 (RFC 6750 §3 WWW-Authenticate: Bearer); a user
 * token cannot list, read, page, search, export or delete another user's history (404 —
 * hidden looks like missing — and 403 for DELETE, with the history still there), and no
 * response to that user carries a byte of it; the owner reads it; the operator token does
 * everything. Search text with FTS5 syntax cannot widen what a user sees. The export's
 * Content-Disposition (RFC 6266) is one header, one quoted ASCII filename and one RFC 8187
 * filename*, whatever the History Filename holds (quotes, CR/LF, ';', device names).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApi, type LiveSession } from '../../src/api/server.js';
import { MemoryStore } from '../../src/store/memory.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { HistoryStore } from '../../src/store/types.js';
import { auth, sampleStore, TOKENS, TOKEN_TABLE, type Sample } from './fixture.js';

type Who = 'none' | 'bad' | 'alice' | 'dave' | 'operator';

const BAD_AUTH = [
  'Bearer not-a-token-not-a-token',
  `Bearer ${TOKENS.dave.toUpperCase()}`,
  `Bearer ${TOKENS.dave}x`,
  `Bearer ${TOKENS.dave.slice(0, -1)}`,
  `Basic ${Buffer.from(`dave:${TOKENS.dave}`).toString('base64')}`,
  `Bearer ${TOKENS.dave} ${TOKENS.operator}`,
  TOKENS.dave,
  'Bearer',
];

function headers(who: Who, bad = BAD_AUTH[0]!): Record<string, string> {
  if (who === 'none') return {};
  if (who === 'bad') return { authorization: bad };
  return auth(who);
}

for (const backend of ['memory', 'sqlite'] as const) {
  describe(`API visibility and authentication (${backend} store)`, () => {
    let s: Sample;
    let app: FastifyInstance;
    let store: HistoryStore;

    before(async () => {
      store = backend === 'memory' ? new MemoryStore() : await SqliteStore.open(':memory:');
      s = await sampleStore(store);
      const live: LiveSession[] = [
        { historyId: s.weekly.id, name: s.weekly.name, owner: s.weekly.owner, state: 'active' },
        { historyId: s.dave.id, name: s.dave.name, owner: s.dave.owner, state: 'active' },
      ];
      app = buildApi({ store, tokens: TOKEN_TABLE, live: () => live });
      await app.ready();
    });
    after(async () => {
      await app.close();
      await store.close();
    });

    /** Every /api/v1 route, aimed at dave's history ("dave-private", "the secret release plan"). */
    const routes = (): { method: 'GET' | 'DELETE'; url: string; own: number; other: number; operator: number }[] => [
      { method: 'GET', url: '/api/v1/histories', own: 200, other: 200, operator: 200 },
      { method: 'GET', url: '/api/v1/histories?state=ended', own: 200, other: 200, operator: 200 },
      { method: 'GET', url: `/api/v1/histories/${s.dave.id}`, own: 200, other: 404, operator: 200 },
      { method: 'GET', url: `/api/v1/histories/${s.dave.id}/messages`, own: 200, other: 404, operator: 200 },
      { method: 'GET', url: `/api/v1/histories/${s.dave.id}/messages?afterSeq=0&limit=1`, own: 200, other: 404, operator: 200 },
      { method: 'GET', url: `/api/v1/histories/${s.dave.id}/roster`, own: 200, other: 404, operator: 200 },
      { method: 'GET', url: `/api/v1/histories/${s.dave.id}/export`, own: 200, other: 404, operator: 200 },
      { method: 'GET', url: `/api/v1/histories/${s.dave.id}/export?format=json`, own: 200, other: 404, operator: 200 },
      { method: 'GET', url: '/api/v1/search?q=secret', own: 200, other: 200, operator: 200 },
      { method: 'GET', url: '/api/v1/sessions', own: 200, other: 200, operator: 200 },
      { method: 'GET', url: '/api/v1/me', own: 200, other: 200, operator: 200 },
      // Users may not delete, not even their own; the operator's DELETE is tested last.
      { method: 'DELETE', url: `/api/v1/histories/${s.dave.id}`, own: 403, other: 403, operator: 0 },
    ];

    test('no token and bad tokens: 401 with WWW-Authenticate: Bearer on every route', async () => {
      for (const r of routes()) {
        for (const bad of [undefined, ...BAD_AUTH]) {
          const res = await app.inject({ method: r.method, url: r.url, headers: bad === undefined ? headers('none') : headers('bad', bad) });
          assert.equal(res.statusCode, 401, `${r.method} ${r.url} with ${bad ?? 'no token'}`);
          assert.match(String(res.headers['www-authenticate']), /^Bearer/);
          assert.doesNotMatch(res.body, /secret|dave-private/);
        }
      }
      assert.ok(await store.getHistory(s.dave.id), 'nothing was deleted');
    });

    test('no CORS: a page of another origin gets no Access-Control-Allow-Origin, and a preflight is not granted', async () => {
      const res = await app.inject({ url: '/api/v1/histories', headers: { ...auth('dave'), origin: 'http://evil.example' } });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['access-control-allow-origin'], undefined);
      const pre = await app.inject({
        method: 'OPTIONS',
        url: '/api/v1/histories',
        headers: { origin: 'http://evil.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
      assert.notEqual(pre.statusCode, 204);
      assert.equal(pre.headers['access-control-allow-origin'], undefined);
      assert.equal(pre.headers['access-control-allow-headers'], undefined);
    });

    test("a user token cannot see, search, export or delete another user's history on any route; no response carries it", async () => {
      for (const r of routes()) {
        const res = await app.inject({ method: r.method, url: r.url, headers: headers('alice') });
        assert.equal(res.statusCode, r.other, `${r.method} ${r.url}`);
        assert.doesNotMatch(res.body, /secret|dave-private|erin/, `${r.method} ${r.url}: ${res.body.slice(0, 200)}`);
        assert.ok(!res.body.includes(s.dave.id), `${r.method} ${r.url} names dave's history`);
      }
      assert.ok(await store.getHistory(s.dave.id), 'DELETE by another user did not delete');
    });

    test('the owner sees their history (DELETE stays with the operator)', async () => {
      for (const r of routes()) {
        const res = await app.inject({ method: r.method, url: r.url, headers: headers('dave') });
        assert.equal(res.statusCode, r.own, `${r.method} ${r.url}`);
      }
      const search = (await app.inject({ url: '/api/v1/search?q=secret', headers: auth('dave') })).json() as { hits: { historyId: string }[] };
      assert.deepEqual(search.hits.map((h) => h.historyId), [s.dave.id]);
      assert.ok(await store.getHistory(s.dave.id));
    });

    test('search text with FTS syntax does not widen what a user sees, and never fails with 500', async () => {
      const queries = ['secret OR release', 'secret OR plan OR *', '"secret"', 'secret*', 'NEAR(secret release)', 'sender:dave', '{text}: secret', 'secret AND NOT x', ') OR (', '"', '*', 'dave\'', 'secret; DROP TABLE messages'];
      for (const q of queries) {
        const res = await app.inject({ url: `/api/v1/search?q=${encodeURIComponent(q)}`, headers: auth('alice') });
        assert.ok([200, 400].includes(res.statusCode), `${q}: ${res.statusCode} ${res.body}`);
        if (res.statusCode === 200) {
          const ids = (res.json() as { hits: { historyId: string }[] }).hits.map((h) => h.historyId);
          assert.ok(ids.every((id) => id === s.weekly.id), `${q}: ${ids.join(',')}`);
        }
        assert.doesNotMatch(res.body, /secret plan|dave-private/);
      }
      assert.equal((await app.inject({ url: '/api/v1/search?q=release', headers: auth('operator') })).statusCode, 200);
    });

    test('the operator token reads everything, then deletes', async () => {
      for (const r of routes().filter((x) => x.method === 'GET')) {
        const res = await app.inject({ url: r.url, headers: headers('operator') });
        assert.equal(res.statusCode, r.operator, r.url);
      }
      const all = (await app.inject({ url: '/api/v1/histories', headers: auth('operator') })).json() as { histories: { id: string }[] };
      assert.deepEqual(all.histories.map((h) => h.id).sort(), [s.weekly.id, s.dave.id].sort());
      assert.equal((await app.inject({ method: 'DELETE', url: `/api/v1/histories/${s.dave.id}`, headers: auth('operator') })).statusCode, 204);
      assert.equal(await store.getHistory(s.dave.id), undefined);
    });

    test('Content-Disposition of an export: one header, safe ASCII filename and RFC 8187 filename*, whatever the name', async () => {
      const hostile = [
        'a"\r\nSet-Cookie: session=stolen',
        'x"; filename="evil.exe',
        'report\nX-Injected: 1',
        '../../etc/passwd',
        '..\\..\\boot.ini',
        'CON',
        'nul.txt',
        '\u202Eexe.txt',
        '会'.repeat(128),
        '%0d%0aX: y',
        "it's (a) test!*~",
      ];
      for (const name of hostile) {
        const h = await store.createHistory({ ...s.weekly, name });
        for (const format of ['text', 'json']) {
          const res = await app.inject({ url: `/api/v1/histories/${h.id}/export?format=${format}`, headers: auth('operator') });
          assert.equal(res.statusCode, 200, name);
          const cd = res.headers['content-disposition'];
          assert.equal(typeof cd, 'string', `one header for ${JSON.stringify(name)}`);
          const ext = format === 'json' ? 'json' : 'txt';
          const m = new RegExp(`^attachment; filename="([A-Za-z0-9_.-]+)\\.${ext}"; filename\\*=UTF-8''([A-Za-z0-9%_.-]+)\\.${ext}$`).exec(String(cd));
          assert.ok(m, `${JSON.stringify(name)} -> ${String(cd)}`);
          assert.ok(!m[1]!.startsWith('.') && !m[1]!.includes('..'), String(cd));
          assert.doesNotMatch(decodeURIComponent(m[2]!), /[/\\"\r\n\u202E]|\.\./, String(cd));
          assert.doesNotMatch(m[1]!.split('.')[0]!, /^(CON|PRN|AUX|NUL|COM\d|LPT\d)$/i, String(cd));
          assert.ok(Buffer.byteLength(String(cd)) < 1024, 'bounded');
          assert.equal(res.headers['set-cookie'], undefined);
          assert.equal(res.headers['x-injected'], undefined);
        }
      }
    });
  });
}
