import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  answerSetup, buildMsrpOffer, MsrpSdpError, parseMsrpAnswer, parseMsrpMedia, parseMsrpOffer, weConnect,
  type MsrpOfferOptions, type MsrpSdpErrorCode,
} from '../../src/sdp/msrp-offer.js';
import { parseSdp, SdpError } from '../../src/sdp/sdp.js';

const crlf = (lines: string[]): string => lines.join('\r\n') + '\r\n';

const OFFER: MsrpOfferOptions = {
  address: '192.0.2.10',
  port: 7394,
  path: 'msrp://192.0.2.10:7394/iau39soe2843z;tcp',
  acceptTypes: ['message/cpim', 'text/plain', 'message/imdn+xml'],
  acceptWrappedTypes: ['*'],
  setup: 'actpass',
  maxSize: 1048576,
  sessionId: 2890844526,
  sessionVersion: 2890844526,
};

function assertMsrpError(fn: () => unknown, code: MsrpSdpErrorCode, mediaIndex?: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MsrpSdpError, `expected MsrpSdpError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (mediaIndex !== undefined) assert.equal(e.mediaIndex, mediaIndex);
    return true;
  });
}

test('RFC 4975 §8.1, §8.2, §8.6, RFC 6135: the offer of seed clause 1.3 (m=message TCP/MSRP *, path, accept-types, setup)', () => {
  assert.equal(buildMsrpOffer(OFFER), crlf([
    'v=0',
    'o=- 2890844526 2890844526 IN IP4 192.0.2.10',
    's=-',
    'c=IN IP4 192.0.2.10',
    't=0 0',
    'm=message 7394 TCP/MSRP *',
    'a=path:msrp://192.0.2.10:7394/iau39soe2843z;tcp',
    'a=accept-types:message/cpim text/plain message/imdn+xml',
    'a=accept-wrapped-types:*',
    'a=setup:actpass',
    'a=max-size:1048576',
    'a=sendrecv',
  ]));
});

test('RFC 4975 §8.1: an msrps path gives TCP/TLS/MSRP; an IPv6 address gives c=IN IP6; optional attributes are left out', () => {
  const sdp = buildMsrpOffer({
    address: '2001:db8::10', port: 2855, path: 'msrps://[2001:db8::10]:2855/s1;tcp', acceptTypes: ['message/cpim'],
    setup: 'active', sessionId: '1', username: 'history', sessionName: 'weekly-sync',
  });
  assert.equal(sdp, crlf([
    'v=0',
    'o=history 1 0 IN IP6 2001:db8::10',
    's=weekly-sync',
    'c=IN IP6 2001:db8::10',
    't=0 0',
    'm=message 2855 TCP/TLS/MSRP *',
    'a=path:msrps://[2001:db8::10]:2855/s1;tcp',
    'a=accept-types:message/cpim',
    'a=setup:active',
    'a=sendrecv',
  ]));
});

test('RFC 4975 §8.2, RFC 4976: a relay path keeps its order, relays first and our URI last', () => {
  const path = ['msrps://relay.example.net:2855;tcp', 'msrps://history.example.net:7000/s9;tcp'];
  const m = parseMsrpOffer(buildMsrpOffer({ ...OFFER, port: 2855, path }));
  assert.deepEqual(m.path, path);
  assert.equal(m.transport, 'TCP/TLS/MSRP');
});

test('RFC 3264 §5: an offer built here parses back to the same description', () => {
  const m = parseMsrpOffer(buildMsrpOffer(OFFER));
  assert.deepEqual(m, {
    index: 0,
    port: 7394,
    transport: 'TCP/MSRP',
    path: ['msrp://192.0.2.10:7394/iau39soe2843z;tcp'],
    acceptTypes: ['message/cpim', 'text/plain', 'message/imdn+xml'],
    acceptWrappedTypes: ['*'],
    setup: 'actpass',
    setupExplicit: true,
    maxSize: 1048576,
    connection: { netType: 'IN', addrType: 'IP4', address: '192.0.2.10' },
    direction: 'sendrecv',
    cema: false,
    fingerprints: [],
  });
});

test('design.md §4: buildMsrpOffer refuses options that would make a bad offer', () => {
  assertMsrpError(() => buildMsrpOffer({ ...OFFER, port: 70000 }), 'invalid-option');
  assertMsrpError(() => buildMsrpOffer({ ...OFFER, port: 7000 }), 'invalid-option');
  assertMsrpError(() => buildMsrpOffer({ ...OFFER, address: 'not an address' }), 'invalid-option');
  assertMsrpError(() => buildMsrpOffer({ ...OFFER, path: [] }), 'missing-path');
  assertMsrpError(() => buildMsrpOffer({ ...OFFER, path: 'sip:alice@example.com' }), 'invalid-path');
  assertMsrpError(() => buildMsrpOffer({ ...OFFER, acceptTypes: [] }), 'invalid-accept-types');
  assertMsrpError(() => buildMsrpOffer({ ...OFFER, acceptTypes: ['text'] }), 'invalid-accept-types');
  assertMsrpError(() => buildMsrpOffer({ ...OFFER, acceptWrappedTypes: ['text/plain x'] }), 'invalid-accept-types');
  assertMsrpError(() => buildMsrpOffer({ ...OFFER, maxSize: -1 }), 'invalid-max-size');
  assertMsrpError(() => buildMsrpOffer({ ...OFFER, sessionId: 'abc' }), 'invalid-option');
  assert.throws(() => buildMsrpOffer({ ...OFFER, sessionName: 'x\r\nm=audio 1 RTP/AVP 0' }), SdpError);
});

// An answer in the shape of RFC 4975 §8's examples: no a=setup, so RFC 4975's own model.
const ANSWER = crlf([
  'v=0',
  'o=bob 2890844656 2890844656 IN IP4 bob.example.com',
  's= ',
  'c=IN IP4 bob.example.com',
  't=0 0',
  'm=message 8888 TCP/MSRP *',
  'a=accept-types:message/cpim text/plain',
  'a=path:msrp://bob.example.com:8888/9di4eae923wzd;tcp',
]);

test('RFC 4145 §4.1, RFC 6135: a missing a=setup means passive in an answer and active in an offer', () => {
  const answer = parseMsrpAnswer(ANSWER);
  assert.equal(answer.setup, 'passive');
  assert.equal(answer.setupExplicit, false);
  assert.deepEqual(answer.path, ['msrp://bob.example.com:8888/9di4eae923wzd;tcp']);
  assert.deepEqual(answer.acceptTypes, ['message/cpim', 'text/plain']);
  assert.deepEqual(answer.acceptWrappedTypes, []);
  assert.equal(answer.connection!.address, 'bob.example.com');
  assert.equal(answer.maxSize, undefined);
  assert.equal(parseMsrpOffer(ANSWER).setup, 'active');
  // We offered actpass; an answer without a=setup is passive, so we connect (RFC 4975's model).
  assert.equal(weConnect('actpass', answer.setup), true);
});

test('RFC 4145 §4, RFC 6135: a=setup at session level applies; the media level overrides it', () => {
  const text = crlf([
    'v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'a=setup:active', 'a=recvonly',
    'm=message 1 TCP/MSRP *', 'a=path:msrp://192.0.2.1:1/a;tcp', 'a=accept-types:*',
    'm=message 2 TCP/MSRP *', 'c=IN IP6 2001:db8::2', 'a=path:msrp://[2001:db8::2]:2/b;tcp', 'a=accept-types:*', 'a=setup:passive', 'a=inactive',
  ]);
  const [a, b] = parseMsrpMedia(parseSdp(text), 'answer');
  assert.equal(a!.setup, 'active');
  assert.equal(a!.direction, 'recvonly');
  assert.equal(a!.connection!.address, '192.0.2.1');
  assert.equal(b!.index, 1);
  assert.equal(b!.setup, 'passive');
  assert.equal(b!.direction, 'inactive');
  assert.equal(b!.connection!.address, '2001:db8::2');
});

test('RFC 3264 §6: a rejected MSRP stream (port 0) needs no path or accept-types', () => {
  const m = parseMsrpAnswer(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0', 'm=message 0 TCP/MSRP *']));
  assert.equal(m.port, 0);
  assert.deepEqual(m.path, []);
  assert.equal(m.connection, undefined);
});

test('RFC 4975 §8: media that are not MSRP over TCP/TLS are skipped; none at all is an error', () => {
  const text = crlf([
    'v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0',
    'm=audio 49170 RTP/AVP 0',
    'm=message 443 TCP/WSS/MSRP *', 'a=path:msrp://x.invalid:443/a;ws', 'a=accept-types:*',
    'm=message 7000 tcp/msrp *', 'a=path:msrp://192.0.2.1:7000/b;tcp', 'a=accept-types:message/cpim', 'a=msrp-cema',
  ]);
  const media = parseMsrpMedia(parseSdp(text));
  assert.equal(media.length, 1);
  assert.equal(media[0]!.index, 2);
  assert.equal(media[0]!.transport, 'TCP/MSRP');
  assert.equal(media[0]!.cema, true);
  assertMsrpError(() => parseMsrpAnswer(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 1 RTP/AVP 0'])), 'no-msrp-media');
});

test('RFC 4975 §8.2, §8.6, RFC 6135: unusable MSRP media descriptions are refused with a code for the 488', () => {
  const head = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=message 1 TCP/MSRP *'];
  const path = 'a=path:msrp://192.0.2.1:1/a;tcp';
  const types = 'a=accept-types:message/cpim';
  const answer = (...attrs: string[]): (() => unknown) => () => parseMsrpAnswer(crlf([...head, ...attrs]));
  assertMsrpError(answer(types), 'missing-path', 0);
  assertMsrpError(answer('a=path:', types), 'missing-path', 0);
  assertMsrpError(answer('a=path:http://192.0.2.1/a', types), 'invalid-path', 0);
  assertMsrpError(answer(path, path, types), 'duplicate-attribute', 0);
  assertMsrpError(answer(path), 'missing-accept-types', 0);
  assertMsrpError(answer(path, 'a=accept-types:text'), 'invalid-accept-types', 0);
  assertMsrpError(answer(path, types, 'a=accept-wrapped-types:*/x/y'), 'invalid-accept-types', 0);
  assertMsrpError(answer(path, types, 'a=setup:holdconn'), 'invalid-setup', 0);
  assertMsrpError(answer(path, types, 'a=setup:actpass'), 'invalid-setup', 0);
  assertMsrpError(answer(path, types, 'a=max-size:lots'), 'invalid-max-size', 0);
  assert.equal(parseMsrpAnswer(crlf([...head, path, types, 'a=max-size:2048', 'a=setup:ACTIVE'])).maxSize, 2048);
});

test('RFC 4975 §8.6: accept-types entries may be *, type/*, or carry parameters', () => {
  const m = parseMsrpOffer(crlf([
    'v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=message 1 TCP/MSRP *',
    'a=path:msrp://192.0.2.1:1/a;tcp', 'a=accept-types:message/cpim text/* text/plain;charset=utf-8 *',
  ]));
  assert.deepEqual(m.acceptTypes, ['message/cpim', 'text/*', 'text/plain;charset=utf-8', '*']);
});

test('RFC 4145 §4.1, RFC 6135: answerSetup, seed: actpass/passive offers are answered active, active passive', () => {
  assert.equal(answerSetup('actpass'), 'active');
  assert.equal(answerSetup('passive'), 'active');
  assert.equal(answerSetup('active'), 'passive');
  assert.equal(answerSetup(undefined), 'passive');
});

test('RFC 4145 §4.1, RFC 6135: weConnect decides who opens the TCP connection', () => {
  // We offered actpass: the answer decides.
  assert.equal(weConnect('actpass', 'active'), false);
  assert.equal(weConnect('actpass', 'passive'), true);
  // We answered an actpass offer with our choice.
  assert.equal(weConnect('active', 'actpass'), true);
  assert.equal(weConnect('passive', 'actpass'), false);
  // Fixed roles on both sides.
  assert.equal(weConnect('active', 'passive'), true);
  assert.equal(weConnect('passive', 'active'), false);
  for (const role of ['active', 'passive', 'actpass'] as const) assertMsrpError(() => weConnect(role, role), 'setup-conflict');
  // The answer to our actpass offer, through answerSetup's eyes: the two always agree.
  for (const offer of ['active', 'passive', 'actpass'] as const) {
    const answer = answerSetup(offer);
    assert.notEqual(weConnect(offer, answer), weConnect(answer, offer), offer);
  }
});
