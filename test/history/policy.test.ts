// Seed 1.1.1-1 (P-Asserted-Identity, RFC 3325 trust), 1.1.1-2 (+g.oma.sip-im), 1.1.2-1
// (authorisation), and the conference-factory restriction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptsIm, authenticatedOriginator, authorize, matchFactory, trustList, type PolicyConfig } from '../../src/history/policy.js';
import { parseMessage } from '../../src/sip/message/parse.js';
import { parseUri, type SipUri } from '../../src/sip/message/headers/uri.js';
import type { SipRequest } from '../../src/sip/message/message.js';

function refer(extra: string[], from = '127.0.0.1'): SipRequest {
  const r = parseMessage(
    ['REFER sip:history@example.net SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKa', 'From: <sip:alice@example.net>;tag=1', 'To: <sip:history@example.net>',
      'Call-ID: r1', 'CSeq: 1 REFER', 'Refer-To: <sip:conf@example.net>', ...extra, 'Content-Length: 0', '', ''].join('\r\n'),
  ) as SipRequest;
  r.source = { transport: 'UDP', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: from, remotePort: 5070 };
  return r;
}

const trusted = trustList(['127.0.0.1', '10.1.0.0/16', '::1']);

test('seed 1.1.1-1 / RFC 3325 §9.1: P-Asserted-Identity from a trusted peer is the Authenticated Originator', () => {
  const u = authenticatedOriginator(refer(['P-Asserted-Identity: "Alice" <sip:alice@example.net>, <tel:+15551234>']), trusted);
  assert.equal(u?.user, 'alice');
  assert.equal(u?.host, 'example.net');
  // tel first, sip second: the SIP URI is taken.
  assert.equal(authenticatedOriginator(refer(['P-Asserted-Identity: <tel:+15551234>, <sip:bob@example.net>']), trusted)?.user, 'bob');
  assert.equal(authenticatedOriginator(refer(['P-Asserted-Identity: <sip:carol@example.net>'], '10.1.44.3'), trusted)?.user, 'carol');
  assert.equal(authenticatedOriginator(refer(['P-Asserted-Identity: <sip:carol@example.net>'], '::ffff:127.0.0.1'), trusted)?.user, 'carol');
});

test('seed 1.1.1-1 / RFC 3325: no PAI, a PAI from an untrusted peer, or an unreadable PAI gives no originator', () => {
  assert.equal(authenticatedOriginator(refer([]), trusted), undefined);
  assert.equal(authenticatedOriginator(refer(['P-Asserted-Identity: <sip:alice@example.net>'], '192.0.2.9'), trusted), undefined);
  assert.equal(authenticatedOriginator(refer(['P-Asserted-Identity: <<<garbage']), trusted), undefined);
  assert.equal(authenticatedOriginator(refer(['P-Asserted-Identity: <tel:+15551234>']), trusted), undefined);
});

test('trustList refuses entries that are not addresses', () => {
  assert.throws(() => trustList(['example.net']), /not an IP/);
});

test('seed 1.1.1-2 / RFC 3841: the +g.oma.sip-im feature tag must be in Accept-Contact', () => {
  assert.equal(acceptsIm(refer(['Accept-Contact: *;+g.oma.sip-im'])), true);
  assert.equal(acceptsIm(refer(['Accept-Contact: *;+g.oma.sip-im;explicit;require'])), true);
  assert.equal(acceptsIm(refer(['Accept-Contact: *;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel"', 'Accept-Contact: *;+g.oma.sip-im'])), true);
  assert.equal(acceptsIm(refer([])), false);
  assert.equal(acceptsIm(refer(['Accept-Contact: *;+g.3gpp.smsip'])), false);
  assert.equal(acceptsIm(refer(['Accept-Contact: *;;;'])), false);
});

const cfg: PolicyConfig = {
  trustedPeers: ['127.0.0.1'],
  trustedDomains: ['example.net'],
  allow: ['sip:partner-*@example.org'],
  deny: ['sip:mallory@example.net'],
  maxImUsers: 3,
  conferenceFactories: ['sip:conf-factory@example.net', 'sip:factory@192.0.2.10:5070;transport=tcp'],
};

test('seed 1.1.2-1: initiation policy — trusted domains and allow patterns pass, deny wins, others get 403', () => {
  const u = (s: string) => parseUri(s) as SipUri;
  assert.equal(authorize(u('sip:alice@example.net'), ['sip:bob@example.net'], cfg), undefined);
  assert.equal(authorize(u('sip:alice@EXAMPLE.NET:5060;transport=tcp'), [], cfg), undefined);
  assert.equal(authorize(u('sip:partner-7@example.org'), [], cfg), undefined);
  assert.equal(authorize(u('sip:mallory@example.net'), [], cfg)?.status, 403);
  assert.equal(authorize(u('sip:eve@evil.example'), [], cfg)?.status, 403);
});

test('seed 1.1.2-1: adding policy — more than maxImUsers IM users get 403', () => {
  const r = authorize(parseUri('sip:alice@example.net') as SipUri, ['sip:a@x', 'sip:b@x', 'sip:c@x', 'sip:d@x'], cfg);
  assert.equal(r?.status, 403);
  assert.match(r?.reason ?? '', /more than 3/);
});

test('issue 6: Refer-To must be one of the configured conference factories (RFC 3261 §19.1.4 URI equality)', () => {
  assert.equal(matchFactory('sip:conf-factory@example.net', cfg.conferenceFactories), 'sip:conf-factory@example.net');
  assert.equal(matchFactory('sip:conf-factory@EXAMPLE.net;method=INVITE', cfg.conferenceFactories), 'sip:conf-factory@example.net');
  assert.equal(matchFactory('sip:factory@192.0.2.10:5070;transport=tcp', cfg.conferenceFactories), 'sip:factory@192.0.2.10:5070;transport=tcp');
  assert.equal(matchFactory('sip:factory@192.0.2.10:5070', cfg.conferenceFactories), undefined);
  assert.equal(matchFactory('sip:victim@example.com', cfg.conferenceFactories), undefined);
  assert.equal(matchFactory('not a uri', cfg.conferenceFactories), undefined);
});
