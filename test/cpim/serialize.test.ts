import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCpim, CpimError, IMDN_NS, newImdnMessageId, parseCpim, type CpimBuildInput } from '../../src/cpim/index.js';

function assertInvalid(input: CpimBuildInput, pattern?: RegExp): void {
  assert.throws(() => buildCpim(input), (e: unknown) => {
    assert.ok(e instanceof CpimError, String(e));
    assert.equal(e.code, 'invalid-input');
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

const BASE: CpimBuildInput = {
  from: { displayName: 'Alice', uri: 'im:alice@example.com' },
  to: [{ displayName: 'Bob', uri: 'im:bob@example.com' }],
  dateTime: '2006-04-04T12:16:49-05:00',
  imdn: { messageId: '34jk324j', dispositionNotification: ['positive-delivery', 'display'] },
  contentType: 'text/plain',
  body: 'Hello World',
};

test('RFC 5438 §6 with RFC 3862 §2: the disposition-request example, byte for byte', () => {
  const out = buildCpim(BASE);
  assert.equal(out.toString('utf8'), [
    'From: Alice <im:alice@example.com>',
    'To: Bob <im:bob@example.com>',
    'NS: imdn <urn:ietf:params:imdn>',
    'imdn.Message-ID: 34jk324j',
    'DateTime: 2006-04-04T12:16:49-05:00',
    'imdn.Disposition-Notification: positive-delivery, display',
    '',
    'Content-Type: text/plain',
    '',
    'Hello World',
  ].join('\r\n'));
});

test('RFC 3862 §3-§4: build then parse gives back every field (UTF-8 names, languages, cc, extensions, binary body)', () => {
  const body = Buffer.from([0, 1, 2, 13, 10, 13, 10, 255, 254, 0x80]);
  const input: CpimBuildInput = {
    from: { displayName: 'Zoë "Z" Ångström \\ 😀', uri: 'sip:zoe@example.com' },
    to: [{ uri: 'sip:bob@example.com' }, { displayName: 'Carol C', uri: 'tel:+15551234' }],
    cc: [{ displayName: '山田', uri: 'im:taro@example.jp' }],
    dateTime: new Date(Date.UTC(2026, 4, 13, 10, 0, 0, 5)),
    subject: [{ value: 'weekly sync\nline two \\ done' }, { value: 'réunion hebdo', lang: 'fr-CA' }],
    ns: { MyFeatures: 'mid:MessageFeatures@id.foo.com' },
    imdn: { messageId: newImdnMessageId(), dispositionNotification: ['negative-delivery'] },
    headers: [
      { prefix: 'MyFeatures', name: 'VitalMessageOption', value: 'Confirmation-requested' },
      { prefix: 'imdn', name: 'Original-To', value: '<im:list@example.com>' },
      { name: 'X-Control', value: 'tab\there\x01' },
    ],
    contentType: 'application/octet-stream',
    mimeHeaders: [{ name: 'Content-ID', value: '<1234567890@foo.com>' }, { name: 'Content-Disposition', value: 'attachment; filename="a b.bin"' }],
    body,
  };
  const m = parseCpim(buildCpim(input));
  assert.deepEqual(m.from, input.from);
  assert.deepEqual(m.to, input.to);
  assert.deepEqual(m.cc, input.cc);
  assert.equal(m.dateTime?.value, '2026-05-13T10:00:00.005Z');
  assert.equal(m.dateTime?.epochMs, Date.UTC(2026, 4, 13, 10, 0, 0, 5));
  assert.deepEqual(m.subjects, input.subject);
  assert.equal(m.imdn.messageId, input.imdn?.messageId);
  assert.deepEqual(m.imdn.dispositionNotification, ['negative-delivery']);
  assert.deepEqual(m.imdn.originalTo, { uri: 'im:list@example.com' });
  assert.equal(m.headers.find((h) => h.name === 'VitalMessageOption')?.ns, 'mid:MessageFeatures@id.foo.com');
  assert.equal(m.headers.find((h) => h.name === 'X-Control')?.value, 'tab\there\x01');
  assert.equal(m.contentType, 'application/octet-stream');
  assert.deepEqual(m.mimeHeaders.slice(1), input.mimeHeaders);
  assert.ok(m.content.equals(body));
});

test('RFC 3862 §4.1: display names go bare only when they are plain ASCII tokens', () => {
  const text = (displayName: string): string => buildCpim({ ...BASE, from: { displayName, uri: 'im:a@example.com' } }).toString('utf8').split('\r\n')[0]!;
  assert.equal(text('MR SANDERS'), 'From: MR SANDERS <im:a@example.com>');
  assert.equal(text('Zoë'), 'From: "Zoë" <im:a@example.com>');
  assert.equal(text('two  spaces'), 'From: "two  spaces" <im:a@example.com>');
  assert.equal(text('a, b'), 'From: "a, b" <im:a@example.com>');
  assert.equal(text(''), 'From: <im:a@example.com>');
});

test('RFC 5438 §6: an IMDN namespace declared under another prefix is reused; a Date is written in UTC', () => {
  const out = buildCpim({ ...BASE, ns: { i: IMDN_NS }, subject: 'hi', dateTime: new Date(0) }).toString();
  assert.match(out, /^NS: i <urn:ietf:params:imdn>\r\ni\.Message-ID: 34jk324j\r\nDateTime: 1970-01-01T00:00:00\.000Z\r\nSubject: hi\r\ni\.Disposition-Notification: /m);
  assert.doesNotMatch(out, /NS: imdn/);
  const noImdn = buildCpim({ ...BASE, imdn: undefined }).toString();
  assert.doesNotMatch(noImdn, /NS:|imdn/);
});

test('RFC 5438 §6: newImdnMessageId gives distinct Tokens with 128 random bits', () => {
  const ids = new Set(Array.from({ length: 100 }, () => newImdnMessageId()));
  assert.equal(ids.size, 100);
  for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{22}$/);
});

test('RFC 3862 §3.6: inputs that cannot be written faithfully are refused', () => {
  assertInvalid({ ...BASE, from: { uri: 'im:a b@example.com' } }, /URI/);
  assertInvalid({ ...BASE, to: [{ uri: 'no-scheme' }] }, /URI/);
  assertInvalid({ ...BASE, dateTime: '2006-04-04 12:16:49' }, /RFC 3339/);
  assertInvalid({ ...BASE, dateTime: new Date(NaN) });
  assertInvalid({ ...BASE, imdn: { messageId: 'has space' } }, /Message-ID/);
  assertInvalid({ ...BASE, imdn: { messageId: 'é' } }, /Message-ID/);
  assertInvalid({ ...BASE, imdn: { messageId: 'a', dispositionNotification: ['display, processing'] } }, /disposition/);
  assertInvalid({ ...BASE, ns: { imdn: 'urn:example:other' } }, /imdn/);
  assertInvalid({ ...BASE, ns: { 'bad.prefix': 'urn:x' } }, /prefix/);
  assertInvalid({ ...BASE, ns: { p: 'not a uri' } }, /namespace URI/);
  assertInvalid({ ...BASE, headers: [{ prefix: 'undeclared', name: 'A', value: 'b' }] }, /not declared/);
  assertInvalid({ ...BASE, headers: [{ name: 'Bad Name', value: 'b' }] }, /header name/);
  assertInvalid({ ...BASE, headers: [{ name: 'NS', value: 'p <urn:x>' }] }, /ns/);
  assertInvalid({ ...BASE, subject: [{ value: 'x', lang: 'not a tag' }] }, /language/);
  assertInvalid({ ...BASE, contentType: 'text/plain\r\nX-Injected: 1' }, /Content-Type/);
  assertInvalid({ ...BASE, contentType: '' }, /Content-Type/);
  assertInvalid({ ...BASE, mimeHeaders: [{ name: 'Content-type', value: 'text/html' }] }, /contentType/);
  assertInvalid({ ...BASE, mimeHeaders: [{ name: 'X', value: 'a\nb' }] }, /MIME header X/);
  assertInvalid({ ...BASE, mimeHeaders: [{ name: 'A:B', value: 'x' }] }, /MIME header name/);
});
