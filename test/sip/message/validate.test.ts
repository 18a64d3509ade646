// RFC 3261 §8.2 UAS checks (src/sip/message/validate.ts): the verdicts on the header fields
// every request is read for, Max-Forwards (§20.22) and Require (§8.2.2.3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDatagram } from '../../../src/sip/message/parse.js';
import type { SipRequest } from '../../../src/sip/message/message.js';
import { checkRequest, type UasProfile } from '../../../src/sip/message/validate.js';

const PROFILE: UasProfile = { methods: ['INVITE', 'OPTIONS', 'BYE'], optionTags: ['timer'] };

const LINES: Record<string, string> = {
  via: 'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds',
  'max-forwards': 'Max-Forwards: 70',
  from: 'From: <sip:alice@example.com>;tag=1928301774',
  to: 'To: <sip:bob@example.com>',
  'call-id': 'Call-ID: a84b4c76e66710',
  cseq: 'CSeq: 1 OPTIONS',
  contact: 'Contact: <sip:alice@192.0.2.1>',
};

/** An OPTIONS with the usual fields, `changes` replacing (or with null removing) lines. */
function request(changes: Record<string, string | null> = {}, extra: string[] = []): SipRequest {
  const lines = Object.entries({ ...LINES, ...changes }).flatMap(([, v]) => (v === null ? [] : [v]));
  const msg = parseDatagram(Buffer.from(`OPTIONS sip:bob@example.com SIP/2.0\r\n${[...lines, ...extra].join('\r\n')}\r\nContent-Length: 0\r\n\r\n`));
  assert.ok(msg.isRequest());
  return msg;
}

test('RFC 3261 §8.2: a well-formed request passes', () => {
  assert.equal(checkRequest(request(), PROFILE), undefined);
});

test('RFC 3261 §8.1.1: each mandatory header field missing is a 400 that names it', () => {
  for (const name of ['via', 'from', 'to', 'call-id', 'cseq']) {
    const r = checkRequest(request({ [name]: null }), PROFILE);
    assert.equal(r?.status, 400, name);
    assert.equal(r?.reason, `Missing ${name} header`);
  }
});

test('RFC 3261 §8.2: an unreadable From, To, CSeq or Contact is a 400 that names the header', () => {
  const cases: [string, string, string][] = [
    ['from', 'From: <sip:alice@example.com', 'From'],
    ['to', 'To: bob@', 'To'],
    ['cseq', 'CSeq: one OPTIONS', 'CSeq'],
    ['contact', 'Contact: <sip:alice@[192.0.2.1>', 'Contact'],
  ];
  for (const [name, line, label] of cases) {
    const r = checkRequest(request({ [name]: line }), PROFILE);
    assert.equal(r?.status, 400, line);
    assert.match(r!.reason, new RegExp(`^Bad ${label} header: `), line);
  }
});

test('RFC 3261 §20.22: Max-Forwards is 1*DIGIT up to 255, leading zeros allowed (RFC 4475 §3.1.1.1)', () => {
  for (const ok of ['0', '70', '0068', '255', '0000000255']) {
    assert.equal(checkRequest(request({ 'max-forwards': `Max-Forwards: ${ok}` }), PROFILE), undefined, ok);
  }
  for (const bad of ['256', '00000000256', '7a', '-1', '+5', '1.0', '１']) {
    const r = checkRequest(request({ 'max-forwards': `Max-Forwards: ${bad}` }), PROFILE);
    assert.equal(r?.status, 400, bad);
    assert.equal(r?.reason, 'Bad Max-Forwards header');
  }
});

test('RFC 3261 §8.2.2.3: Require with an unknown option tag is a 420 listing it in Unsupported; a known one passes', () => {
  assert.equal(checkRequest(request({}, ['Require: timer']), PROFILE), undefined);
  const r = checkRequest(request({}, ['Require: timer, 100rel', 'Require: foo']), PROFILE);
  assert.equal(r?.status, 420);
  assert.deepEqual(r?.headers, [{ name: 'Unsupported', value: '100rel, foo' }]);
});
