import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatSdp, getAttributes, parseSdp, SdpError, type Sdp } from '../../src/sdp/sdp.js';
import { tortureDir } from '../helpers/paths.js';

const crlf = (lines: string[]): string => lines.join('\r\n') + '\r\n';

function assertSdpError(text: string, line: number, pattern?: RegExp, limits?: Parameters<typeof parseSdp>[1]): SdpError {
  let caught: unknown;
  try {
    parseSdp(text, limits);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SdpError, `expected SdpError, got ${String(caught)}`);
  assert.equal(caught.line, line, caught.message);
  if (pattern) assert.match(caught.message, pattern);
  return caught;
}

// RFC 8866 §5's example session description.
const RFC8866_EXAMPLE = crlf([
  'v=0',
  'o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1',
  's=Call to John Smith',
  'i=SDP Offer #1',
  'u=http://www.jdoe.example.com/home.html',
  'e=Jane Doe <jane@jdoe.example.com>',
  'p=+1 617 555-6011',
  'c=IN IP4 198.51.100.1',
  't=0 0',
  'm=audio 49170 RTP/AVP 0',
  'm=audio 49180 RTP/AVP 0',
  'm=video 51372 RTP/AVP 99',
  'c=IN IP6 2001:db8::2',
  'a=rtpmap:99 h263-1998/90000',
]);

test('RFC 8866 §5: the example description parses field by field and round-trips', () => {
  const sdp = parseSdp(RFC8866_EXAMPLE);
  assert.deepEqual(sdp.origin, {
    username: 'jdoe', sessionId: '3724394400', sessionVersion: '3724394405', netType: 'IN', addrType: 'IP4', address: '198.51.100.1',
  });
  assert.equal(sdp.sessionName, 'Call to John Smith');
  assert.equal(sdp.information, 'SDP Offer #1');
  assert.equal(sdp.uri, 'http://www.jdoe.example.com/home.html');
  assert.deepEqual(sdp.emails, ['Jane Doe <jane@jdoe.example.com>']);
  assert.deepEqual(sdp.phones, ['+1 617 555-6011']);
  assert.deepEqual(sdp.connection, { netType: 'IN', addrType: 'IP4', address: '198.51.100.1' });
  assert.deepEqual(sdp.timing, [{ start: '0', stop: '0', repeats: [] }]);
  assert.equal(sdp.media.length, 3);
  assert.deepEqual(sdp.media[2], {
    media: 'video', port: 51372, proto: 'RTP/AVP', formats: ['99'],
    connections: [{ netType: 'IN', addrType: 'IP6', address: '2001:db8::2' }],
    bandwidths: [], attributes: [{ name: 'rtpmap', value: '99 h263-1998/90000' }],
  });
  assert.equal(formatSdp(sdp), RFC8866_EXAMPLE);
});

test('RFC 8866 §5.7, §5.8, §5.10-§5.12, §5.14: multicast c=, b=, r=, z=, k=, m= port count', () => {
  const text = crlf([
    'v=0',
    'o=mhandley 2890844526 2890842807 IN IP4 126.16.64.4',
    's=SDP Seminar',
    'c=IN IP4 224.2.17.12/127/3',
    'b=AS:2000',
    't=2873397496 2873404696',
    'r=7d 1h 0 25h',
    'r=604800 3600 0 90000',
    'z=2882844526 -1h 2898848070 0',
    'k=prompt',
    'a=recvonly',
    'm=video 51372/2 RTP/AVP 99 100',
    'c=IN IP6 ff15::101/3',
    'b=TIAS:128000',
    'k=clear:secret',
    'a=rtpmap:99 h263-1998/90000',
  ]);
  const sdp = parseSdp(text);
  assert.deepEqual(sdp.connection, { netType: 'IN', addrType: 'IP4', address: '224.2.17.12', ttl: 127, count: 3 });
  assert.deepEqual(sdp.bandwidths, [{ type: 'AS', value: 2000 }]);
  assert.deepEqual(sdp.timing[0]!.repeats, ['7d 1h 0 25h', '604800 3600 0 90000']);
  assert.equal(sdp.zone, '2882844526 -1h 2898848070 0');
  assert.equal(sdp.key, 'prompt');
  assert.deepEqual(sdp.attributes, [{ name: 'recvonly', value: null }]);
  const m = sdp.media[0]!;
  assert.equal(m.port, 51372);
  assert.equal(m.portCount, 2);
  assert.deepEqual(m.formats, ['99', '100']);
  assert.deepEqual(m.connections, [{ netType: 'IN', addrType: 'IP6', address: 'ff15::101', count: 3 }]);
  assert.equal(m.key, 'clear:secret');
  assert.equal(formatSdp(sdp), text);
});

