// RFC 3261 §18.2.1 / RFC 3581 §4 Via stamping, §18.2.2 response routing, §8.2 stateless 400.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalIp, readTopVia, responseDestination, stampRequest, stampViaValue } from '../../../src/sip/transport/received.js';
import { statelessErrorResponse, toReasonPhrase } from '../../../src/sip/transport/stateless.js';
import { MessageParseError, parseMessage } from '../../../src/sip/message/parse.js';
import { SipRequest, type MessageSource } from '../../../src/sip/message/message.js';
import { request } from './helpers.js';

test('RFC 3261 §18.2.1: sent-by equal to the source address gets no received', () => {
  const v = 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1';
  assert.equal(stampViaValue(v, '192.0.2.1', 5060), v);
});

test('RFC 3261 §18.2.1: a different source address is added as received, the rest kept exact', () => {
  const v = 'SIP/2.0/UDP 192.0.2.1:5060 ; branch=z9hG4bK1 ;Foo="a,b;c"';
  assert.equal(stampViaValue(v, '198.51.100.7', 4000), v + ';received=198.51.100.7');
});

test('RFC 3261 §18.2.1: a host name in sent-by always gets received', () => {
  assert.equal(
    stampViaValue('SIP / 2.0 / TCP pc33.example.com;branch=z9hG4bK1', '192.0.2.9', 1234),
    'SIP / 2.0 / TCP pc33.example.com;branch=z9hG4bK1;received=192.0.2.9',
  );
});

test('RFC 3581 §4: an empty rport is filled and received added even when the address matches', () => {
  assert.equal(
    stampViaValue('SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff', '10.1.1.1', 9988),
    'SIP/2.0/UDP 10.1.1.1:4540;rport=9988;branch=z9hG4bKkjshdyff;received=10.1.1.1',
  );
  assert.equal(
    stampViaValue('SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK1;RPORT', '192.0.2.1', 9988),
    'SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK1;RPORT=9988;received=192.0.2.1',
  );
});

test('RFC 3581 §4: an rport that already has a value is left alone; a stale received is replaced', () => {
  assert.equal(
    stampViaValue('SIP/2.0/UDP h.example.com;received=192.0.2.200;rport=7000;branch=z9hG4bK1', '192.0.2.1', 9988),
    'SIP/2.0/UDP h.example.com;received=192.0.2.1;rport=7000;branch=z9hG4bK1',
  );
});

test('RFC 3261 §18.2.1: only the first via-parm of a multi-value field is touched', () => {
  const v = 'SIP/2.0/UDP a.example.com;branch=z9hG4bK1 , SIP/2.0/UDP b.example.com;branch=z9hG4bK2';
  assert.equal(
    stampViaValue(v, '192.0.2.1', 5060),
    'SIP/2.0/UDP a.example.com;branch=z9hG4bK1;received=192.0.2.1 , SIP/2.0/UDP b.example.com;branch=z9hG4bK2',
  );
});

test('RFC 5118 §4.5: IPv6 received is written without brackets; [::1] matches ::1', () => {
  assert.equal(stampViaValue('SIP/2.0/UDP [::1]:5060;branch=z9hG4bK1', '::1', 5060), 'SIP/2.0/UDP [::1]:5060;branch=z9hG4bK1');
  assert.equal(
    stampViaValue('SIP/2.0/UDP [2001:DB8:0::9:1];branch=z9hG4bK1', '2001:db8::9:1', 5060),
    'SIP/2.0/UDP [2001:DB8:0::9:1];branch=z9hG4bK1',
  );
  assert.equal(
    stampViaValue('SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bK1', '2001:db8::9:255', 5060),
    'SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bK1;received=2001:db8::9:255',
  );
});

test('RFC 5118 §4.4: an IPv4-mapped source (dual-stack socket) compares as IPv4', () => {
  assert.equal(canonicalIp('::ffff:192.0.2.10'), '192.0.2.10');
  assert.equal(canonicalIp('[::FFFF:C000:020A]'), '192.0.2.10');
  assert.equal(canonicalIp('2001:0db8:0000::0001'), '2001:db8::1');
  assert.equal(canonicalIp('example.com'), undefined);
  assert.equal(stampViaValue('SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1', '::ffff:192.0.2.10', 5060), 'SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1');
});

test('RFC 3261 §18.2.1: an unreadable top Via is reported (undefined), not guessed', () => {
  for (const v of ['garbage', 'SIP/2.0/UDP', 'SIP/2.0/UDP 2001:db8::1;branch=x', 'SIP/2.0/UDP h:99999', 'SIP/2.0/UDP h;;x', 'SIP/2.0/UDP h;rport=abc']) {
    assert.equal(stampViaValue(v, '192.0.2.1', 5060), undefined, v);
  }
});

test('RFC 3261 §20.42: readTopVia reads transport, sent-by, received, rport, maddr', () => {
  assert.deepEqual(readTopVia('SIP/2.0/udp [::1]:5070;received=[::2];rport=1;maddr=224.2.0.1, SIP/2.0/TCP x'), {
    transport: 'UDP',
    host: '::1',
    port: 5070,
    received: '::2',
    rport: 1,
    maddr: '224.2.0.1',
  });
});

function received(text: string, source: MessageSource): SipRequest {
  const m = parseMessage(text);
  assert.ok(m instanceof SipRequest);
  m.source = source;
  assert.ok(stampRequest(m));
  return m;
}

