import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatNameAddr, getParam, getTag, isSipUri, parseContact, parseNameAddr, parseNameAddrList,
  type NameAddr,
} from '../../../../src/sip/message/headers/index.js';
import { assertParseError } from './helpers.js';

function user(na: NameAddr): string | undefined {
  return isSipUri(na.uri) ? na.uri.user : undefined;
}

test('RFC 3261 §20.20: name-addr with quoted display name and tag', () => {
  const na = parseNameAddr('"Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423');
  assert.equal(na.displayName, 'Bell, Alexander');
  assert.equal(user(na), 'a.g.bell');
  assert.equal(getTag(na), '433423');
});

test('RFC 4475 §3.1.1.1 wsinv: LWS around ";" and "=", quoted-pairs in the display name', () => {
  const to = parseNameAddr(' sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n');
  assert.equal(to.displayName, undefined);
  assert.equal(user(to), 'vivekg');
  assert.equal(getTag(to), '1918181833n');
  const from = parseNameAddr('"J Rosenberg \\\\\\""       <sip:jdrosen@example.com>   ;   tag = 98asjd8');
  assert.equal(from.displayName, 'J Rosenberg \\"');
  assert.equal(getTag(from), '98asjd8');
  const contact = parseContact('"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =       newvalue ;   secondparam ; q = 0.33');
  assert.notEqual(contact, '*');
  const c = (contact as NameAddr[])[0]!;
  assert.equal(c.displayName, 'Quoted string ""');
  assert.deepEqual(c.params, [{ name: 'newparam', value: 'newvalue' }, { name: 'secondparam', value: null }, { name: 'q', value: '0.33' }]);
});

test('RFC 4475 §3.1.1.1 wsinv: Route with unknown uri-parameters inside <>', () => {
  const [r] = parseNameAddrList(' <sip:services.example.com;lr;unknownwith=value;unknown-no-value>');
  assert.ok(r && isSipUri(r.uri));
  assert.deepEqual(r.uri.params.map((p) => p.name), ['lr', 'unknownwith', 'unknown-no-value']);
  assert.deepEqual(r.params, []);
});