for (const [name, section] of [['ipv6-in-sdp', '4.6'], ['mult-ip-in-sdp', '4.8'], ['ipv4-mapped-ipv6', '4.9']] as const) {
  test(`RFC 5118 §${section}: the ${name} body parses and round-trips byte for byte`, () => {
    const raw = readFileSync(join(tortureDir, 'rfc5118-crlf', `${name}.clfixed.dat`), 'latin1');
    const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
    const sdp = parseSdp(body);
    assert.equal(formatSdp(sdp), body);
    if (name === 'mult-ip-in-sdp') {
      // One media stream per address family, and an empty s= (be liberal).
      assert.equal(sdp.sessionName, '');
      assert.equal(sdp.media[0]!.connections[0]!.addrType, 'IP4');
      assert.deepEqual(sdp.media[1]!.connections[0], { netType: 'IN', addrType: 'IP6', address: '2001:db8::1' });
    } else {
      assert.equal(sdp.connection!.addrType, 'IP6');
      // A 64-bit sess-id stays exact as a string.
      assert.equal(sdp.origin.sessionId, '971731711378798081');
    }
  });
}

test('RFC 8866 §5: LF-only line ends, a missing final line end and trailing blank lines are accepted; output is CRLF', () => {
  const lf = RFC8866_EXAMPLE.replace(/\r\n/g, '\n');
  assert.equal(formatSdp(parseSdp(lf)), RFC8866_EXAMPLE);
  assert.equal(formatSdp(parseSdp(RFC8866_EXAMPLE.slice(0, -2))), RFC8866_EXAMPLE);
  assert.equal(formatSdp(parseSdp(RFC8866_EXAMPLE + '\r\n\r\n')), RFC8866_EXAMPLE);
});

test('RFC 8866 §5.13: attributes keep their order, property and value forms, and colons inside values', () => {
  const sdp = parseSdp(crlf([
    'v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0',
    'm=message 7394 TCP/MSRP *',
    'a=accept-types:message/cpim text/plain',
    'a=path:msrp://192.0.2.1:7394/s1;tcp',
    'a=sendrecv',
    'a=empty:',
  ]));
  assert.deepEqual(sdp.media[0]!.attributes, [
    { name: 'accept-types', value: 'message/cpim text/plain' },
    { name: 'path', value: 'msrp://192.0.2.1:7394/s1;tcp' },
    { name: 'sendrecv', value: null },
    { name: 'empty', value: '' },
  ]);
  assert.deepEqual(getAttributes(sdp.media[0]!.attributes, 'PATH'), [{ name: 'path', value: 'msrp://192.0.2.1:7394/s1;tcp' }]);
});

test('RFC 8866 §5: an unknown type letter makes the whole description invalid', () => {
  const text = RFC8866_EXAMPLE.replace('t=0 0\r\n', 't=0 0\r\nx=extension\r\n');
  assertSdpError(text, 10, /unknown type letter "x"/);
});

test('RFC 8866 §5: line order is enforced', () => {
  const base = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0'];
  assertSdpError(crlf(['o=- 1 1 IN IP4 192.0.2.1', 'v=0', 's=-', 't=0 0']), 1, /must start with "v="/);
  assertSdpError(crlf(['v=0', 's=-', 'o=- 1 1 IN IP4 192.0.2.1', 't=0 0']), 3, /out of order/);
  assertSdpError(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0', 'c=IN IP4 192.0.2.1']), 5, /out of order/);
  assertSdpError(crlf([...base, 'a=x', 'b=AS:1']), 7, /out of order/);
  assertSdpError(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'r=1d 1h 0', 't=0 0']), 4, /"r=" must follow "t="/);
  assertSdpError(crlf([...base, 'm=audio 1 RTP/AVP 0', 'a=x', 'c=IN IP4 192.0.2.2']), 8, /out of order/);
  assertSdpError(crlf([...base, 'm=audio 1 RTP/AVP 0', 't=0 0']), 7, /not allowed in a media description/);
  assertSdpError(crlf([...base, 'm=audio 1 RTP/AVP 0', 'i=a', 'i=b']), 8, /out of order/);
  assertSdpError(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0']), 3, /out of order/);
  assertSdpError(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 'm=audio 1 RTP/AVP 0']), 5, /before any "t="/);
});

