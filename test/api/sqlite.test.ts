/** The API over the SQLite backend: the same visibility, messages and search results as over MemoryStore. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../src/api/server.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { auth, sampleStore, TOKEN_TABLE, WEEKLY_MESSAGES, type Sample } from './fixture.js';

let s: Sample;
let app: FastifyInstance;

before(async () => {
  s = await sampleStore(await SqliteStore.open(':memory:'));
  app = buildApi({ store: s.store, tokens: TOKEN_TABLE });
});
after(async () => {
  await app.close();
  await s.store.close();
});

test('SQLite: list, by-id visibility, messages, search, delete', async () => {
  const list = (await app.inject({ url: '/api/v1/histories', headers: auth('bob') })).json() as { histories: { id: string }[] };
  assert.deepEqual(list.histories.map((h) => h.id), [s.weekly.id]);
  assert.equal((await app.inject({ url: `/api/v1/histories/${s.dave.id}`, headers: auth('bob') })).statusCode, 404);
  const msgs = (await app.inject({ url: `/api/v1/histories/${s.weekly.id}/messages`, headers: auth('bob') })).json() as { messages: { text?: string }[] };
  assert.deepEqual(msgs.messages.slice(0, 4).map((m) => m.text), WEEKLY_MESSAGES.map((m) => m.text));
  const hits = (await app.inject({ url: '/api/v1/search?q=release', headers: auth('alice') })).json() as { hits: { historyId: string }[] };
  assert.deepEqual(hits.hits.map((h) => h.historyId), [s.weekly.id]);
  assert.equal((await app.inject({ method: 'DELETE', url: `/api/v1/histories/${s.dave.id}`, headers: auth('operator') })).statusCode, 204);
  assert.equal((await app.inject({ url: `/api/v1/histories/${s.dave.id}`, headers: auth('dave') })).statusCode, 404);
});