test('RFC 4475 §3.1.1.2 intmeth: token display names, odd tokens in params, quoted control chars', () => {
  const from = parseNameAddr("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=\"\u0440\u0430\u0431\u043e\u0442\u0430\u044e\u0449\u0438\u0439\";tag=_token~1'+`*%!-.");
  assert.equal(from.displayName, "token1~` token2'+_ token3*%!.-");
  assert.equal(getParam(from.params, "fromparam''~+*_!.-%"), '"\u0440\u0430\u0431\u043e\u0442\u0430\u044e\u0449\u0438\u0439"');
  assert.equal(getTag(from), "_token~1'+`*%!-.");
  const to = parseNameAddr('"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" <sip:1_unusual.URI~(to-be!sure)&isn\'t+it$/crazy?,/;;*@example.com>');
  assert.equal(to.displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
  assert.equal(user(to), "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
});

test('RFC 4475 §3.1.1.5 esc02: "%" in a quoted display name is not an escape', () => {
  assert.equal(parseNameAddr('"%Z%45" <sip:resource@example.com>').displayName, '%Z%45');
});

test('RFC 4475 §3.1.1.6 lwsdisp: no LWS between display name and "<"', () => {
  const na = parseNameAddr('caller<sip:caller@example.com>;tag=323');
  assert.equal(na.displayName, 'caller');
  assert.equal(user(na), 'caller');
  assert.equal(getTag(na), '323');
  assert.equal(parseNameAddr('"caller"<sip:caller@example.com>').displayName, 'caller');
});

test('RFC 4475 §3.1.1.7 longreq: long display name and long uri-parameters', () => {
  const long = 'verylong'.repeat(20);
  const na = parseNameAddr(`"I have a user name of ${'extreme'.repeat(10)} proportion"<sip:user@example.com:6000;unknownparam1=${long}value;${'name'.repeat(25)}=shortvalue;${long}ParameterNameWithNoValue>`);
  assert.ok(isSipUri(na.uri));
  assert.equal(na.uri.port, 6000);
  assert.equal(na.uri.params.length, 3);
});

test('RFC 4475 §3.3.12 cparam01: ";param" after a bare addr-spec is a header parameter', () => {
  const [c] = parseContact('sip:+19725552222@gw1.example.net;unknownparam') as NameAddr[];
  assert.ok(c && isSipUri(c.uri));
  assert.deepEqual(c.uri.params, []);
  assert.deepEqual(c.params, [{ name: 'unknownparam', value: null }]);
});

test('RFC 4475 §3.3.13 cparam02: ";param" inside <> is a uri-parameter', () => {
  const [c] = parseContact('<sip:+19725552222@gw1.example.net;unknownparam>') as NameAddr[];
  assert.ok(c && isSipUri(c.uri));
  assert.deepEqual(c.uri.params, [{ name: 'unknownparam', value: null }]);
  assert.deepEqual(c.params, []);
});

test('RFC 4475 §3.3.14 regescrt: escaped headers are kept inside <>', () => {
  const [c] = parseContact('<sip:user@example.com?Route=%3Csip:sip.example.com%3E>') as NameAddr[];
  assert.ok(c && isSipUri(c.uri));
  assert.deepEqual(c.uri.headers, [{ name: 'Route', value: '%3Csip:sip.example.com%3E' }]);
});

test('RFC 4475 §3.1.2.13 regbadct: escaped headers in a bare addr-spec are rejected', () => {
  assertParseError(() => parseContact('sip:user@example.com?Route=%3Csip:sip.example.com%3E'));
});

test('RFC 4475 §3.1.2.15 baddn: unquoted display names with non-token characters are rejected', () => {
  assertParseError(() => parseNameAddr('Bell, Alexander <sip:a.g.bell@example.com>;tag=43'));
  assertParseError(() => parseNameAddr('Watson, Thomas <sip:t.watson@example.org>'));
  assertParseError(() => parseNameAddr('Dr. J:Smith <sip:a@example.com>'));
  assertParseError(() => parseNameAddr('Smith "J" <sip:a@example.com>'));
});

test('RFC 4475 §3.1.2.6 quotbal: an unterminated quoted string is rejected', () => {
  assertParseError(() => parseNameAddr('"Mr. J. User <sip:j.user@example.com>'));
  assertParseError(() => parseNameAddr('"Mr. J. User \\" <sip:j.user@example.com>'));
});

test('RFC 4475 §3.1.2.14 badaspec: spaces inside <> are rejected', () => {
  assert.equal(parseNameAddr('"Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423').displayName, 'Bell, Alexander');
  assertParseError(() => parseNameAddr('"Watson, Thomas" < sip:t.watson@example.org >'));
});

test('RFC 4475 §3.1.2.1 badinv01: empty header parameters are rejected', () => {
  assertParseError(() => parseContact('"Joe" <sip:joe@example.org>;;;;'));
});

test('RFC 4475 §3.3.4 unksm2: non-SIP schemes in To, From and Contact', () => {
  assert.deepEqual(parseNameAddr('isbn:2983792873').uri, { scheme: 'isbn', opaque: '2983792873' });
  const from = parseNameAddr('<http://www.example.com>;tag=3234233');
  assert.deepEqual(from.uri, { scheme: 'http', opaque: '//www.example.com' });
  assert.equal(getTag(from), '3234233');
  assert.deepEqual(parseNameAddr('<name:John_Smith>').uri, { scheme: 'name', opaque: 'John_Smith' });
});

test('RFC 3261 §20.10: Contact lists, "*" and list splitting outside quotes and <>', () => {
  assert.equal(parseContact(' * '), '*');
  const list = parseContact('"Mr. Watson, Jr." <sip:watson@worcester.bell-telephone.com>;q=0.7; expires=3600, "Mr. Watson" <mailto:watson@bell-telephone.com> ;q=0.1, sip:a@b.example.com;q=1') as NameAddr[];
  assert.equal(list.length, 3);
  assert.equal(list[0]!.displayName, 'Mr. Watson, Jr.');
  assert.deepEqual(list[1]!.uri, { scheme: 'mailto', opaque: 'watson@bell-telephone.com' });
  assert.equal(getParam(list[2]!.params, 'q'), '1');
  assertParseError(() => parseContact('<sip:a@example.com>,'));
  assertParseError(() => parseContact(',<sip:a@example.com>'));
  assertParseError(() => parseContact('*, <sip:a@example.com>'));
  assertParseError(() => parseContact(''));
});

test('RFC 3261 §25.1: a single name-addr rejects trailing content and broken brackets', () => {
  assertParseError(() => parseNameAddr('<sip:a@example.com>, <sip:b@example.com>'));
  assertParseError(() => parseNameAddr('<sip:a@example.com'));
  assertParseError(() => parseNameAddr('<sip:a@example.com>>'));
  assertParseError(() => parseNameAddr('<<sip:a@example.com>'));
  assertParseError(() => parseNameAddr('<sip:a@example.com> junk'));
  assertParseError(() => parseNameAddr('"A" sip:a@example.com'));
  assertParseError(() => parseNameAddr('<sip:a@example.com>;tag='));
});

test('RFC 5118 §4.1: IPv6 references inside name-addr', () => {
  const na = parseNameAddr('"Caller" <sip:caller@[2001:db8::1]>');
  assert.ok(isSipUri(na.uri));
  assert.equal(na.uri.host, '[2001:db8::1]');
  assert.equal(parseNameAddr('sip:user@[2001:db8::10];tag=x').params[0]!.value, 'x');
});

test('RFC 3261 §20.10: formatNameAddr round-trips through parseNameAddr', () => {
  const inputs = [
    '"J Rosenberg \\\\\\"" <sip:jdrosen@example.com>;tag=98asjd8',
    'sip:+19725552222@gw1.example.net;unknownparam',
    "token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;tag=_token~1'+`*%!-.",
    '"BEL:\\\x07 NUL:\\\x00" <sip:a@example.com>',
    '"" <sip:a@example.com;lr?X=y>;p="quoted, value"',
    '<cid:cn35t8jf02@example.com>',
  ];
  for (const s of inputs) {
    const na = parseNameAddr(s);
    assert.deepEqual(parseNameAddr(formatNameAddr(na)), na, s);
  }
  assert.equal(formatNameAddr(parseNameAddr('sip:a@example.com;tag=1')), '<sip:a@example.com>;tag=1');
  assert.equal(formatNameAddr({ displayName: 'Line\r\nBreak "x"', uri: { scheme: 'sip', host: 'example.com', hostType: 'domain', params: [], headers: [] }, params: [] }), '"Line  Break \\"x\\"" <sip:example.com>');
});
