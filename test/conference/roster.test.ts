import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConferenceInfoError, parseConferenceInfo, Roster, type RosterChange, type RosterOptions, type RosterResult } from '../../src/conference/index.js';
import { CONF, doc, RFC4575_BASIC, RFC4575_RICH, user } from './fixtures.js';

const WHEN = Date.UTC(2005, 2, 4, 20);

function changes(result: RosterResult): RosterChange[] {
  assert.ok(Array.isArray(result), `expected changes, got ${JSON.stringify(result)}`);
  return result;
}

function apply(roster: Roster, xml: string, at: number): RosterChange[] {
  return changes(roster.apply(parseConferenceInfo(xml), at));
}

function kinds(list: RosterChange[]): string[] {
  return list.map((c) => `${c.kind} ${c.user}${c.endpoint ? ` ${c.endpoint}` : ''}${c.status ? ` ${c.status}` : ''}`);
}

function present(roster: Roster): string[] {
  return roster.participants().map((p) => p.entity);
}

function held(options?: RosterOptions): Roster {
  const roster = new Roster(options);
  apply(roster, doc(1, 'full', user('alice', 'connected', { display: 'Alice' }) + user('carol', 'connected')), 1000);
  return roster;
}

test('RFC 4575 §6, §3.7: the basic example as first notification: Alice joined, Bob seen leaving', () => {
  const roster = new Roster();
  const list = apply(roster, RFC4575_BASIC, 5000);
  assert.deepEqual(list, [
    {
      at: 5000, kind: 'status', user: 'sip:bob@example.com', displayName: 'Bob Hoskins', endpoint: 'sip:bob@pc33.example.com',
      status: 'disconnected', disconnectionMethod: 'departed', when: WHEN, reason: 'bad voice quality', by: 'sip:mike@example.com',
    },
    {
      at: 5000, kind: 'joined', user: 'sip:alice@example.com', displayName: 'Alice', endpoint: 'sip:4kfk4j392jsu@example.com;grid=433kj4j3u',
      status: 'connected', joiningMethod: 'dialed-out', when: WHEN, by: 'sip:mike@example.com',
    },
  ]);
  assert.equal(roster.version, 1);
  assert.equal(roster.entity, CONF);
  assert.deepEqual(roster.conference, { subject: "Agenda: This month's goals", userCount: 33 });
  assert.deepEqual(roster.participants(), [{
    entity: 'sip:alice@example.com', displayName: 'Alice', present: true, status: 'connected', joinedAt: WHEN,
    endpoints: [{ entity: 'sip:4kfk4j392jsu@example.com;grid=433kj4j3u', status: 'connected', joiningMethod: 'dialed-out' }],
  }]);
  assert.deepEqual(roster.users().map((u) => [u.entity, u.present, u.status]), [
    ['sip:bob@example.com', false, 'disconnected'],
    ['sip:alice@example.com', true, 'connected'],
  ]);
  assert.deepEqual(apply(roster, RFC4575_BASIC, 6000), [], 'the same version again is ignored');
});

test('RFC 4575 §6: the rich partial example merges onto version 4 and leaves the users it does not list', () => {
  const base = `<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="${CONF}" state="full" version="4">
    <conference-description><subject>old</subject></conference-description><conference-state><user-count>2</user-count></conference-state>
    <users><user entity="sip:bob@example.com"><endpoint entity="sip:bob@pc33.example.com"><status>connected</status></endpoint></user>
    ${user('carol', 'connected')}</users></conference-info>`;
  const roster = new Roster();
  assert.deepEqual(kinds(apply(roster, base, 1)), ['joined sip:bob@example.com sip:bob@pc33.example.com connected', 'joined sip:carol@example.com sip:carol@pc.example.com connected']);
  const list = apply(roster, RFC4575_RICH, 2);
  assert.deepEqual(list, [{
    at: 2, kind: 'status', user: 'sip:bob@example.com', displayName: 'Bob Hoskins', endpoint: 'sip:bob@pc33.example.com',
    status: 'disconnecting', disconnectionMethod: 'booted', when: WHEN, reason: 'bad voice quality', by: 'sip:mike@example.com',
  }]);
  assert.deepEqual(present(roster), ['sip:bob@example.com', 'sip:carol@example.com'], 'disconnecting is still in the conference');
  assert.deepEqual(roster.conference, { displayText: 'Weekly Sales Meeting', subject: "Agenda: This month's goals", userCount: 32, active: true, locked: false });
  assert.deepEqual(roster.users()[0]?.roles, ['participant']);
  assert.equal(roster.version, 5);

  // The literal schema reading: <users> without state is full, so Carol is gone.
  const strict = new Roster({ containerStateInPartial: 'full' });
  apply(strict, base, 1);
  assert.deepEqual(kinds(apply(strict, RFC4575_RICH, 2)), [
    'status sip:bob@example.com sip:bob@pc33.example.com disconnecting',
    'left sip:carol@example.com sip:carol@pc.example.com disconnected',
  ]);
});

