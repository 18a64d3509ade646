// Configuration: schema defaults, exact field errors, environment overrides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { applyEnv, ConfigError, effectiveInstanceId, loadConfig, parseConfig, redactedConfig } from '../../src/config.js';

test('defaults: SIP on 127.0.0.1:5060 UDP+TCP, SQLite under ./data, API on 127.0.0.1:8080', () => {
  const c = parseConfig({});
  assert.deepEqual(c.sip.udp, [{ address: '127.0.0.1', port: 5060 }]);
  assert.deepEqual(c.sip.tcp, [{ address: '127.0.0.1', port: 5060 }]);
  assert.equal(c.store.path, './data/history.db');
  assert.equal(c.api.port, 8080);
  assert.match(c.sip.releaseToken, /^IM-serv\/OMA1\.0 im-history\//);
});

test('a bad config names the field and the reason', () => {
  assert.throws(() => parseConfig({ history: { sessionTimer: { sessionExpires: 60 } } }), (e: Error) => e instanceof ConfigError && /history\.sessionTimer\.sessionExpires/.test(e.message));
  assert.throws(() => parseConfig({ history: { conferenceFactories: ['http://x'] } }), /history\.conferenceFactories\.0: must be a SIP or SIPS URI/);
  assert.throws(() => parseConfig({ nope: 1 }), /Unrecognized key/);
  assert.throws(() => parseConfig({ history: { conferenceFactories: ['sip:a@x'], defaultConferenceFactory: 'sip:b@x' } }), /defaultConferenceFactory/);
});

test('environment overrides: IM_HISTORY__a__b=value, JSON when it parses, string otherwise', () => {
  const env = {
    IM_HISTORY__history__maxSessions: '5',
    IM_HISTORY__store__path: '/var/lib/im-history/h.db',
    IM_HISTORY__history__conferenceFactories: '["sip:factory@example.net"]',
    OTHER: 'ignored',
  };
  const c = loadConfig(undefined, env);
  assert.equal(c.history.maxSessions, 5);
  assert.equal(c.store.path, '/var/lib/im-history/h.db');
  assert.deepEqual(c.history.conferenceFactories, ['sip:factory@example.net']);
  // Overrides are validated like the file: the field is named.
  assert.throws(() => loadConfig(undefined, { IM_HISTORY__history__maxSessions: '-1' }), /history\.maxSessions/);
  assert.throws(() => applyEnv({}, { IM_HISTORY__constructor__x: '1' }), /bad environment override/);
  assert.throws(() => applyEnv({ store: 'x' }, { IM_HISTORY__store__path: 'y' }), /not an object/);
});

test('overload limits (issue 6): defaults, and bad values refused with the field', () => {
  const c = parseConfig({});
  assert.equal(c.sip.limits.messageTimeoutMs, 30_000);
  assert.equal(c.sip.limits.maxConnectionsPerIp, 128);
  assert.equal(c.sip.maxServerTransactionsPerSource, undefined, 'unset: maxServerTransactions applies');
  assert.deepEqual(c.history.msrp.limits, { maxConnections: 1024, maxConnectionsPerIp: 64, messageTimeoutMs: 30_000, unboundIdleTimeoutMs: 60_000, coalesceResponses: true });
  const set = parseConfig({ sip: { maxServerTransactionsPerSource: 500, limits: { messageTimeoutMs: 5000, maxConnectionsPerIp: 4 } }, history: { msrp: { limits: { maxConnectionsPerIp: 2 } } } });
  assert.equal(set.sip.maxServerTransactionsPerSource, 500);
  assert.equal(set.sip.limits.messageTimeoutMs, 5000);
  assert.equal(set.history.msrp.limits.maxConnectionsPerIp, 2);
  assert.throws(() => parseConfig({ sip: { limits: { messageTimeoutMs: 0 } } }), /sip\.limits\.messageTimeoutMs/);
  assert.throws(() => parseConfig({ sip: { maxServerTransactionsPerSource: -1 } }), /sip\.maxServerTransactionsPerSource/);
  assert.throws(() => parseConfig({ history: { msrp: { limits: { maxConnectionsPerIp: 1.5 } } } }), /history\.msrp\.limits\.maxConnectionsPerIp/);
  assert.throws(() => parseConfig({ history: { msrp: { limits: { nope: 1 } } } }), /Unrecognized key/);
});

test('store backend: sqlite by default; postgres with its URL and pool settings, also from the environment', () => {
  const d = parseConfig({});
  assert.equal(d.store.backend, 'sqlite');
  assert.deepEqual(d.store.postgres, { poolSize: 10, maxQueued: 100_000, maxBatch: 1000, connectTimeoutMs: 5000, statementTimeoutMs: 30_000 });
  assert.throws(() => parseConfig({ store: { backend: 'postgres' } }), /store\.postgres\.url: store\.backend "postgres" needs store\.postgres\.url/);
  assert.throws(() => parseConfig({ store: { backend: 'mysql' } }), /store\.backend/);
  assert.throws(() => parseConfig({ store: { postgres: { url: 'not a url' } } }), /store\.postgres\.url: must be a postgresql:/);
  assert.throws(() => parseConfig({ store: { postgres: { url: 'postgresql://h/d', schema: 'Bad-Name' } } }), /store\.postgres\.schema/);
  assert.throws(() => parseConfig({ store: { postgres: { poolSize: 1 } } }), /store\.postgres\.poolSize/);
  const c = loadConfig(undefined, {
    IM_HISTORY__store__backend: 'postgres',
    IM_HISTORY__store__postgres__url: 'postgresql://im:secret@db.example.net:5432/history?sslmode=require',
    IM_HISTORY__store__postgres__poolSize: '20',
  });
  assert.equal(c.store.backend, 'postgres');
  assert.equal(c.store.postgres.url, 'postgresql://im:secret@db.example.net:5432/history?sslmode=require');
  assert.equal(c.store.postgres.poolSize, 20);
  assert.equal(redactedConfig(c).store.postgres.url, 'postgresql://im:***@db.example.net:5432/history?sslmode=require');
  assert.equal(c.store.postgres.url?.includes('secret'), true, 'redactedConfig leaves the original alone');
});

test('instance id: configured, else hostname:first SIP port', () => {
  assert.equal(effectiveInstanceId(parseConfig({ instance: { id: 'hf-eu-1' } })), 'hf-eu-1');
  assert.equal(effectiveInstanceId(parseConfig({ sip: { udp: [{ address: '127.0.0.1', port: 5070 }] } })), `${hostname()}:5070`);
  assert.equal(effectiveInstanceId(parseConfig({ sip: { udp: [], tcp: [{ address: '127.0.0.1', port: 5080 }] } })), `${hostname()}:5080`);
  assert.throws(() => parseConfig({ instance: { id: 'has space' } }), /instance\.id: printable ASCII without spaces/);
  assert.throws(() => parseConfig({ instance: { id: '' } }), /instance\.id/);
});
