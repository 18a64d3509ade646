import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConferenceInfoError, parseConferenceInfo, parseXsDateTime,
  type ConferenceInfoErrorCode, type ConferenceInfoOptions,
} from '../../src/conference/index.js';
import { XmlError } from '../../src/xml/safe-xml.js';
import { CONF, doc, RFC4575_BASIC, RFC4575_RICH, user } from './fixtures.js';

function assertInfoError(xml: string, code: ConferenceInfoErrorCode, options?: ConferenceInfoOptions): ConferenceInfoError {
  let caught: unknown;
  try {
    parseConferenceInfo(xml, options);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConferenceInfoError, `expected ConferenceInfoError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

const WHEN = Date.UTC(2005, 2, 4, 20);

test('RFC 4575 §6: the basic full-state example, element by element', () => {
  const info = parseConferenceInfo(RFC4575_BASIC);
  assert.equal(info.entity, CONF);
  assert.equal(info.state, 'full');
  assert.equal(info.version, 1);
  assert.deepEqual(info.description, {
    subject: "Agenda: This month's goals",
    serviceUris: { entries: [{ uri: 'http://sharepoint/salesgroup/', purpose: 'web-page' }] },
  });
  assert.deepEqual(info.conferenceState, { userCount: 33 });
  assert.deepEqual(info.users, {
    users: [
      {
        entity: 'sip:bob@example.com', state: 'full', displayText: 'Bob Hoskins',
        endpoints: [{
          entity: 'sip:bob@pc33.example.com', displayText: "Bob's Laptop", status: 'disconnected', disconnectionMethod: 'departed',
          disconnectionInfo: { when: '2005-03-04T20:00:00Z', whenMs: WHEN, reason: 'bad voice quality', by: 'sip:mike@example.com' },
          media: [{ id: '1', displayText: 'main audio', type: 'audio', label: '34567', srcId: '432424', status: 'sendrecv' }],
        }],
      },
      {
        entity: 'sip:alice@example.com', state: 'full', displayText: 'Alice',
        endpoints: [{
          entity: 'sip:4kfk4j392jsu@example.com;grid=433kj4j3u', status: 'connected', joiningMethod: 'dialed-out',
          joiningInfo: { when: '2005-03-04T20:00:00Z', whenMs: WHEN, by: 'sip:mike@example.com' },
          media: [{ id: '1', displayText: 'main audio', type: 'audio', label: '34567', srcId: '534232', status: 'sendrecv' }],
        }],
      },
    ],
  });
  assert.deepEqual(info.warnings, []);
});

test('RFC 4575 §6: the rich partial example: description, host-info, state, user details, call-info, sidebars', () => {
  const info = parseConferenceInfo(RFC4575_RICH);
  assert.equal(info.state, 'partial');
  assert.equal(info.version, 5);
  const d = info.description;
  assert.equal(d?.displayText, 'Weekly Sales Meeting');
  assert.equal(d?.freeText, 'We will start strict on time');
  assert.deepEqual(d?.keywords, ['sales', 'meeting', 'weekly']);
  assert.deepEqual(d?.confUris?.entries.map((e) => [e.uri, e.displayText, e.purpose]), [
    ['tel:+18005671234', 'TTI Bridge', 'participation'],
    ['h323:conf545@h323.example.com', undefined, 'participation'],
    ['http://real.streaming.com/54634/live.ram', undefined, 'streaming'],
  ]);
  assert.equal(d?.serviceUris?.entries[1]?.displayText, 'Quicktime');
  assert.equal(d?.maximumUserCount, 100);
  assert.deepEqual(d?.availableMedia, [
    { label: '34567', displayText: 'main audio', type: 'audio', status: 'sendrecv' },
    { label: '34569', displayText: 'main video', type: 'video', status: 'inactive' },
  ]);
  assert.deepEqual(info.hostInfo, { displayText: 'Sales Host', webPage: 'http://sharepoint/salesgroup/hosts/', uris: { entries: [{ uri: 'sip:sales@example.com' }] } });
  assert.deepEqual(info.conferenceState, { userCount: 32, active: true, locked: false });
  assert.equal(info.users?.state, undefined, 'as the RFC writes it: <users> carries no state');
  const bob = info.users?.users[0];
  assert.equal(bob?.state, undefined);
  assert.deepEqual(bob?.associatedAors, { entries: [{ uri: 'mailto:bob@example.com', displayText: 'email' }] });
  assert.deepEqual(bob?.roles, ['participant']);
  assert.deepEqual(bob?.languages, ['en']);
  const ep = bob?.endpoints[0];
  assert.deepEqual(ep?.referred, { when: '2005-03-04T20:00:00Z', whenMs: WHEN, reason: 'expert required', by: 'sip:mike@example.com' });
  assert.equal(ep?.status, 'disconnecting');
  assert.equal(ep?.joiningInfo?.reason, 'invitation');
  assert.equal(ep?.disconnectionMethod, 'booted');
  assert.deepEqual(ep?.callInfo, { displayText: 'full info', callId: 'hsjh8980vhsb78', fromTag: 'vav738dvbs', toTag: '8954jgjg8432' });
  assert.equal(info.sidebarsByRef?.state, 'partial');
  assert.deepEqual(info.sidebarsByRef?.entries.map((e) => e.displayText), ['sidebar with Carol', 'private with Peter']);
  assert.equal(info.sidebarsByVal?.state, 'partial');
  assert.equal(info.sidebarsByVal?.entries[0]?.entity, 'sips:conf233@example.com;grid=77');
  assert.equal(info.sidebarsByVal?.entries[0]?.state, 'partial');
  assert.deepEqual(info.sidebarsByVal?.entries[0]?.users?.users.map((u) => u.entity), ['sip:bob@example.com', 'sip:mark@example.com', 'sip:dan@example.com']);
  assert.deepEqual(info.warnings, []);
});

test('RFC 4575 §5 with Namespaces in XML: any prefix, a default namespace, foreign extension elements skipped', () => {
  const info = parseConferenceInfo(`<?xml version="1.0"?>
<ci:conference-info xmlns:ci="urn:ietf:params:xml:ns:conference-info" xmlns:ext="urn:example:ext" entity="sip:c@example.com" version="7">
  <ext:stuff><ci:users><ci:user entity="sip:hidden@example.com"/></ci:users></ext:stuff>
  <ci:users state="partial">
    <ci:user entity="sip:a@example.com" state="partial" ext:attr="x">
      <ext:mood>happy</ext:mood>
      <ci:endpoint entity="sip:a@pc.example.com"><ci:status>on-hold</ci:status><ext:status>ignored</ext:status></ci:endpoint>
    </ci:user>
    <user xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:b@example.com"><display-text>B</display-text></user>
    <user entity="sip:not-in-namespace@example.com"/>
  </ci:users>
</ci:conference-info>`);
  assert.equal(info.state, 'full', 'an absent root state is the schema default');
  assert.equal(info.users?.state, 'partial');
  assert.deepEqual(info.users?.users.map((u) => [u.entity, u.state, u.displayText, u.endpoints[0]?.status]), [
    ['sip:a@example.com', 'partial', undefined, 'on-hold'],
    ['sip:b@example.com', undefined, 'B', undefined],
  ]);
});

test('RFC 4575 §5.7: unknown enumeration values, bad numbers and repeats are left out with a warning', () => {
  const info = parseConferenceInfo(`<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="${CONF}" state="full" version="1">
    <conference-state><user-count>-3</user-count><active>yes</active><locked>1</locked></conference-state>
    <users>${user('a', 'teleporting', { extra: '<joining-method>carrier-pigeon</joining-method><joining-info><when>yesterday</when></joining-info>' })}
      <user entity="sip:b@example.com"><display-text>B</display-text><display-text>B2</display-text>
        <endpoint entity="sip:b@pc.example.com"><media><type>audio</type></media><media id="1"/><media id="1"/></endpoint></user>
    </users></conference-info>`);
  assert.deepEqual(info.conferenceState, { locked: true });
  const [a, b] = info.users?.users ?? [];
  assert.equal(a?.endpoints[0]?.status, undefined);
  assert.equal(a?.endpoints[0]?.joiningMethod, undefined);
  assert.deepEqual(a?.endpoints[0]?.joiningInfo, { when: 'yesterday' });
  assert.equal(b?.displayText, 'B', 'the first of a repeated element wins');
  assert.deepEqual(b?.endpoints[0]?.media, [{ id: '1' }]);
  assert.equal(info.warnings.length, 8, info.warnings.join('\n'));
});

test('RFC 4575 §5.2, §5.6, §5.7: entity, state and version are checked; keys are unique', () => {
  assertInfoError('<conference-info xmlns="urn:example:other" entity="sip:c@example.com"/>', 'not-conference-info');
  assertInfoError('<conference-info entity="sip:c@example.com"/>', 'not-conference-info');
  assertInfoError('<conference-info xmlns="urn:ietf:params:xml:ns:conference-info"/>', 'missing-entity');
  assertInfoError('<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="not a uri"/>', 'invalid-entity');
  assertInfoError('<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:c@example.com" version="-1"/>', 'invalid-version');
  assertInfoError('<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:c@example.com" version="4294967296"/>', 'invalid-version');
  assertInfoError('<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:c@example.com" state="half"/>', 'invalid-state');
  assertInfoError(doc(1, 'full', '<user/>'), 'missing-entity');
  assertInfoError(doc(1, 'full', '<user entity=""/>'), 'invalid-entity');
  assertInfoError(doc(1, 'full', user('a', 'connected') + user('a', 'connected')), 'duplicate-entity');
  assertInfoError(doc(1, 'full', '<user entity="sip:a@example.com"><endpoint entity="sip:x@y"/><endpoint entity="sip:x@y"/></user>'), 'duplicate-entity');
  assertInfoError(doc(1, 'full', user('a', 'connected', { epState: 'sometimes' })), 'invalid-state');
  assertInfoError(doc(1, 'full', '<user entity="sip:a@example.com"><endpoint/></user>'), 'missing-entity');
  assert.equal(parseConferenceInfo(doc(4294967295, 'partial', '')).version, 4294967295);
});

test('RFC 4575 §5 with the hardened XML reader: hostile and oversized documents', () => {
  const xmlError = assertInfoError('<!DOCTYPE x [<!ENTITY a "aaaa">]><conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:c@x"/>', 'xml');
  assert.ok(xmlError.cause instanceof XmlError);
  assert.equal(xmlError.cause.code, 'doctype');
  assertInfoError('<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:c@x">&ext;</conference-info>', 'xml');
  assertInfoError('<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:c@x"><users>', 'xml');
  assertInfoError(doc(1, 'full', ''), 'xml', { maxBytes: 100 });
  assertInfoError(`<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:c@x">${'<a>'.repeat(40)}${'</a>'.repeat(40)}</conference-info>`, 'xml');
  const many = Array.from({ length: 11 }, (_, i) => `<user entity="sip:u${i}@example.com"/>`).join('');
  assertInfoError(doc(1, 'full', many), 'too-many-users', { maxUsers: 10 });
  assert.equal(parseConferenceInfo(doc(1, 'full', many), { maxUsers: 11 }).users?.users.length, 11);
  const eps = Array.from({ length: 5 }, (_, i) => `<endpoint entity="sip:e${i}@example.com"/>`).join('');
  assertInfoError(doc(1, 'full', `<user entity="sip:a@example.com">${eps}</user>`), 'too-many-endpoints', { maxEndpointsPerUser: 4 });
  const media = Array.from({ length: 5 }, (_, i) => `<media id="${i}"/>`).join('');
  assertInfoError(doc(1, 'full', `<user entity="sip:a@example.com"><endpoint entity="sip:e@example.com">${media}</endpoint></user>`), 'too-many-entries', { maxMediaPerEndpoint: 4 });
  assertInfoError(doc(1, 'full', `<user entity="sip:a@example.com"><roles>${'<entry>r</entry>'.repeat(6)}</roles></user>`), 'too-many-entries', { maxEntries: 5 });
  assertInfoError(doc(1, 'full', `<user entity="sip:a@example.com"><languages>${'en '.repeat(6)}</languages></user>`), 'too-many-entries', { maxEntries: 5 });
  assertInfoError(doc(1, 'full', `<user entity="sip:a@example.com"><display-text>${'x'.repeat(101)}</display-text></user>`), 'text-too-long', { maxTextLength: 100 });
  assertInfoError(doc(1, 'full', `<user entity="sip:${'a'.repeat(200)}@example.com"/>`), 'invalid-entity', { maxTextLength: 100 });
  // The default limits take a large conference.
  const big = Array.from({ length: 1000 }, (_, i) => user(`user${i}`, 'connected', { display: `User ${i}` })).join('');
  const started = Date.now();
  assert.equal(parseConferenceInfo(doc(1, 'full', big)).users?.users.length, 1000);
  assert.ok(Date.now() - started < 2000);
  assertInfoError(doc(1, 'full', big + user('one-more', 'connected')), 'too-many-users');
});

test('XML Schema Part 2 §3.2.7: xs:dateTime for <when>', () => {
  assert.equal(parseXsDateTime('2005-03-04T20:00:00Z'), WHEN);
  assert.equal(parseXsDateTime('2005-03-04T20:00:00'), WHEN, 'no timezone: read as UTC');
  assert.equal(parseXsDateTime('2005-03-04T21:30:00.250+01:30'), WHEN + 250);
  assert.equal(parseXsDateTime('2005-03-04T24:00:00Z'), Date.UTC(2005, 2, 5));
  for (const bad of ['2005-02-29T00:00:00Z', '2005-03-04T24:00:01Z', '2005-03-04 20:00:00Z', '2005-03-04T20:00:00+15:00', '2005-13-01T00:00:00Z', 'now', '']) {
    assert.equal(parseXsDateTime(bad), undefined, bad);
  }
});