test('RFC 4575 §5.6, §5.7: a join/leave sequence in partial notifications', () => {
  const roster = held();
  assert.deepEqual(present(roster), ['sip:alice@example.com', 'sip:carol@example.com']);
  assert.equal(roster.participants()[0]?.joinedAt, 1000, 'no joining-info: the time the notification arrived');

  let list = apply(roster, doc(2, 'partial', user('bob', 'alerting', { display: 'Bob', extra: '<joining-method>dialed-out</joining-method>' })), 2000);
  assert.deepEqual(list, [{ at: 2000, kind: 'status', user: 'sip:bob@example.com', displayName: 'Bob', endpoint: 'sip:bob@pc.example.com', status: 'alerting', joiningMethod: 'dialed-out' }]);
  assert.deepEqual(present(roster), ['sip:alice@example.com', 'sip:carol@example.com']);

  list = apply(roster, doc(3, 'partial', user('bob', 'connected', { state: 'partial', epState: 'partial', extra: '<joining-info><when>2026-05-13T10:00:00Z</when><reason>invited</reason></joining-info>' })), 3000);
  assert.deepEqual(list, [{
    at: 3000, kind: 'joined', user: 'sip:bob@example.com', displayName: 'Bob', endpoint: 'sip:bob@pc.example.com',
    status: 'connected', joiningMethod: 'dialed-out', when: Date.UTC(2026, 4, 13, 10), reason: 'invited',
  }]);
  assert.equal(roster.participants().find((p) => p.entity === 'sip:bob@example.com')?.joinedAt, Date.UTC(2026, 4, 13, 10));
  assert.equal(roster.participants().find((p) => p.entity === 'sip:bob@example.com')?.displayName, 'Bob', 'a partial user keeps what it does not repeat');

  list = apply(roster, doc(4, 'partial', user('alice', 'disconnected', { state: 'partial', epState: 'partial', extra: '<disconnection-method>departed</disconnection-method>' })), 4000);
  assert.deepEqual(list, [{ at: 4000, kind: 'left', user: 'sip:alice@example.com', displayName: 'Alice', endpoint: 'sip:alice@pc.example.com', status: 'disconnected', disconnectionMethod: 'departed' }]);
  assert.equal(roster.users().find((p) => p.entity === 'sip:alice@example.com')?.joinedAt, undefined);

  list = apply(roster, doc(5, 'partial', '<user entity="sip:bob@example.com" state="deleted"/>'), 5000);
  assert.deepEqual(kinds(list), ['left sip:bob@example.com sip:bob@pc.example.com disconnected']);
  assert.deepEqual(present(roster), ['sip:carol@example.com']);
  assert.deepEqual(roster.users().map((u) => u.entity), ['sip:alice@example.com', 'sip:carol@example.com']);

  // Alice rejoins: the stale joining-info of her first session is not reported again.
  list = apply(roster, doc(6, 'partial', user('alice', 'connected', { state: 'partial', epState: 'partial' })), 6000);
  assert.deepEqual(list, [{ at: 6000, kind: 'joined', user: 'sip:alice@example.com', displayName: 'Alice', endpoint: 'sip:alice@pc.example.com', status: 'connected' }]);
  assert.equal(roster.version, 6);
});

