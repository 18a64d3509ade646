import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMsrpUri, msrpUriEquals, MsrpUriError, parseMsrpUri } from '../../src/sdp/msrp-uri.js';

test('RFC 4975 §9: URIs of the RFC examples parse into their parts and format back', () => {
  const cases: [string, object][] = [
    ['msrp://atlanta.example.com:7654/jshA7weztas;tcp',
      { scheme: 'msrp', host: 'atlanta.example.com', hostType: 'domain', port: 7654, sessionId: 'jshA7weztas', transport: 'tcp', params: [] }],
    ['msrps://bob.example.com:8888/9di4eae923wzd;tcp',
      { scheme: 'msrps', host: 'bob.example.com', hostType: 'domain', port: 8888, sessionId: '9di4eae923wzd', transport: 'tcp', params: [] }],
    // A relay URI (RFC 4976): no session-id.
    ['msrps://relay.example.net:2855;tcp',
      { scheme: 'msrps', host: 'relay.example.net', hostType: 'domain', port: 2855, transport: 'tcp', params: [] }],
    ['msrps://alice@intra.example.com;tcp',
      { scheme: 'msrps', userinfo: 'alice', host: 'intra.example.com', hostType: 'domain', transport: 'tcp', params: [] }],
    ['msrp://192.0.2.1:7394/a+b=c/d_e.f~g-h;tcp;foo=bar;flag',
      { scheme: 'msrp', host: '192.0.2.1', hostType: 'ipv4', port: 7394, sessionId: 'a+b=c/d_e.f~g-h', transport: 'tcp',
        params: [{ name: 'foo', value: 'bar' }, { name: 'flag', value: null }] }],
    ['msrp://[2001:db8::1]:7394/abc;tcp',
      { scheme: 'msrp', host: '[2001:db8::1]', hostType: 'ipv6', port: 7394, sessionId: 'abc', transport: 'tcp', params: [] }],
  ];
  for (const [text, expected] of cases) {
    const u = parseMsrpUri(text);
    assert.deepEqual(u, expected, text);
    assert.equal(formatMsrpUri(u), text);
  }
});

test('RFC 4975 §9: the scheme is case-insensitive and kept lower-case', () => {
  const u = parseMsrpUri('MSRP://Host.Example.com:1/x;TCP');
  assert.equal(u.scheme, 'msrp');
  assert.equal(formatMsrpUri(u), 'msrp://Host.Example.com:1/x;TCP');
});

test('RFC 4975 §9: malformed URIs are refused with an offset', () => {
  const bad: [string, RegExp][] = [
    ['sip:alice@example.com', /expected "msrp:\/\/"/],
    ['http://example.com/x;tcp', /expected "msrp:\/\/"/],
    ['msrp://example.com:7394/abc', /missing ";transport"/],
    ['msrp://example.com:7394/;tcp', /empty session-id/],
    ['msrp://example.com:70000/a;tcp', /invalid port/],
    ['msrp://example.com:/a;tcp', /invalid port/],
    ['msrp://[2001:db8::g]:1/a;tcp', /invalid IPv6/],
    ['msrp://[fe80::1%25eth0]:1/a;tcp', /invalid IPv6/],
    ['msrp://:1/a;tcp', /missing host/],
    ['msrp://example.com:1/a?b;tcp', /invalid character/],
    ['msrp://example.com:1/a b;tcp', /invalid character/],
    ['msrp://exa%zzmple.com:1/a;tcp', /invalid %-escape/],
    ['msrp://example.com:1/a;t-c-p', /invalid transport/],
    ['msrp://example.com:1/a;tcp;=x', /invalid URI parameter/],
    ['msrp://example.com:1/a;tcp;a b', /invalid URI parameter/],
    ['msrp://example.com:1/' + 'a'.repeat(3000) + ';tcp', /longer than/],
  ];
  for (const [text, pattern] of bad) {
    assert.throws(() => parseMsrpUri(text), (e: unknown) => e instanceof MsrpUriError && pattern.test(e.message), text);
  }
  try {
    parseMsrpUri('msrp://example.com:1/a?b;tcp');
  } catch (e) {
    assert.ok(e instanceof MsrpUriError);
    assert.equal(e.offset, 22);
  }
});

test('RFC 4975 §6.1: URI comparison', () => {
  const eq = (a: string, b: string): boolean => msrpUriEquals(parseMsrpUri(a), parseMsrpUri(b));
  // Scheme and host names compare case-insensitively; userinfo is ignored.
  assert.ok(eq('MSRP://Atlanta.Example.COM:7654/jshA7weztas;tcp', 'msrp://atlanta.example.com:7654/jshA7weztas;tcp'));
  assert.ok(eq('msrp://alice@atlanta.example.com:7654/s;tcp', 'msrp://atlanta.example.com:7654/s;tcp'));
  // Percent-encoded unreserved characters in the authority are decoded first.
  assert.ok(eq('msrp://%61tlanta.example.com:7654/s;tcp', 'msrp://atlanta.example.com:7654/s;tcp'));
  // IP addresses compare as addresses.
  assert.ok(eq('msrp://[2001:DB8:0:0::1]:7654/s;tcp', 'msrp://[2001:db8::1]:7654/s;tcp'));
  // The transport compares case-insensitively, other URI parameters take no part.
  assert.ok(eq('msrp://a.example.com:1/s;TCP;x=1', 'msrp://a.example.com:1/s;tcp'));
  // An explicit port never equals an absent one, even the default.
  assert.ok(!eq('msrp://a.example.com:2855/s;tcp', 'msrp://a.example.com/s;tcp'));
  assert.ok(!eq('msrp://a.example.com:1/s;tcp', 'msrp://a.example.com:2/s;tcp'));
  // The session-id is case-sensitive, and must be present in both or neither.
  assert.ok(!eq('msrp://a.example.com:1/jshA7weztas;tcp', 'msrp://a.example.com:1/jsha7weztas;tcp'));
  assert.ok(!eq('msrp://a.example.com:1/s;tcp', 'msrp://a.example.com:1;tcp'));
  // Different schemes or transports never match.
  assert.ok(!eq('msrps://a.example.com:1/s;tcp', 'msrp://a.example.com:1/s;tcp'));
  assert.ok(!eq('msrp://a.example.com:1/s;tcp', 'msrp://a.example.com:1/s;ws'));
  assert.ok(!eq('msrp://192.0.2.1:1/s;tcp', 'msrp://192.0.2.2:1/s;tcp'));
});
