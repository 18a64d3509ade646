// Configuration: schema defaults, exact field errors, environment overrides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEnv, ConfigError, loadConfig, parseConfig } from '../../src/config.js';

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
  assert.deepEqual(c.history.msrp.limits, { maxConnections: 1024, maxConnectionsPerIp: 64, messageTimeoutMs: 30_000, unboundIdleTimeoutMs: 60_000 });
  const set = parseConfig({ sip: { maxServerTransactionsPerSource: 500, limits: { messageTimeoutMs: 5000, maxConnectionsPerIp: 4 } }, history: { msrp: { limits: { maxConnectionsPerIp: 2 } } } });
  assert.equal(set.sip.maxServerTransactionsPerSource, 500);
  assert.equal(set.sip.limits.messageTimeoutMs, 5000);
  assert.equal(set.history.msrp.limits.maxConnectionsPerIp, 2);
  assert.throws(() => parseConfig({ sip: { limits: { messageTimeoutMs: 0 } } }), /sip\.limits\.messageTimeoutMs/);
  assert.throws(() => parseConfig({ sip: { maxServerTransactionsPerSource: -1 } }), /sip\.maxServerTransactionsPerSource/);
  assert.throws(() => parseConfig({ history: { msrp: { limits: { maxConnectionsPerIp: 1.5 } } } }), /history\.msrp\.limits\.maxConnectionsPerIp/);
  assert.throws(() => parseConfig({ history: { msrp: { limits: { nope: 1 } } } }), /Unrecognized key/);
});
