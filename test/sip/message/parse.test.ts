// RFC 3261 §7 message parsing, §7.3.1 folding and compact forms, §18.3 framing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDatagram, parseMessage, MessageParseError, DEFAULT_LIMITS } from '../../../src/sip/message/parse.js';
import { serialize } from '../../../src/sip/message/serialize.js';
import { SipRequest, SipResponse } from '../../../src/sip/message/message.js';

const INVITE = [
  'INVITE sip:bob@example.com SIP/2.0',
  'v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds',
  'Via: SIP/2.0/TCP proxy.example.com;branch=z9hG4bKnashds8',
  'Max-Forwards: 70',
  't: Bob <sip:bob@example.com>',
  'f: Alice <sip:alice@example.com>;tag=1928301774',
  'i: a84b4c76e66710@pc33.example.com',
  'CSeq: 314159 INVITE',
  'm: <sip:alice@pc33.example.com>',
  'c: application/sdp',
  'Subject: folded',
  '  across lines',
  'l: 4',
  '',
  'v=0\r\n',
].join('\r\n');

test('RFC 3261 §7.3.3 compact forms are read as their long names', () => {
  const m = parseMessage(INVITE);
  assert.ok(m instanceof SipRequest);
  assert.equal(m.method, 'INVITE');
  assert.equal(m.uri, 'sip:bob@example.com');
  assert.equal(m.get('Call-ID'), 'a84b4c76e66710@pc33.example.com');
  assert.equal(m.get('i'), 'a84b4c76e66710@pc33.example.com');
  assert.equal(m.get('content-type'), 'application/sdp');
  assert.equal(m.via().length, 2);
  assert.equal(m.fromTag(), '1928301774');
  assert.equal(m.toTag(), undefined);
});

test('RFC 3261 §7.3.1 a folded header value is joined with one space', () => {
  assert.equal(parseMessage(INVITE).get('subject'), 'folded across lines');
});

test('RFC 3261 §18.3 the body is exactly Content-Length bytes', () => {
  const m = parseMessage(INVITE);
  assert.equal(m.body.toString(), 'v=0\r');
});

test('RFC 3261 §7 serialize writes canonical long names and a correct Content-Length', () => {
  const m = parseMessage(INVITE);
  const out = serialize(m).toString();
  assert.match(out, /^INVITE sip:bob@example.com SIP\/2.0\r\nVia: SIP\/2.0\/UDP/);
  assert.match(out, /\r\nCall-ID: a84b4c76e66710@pc33.example.com\r\n/);
  assert.match(out, /\r\nCSeq: 314159 INVITE\r\n/);
  assert.match(out, /\r\nContent-Length: 4\r\n\r\nv=0\r$/);
  // Round trip: parsing the serialized form gives the same fields and body.
  const again = parseMessage(out);
  assert.deepEqual(again.headers, m.headers.filter((h) => h.name !== 'content-length').concat([{ name: 'content-length', value: '4' }]));
  assert.deepEqual(again.body, m.body);
});

test('RFC 3261 §7 serialize: UTF-8 header text and bodies of any size come out byte-exact, each message apart', () => {
  const make = (name: string, body: Buffer): SipResponse => {
    const r = new SipResponse(200, 'OK');
    r.append('via', 'SIP/2.0/UDP h;branch=z9hG4bKx');
    r.append('from', `"${name}" <sip:a@example.com>;tag=1`);
    r.append('subject', 'ünïcödé — 日本語 😀');
    r.body = body;
    return r;
  };
  const expected = (r: SipResponse): Buffer => {
    let head = 'SIP/2.0 200 OK\r\n';
    for (const h of r.headers) head += `${h.name === 'via' ? 'Via' : h.name === 'from' ? 'From' : 'Subject'}: ${h.value}\r\n`;
    return Buffer.concat([Buffer.from(`${head}Content-Length: ${r.body.length}\r\n\r\n`, 'utf8'), r.body]);
  };
  const outs: { out: Buffer; want: Buffer }[] = [];
  // Enough messages to fill several slabs, small and large (a large one gets its own Buffer).
  for (let i = 0; i < 400; i++) {
    const body = Buffer.alloc(i % 50 === 0 ? 20_000 + i : i * 7, String.fromCharCode(97 + (i % 26)));
    const r = make(`Zoë ${i}`, body);
    outs.push({ out: serialize(r), want: expected(r) });
  }
  for (const { out, want } of outs) assert.deepEqual(out, want);
  const again = parseMessage(outs[3]!.out);
  assert.equal(again.get('subject'), 'ünïcödé — 日本語 😀');
});

