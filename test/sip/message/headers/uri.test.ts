import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatUri, getParam, isSipUri, isTelUri, parseUri, unescape, uriEquals, type SipUri, type Uri,
} from '../../../../src/sip/message/headers/index.js';
import { assertParseError } from './helpers.js';

function sip(s: string): SipUri {
  const u = parseUri(s);
  assert.ok(isSipUri(u), `${s} should be a SIP URI`);
  return u;
}

test('RFC 3261 §19.1.1: user, password, host, port, params and headers of a SIP URI', () => {
  const u = sip('sips:alice:secret@atlanta.com:5061;transport=tcp;lr?subject=project%20x&priority=urgent');
  assert.deepEqual(u, {
    scheme: 'sips', user: 'alice', password: 'secret', host: 'atlanta.com', hostType: 'domain', port: 5061,
    params: [{ name: 'transport', value: 'tcp' }, { name: 'lr', value: null }],
    headers: [{ name: 'subject', value: 'project%20x' }, { name: 'priority', value: 'urgent' }],
  });
  assert.equal(getParam(u.params, 'TRANSPORT'), 'tcp');
  assert.equal(getParam(u.params, 'lr'), null);
  assert.equal(getParam(u.params, 'maddr'), undefined);
});

test('RFC 3261 §19.1.1: scheme is case-insensitive, host-only URIs have no user', () => {
  const u = sip('SIP:registrar.example.com');
  assert.equal(u.scheme, 'sip');
  assert.equal(u.user, undefined);
  assert.equal(u.host, 'registrar.example.com');
});

