import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatEvent, formatSubscriptionState, parseEvent, parseSubscriptionState, sameEvent,
} from '../../../../src/sip/message/headers/index.js';
import { assertParseError } from './helpers.js';

test('RFC 6665 §8.2.1, RFC 4575 §3: Event: conference', () => {
  assert.deepEqual(parseEvent('conference'), { package: 'conference', templates: [], params: [] });
});

test('RFC 6665 §8.2.1, RFC 3515 §2.4.6: Event: refer;id=93809824', () => {
  const e = parseEvent(' refer ; id = 93809824 ');
  assert.equal(e.package, 'refer');
  assert.equal(e.id, '93809824');
  assert.equal(formatEvent(e), 'refer;id=93809824');
});

test('RFC 6665 §7.2: templates after the package (presence.winfo)', () => {
  const e = parseEvent('presence.winfo;x-unknown');
  assert.equal(e.package, 'presence');
  assert.deepEqual(e.templates, ['winfo']);
  assert.deepEqual(e.params, [{ name: 'x-unknown', value: null }]);
  assert.equal(formatEvent(e), 'presence.winfo;x-unknown');
});

test('RFC 6665 §4.1.2: same package and id name the same subscription', () => {
  assert.ok(sameEvent(parseEvent('refer;id=1'), parseEvent('refer ;id=1;foo')));
  assert.ok(!sameEvent(parseEvent('refer;id=1'), parseEvent('refer;id=2')));
  assert.ok(!sameEvent(parseEvent('refer'), parseEvent('refer;id=1')));
  assert.ok(!sameEvent(parseEvent('presence'), parseEvent('presence.winfo')));
});

test('RFC 6665 §8.4: malformed Event values are rejected', () => {
  for (const bad of ['', '.winfo', 'presence.', 'presence..winfo', 'refer;id', 'refer;id="1"', 'refer;id=1;id=2', 'a b', 'refer,presence']) {
    assertParseError(() => parseEvent(bad));
  }
});

test('RFC 6665 §8.2.3: Subscription-State values and parameters', () => {
  assert.deepEqual(parseSubscriptionState('active;expires=3600'), { state: 'active', expires: 3600, params: [{ name: 'expires', value: '3600' }] });
  const t = parseSubscriptionState('Terminated ; reason = NoResource ; retry-after=120');
  assert.equal(t.state, 'terminated');
  assert.equal(t.reason, 'noresource');
  assert.equal(t.retryAfter, 120);
  assert.equal(parseSubscriptionState('pending').state, 'pending');
  assert.equal(parseSubscriptionState('waiting;x=y').state, 'waiting');
});

test('RFC 6665 §8.2.3: malformed Subscription-State values are rejected', () => {
  for (const bad of ['', ';expires=1', 'active;expires', 'active;expires=x', 'active;expires=99999999999', 'terminated;reason="x"', 'active;expires=1;expires=2', 'active pending']) {
    assertParseError(() => parseSubscriptionState(bad));
  }
});

test('RFC 6665 §8.2.3: formatSubscriptionState round-trips and applies typed fields', () => {
  const v = parseSubscriptionState('terminated;reason=timeout;foo=bar');
  assert.equal(formatSubscriptionState(v), 'terminated;reason=timeout;foo=bar');
  assert.deepEqual(parseSubscriptionState(formatSubscriptionState(v)), v);
  assert.equal(formatSubscriptionState({ state: 'active', expires: 600, params: [] }), 'active;expires=600');
  assert.equal(formatSubscriptionState({ ...parseSubscriptionState('active;expires=5'), expires: 60 }), 'active;expires=60');
});
