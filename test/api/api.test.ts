/**
 * The HTTP API through fastify's inject(): authentication (401/403/404), the visibility rule
 * (user A vs user B vs operator), every route's happy path and bad input, export headers,
 * health/readiness, metrics and the OpenAPI description.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApi, contentDisposition, type LiveSession } from '../../src/api/server.js';
import { TokenConfigError, TokenTable } from '../../src/api/auth.js';
import { createMetrics } from '../../src/api/metrics.js';
import { auth, sampleStore, TOKEN_TABLE, WEEKLY_MESSAGES, type Sample } from './fixture.js';

interface ErrorShape {
  error: { code: string; message: string };
}

function assertError(res: { statusCode: number; json(): unknown }, status: number, code: string): void {
  assert.equal(res.statusCode, status);
  const body = res.json() as ErrorShape;
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
}

describe('HTTP API', () => {
  let s: Sample;
  let app: FastifyInstance;
  let ready = true;
  const metrics = createMetrics();

  before(async () => {
    s = await sampleStore();
    const live: LiveSession[] = [
      { historyId: s.weekly.id, name: s.weekly.name, owner: s.weekly.owner, state: 'active', startedAt: 1, participants: ['sip:alice@example.net'] },
      { historyId: s.dave.id, name: s.dave.name, owner: s.dave.owner, state: 'active' },
    ];
    app = buildApi({ store: s.store, tokens: TOKEN_TABLE, live: () => live, metrics: metrics.registry, ready: () => ready });
    await app.ready();
  });
  after(() => app.close());

  describe('authentication', () => {
    test('no token: 401 with WWW-Authenticate: Bearer and the error shape', async () => {
      const res = await app.inject({ url: '/api/v1/histories' });
      assertError(res, 401, 'unauthorized');
      assert.match(String(res.headers['www-authenticate']), /^Bearer /);
    });

    test('unknown token, wrong scheme and a token prefix: 401 invalid_token', async () => {
      for (const authorization of ['Bearer nope-nope-nope-nope-nope', 'Basic YWxpY2U6eA==', 'Bearer alice-token', 'Bearer ']) {
        const res = await app.inject({ url: '/api/v1/histories', headers: { authorization } });
        assertError(res, 401, 'unauthorized');
        assert.match(String(res.headers['www-authenticate']), /^Bearer /);
      }
      const res = await app.inject({ url: '/api/v1/histories', headers: { authorization: 'Bearer nope-nope-nope-nope-nope' } });
      assert.match(String(res.headers['www-authenticate']), /error="invalid_token"/);
    });

    test('unknown /api route: 401 without a token, 404 with one', async () => {
      assertError(await app.inject({ url: '/api/v1/nothing' }), 401, 'unauthorized');
      assertError(await app.inject({ url: '/api/v1/nothing', headers: auth('alice') }), 404, 'not_found');
    });

    test('the scheme is case-insensitive', async () => {
      const res = await app.inject({ url: '/api/v1/me', headers: { authorization: `bearer ${'alice-token-0123456789abcdef'}` } });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { aor: 'sip:alice@example.net', operator: false });
    });

    test('token table refuses short, duplicate and spaced tokens', () => {
      assert.throws(() => new TokenTable([{ token: 'short', aor: '*' }]), TokenConfigError);
      assert.throws(() => new TokenTable([{ token: 'has a space in it ok', aor: '*' }]), TokenConfigError);
      const t = { token: 'x'.repeat(20), aor: '*' };
      assert.throws(() => new TokenTable([t, t]), TokenConfigError);
      assert.throws(() => new TokenTable([{ token: 'y'.repeat(20), aor: ' ' }]), TokenConfigError);
    });

    test('GET /api/v1/me says who the token is', async () => {
      assert.deepEqual((await app.inject({ url: '/api/v1/me', headers: auth('operator') })).json(), { aor: '*', operator: true });
    });
  });

  describe('visibility', () => {
    const names = async (who: 'alice' | 'bob' | 'dave' | 'operator'): Promise<string[]> => {
      const res = await app.inject({ url: '/api/v1/histories', headers: auth(who) });
      assert.equal(res.statusCode, 200);
      return (res.json() as { histories: { name: string }[] }).histories.map((h) => h.name).sort();
    };

    test('list: owner, invited user, other user, operator', async () => {
      assert.deepEqual(await names('alice'), [s.weekly.name]);
      assert.deepEqual(await names('bob'), [s.weekly.name]); // invited, token AOR spelled with display name and case
      assert.deepEqual(await names('dave'), ['dave-private']);
      assert.deepEqual(await names('operator'), ['dave-private', s.weekly.name].sort());
    });

    test('by id: 404 (not 403) for a history the user cannot see, on every sub-route', async () => {
      for (const sub of ['', '/messages', '/roster', '/export']) {
        assertError(await app.inject({ url: `/api/v1/histories/${s.dave.id}${sub}`, headers: auth('alice') }), 404, 'not_found');
        assert.equal((await app.inject({ url: `/api/v1/histories/${s.dave.id}${sub}`, headers: auth('dave') })).statusCode, 200);
        assert.equal((await app.inject({ url: `/api/v1/histories/${s.dave.id}${sub}`, headers: auth('operator') })).statusCode, 200);
      }
      // Hidden and missing look the same.
      const hidden = await app.inject({ url: `/api/v1/histories/${s.dave.id}`, headers: auth('bob') });
      const missing = await app.inject({ url: '/api/v1/histories/no-such-id', headers: auth('bob') });
      assert.deepEqual(hidden.json(), missing.json());
    });

    test('search only finds messages of visible histories', async () => {
      const hits = async (who: 'alice' | 'dave' | 'operator'): Promise<string[]> => {
        const res = await app.inject({ url: '/api/v1/search?q=release', headers: auth(who) });
        assert.equal(res.statusCode, 200);
        return (res.json() as { hits: { historyId: string }[] }).hits.map((h) => h.historyId).sort();
      };
      assert.deepEqual(await hits('alice'), [s.weekly.id]);
      assert.deepEqual(await hits('dave'), [s.dave.id]);
      assert.deepEqual(await hits('operator'), [s.weekly.id, s.dave.id].sort());
    });

    test('live sessions are filtered the same way', async () => {
      const ids = async (who: 'alice' | 'dave' | 'operator'): Promise<string[]> =>
        ((await app.inject({ url: '/api/v1/sessions', headers: auth(who) })).json() as { sessions: LiveSession[] }).sessions.map((x) => x.historyId);
      assert.deepEqual(await ids('alice'), [s.weekly.id]);
      assert.deepEqual(await ids('dave'), [s.dave.id]);
      assert.equal((await ids('operator')).length, 2);
    });
  });

  describe('routes', () => {
    test('GET /histories filters by state and limit; bad state/limit are 400', async () => {
      const ended = (await app.inject({ url: '/api/v1/histories?state=ended', headers: auth('operator') })).json() as { histories: { id: string }[] };
      assert.deepEqual(ended.histories.map((h) => h.id), [s.dave.id]);
      const one = (await app.inject({ url: '/api/v1/histories?limit=1', headers: auth('operator') })).json() as { histories: unknown[]; truncated: boolean };
      assert.equal(one.histories.length, 1);
      assert.equal(one.truncated, true);
      for (const q of ['state=bogus', 'limit=0', 'limit=1001', 'limit=abc', 'limit=1.5', 'extra=1']) {
        assertError(await app.inject({ url: `/api/v1/histories?${q}`, headers: auth('operator') }), 400, 'bad_request');
      }
    });

    test('GET /histories/:id gives the record and participants in order', async () => {
      const res = await app.inject({ url: `/api/v1/histories/${s.weekly.id}`, headers: auth('bob') });
      assert.equal(res.statusCode, 200);
      const body = res.json() as { history: { id: string; name: string; state: string }; participants: { user: string; present: boolean; leftAt?: number }[] };
      assert.equal(body.history.id, s.weekly.id);
      assert.equal(body.history.state, 'active');
      assert.deepEqual(body.participants.map((p) => p.user), ['sip:alice@example.net', 'sip:bob@example.net', 'sip:carol@example.net']);
      assert.equal(body.participants[2]?.present, false);
      assert.equal(typeof body.participants[2]?.leftAt, 'number');
    });

    test('bad ids are 400', async () => {
      for (const id of ['..%2F..%2Fetc', 'a%20b', 'x'.repeat(65)]) {
        assertError(await app.inject({ url: `/api/v1/histories/${id}`, headers: auth('operator') }), 400, 'bad_request');
      }
    });

    test('GET /messages: text as text, others base64, paging with afterSeq', async () => {
      const res = await app.inject({ url: `/api/v1/histories/${s.weekly.id}/messages`, headers: auth('alice') });
      assert.equal(res.statusCode, 200);
      const body = res.json() as { messages: { seq: number; text?: string; bodyBase64?: string; contentType: string; sender: string }[]; nextAfterSeq: number | null };
      assert.deepEqual(body.messages.slice(0, 4).map((m) => m.text), WEEKLY_MESSAGES.map((m) => m.text));
      assert.deepEqual(body.messages.map((m) => m.seq), [1, 2, 3, 4, 5]);
      const png = body.messages[4]!;
      assert.equal(png.text, undefined);
      assert.equal(png.contentType, 'image/png');
      assert.deepEqual(Buffer.from(png.bodyBase64!, 'base64'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]));
      assert.equal(body.nextAfterSeq, null);

      const p1 = (await app.inject({ url: `/api/v1/histories/${s.weekly.id}/messages?limit=2`, headers: auth('alice') })).json() as typeof body;
      assert.deepEqual(p1.messages.map((m) => m.seq), [1, 2]);
      assert.equal(p1.nextAfterSeq, 2);
      const p2 = (await app.inject({ url: `/api/v1/histories/${s.weekly.id}/messages?limit=2&afterSeq=2`, headers: auth('alice') })).json() as typeof body;
      assert.deepEqual(p2.messages.map((m) => m.seq), [3, 4]);
      for (const q of ['afterSeq=-1', 'afterSeq=x', 'limit=0', 'limit=5000']) {
        assertError(await app.inject({ url: `/api/v1/histories/${s.weekly.id}/messages?${q}`, headers: auth('alice') }), 400, 'bad_request');
      }
    });

    test('GET /roster lists the roster events in order', async () => {
      const res = await app.inject({ url: `/api/v1/histories/${s.weekly.id}/roster`, headers: auth('alice') });
      const events = (res.json() as { events: { kind: string; user: string }[] }).events;
      assert.deepEqual(
        events.map((e) => `${e.kind} ${e.user}`),
        ['joined sip:alice@example.net', 'joined sip:bob@example.net', 'joined sip:carol@example.net', 'left sip:carol@example.net'],
      );
    });

    test('GET /search: hits with snippets and history names; q required and bounded', async () => {
      const res = await app.inject({ url: '/api/v1/search?q=candidate', headers: auth('bob') });
      const hits = (res.json() as { hits: { historyId: string; seq: number; snippet: string; historyName: string }[] }).hits;
      assert.equal(hits.length, 1);
      assert.equal(hits[0]?.seq, 2);
      assert.equal(hits[0]?.historyName, s.weekly.name);
      assert.match(hits[0]!.snippet, /\u00abcandidate\u00bb/);
      for (const q of ['', 'q=', `q=${'a'.repeat(501)}`, 'q=x&limit=0', 'q=x&limit=1001']) {
        assertError(await app.inject({ url: `/api/v1/search?${q}`, headers: auth('bob') }), 400, 'bad_request');
      }
      assertError(await app.inject({ url: '/api/v1/search?q=%20%20', headers: auth('bob') }), 400, 'bad_request');
    });

    test('GET /export: text and JSON downloads with a safe file name', async () => {
      const text = await app.inject({ url: `/api/v1/histories/${s.weekly.id}/export`, headers: auth('alice') });
      assert.equal(text.statusCode, 200);
      assert.match(String(text.headers['content-type']), /^text\/plain; charset=utf-8/);
      const cd = String(text.headers['content-disposition']);
      assert.match(cd, /^attachment; filename="[A-Za-z0-9_.-]+\.txt"; filename\*=UTF-8''[A-Za-z0-9_.%-]+\.txt$/);
      assert.ok(!cd.includes('/') && !cd.includes('\\') && !cd.includes('..'), cd);
      assert.ok(cd.includes(s.weekly.id), cd);
      for (const m of WEEKLY_MESSAGES) assert.ok(text.body.includes(m.text), m.text);

      const json = await app.inject({ url: `/api/v1/histories/${s.weekly.id}/export?format=json`, headers: auth('alice') });
      assert.match(String(json.headers['content-type']), /^application\/json/);
      assert.match(String(json.headers['content-disposition']), /\.json"; filename\*=/);
      const doc = json.json() as { history: { id: string }; messages: { text?: string }[]; participants: unknown[]; rosterEvents: unknown[] };
      assert.equal(doc.history.id, s.weekly.id);
      assert.equal(doc.messages.length, 5);
      assert.equal(doc.participants.length, 3);
      assertError(await app.inject({ url: `/api/v1/histories/${s.weekly.id}/export?format=pdf`, headers: auth('alice') }), 400, 'bad_request');
    });

    test('contentDisposition keeps non-ASCII letters only in filename*', () => {
      const cd = contentDisposition('Réunion été/../x', 'abc-123', 'txt');
      assert.equal(cd, `attachment; filename="R_union__t____x-abc-123.txt"; filename*=UTF-8''${encodeURIComponent('Réunion_été___x-abc-123.txt')}`);
      assert.match(contentDisposition('...', 'id', 'json'), /filename="history-id\.json"/);
    });

    test('DELETE: 403 for users (even the owner), 204 then 404 for the operator', async () => {
      const extra = await s.store.createHistory({ ...s.weekly, name: 'to-delete' });
      assertError(await app.inject({ method: 'DELETE', url: `/api/v1/histories/${extra.id}`, headers: auth('alice') }), 403, 'forbidden');
      assertError(await app.inject({ method: 'DELETE', url: `/api/v1/histories/${s.dave.id}`, headers: auth('alice') }), 403, 'forbidden');
      const del = await app.inject({ method: 'DELETE', url: `/api/v1/histories/${extra.id}`, headers: auth('operator') });
      assert.equal(del.statusCode, 204);
      assert.equal(await s.store.getHistory(extra.id), undefined);
      assertError(await app.inject({ method: 'DELETE', url: `/api/v1/histories/${extra.id}`, headers: auth('operator') }), 404, 'not_found');
      assertError(await app.inject({ method: 'DELETE', url: '/api/v1/histories/bad%20id', headers: auth('operator') }), 400, 'bad_request');
    });

    test('a pino logger (as the rest of im-history uses) is accepted and logs errors', async () => {
      const lines: string[] = [];
      const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
      const logged = buildApi({ store: s.store, tokens: TOKEN_TABLE, logger });
      assert.equal((await logged.inject({ url: '/api/v1/me', headers: auth('alice') })).statusCode, 200);
      await logged.close();
      assert.ok(lines.some((l) => l.includes('/api/v1/me')));
      assert.ok(!lines.some((l) => l.includes('alice-token')), 'tokens never reach the log');
    });

    test('GET /sessions without a live source is empty', async () => {
      const bare = buildApi({ store: s.store, tokens: TOKEN_TABLE });
      const res = await bare.inject({ url: '/api/v1/sessions', headers: auth('operator') });
      assert.deepEqual(res.json(), { sessions: [] });
      assertError(await bare.inject({ url: '/metrics' }), 404, 'not_found');
      await bare.close();
    });

    test('wrong methods are 404 with the error shape', async () => {
      const res = await app.inject({ method: 'POST', url: '/api/v1/histories', headers: auth('operator'), payload: { x: 1 } });
      assertError(res, 404, 'not_found');
    });

    test('store errors: overload is 503, anything else 500 without details', async () => {
      const { StoreOverloadedError } = await import('../../src/store/types.js');
      const broken = buildApi({
        store: new Proxy(s.store, {
          get(target, prop, recv) {
            if (prop === 'listHistories') return async () => Promise.reject(new StoreOverloadedError(99));
            if (prop === 'getHistory') return async () => Promise.reject(new Error('disk on fire /var/secret'));
            return Reflect.get(target, prop, recv) as unknown;
          },
        }),
        tokens: TOKEN_TABLE,
      });
      const busy = await broken.inject({ url: '/api/v1/histories', headers: auth('operator') });
      assertError(busy, 503, 'unavailable');
      assert.equal(busy.headers['retry-after'], '1');
      const fail = await broken.inject({ url: `/api/v1/histories/${s.weekly.id}`, headers: auth('operator') });
      assertError(fail, 500, 'internal');
      assert.ok(!fail.body.includes('secret'));
      await broken.close();
    });
  });

  describe('operations', () => {
    test('/healthz is always 200; /readyz follows ready()', async () => {
      assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
      assert.equal((await app.inject({ url: '/readyz' })).statusCode, 200);
      ready = false;
      assertError(await app.inject({ url: '/readyz' }), 503, 'unavailable');
      assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
      ready = true;
    });

    test('/metrics is Prometheus text with the History Function metrics, no token needed', async () => {
      metrics.referOutcome('accepted');
      metrics.referOutcome(403);
      metrics.messagesRecorded.inc(3);
      let retrans = 4;
      metrics.trackRetransmissions(() => retrans);
      metrics.trackActiveSessions(() => 2);
      await metrics.timeStoreWrite('addMessage', async () => 1);
      const res = await app.inject({ url: '/metrics' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/plain/);
      for (const name of [
        'im_history_refers_total{outcome="accepted"} 1',
        'im_history_refers_total{outcome="403"} 1',
        'im_history_active_sessions 2',
        'im_history_messages_recorded_total 3',
        'im_history_sip_retransmissions_total 4',
        'im_history_store_write_seconds_count{op="addMessage"} 1',
        'process_cpu_seconds_total',
        'nodejs_eventloop_lag_seconds',
      ]) {
        assert.ok(res.body.includes(name), name);
      }
      retrans = 6;
      assert.ok((await app.inject({ url: '/metrics' })).body.includes('im_history_sip_retransmissions_total 6'));
    });

    test('/metrics with metricsAuth needs the operator token', async () => {
      const m = createMetrics({ defaultMetrics: false });
      const guarded = buildApi({ store: s.store, tokens: TOKEN_TABLE, metrics: m.registry, metricsAuth: true });
      assertError(await guarded.inject({ url: '/metrics' }), 401, 'unauthorized');
      assertError(await guarded.inject({ url: '/metrics', headers: auth('alice') }), 403, 'forbidden');
      const ok = await guarded.inject({ url: '/metrics', headers: auth('operator') });
      assert.equal(ok.statusCode, 200);
      assert.ok(ok.body.includes('im_history_refers_total'));
      assert.ok(!ok.body.includes('process_cpu_seconds_total'));
      await guarded.close();
    });

    test('/openapi.json is OpenAPI 3.1 and lists every route', async () => {
      const res = await app.inject({ url: '/openapi.json' });
      assert.equal(res.statusCode, 200);
      const doc = res.json() as { openapi: string; paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; security?: unknown[] }>> };
      assert.equal(doc.openapi, '3.1.0');
      const routes = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
      assert.deepEqual(
        routes,
        [
          'DELETE /api/v1/histories/{id}',
          'GET /api/v1/histories',
          'GET /api/v1/histories/{id}',
          'GET /api/v1/histories/{id}/export',
          'GET /api/v1/histories/{id}/messages',
          'GET /api/v1/histories/{id}/roster',
          'GET /api/v1/me',
          'GET /api/v1/search',
          'GET /api/v1/sessions',
          'GET /healthz',
          'GET /metrics',
          'GET /openapi.json',
          'GET /readyz',
        ].sort(),
      );
      const msgs = doc.paths['/api/v1/histories/{id}/messages']!.get!;
      assert.deepEqual(msgs.parameters?.map((p) => `${p.in}:${p.name}`), ['path:id', 'query:afterSeq', 'query:limit']);
      assert.deepEqual(doc.paths['/healthz']!.get!.security, []);
    });

    test('the viewer is served with a strict CSP', async () => {
      const res = await app.inject({ url: '/' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.match(String(res.headers['content-security-policy']), /script-src 'self'/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal((await app.inject({ url: '/app.js' })).statusCode, 200);
      assert.equal((await app.inject({ url: '/style.css' })).statusCode, 200);
      assertError(await app.inject({ url: '/../package.json' }), 404, 'not_found');
      assertError(await app.inject({ url: '/server.js' }), 404, 'not_found');
    });
  });
});