test('RFC 8866 §5: required lines and the version', () => {
  assertSdpError(crlf(['v=1', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0']), 1, /unsupported SDP version/);
  assertSdpError(crlf(['v=0', 's=-', 't=0 0']), 2, /missing "o="/);
  assertSdpError(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 't=0 0']), 3, /missing "s="/);
  assert.throws(() => parseSdp(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-'])), /missing "t="/);
  assertSdpError('', 1, /empty SDP/);
});

test('RFC 8866 §5: malformed lines are rejected with their line number', () => {
  const head = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0'];
  assertSdpError(crlf([...head, ' a=x']), 5, /expected "<type>=<value>"/);
  assertSdpError(crlf([...head, 'a =x']), 5, /expected "<type>=<value>"/);
  assertSdpError(crlf([...head, '', 'a=x']), 5, /blank line/);
  assertSdpError(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=a\rb', 't=0 0'].join('\r\n'), 3, /bare CR/);
  assertSdpError(crlf(['v=0', 'o=- x 1 IN IP4 192.0.2.1', 's=-', 't=0 0']), 2, /invalid sess-id/);
  assertSdpError(crlf(['v=0', 'o=- 1 1 IN IP4', 's=-', 't=0 0']), 2, /malformed "o=" line/);
  assertSdpError(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 999.1.1.1', 't=0 0']), 4, /invalid "c=" address/);
  assertSdpError(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP6 2001:db8:::1', 't=0 0']), 4, /invalid "c=" address/);
  assertSdpError(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP6 fe80::1%eth0', 't=0 0']), 4, /invalid "c=" address/);
  assertSdpError(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 224.2.1.1/300', 't=0 0']), 4, /invalid TTL/);
  assertSdpError(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'b=AS', 't=0 0']), 4, /malformed "b="/);
  assertSdpError(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=now 0']), 4, /invalid start time/);
  assertSdpError(crlf([...head, 'z=1 -1h 2']), 5, /malformed "z="/);
  assertSdpError(crlf([...head, 'a=bad name:1']), 5, /invalid attribute name/);
  assertSdpError(crlf([...head, 'm=audio 70000 RTP/AVP 0', 'c=IN IP4 192.0.2.1']), 5, /invalid port/);
  assertSdpError(crlf([...head, 'm=audio 1 RTP/AVP', 'c=IN IP4 192.0.2.1']), 5, /malformed "m=" line/);
  assertSdpError(crlf([...head, 'm=audio 1/2/3 RTP/AVP 0', 'c=IN IP4 192.0.2.1']), 5, /malformed "m=" port/);
  assertSdpError('v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=\0\r\nt=0 0\r\n', 3, /NUL/);
});

test('RFC 8866 §5.7: a media stream needs a c= line unless the session has one; a rejected stream does not', () => {
  const head = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0'];
  assertSdpError(crlf([...head, 'm=audio 1 RTP/AVP 0', 'a=x', 'm=audio 2 RTP/AVP 0', 'c=IN IP4 192.0.2.1']), 5, /without "c="/);
  assertSdpError(crlf([...head, 'm=audio 2 RTP/AVP 0', 'c=IN IP4 192.0.2.1', 'm=audio 1 RTP/AVP 0']), 7, /without "c="/);
  assert.equal(parseSdp(crlf([...head, 'm=message 0 TCP/MSRP *'])).media[0]!.port, 0);
});

test('design.md §8: size, line and media-count limits are explicit', () => {
  assertSdpError(RFC8866_EXAMPLE, 0, /longer than 100 characters/, { maxLength: 100 });
  assertSdpError(RFC8866_EXAMPLE, 6, /more than 5 lines/, { maxLines: 5 });
  assertSdpError(RFC8866_EXAMPLE, 12, /more than 2 media descriptions/, { maxMedia: 2 });
  const huge = RFC8866_EXAMPLE + 'a=x\r\n'.repeat(20000);
  const t = Date.now();
  assertSdpError(huge, 0, /longer than 65536/);
  assert.ok(Date.now() - t < 50, 'the default limit refuses a large body before scanning it');
});

test('RFC 8866 §5: formatSdp refuses a field that would smuggle in extra lines', () => {
  const sdp: Sdp = parseSdp(RFC8866_EXAMPLE);
  sdp.sessionName = 'x\r\na=injected';
  assert.throws(() => formatSdp(sdp), (e: unknown) => e instanceof SdpError && /CR, LF or NUL/.test(e.message));
  sdp.sessionName = 'ok';
  sdp.timing = [];
  assert.throws(() => formatSdp(sdp), SdpError);
});

test('RFC 8866 §9: runs of spaces between words are tolerated and normalised on output', () => {
  const sdp = parseSdp(crlf(['v=0', 'o=-  1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4  192.0.2.1', 't=0  0', 'm=message 9  TCP/MSRP  * ']));
  assert.equal(formatSdp(sdp), crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=message 9 TCP/MSRP *']));
});

test('RFC 8866 §5.7: FQDN connection addresses are accepted for IP4 and IP6', () => {
  const sdp = parseSdp(crlf(['v=0', 'o=bob 1 1 IN IP4 bob.example.com', 's=-', 'c=IN IP6 host.example.com', 't=0 0']));
  assert.equal(sdp.origin.address, 'bob.example.com');
  assert.equal(sdp.connection!.address, 'host.example.com');
});