test('RFC 4575 §3.7: a gap in versions asks for full state once; the full state then shows what was missed', () => {
  const roster = held();
  const result = roster.apply(parseConferenceInfo(doc(3, 'partial', user('dave', 'connected'))), 2000);
  assert.ok(!Array.isArray(result));
  assert.equal(result.resync, true);
  assert.match(result.reason, /version 3 after 1/);
  assert.equal(roster.awaitingFullState, true);
  assert.equal(roster.version, 1, 'a delta on the wrong base is not merged');
  assert.deepEqual(present(roster), ['sip:alice@example.com', 'sip:carol@example.com']);
  assert.deepEqual(apply(roster, doc(4, 'partial', user('erin', 'connected')), 2500), [], 'waiting: further partials are ignored');

  // Full state after the re-SUBSCRIBE: Alice left meanwhile, Dave joined.
  const list = apply(roster, doc(9, 'full', user('carol', 'connected') + user('dave', 'connected')), 3000);
  assert.deepEqual(kinds(list), ['joined sip:dave@example.com sip:dave@pc.example.com connected', 'left sip:alice@example.com sip:alice@pc.example.com disconnected']);
  assert.equal(roster.awaitingFullState, false);
  assert.equal(roster.version, 9);
  assert.equal(roster.participants().find((p) => p.entity === 'sip:carol@example.com')?.joinedAt, 1000, 'Carol stayed: her join time is kept');
  assert.deepEqual(kinds(apply(roster, doc(10, 'partial', user('erin', 'connected')), 4000)), ['joined sip:erin@example.com sip:erin@pc.example.com connected']);
});

test('RFC 4575 §3.7: out-of-order and repeated notifications are ignored', () => {
  const roster = held();
  const v2 = doc(2, 'partial', user('bob', 'connected'));
  assert.equal(apply(roster, v2, 2000).length, 1);
  assert.deepEqual(apply(roster, v2, 2100), [], 'duplicate');
  assert.deepEqual(apply(roster, doc(1, 'partial', '<user entity="sip:alice@example.com" state="deleted"/>'), 2200), [], 'late partial');
  assert.deepEqual(apply(roster, doc(2, 'full', ''), 2300), [], 'late full state');
  assert.deepEqual(present(roster), ['sip:alice@example.com', 'sip:carol@example.com', 'sip:bob@example.com']);
  assert.equal(roster.version, 2);
  assert.equal(roster.awaitingFullState, false);
});

test('RFC 4575 §3.7: what forces a resync, and a new subscription restarting versions', () => {
  let roster = new Roster();
  const first = roster.apply(parseConferenceInfo(doc(1, 'partial', user('a', 'connected'))), 1);
  assert.ok(!Array.isArray(first) && /before any full state/.test(first.reason));

  roster = new Roster();
  apply(roster, `<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="${CONF}"><users>${user('a', 'connected')}</users></conference-info>`, 1);
  const unversioned = roster.apply(parseConferenceInfo(doc(2, 'partial', user('b', 'connected'))), 2);
  assert.ok(!Array.isArray(unversioned) && /without a version/.test(unversioned.reason));

  roster = held();
  const other = roster.apply(parseConferenceInfo(doc(2, 'partial', user('b', 'connected')).replace(CONF, 'sip:other@example.com')), 2);
  assert.ok(!Array.isArray(other) && /not sips:conf233/.test(other.reason));

  roster = held();
  apply(roster, doc(2, 'partial', user('b', 'connected')), 2);
  roster.newSubscription();
  assert.equal(roster.awaitingFullState, true);
  assert.equal(roster.version, undefined);
  assert.deepEqual(kinds(apply(roster, doc(1, 'full', user('alice', 'connected') + user('b', 'connected')), 3)), [
    'left sip:carol@example.com sip:carol@pc.example.com disconnected',
  ], 'version 1 of the new subscription is accepted; only real changes are reported');
});

test('RFC 4575 §5.6, §5.7: deleted users, endpoints, the whole users element and the conference', () => {
  const roster = held();
  apply(roster, doc(2, 'partial', '<user entity="sip:alice@example.com" state="partial"><endpoint entity="sip:alice@phone.example.com"><status>connected</status></endpoint></user>'), 2);
  let list = apply(roster, doc(3, 'partial', '<user entity="sip:alice@example.com" state="partial"><endpoint entity="sip:alice@pc.example.com" state="deleted"/></user>'), 3);
  assert.deepEqual(kinds(list), ['status sip:alice@example.com sip:alice@pc.example.com disconnected'], 'one of two endpoints gone: still present');
  list = apply(roster, doc(4, 'partial', '<user entity="sip:alice@example.com" state="partial"><endpoint entity="sip:alice@phone.example.com" state="deleted"/></user>'), 4);
  assert.deepEqual(kinds(list), ['left sip:alice@example.com sip:alice@phone.example.com disconnected'], 'her last endpoint gone: she left');
  assert.deepEqual(present(roster), ['sip:carol@example.com']);
  assert.deepEqual(roster.users().map((u) => [u.entity, u.present]), [['sip:alice@example.com', false], ['sip:carol@example.com', true]]);
  list = apply(roster, doc(5, 'partial', '', 'deleted'), 5);
  assert.deepEqual(kinds(list), ['left sip:carol@example.com sip:carol@pc.example.com disconnected']);
  assert.deepEqual(roster.users(), []);
  apply(roster, doc(6, 'partial', user('z', 'connected')), 6);
  list = apply(roster, `<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="${CONF}" state="deleted" version="7"/>`, 7);
  assert.deepEqual(kinds(list), ['left sip:z@example.com sip:z@pc.example.com disconnected']);
  assert.deepEqual(roster.conference, {});
});