test('RFC 3261 §7.2 status line with an empty reason phrase', () => {
  const r = parseMessage('SIP/2.0 180 \r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nContent-Length: 0\r\n\r\n');
  assert.ok(r instanceof SipResponse);
  assert.equal(r.status, 180);
  assert.equal(r.reason, '');
});

test('RFC 3261 §7.2 status codes outside 100-699 are rejected', () => {
  for (const code of ['099', '700', '20', '2000', 'abc']) {
    assert.throws(() => parseMessage(`SIP/2.0 ${code} X\r\n\r\n`), MessageParseError, code);
  }
});

test('RFC 3261 §7.5 leading CRLFs before the start line are skipped', () => {
  const m = parseMessage('\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n');
  assert.ok(m.isRequest());
  assert.equal(m.method, 'OPTIONS');
});

test('RFC 3261 §18.3 Content-Length larger than the datagram is a 400 that keeps the partial message', () => {
  try {
    parseMessage('OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\nContent-Length: 10\r\n\r\nabc');
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof MessageParseError);
    assert.equal(e.status, 400);
    assert.equal(e.partial?.get('call-id'), 'x');
  }
});

test('limits: too many header fields and oversized headers are refused', () => {
  const many = 'OPTIONS sip:a@b SIP/2.0\r\n' + 'X-A: 1\r\n'.repeat(DEFAULT_LIMITS.maxHeaders + 1) + '\r\n';
  assert.throws(() => parseMessage(many), /more than/);
  const big = 'OPTIONS sip:a@b SIP/2.0\r\nX-A: ' + 'a'.repeat(DEFAULT_LIMITS.maxHeaderBytes) + '\r\n\r\n';
  assert.throws(() => parseMessage(big), /headers longer/);
  const body = 'OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 20\r\n\r\n' + 'x'.repeat(20);
  assert.throws(() => parseDatagram(Buffer.from(body), { ...DEFAULT_LIMITS, maxBodyBytes: 10 }), /body larger/);
});

test('header API: set, append, prepend, remove keep order and invalidate cached values', () => {
  const m = parseMessage(INVITE);
  assert.equal(m.topVia()?.host, '192.0.2.1');
  m.prepend('via', 'SIP/2.0/UDP 198.51.100.1;branch=z9hG4bKnew');
  assert.equal(m.topVia()?.host, '198.51.100.1');
  assert.equal(m.via().length, 3);
  m.set('cseq', '2 INVITE');
  assert.equal(m.cseq().seq, 2);
  m.remove('via');
  assert.equal(m.via().length, 0);
  m.append('Supported', 'timer, norefersub');
  m.append('k', 'path');
  assert.deepEqual(m.tokens('supported'), ['timer', 'norefersub', 'path']);
});

test('hostile input: a megabyte of header lines parses in bounded time or is refused', () => {
  const huge = 'OPTIONS sip:a@b SIP/2.0\r\n' + 'Via: ' + ','.repeat(1_000_000) + '\r\n\r\n';
  assert.throws(() => parseMessage(huge));
  const lf = Buffer.alloc(200_000, 10);
  assert.throws(() => parseDatagram(lf), /empty/);
});