test('RFC 4475 §3.1.1.2 intmeth: unusual user and password characters, "?" and ";" inside userinfo', () => {
  const u = sip("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
  assert.equal(u.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  assert.equal(u.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  assert.equal(u.host, 'example.com');
  assert.deepEqual(u.params, []);
  assert.deepEqual(u.headers, []);
});

test('RFC 4475 §3.1.1.9 semiuri: ";" in the user part, params start only after the host', () => {
  const u = sip('sip:user;par=u%40example.net@example.com');
  assert.equal(u.user, 'user;par=u%40example.net');
  assert.equal(u.host, 'example.com');
  assert.deepEqual(u.params, []);
});

test('RFC 4475 §3.1.1.3 esc01: escapes kept as written, unescaped once only', () => {
  const r = sip('sip:sips%3Auser%40example.com@example.net');
  assert.equal(r.user, 'sips%3Auser%40example.com');
  assert.equal(unescape(r.user!), 'sips:user@example.com');
  const c = sip('sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31');
  assert.equal(unescape(c.user!), 'caller');
  assert.deepEqual(c.params, [{ name: '%6C%72', value: null }, { name: 'n%61me', value: 'v%61lue%25%34%31' }]);
  assert.equal(unescape(c.params[1]!.value!), 'value%41');
  assert.equal(unescape(sip('sip:%75se%72@example.com').user!), 'user');
  assert.equal(unescape(sip('sip:I%20have%20spaces@example.net').user!), 'I have spaces');
});

test('RFC 4475 §3.1.1.4 escnull: %00 in userinfo unescapes to NUL without truncation', () => {
  assert.equal(unescape(sip('sip:null-%00-null@example.com').user!), 'null-\0-null');
  assert.notEqual(sip('sip:%00@host5.example.com').user, sip('sip:%00%00@host5.example.com').user);
  assert.equal(unescape('%E2%82%AC%20'), '\u20ac ');
});

test('RFC 5118 §4.1/§4.4: IPv6 references with and without port', () => {
  const a = sip('sip:[2001:db8::10]');
  assert.equal(a.host, '[2001:db8::10]');
  assert.equal(a.hostType, 'ipv6');
  assert.equal(a.port, undefined);
  const b = sip('sip:[2001:db8::10]:5070');
  assert.equal(b.host, '[2001:db8::10]');
  assert.equal(b.port, 5070);
  assert.equal(sip('sip:caller@[2001:db8::1]').user, 'caller');
  assert.equal(sip('sip:ted@[::ffff:192.0.2.2]').host, '[::ffff:192.0.2.2]');
});

test('RFC 5118 §4.3: [2001:db8::10:5070] is an address with no port', () => {
  const u = sip('sip:[2001:db8::10:5070]');
  assert.equal(u.host, '[2001:db8::10:5070]');
  assert.equal(u.port, undefined);
});

test('RFC 5118 §4.2: an IPv6 address without brackets is rejected', () => {
  assertParseError(() => parseUri('sip:2001:db8::10'));
});

test('RFC 5118 §4.10, RFC 5954 §4.1: three colons before an IPv4 tail are invalid, two are valid', () => {
  assertParseError(() => parseUri('sip:user@[2001:db8:::192.0.2.1]'));
  assert.equal(sip('sip:user@[2001:db8::192.0.2.1]').hostType, 'ipv6');
});

test('RFC 4291 §2.2: IPv6 text forms accepted and rejected', () => {
  for (const ok of ['::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:1.2.3.4', '::1.2.3.4', 'fe80::1:2', '1::2:3:4:5:6:7']) {
    assert.equal(sip(`sip:[${ok}]`).hostType, 'ipv6', ok);
  }
  for (const bad of ['1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', ':1::2', '1::2::3', '12345::1', '1:::2', '::1.2.3', '::1.2.3.256', '1:2:3:4:5:6:7:1.2.3.4', '::g', '', ':']) {
    assertParseError(() => parseUri(`sip:[${bad}]`));
  }
});

test('RFC 3261 §25.1, RFC 5954 §4.1: IPv4 dec-octets and hostnames', () => {
  assert.equal(sip('sip:192.0.2.1').hostType, 'ipv4');
  assert.equal(sip('sip:255.255.255.255:5060').port, 5060);
  assert.equal(sip('sip:host-of-the-hour.example.com.').hostType, 'domain');
  assert.equal(sip('sip:a.b-c.d9').hostType, 'domain');
  for (const bad of ['sip:192.0.2.256', 'sip:1.2.3', 'sip:host.example.123', 'sip:-bad.example.com', 'sip:bad-.example.com', 'sip:a..b', 'sip:under_score.example.com', 'sip:user@']) {
    assertParseError(() => parseUri(bad));
  }
});

test('RFC 3261 §25.1: ports 0..65535', () => {
  assert.equal(sip('sip:h.example.com:0').port, 0);
  assert.equal(sip('sip:h.example.com:65535').port, 65535);
  assertParseError(() => parseUri('sip:h.example.com:65536'));
  assertParseError(() => parseUri('sip:h.example.com:'));
  assertParseError(() => parseUri('sip:h.example.com:5o60'));
});

test('RFC 4475 §3.1.2.8 lwsruri and §3.1.2.14 badaspec: whitespace inside a URI is rejected', () => {
  assertParseError(() => parseUri('sip:user@example.com; lr'));
  assertParseError(() => parseUri('sip:user@example.com ;lr'));
  assertParseError(() => parseUri('sip:us er@example.com'));
  assert.equal(sip('  sip:user@example.com\t').host, 'example.com');
});

test('RFC 4475 §3.1.2.7 ltgtruri: a URI in angle brackets is not a URI', () => {
  assertParseError(() => parseUri('<sip:user@example.com>'));
});

test('RFC 3261 §25.1: malformed escapes, empty params and stray characters are rejected', () => {
  for (const bad of ['sip:us%2@example.com', 'sip:us%zz@example.com', 'sip:a@example.com;', 'sip:a@example.com;=x', 'sip:a@example.com;p=', 'sip:a@example.com?x', 'sip:a@example.com?=1', 'sip:a@b@example.com', 'sip:a@example.com>', 'sip:', 'sip:"a"@example.com', 'sip::pw@example.com']) {
    assertParseError(() => parseUri(bad));
  }
});

test('RFC 4475 §3.3.2-§3.3.4 unkscm/novelsc/unksm2: other schemes parse as absolute URIs', () => {
  assert.deepEqual(parseUri('nobodyKnowsThisScheme:totallyopaquecontent'), { scheme: 'nobodyknowsthisscheme', opaque: 'totallyopaquecontent' });
  assert.deepEqual(parseUri('soap.beep://192.0.2.103:3002'), { scheme: 'soap.beep', opaque: '//192.0.2.103:3002' });
  assert.deepEqual(parseUri('isbn:2983792873'), { scheme: 'isbn', opaque: '2983792873' });
  assert.deepEqual(parseUri('http://www.example.com'), { scheme: 'http', opaque: '//www.example.com' });
  assert.deepEqual(parseUri('name:John_Smith'), { scheme: 'name', opaque: 'John_Smith' });
  assert.deepEqual(parseUri('urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6'), { scheme: 'urn', opaque: 'uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6' });
  for (const bad of ['1abc:x', 'ab_c:x', 'x:', 'x:a b', 'x:a<b', 'x:%4', ':x', 'nocolon']) assertParseError(() => parseUri(bad));
});

test('RFC 3966 §3: tel URIs (global, local with phone-context)', () => {
  const g = parseUri('tel:+1-201-555-0123;ext=1234');
  assert.ok(isTelUri(g));
  assert.equal(g.number, '+1-201-555-0123');
  assert.deepEqual(g.params, [{ name: 'ext', value: '1234' }]);
  const l = parseUri('TEL:7042;phone-context=example.com');
  assert.ok(isTelUri(l));
  assert.equal(l.number, '7042');
  for (const bad of ['tel:7042', 'tel:+', 'tel:+1a', 'tel:+1;', 'tel:+1;=x', 'tel:+1?x=y', 'tel:']) assertParseError(() => parseUri(bad));
});

test('RFC 3261 §19.1.1: formatUri round-trips every parsed form', () => {
  const inputs = [
    'sips:alice:secret@atlanta.com:5061;transport=tcp;lr?subject=project%20x&priority=urgent',
    "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
    'sip:user;par=u%40example.net@example.com',
    'sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31',
    'sip:[2001:db8::10]:5070', 'sip:[2001:db8::10:5070]', 'sip:user:@example.com', 'sip:a@b.example.com?Route=%3Csip:x%3E&empty=',
    'tel:+1-201-555-0123;ext=1234', 'isbn:2983792873', 'soap.beep://192.0.2.103:3002',
  ];
  for (const s of inputs) {
    const u = parseUri(s);
    assert.deepEqual(parseUri(formatUri(u)), u, s);
  }
  assert.equal(formatUri(parseUri('SIP:Alice@Example.COM;Transport=UDP')), 'sip:Alice@Example.COM;Transport=UDP');
  const built: Uri = { scheme: 'sip', host: '2001:db8::1', hostType: 'ipv6', params: [], headers: [] };
  assert.equal(formatUri(built), 'sip:[2001:db8::1]');
});

test('RFC 3261 §19.1.4: URIs the RFC lists as equivalent', () => {
  const pairs: Array<[string, string]> = [
    ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;security=on'],
    ['sip:carol@chicago.com;newparam=5', 'sip:carol@chicago.com;security=on'],
    ['sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com'],
    ['sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x'],
    ['SIP:carol@chicago.com', 'sip:carol@chicago.com'],
    ['sip:[2001:db8::1]', 'sip:[2001:DB8:0:0:0:0:0:1]'],
  ];
  for (const [a, b] of pairs) assert.ok(uriEquals(parseUri(a), parseUri(b)), `${a} == ${b}`);
});

test('RFC 3261 §19.1.4: URIs the RFC lists as not equivalent', () => {
  const pairs: Array<[string, string]> = [
    ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'],
    ['sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'],
    ['sip:a@example.com', 'sips:a@example.com'],
    ['sip:a@example.com;maddr=192.0.2.1', 'sip:a@example.com'],
    ['sip:a@example.com;user=phone', 'sip:a@example.com'],
    ['sip:example.com', 'sip:a@example.com'],
  ];
  for (const [a, b] of pairs) assert.ok(!uriEquals(parseUri(a), parseUri(b)), `${a} != ${b}`);
  // RFC 3261 §19.1.4: %HH of a reserved character is not its literal, but hex case does not matter.
  assert.ok(uriEquals(parseUri('sip:%3aa@example.com'), parseUri('sip:%3Aa@example.com')));
  assert.ok(!uriEquals(parseUri('sip:a%3bb@example.com'), parseUri('sip:a;b@example.com')));
});

test('RFC 3966 §4: tel URI comparison ignores visual separators', () => {
  assert.ok(uriEquals(parseUri('tel:+1-201-555-0123'), parseUri('tel:+1.201.555.0123')));
  assert.ok(!uriEquals(parseUri('tel:+1-201-555-0123'), parseUri('tel:+1-201-555-0124')));
  assert.ok(uriEquals(parseUri('isbn:2983792873'), parseUri('ISBN:2983792873')));
  assert.ok(!uriEquals(parseUri('isbn:2983792873'), parseUri('sip:2983792873@example.com')));
});
