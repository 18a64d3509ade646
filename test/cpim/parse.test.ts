import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CPIM_HEADERS_NS, CpimError, getCpimHeaders, getMimeHeader, IMDN_NS, parseCpim, parseRfc3339,
  type CpimErrorCode, type CpimParseOptions,
} from '../../src/cpim/index.js';

const crlf = (lines: string[]): string => lines.join('\r\n');

function assertCpimError(input: string | Buffer, code: CpimErrorCode, options?: CpimParseOptions): CpimError {
  let caught: unknown;
  try {
    parseCpim(typeof input === 'string' ? Buffer.from(input, 'utf8') : input, options);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof CpimError, `expected CpimError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

// RFC 3862 §5.1, the body after the outer "Content-type: Message/CPIM" (which belongs to
// the carrying protocol's headers, not to the CPIM body).
const RFC3862_EXAMPLE = crlf([
  'From: MR SANDERS <im:piglet@100akerwood.com>',
  'To: Depressed Donkey <im:eeyore@100akerwood.com>',
  'DateTime: 2000-12-13T13:40:00-08:00',
  'Subject: the weather will be fine today',
  "Subject:;lang=fr beau temps prevu pour aujourd'hui",
  'NS: MyFeatures <mid:MessageFeatures@id.foo.com>',
  'Require: MyFeatures.VitalMessageOption',
  'MyFeatures.VitalMessageOption: Confirmation-requested',
  'MyFeatures.WackyMessageOption: Use-silly-font',
  '',
  'Content-type: text/xml; charset=utf-8',
  'Content-ID: <1234567890@foo.com>',
  '',
  '<body>',
  'Here is the text of my message.',
  '</body>',
]);

test('RFC 3862 §5.1: the example message reads as the RFC describes it', () => {
  const m = parseCpim(Buffer.from(RFC3862_EXAMPLE, 'utf8'));
  assert.deepEqual(m.from, { displayName: 'MR SANDERS', uri: 'im:piglet@100akerwood.com' });
  assert.deepEqual(m.to, [{ displayName: 'Depressed Donkey', uri: 'im:eeyore@100akerwood.com' }]);
  assert.deepEqual(m.cc, []);
  assert.equal(m.dateTime?.value, '2000-12-13T13:40:00-08:00');
  assert.equal(m.dateTime?.epochMs, Date.UTC(2000, 11, 13, 21, 40, 0));
  assert.deepEqual(m.subjects, [
    { value: 'the weather will be fine today' },
    { value: "beau temps prevu pour aujourd'hui", lang: 'fr' },
  ]);
  assert.deepEqual(m.require, [{ ns: 'mid:MessageFeatures@id.foo.com', name: 'VitalMessageOption' }]);
  // §3.4: prefixed headers resolve through the NS declaration; order is kept.
  assert.deepEqual(m.headers.map((h) => [h.ns, h.prefix, h.name, h.value]), [
    [CPIM_HEADERS_NS, undefined, 'From', 'MR SANDERS <im:piglet@100akerwood.com>'],
    [CPIM_HEADERS_NS, undefined, 'To', 'Depressed Donkey <im:eeyore@100akerwood.com>'],
    [CPIM_HEADERS_NS, undefined, 'DateTime', '2000-12-13T13:40:00-08:00'],
    [CPIM_HEADERS_NS, undefined, 'Subject', 'the weather will be fine today'],
    [CPIM_HEADERS_NS, undefined, 'Subject', "beau temps prevu pour aujourd'hui"],
    [CPIM_HEADERS_NS, undefined, 'NS', 'MyFeatures <mid:MessageFeatures@id.foo.com>'],
    [CPIM_HEADERS_NS, undefined, 'Require', 'MyFeatures.VitalMessageOption'],
    ['mid:MessageFeatures@id.foo.com', 'MyFeatures', 'VitalMessageOption', 'Confirmation-requested'],
    ['mid:MessageFeatures@id.foo.com', 'MyFeatures', 'WackyMessageOption', 'Use-silly-font'],
  ]);
  assert.deepEqual(m.headers[4]?.params, [{ name: 'lang', value: 'fr' }]);
  assert.deepEqual(m.mimeHeaders, [
    { name: 'Content-type', value: 'text/xml; charset=utf-8' },
    { name: 'Content-ID', value: '<1234567890@foo.com>' },
  ]);
  assert.equal(m.contentType, 'text/xml; charset=utf-8');
  assert.equal(getMimeHeader(m, 'content-id'), '<1234567890@foo.com>');
  assert.equal(m.content.toString('utf8'), '<body>\r\nHere is the text of my message.\r\n</body>');
  assert.equal(getCpimHeaders(m, 'WackyMessageOption', 'mid:MessageFeatures@id.foo.com')[0]?.value, 'Use-silly-font');
  assert.deepEqual(m.imdn, { dispositionNotification: [], otherDispositions: [], recordRoute: [], route: [] });
});

// RFC 5438 §6 / §7: a message asking for delivery and display notifications.
const RFC5438_MESSAGE = crlf([
  'From: Alice <im:alice@example.com>',
  'To: Bob <im:bob@example.com>',
  'NS: imdn <urn:ietf:params:imdn>',
  'imdn.Message-ID: 34jk324j',
  'DateTime: 2006-04-04T12:16:49-05:00',
  'imdn.Disposition-Notification: positive-delivery, display',
  '',
  'Content-type: text/plain',
  'Content-length: 12',
  '',
  'Hello World',
]);

test('RFC 5438 §6: imdn.Message-ID and imdn.Disposition-Notification resolve in urn:ietf:params:imdn', () => {
  const m = parseCpim(Buffer.from(RFC5438_MESSAGE));
  const id = m.headers.find((h) => h.name === 'Message-ID');
  assert.equal(id?.ns, IMDN_NS);
  assert.equal(id?.prefix, 'imdn');
  assert.equal(id?.value, '34jk324j');
  assert.equal(m.imdn.messageId, '34jk324j');
  assert.deepEqual(m.imdn.dispositionNotification, ['positive-delivery', 'display']);
  assert.equal(m.dateTime?.epochMs, Date.UTC(2006, 3, 4, 17, 16, 49));
  assert.equal(m.contentType, 'text/plain');
  assert.equal(m.content.toString(), 'Hello World');
});

test('RFC 5438 §6: Original-To, IMDN-Record-Route, IMDN-Route, extension requests and another prefix', () => {
  const m = parseCpim(Buffer.from(crlf([
    'From: <im:alice@example.com>',
    'To: <im:list@example.com>',
    'NS: x <urn:ietf:params:imdn>',
    'x.Message-ID: a-1.b_2',
    'x.Original-To: "Friends List" <im:list@example.com>',
    'x.IMDN-Record-Route: <sip:rr1@example.com>',
    'x.IMDN-Record-Route: <sip:rr2@example.com>',
    'x.IMDN-Route: <sip:route@example.com>',
    'x.Disposition-Notification: Negative-Delivery;x=1, processing, display, future-thing, display',
    'x.Something-New: kept',
    '',
    'Content-Type: text/plain',
    '',
    'hi',
  ])));
  assert.equal(m.imdn.messageId, 'a-1.b_2');
  assert.deepEqual(m.imdn.originalTo, { displayName: 'Friends List', uri: 'im:list@example.com' });
  assert.deepEqual(m.imdn.recordRoute, [{ uri: 'sip:rr1@example.com' }, { uri: 'sip:rr2@example.com' }]);
  assert.deepEqual(m.imdn.route, [{ uri: 'sip:route@example.com' }]);
  assert.deepEqual(m.imdn.dispositionNotification, ['negative-delivery', 'processing', 'display']);
  assert.deepEqual(m.imdn.otherDispositions, ['future-thing']);
  assert.equal(getCpimHeaders(m, 'Something-New', IMDN_NS)[0]?.value, 'kept');
});

test('RFC 3862 §3.4: undeclared prefixes, redeclaration, default namespace and headers kept in order', () => {
  const m = parseCpim(Buffer.from(crlf([
    'Ghost.Header: before any NS',
    'NS: p <urn:example:one>',
    'p.A: 1',
    'NS: p <urn:example:two>',
    'p.A: 2',
    'NS: <urn:example:default>',
    'Plain: in the new default',
    'From: <im:not-the-cpim-from@example.com>',
    'NS: q <urn:example:q>',
    'q.B: 3',
    'x-unknown: kept too',
    '',
    '',
    '',
  ])));
  assert.deepEqual(m.headers.map((h) => [h.ns, h.name, h.value]), [
    [null, 'Header', 'before any NS'],
    [CPIM_HEADERS_NS, 'NS', 'p <urn:example:one>'],
    ['urn:example:one', 'A', '1'],
    [CPIM_HEADERS_NS, 'NS', 'p <urn:example:two>'],
    ['urn:example:two', 'A', '2'],
    [CPIM_HEADERS_NS, 'NS', '<urn:example:default>'],
    ['urn:example:default', 'Plain', 'in the new default'],
    ['urn:example:default', 'From', '<im:not-the-cpim-from@example.com>'],
    [CPIM_HEADERS_NS, 'NS', 'q <urn:example:q>'],
    ['urn:example:q', 'B', '3'],
    ['urn:example:default', 'x-unknown', 'kept too'],
  ]);
  assert.equal(m.from, undefined, 'a From in another namespace is not the CPIM From');
  assert.equal(m.content.length, 0);
  assert.deepEqual(m.mimeHeaders, []);
});

test('RFC 3862 §3: header names match case-sensitively; "cc" is read, "FROM" is an unknown header', () => {
  const m = parseCpim(Buffer.from(crlf([
    'FROM: <im:a@example.com>',
    'cc: Winnie the Pooh <im:pooh@100akerwood.com>',
    'cc: <im:tigger@100akerwood.com>',
    '',
    'Content-Type: text/plain',
    '',
    'x',
  ])));
  assert.equal(m.from, undefined);
  assert.deepEqual(m.cc, [
    { displayName: 'Winnie the Pooh', uri: 'im:pooh@100akerwood.com' },
    { uri: 'im:tigger@100akerwood.com' },
  ]);
});

test('RFC 3862 §2.3: escapes are decoded in values and quoted strings, raw values kept', () => {
  const m = parseCpim(Buffer.from(crlf([
    'From: "Bob \\"the\\" Builder\\u00e9" <im:bob@example.com>',
    'Subject: line1\\nline2\\ttab \\\\ back \\q kept \\u0041\\ud83d\\ude00 \\ud800 lone',
    '',
    '',
    '',
  ])));
  assert.equal(m.from?.displayName, 'Bob "the" Builder\u00e9');
  assert.equal(m.subjects[0]?.value, 'line1\nline2\ttab \\ back \\q kept A\u{1F600} \uFFFD lone');
  assert.equal(m.headers[1]?.raw, 'line1\\nline2\\ttab \\\\ back \\q kept \\u0041\\ud83d\\ude00 \\ud800 lone');
});

test('RFC 3862 §4.1, §4.5: UTF-8 display names and subjects, quoted or bare', () => {
  const m = parseCpim(Buffer.from(crlf([
    'From: Zoë Ångström <im:zoe@example.com>',
    'To: "山田 太郎" <im:taro@example.jp>',
    'Subject:;lang=ja 会議の議題 😀',
    '',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'こんにちは',
  ]), 'utf8'));
  assert.deepEqual(m.from, { displayName: 'Zoë Ångström', uri: 'im:zoe@example.com' });
  assert.deepEqual(m.to, [{ displayName: '山田 太郎', uri: 'im:taro@example.jp' }]);
  assert.deepEqual(m.subjects, [{ value: '会議の議題 😀', lang: 'ja' }]);
  assert.equal(m.content.toString('utf8'), 'こんにちは');
});

test('RFC 3862 §2: content is binary-safe and never scanned (CRLF CRLF, NUL, invalid UTF-8 inside)', () => {
  const bytes = Buffer.alloc(512);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % 256;
  const payload = Buffer.concat([Buffer.from('\r\n\r\nFrom: <im:x@y>\r\n\r\n'), bytes, Buffer.from([0xff, 0xfe, 0x00, 0x0d])]);
  const head = Buffer.from(crlf(['From: <im:a@example.com>', 'To: <im:b@example.com>', '', 'Content-Type: application/octet-stream', '', '']));
  const m = parseCpim(Buffer.concat([head, payload]));
  assert.ok(m.content.equals(payload));
  // A Uint8Array that is not a Buffer works too, with the same bytes.
  const plain = new Uint8Array(Buffer.concat([head, payload]));
  assert.ok(parseCpim(plain).content.equals(payload));
});

test('RFC 3862 §2: an empty MIME header block and empty content are allowed; bare LF line ends tolerated', () => {
  const m = parseCpim(Buffer.from('From: <im:a@example.com>\n\n\nbody\n'));
  assert.deepEqual(m.mimeHeaders, []);
  assert.equal(m.contentType, undefined);
  assert.equal(m.content.toString(), 'body\n');
  const folded = parseCpim(Buffer.from(crlf(['To: <im:b@example.com>', '', 'Content-Type: text/plain;', ' charset=utf-8', '', ''])));
  assert.equal(folded.contentType, 'text/plain; charset=utf-8', 'MIME headers unfold (RFC 5322 §2.2.3)');
});

test('RFC 3862 §4.1: address forms: bare URI, tokens, quoted without space; invalid ones refused', () => {
  const m = parseCpim(Buffer.from(crlf([
    'From: "MR SANDERS"<im:piglet@100akerwood.com>',
    'To: <sip:+15551234@example.com;user=phone>',
    'To: A.B-C <tel:+15551234>',
    '', '', '',
  ])));
  assert.deepEqual(m.from, { displayName: 'MR SANDERS', uri: 'im:piglet@100akerwood.com' });
  assert.deepEqual(m.to, [{ uri: 'sip:+15551234@example.com;user=phone' }, { displayName: 'A.B-C', uri: 'tel:+15551234' }]);
  for (const bad of ['im:a@b', '<>', 'Name <no-scheme>', 'Name <im:a b>', 'Na"me <im:a@b>', '"unterminated <im:a@b>', 'A, B <im:a@b>', '<im:a@b> trailing']) {
    assertCpimError(crlf([`From: ${bad}`, '', '', '']), 'invalid-address');
  }
});

test('RFC 3339 §5.6, §5.7 via RFC 3862 §4.4: DateTime validation', () => {
  assert.equal(parseRfc3339('2004-02-29T00:00:00Z'), Date.UTC(2004, 1, 29));
  assert.equal(parseRfc3339('1990-12-31T23:59:60Z'), Date.UTC(1991, 0, 1), 'a leap second is the next instant');
  assert.equal(parseRfc3339('2000-12-13t13:40:00.123456789z'), Date.UTC(2000, 11, 13, 13, 40, 0, 123));
  assert.equal(parseRfc3339('0050-01-01T00:00:00+01:30'), Date.parse('0050-01-01T00:00:00Z') - 90 * 60_000, 'year 50 is not 1950');
  for (const bad of ['2001-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2000-13-01T00:00:00Z', '2000-04-31T00:00:00Z', '2000-01-01T24:00:00Z',
    '2000-01-01T00:60:00Z', '2000-01-01T00:00:61Z', '2000-01-01T00:00:00+24:00', '2000-01-01T00:00:00', '2000-01-01 00:00:00Z', '2000-1-01T00:00:00Z', '']) {
    assert.equal(parseRfc3339(bad), undefined, bad);
  }
  assert.equal(parseRfc3339('2000-02-29T00:00:00Z'), Date.UTC(2000, 1, 29), '2000 is a leap year (divisible by 400)');
  assertCpimError(crlf(['DateTime: 2001-02-29T00:00:00Z', '', '', '']), 'invalid-date-time');
});

test('RFC 3862 §3, RFC 5438 §6: malformed headers are typed errors with the offset of the line', () => {
  const e = assertCpimError(crlf(['From: <im:a@example.com>', ' folded', '', '', '']), 'folded-header');
  assert.equal(e.offset, 26);
  assertCpimError(crlf(['No colon here', '', '', '']), 'invalid-header');
  assertCpimError(crlf(['Bad Name: x', '', '', '']), 'invalid-header-name');
  assertCpimError(crlf(['a.b.c: x', '', '', '']), 'invalid-header-name');
  assertCpimError(crlf([': x', '', '', '']), 'invalid-header-name');
  assertCpimError(crlf(['Subject:;lang=12345678901 x', '', '', '']), 'invalid-parameter');
  assertCpimError(crlf(['Subject:;=x y', '', '', '']), 'invalid-parameter');
  assertCpimError(crlf(['Subject: a\rb', '', '', '']), 'invalid-header');
  assertCpimError(crlf(['Subject: a\x00b', '', '', '']), 'invalid-header');
  assertCpimError(crlf(['From: <im:a@example.com>', 'From: <im:b@example.com>', '', '', '']), 'duplicate-header');
  assertCpimError(crlf(['DateTime: 2000-01-01T00:00:00Z', 'DateTime: 2000-01-01T00:00:00Z', '', '', '']), 'duplicate-header');
  assertCpimError(crlf(['NS: bad.prefix <urn:x>', '', '', '']), 'invalid-ns');
  assertCpimError(crlf(['NS: p urn:x', '', '', '']), 'invalid-ns');
  assertCpimError(crlf(['Require: ok, not ok', '', '', '']), 'invalid-require');
  assertCpimError(crlf(['NS: imdn <urn:ietf:params:imdn>', 'imdn.Message-ID: has space', '', '', '']), 'invalid-imdn-header');
  assertCpimError(crlf(['NS: imdn <urn:ietf:params:imdn>', 'imdn.Message-ID: a', 'imdn.Message-ID: b', '', '', '']), 'duplicate-header');
  assertCpimError(crlf(['NS: imdn <urn:ietf:params:imdn>', 'imdn.Disposition-Notification: display, "quoted"', '', '', '']), 'invalid-imdn-header');
  assertCpimError(crlf(['To: <im:a@b>', '', 'Content-Type: a/b', 'Content-Type: c/d', '', '']), 'duplicate-header');
  assertCpimError(crlf(['To: <im:a@b>', '', ' starts folded', '', '']), 'invalid-mime-header');
  assertCpimError(crlf(['To: <im:a@b>', '', 'No colon', '', '']), 'invalid-mime-header');
});

test('RFC 3862 §2, §3: truncation, encoding and the configured limits', () => {
  assertCpimError('From: <im:a@example.com>\r\nTo: <im:b@example.com>', 'truncated');
  assertCpimError(crlf(['From: <im:a@example.com>', '', 'Content-Type: text/plain']), 'truncated');
  assertCpimError(Buffer.concat([Buffer.from('Subject: '), Buffer.from([0xc3, 0x28]), Buffer.from('\r\n\r\n\r\n')]), 'encoding');
  assertCpimError(crlf(['Subject: x', '', '', 'body']), 'too-large', { maxBytes: 10 });
  assertCpimError('Subject: ' + 'x'.repeat(200) + '\r\n\r\n\r\n', 'header-too-long', { maxHeaderBytes: 100 });
  assertCpimError('Subject: ' + 'x'.repeat(200), 'header-too-long', { maxHeaderBytes: 100 });
  assertCpimError('X-A: 1\r\n'.repeat(11) + '\r\n\r\n', 'too-many-headers', { maxHeaders: 10 });
  assert.equal(parseCpim(Buffer.from('X-A: 1\r\n'.repeat(10) + '\r\n\r\n')).headers.length, 10);
});

test('RFC 3862 §3: hostile input stays linear (long values, many escapes, many quotes)', () => {
  const long = 'x'.repeat(60_000);
  const started = Date.now();
  parseCpim(Buffer.from(`Subject: ${long}\r\n\r\n\r\n`));
  parseCpim(Buffer.from(`Subject: ${'\\u0041'.repeat(9_000)}\r\n\r\n\r\n`));
  assertCpimError(`From: ${'"'.repeat(59_999)}\r\n\r\n\r\n`, 'invalid-address');
  assertCpimError(`Subject:;a="${'\\"'.repeat(20_000)}\r\n\r\n\r\n`, 'invalid-parameter');
  assertCpimError(`From: ${'<'.repeat(60_000)}\r\n\r\n\r\n`, 'invalid-address');
  assertCpimError(`Subject:${';a'.repeat(30_000)}=\r\n\r\n\r\n`, 'invalid-parameter');
  assertCpimError(`DateTime: ${'1'.repeat(60_000)}\r\n\r\n\r\n`, 'invalid-date-time');
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
});