const udpSource: MessageSource = {
  transport: 'UDP',
  localAddress: '127.0.0.1',
  localPort: 5060,
  remoteAddress: '192.0.2.1',
  remotePort: 40000,
  connectionId: 'UDP:127.0.0.1:5060',
};

test('RFC 3261 §18.2.2 / RFC 3581 §4: UDP responses go to received and rport, from the same socket', () => {
  const m = received(request({ via: 'SIP/2.0/UDP 10.0.0.1:5062;rport;branch=z9hG4bK1' }), udpSource);
  assert.deepEqual(responseDestination(m), { transport: 'UDP', address: '192.0.2.1', port: 40000, connectionId: 'UDP:127.0.0.1:5060' });
});

test('RFC 3261 §18.2.2: without rport a UDP response goes to received and the sent-by port (default 5060)', () => {
  let m = received(request({ via: 'SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1' }), udpSource);
  assert.deepEqual(responseDestination(m), { transport: 'UDP', address: '192.0.2.1', port: 5062, connectionId: 'UDP:127.0.0.1:5060' });
  m = received(request({ via: 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1' }), udpSource);
  assert.equal(responseDestination(m)?.port, 5060);
  m = received(request({ via: 'SIP/2.0/UDP 192.0.2.1;maddr=224.0.1.75;branch=z9hG4bK1' }), udpSource);
  assert.equal(responseDestination(m)?.address, '224.0.1.75');
});

test('RFC 3261 §18.2.2: a TCP response names the connection, falling back to received and the sent-by port', () => {
  const m = received(request({ via: 'SIP/2.0/TCP client.example.com:5070;rport;branch=z9hG4bK1' }), {
    ...udpSource,
    transport: 'TCP',
    connectionId: 'TCP-7',
  });
  assert.deepEqual(responseDestination(m), { transport: 'TCP', address: '192.0.2.1', port: 5070, connectionId: 'TCP-7' });
});

test('RFC 3261 §18.2.2: routing reads the Via each request has, whatever request was stamped last', () => {
  const a = received(request({ via: 'SIP/2.0/UDP 10.0.0.1:5062;rport;branch=z9hG4bK1' }), udpSource);
  const b = received(request({ via: 'SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bK2' }), { ...udpSource, remotePort: 40001 });
  // b was stamped last: a still routes by its own (stamped) Via.
  assert.deepEqual(responseDestination(a), { transport: 'UDP', address: '192.0.2.1', port: 40000, connectionId: 'UDP:127.0.0.1:5060' });
  assert.deepEqual(responseDestination(b), { transport: 'UDP', address: '192.0.2.1', port: 5070, connectionId: 'UDP:127.0.0.1:5060' });
  // A Via replaced after stamping is read as it now is.
  b.set('via', 'SIP/2.0/UDP 192.0.2.1:5070;received=198.51.100.1;rport=7;branch=z9hG4bK2');
  assert.deepEqual(responseDestination(b), { transport: 'UDP', address: '198.51.100.1', port: 7, connectionId: 'UDP:127.0.0.1:5060' });
  // The stamped value is the one the message carries, parsed like any other.
  assert.equal(a.get('via'), 'SIP/2.0/UDP 10.0.0.1:5062;rport=40000;branch=z9hG4bK1;received=192.0.2.1');
  assert.equal(a.topVia()?.params.find((p) => p.name === 'rport')?.value, '40000');
});

test('RFC 3261 §8.2.6.2: the stateless 400 copies Via, From, Call-ID, CSeq and adds a To tag', () => {
  const partial = parseMessage(
    request({ via: 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1', extra: ['Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK0'] }),
  );
  const res = statelessErrorResponse(new MessageParseError('bad Content-Length "-999"', 0, 400, partial, true), '127.0.0.1:5060');
  assert.ok(res !== undefined);
  assert.equal(res.status, 400);
  assert.equal(res.reason, "bad Content-Length '-999'");
  assert.deepEqual(res.getAll('via'), ['SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1', 'SIP/2.0/UDP proxy.example.com;branch=z9hG4bK0']);
  assert.equal(res.get('call-id'), 'call-1@example.com');
  assert.equal(res.get('cseq'), '1 OPTIONS');
  assert.match(res.get('to') ?? '', /^<sip:bob@example\.com>;tag=[0-9a-f]{12}$/);
  assert.equal(res.get('warning'), '399 127.0.0.1:5060 "bad Content-Length \\"-999\\""');
});

test('RFC 3261 §17 / §8.2: no stateless response for ACK, responses, or requests missing Call-ID', () => {
  const ack = parseMessage(request({ method: 'ACK', via: 'SIP/2.0/UDP h;branch=z9hG4bK1' }));
  assert.equal(statelessErrorResponse(new MessageParseError('x', 0, 400, ack), 'h'), undefined);
  const noCallId = parseMessage(request({ via: 'SIP/2.0/UDP h;branch=z9hG4bK1' }).replace(/Call-ID:[^\r]*\r\n/, ''));
  assert.equal(statelessErrorResponse(new MessageParseError('x', 0, 400, noCallId), 'h'), undefined);
  assert.equal(statelessErrorResponse(new MessageParseError('x', 0, 400), 'h'), undefined);
});

test('RFC 3261 §25.1: reason phrases carry no CR/LF or characters outside Reason-Phrase', () => {
  assert.equal(toReasonPhrase('bad "x"\r\nInjected: <1>'), "bad 'x' Injected: 1");
  assert.equal(toReasonPhrase(''), 'Bad Request');
  assert.equal(toReasonPhrase('a'.repeat(500)).length, 120);
});