test('RFC 4575 §5.7: endpoint status changes that keep the user in, and a second device', () => {
  const roster = held();
  assert.deepEqual(kinds(apply(roster, doc(2, 'partial', user('alice', 'on-hold', { state: 'partial', epState: 'partial' })), 2)), ['status sip:alice@example.com sip:alice@pc.example.com on-hold']);
  assert.deepEqual(kinds(apply(roster, doc(3, 'partial', user('alice', 'muted-via-focus', { state: 'partial', epState: 'partial' })), 3)), ['status sip:alice@example.com sip:alice@pc.example.com muted-via-focus']);
  assert.deepEqual(kinds(apply(roster, doc(4, 'partial', '<user entity="sip:alice@example.com" state="partial"><endpoint entity="sip:alice@phone.example.com"><status>dialing-in</status></endpoint></user>'), 4)),
    ['status sip:alice@example.com sip:alice@phone.example.com dialing-in']);
  assert.deepEqual(kinds(apply(roster, doc(5, 'partial', '<user entity="sip:alice@example.com" state="partial"><endpoint entity="sip:alice@phone.example.com" state="partial"><status>connected</status></endpoint></user>'), 5)),
    ['status sip:alice@example.com sip:alice@phone.example.com connected']);
  const alice = roster.participants().find((p) => p.entity === 'sip:alice@example.com');
  assert.equal(alice?.status, 'connected', 'the most engaged endpoint');
  assert.equal(alice?.joinedAt, 1000);
  assert.deepEqual(alice?.endpoints.map((e) => e.status), ['muted-via-focus', 'connected']);
  // A partial document that changes nothing about status reports nothing.
  assert.deepEqual(apply(roster, doc(6, 'partial', '<user entity="sip:alice@example.com" state="partial"><display-text>Alice B.</display-text></user>'), 6), []);
  assert.equal(roster.participants()[0]?.displayName, 'Alice B.');
  // Busy: a dial-out that never connected.
  assert.deepEqual(apply(roster, doc(7, 'partial', user('bob', 'disconnected', { extra: '<disconnection-method>busy</disconnection-method>' })), 7), [
    { at: 7, kind: 'status', user: 'sip:bob@example.com', endpoint: 'sip:bob@pc.example.com', status: 'disconnected', disconnectionMethod: 'busy' },
  ]);
});

test('RFC 4575 §5.6: users listed without endpoints or status count as present while listed', () => {
  const roster = new Roster();
  assert.deepEqual(kinds(apply(roster, doc(1, 'full', '<user entity="sip:a@example.com"><display-text>A</display-text></user>' + user('b', undefined)), 10)), ['joined sip:a@example.com', 'joined sip:b@example.com']);
  assert.deepEqual(roster.participants().map((p) => [p.entity, p.status, p.joinedAt]), [['sip:a@example.com', undefined, 10], ['sip:b@example.com', undefined, 10]]);
  assert.deepEqual(kinds(apply(roster, doc(2, 'partial', user('b', 'pending', { state: 'partial', epState: 'partial' })), 20)), ['left sip:b@example.com sip:b@pc.example.com pending'],
    'once an endpoint reports a status, presence follows it');
  assert.deepEqual(kinds(apply(roster, doc(3, 'partial', '<user entity="sip:a@example.com" state="deleted"/>'), 30)), ['left sip:a@example.com']);
  assert.deepEqual(present(roster), []);
});

test('RFC 4575 §3.7 with design convention 8: the roster size is bounded and a refused update changes nothing', () => {
  const roster = held({ maxUsers: 2 });
  assert.throws(() => roster.apply(parseConferenceInfo(doc(2, 'partial', user('bob', 'connected'))), 2),
    (e: unknown) => e instanceof ConferenceInfoError && e.code === 'too-many-users');
  assert.equal(roster.version, 1);
  assert.deepEqual(present(roster), ['sip:alice@example.com', 'sip:carol@example.com']);
  assert.equal(apply(roster, doc(2, 'partial', '<user entity="sip:carol@example.com" state="deleted"/>' + user('bob', 'connected')), 3).length, 2);
});
