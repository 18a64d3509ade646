// RFC 3261 §12 dialogs: creation on both sides, route sets, in-dialog requests (loose and
// strict routing), CSeq rules, remote target refresh, and the ACK for a 2xx (§13.2.2.4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dialog } from '../../../src/sip/dialog/dialog.js';
import { parseMessage } from '../../../src/sip/message/parse.js';
import type { SipRequest, SipResponse } from '../../../src/sip/message/message.js';

const INVITE = parseMessage(
  [
    'INVITE sip:bob@biloxi.example.com SIP/2.0',
    'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK74bf9',
    'Max-Forwards: 70',
    'From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl',
    'To: Bob <sip:bob@biloxi.example.com>',
    'Call-ID: 3848276298220188511@atlanta.example.com',
    'CSeq: 314159 INVITE',
    'Contact: <sip:alice@pc33.atlanta.example.com>',
    'Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'),
) as SipRequest;

function ok(status = 200, extra: string[] = ['Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>']): SipResponse {
  return parseMessage(
    [
      `SIP/2.0 ${status} OK`,
      'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK74bf9',
      'From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl',
      'To: Bob <sip:bob@biloxi.example.com>;tag=8321234356',
      'Call-ID: 3848276298220188511@atlanta.example.com',
      'CSeq: 314159 INVITE',
      'Contact: <sip:bob@192.0.2.4>',
      ...extra,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  ) as SipResponse;
}

test('RFC 3261 §12.1.2 UAC dialog: id from tags, route set reversed, remote target = Contact, local seq = CSeq', () => {
  const d = Dialog.asUac(INVITE, ok());
  assert.equal(d.state, 'confirmed');
  assert.deepEqual(d.id, { callId: '3848276298220188511@atlanta.example.com', localTag: '9fxced76sl', remoteTag: '8321234356' });
  assert.deepEqual(d.routeSet, ['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
  assert.equal(d.remoteTarget, 'sip:bob@192.0.2.4');
  assert.equal(d.localSeq, 314159);
  assert.equal(d.remoteSeq, undefined);
  assert.equal(d.localUri, 'sip:alice@atlanta.example.com');
  assert.equal(d.remoteUri, 'sip:bob@biloxi.example.com');
});

test('RFC 3261 §12.1.1 UAS dialog: route set in order, remote target = request Contact, remote seq = CSeq', () => {
  const d = Dialog.asUas(INVITE, ok());
  assert.deepEqual(d.routeSet, ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
  assert.equal(d.remoteTarget, 'sip:alice@pc33.atlanta.example.com');
  // §12.1.1: the UAS's local URI is the request's To, its remote URI the From.
  assert.equal(d.localUri, 'sip:bob@biloxi.example.com');
  assert.equal(d.remoteUri, 'sip:alice@atlanta.example.com');
  d.remoteTarget = 'sip:alice@192.0.2.99';
  assert.equal(d.remoteTarget, 'sip:alice@192.0.2.99');
  const bye = d.createRequest('BYE');
  assert.equal(bye.get('to'), '<sip:alice@atlanta.example.com>;tag=9fxced76sl');
  assert.equal(bye.get('from'), '<sip:bob@biloxi.example.com>;tag=8321234356');
  assert.equal(d.remoteSeq, 314159);
  assert.deepEqual(d.id, { callId: '3848276298220188511@atlanta.example.com', localTag: '8321234356', remoteTag: '9fxced76sl' });
});

test('RFC 3261 §12.1.2 a 1xx with a To tag makes an early dialog, confirmed (and its route set fixed) by the 2xx', () => {
  const d = Dialog.asUac(INVITE, ok(180, []));
  assert.equal(d.state, 'early');
  assert.deepEqual(d.routeSet, []);
  d.updateFromResponse(ok());
  assert.equal(d.state, 'confirmed');
  assert.deepEqual(d.routeSet, ['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
});

test('RFC 3261 §12.2.1.1 loose routing: Request-URI = remote target, Route = route set; CSeq increments', () => {
  const d = Dialog.asUac(INVITE, ok());
  const bye = d.createRequest('BYE');
  assert.equal(bye.uri, 'sip:bob@192.0.2.4');
  assert.deepEqual(bye.getAll('route'), ['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
  assert.deepEqual(bye.cseq(), { seq: 314160, method: 'BYE' });
  assert.equal(bye.toTag(), '8321234356');
  assert.equal(bye.fromTag(), '9fxced76sl');
  assert.equal(bye.callId(), '3848276298220188511@atlanta.example.com');
  assert.equal(d.createRequest('INFO').cseq().seq, 314161);
  assert.equal(d.nextHop(), 'sip:p2.example.com;lr');
});

test('RFC 3261 §12.2.1.1 strict routing: the first route becomes the Request-URI, the remote target the last Route', () => {
  const d = Dialog.asUac(INVITE, ok(200, ['Record-Route: <sip:strict.example.com>']));
  const bye = d.createRequest('BYE');
  assert.equal(bye.uri, 'sip:strict.example.com');
  assert.deepEqual(bye.getAll('route'), ['<sip:bob@192.0.2.4>']);
});

test('RFC 3261 §13.2.2.4 the ACK for a 2xx has the INVITE CSeq number and does not advance the sequence', () => {
  const d = Dialog.asUac(INVITE, ok());
  const ack = d.createAck(314159);
  assert.deepEqual(ack.cseq(), { seq: 314159, method: 'ACK' });
  assert.equal(ack.uri, 'sip:bob@192.0.2.4');
  assert.equal(d.localSeq, 314159);
});

test('RFC 3261 §12.2.2 a lower CSeq is refused; a higher one is recorded; ACK does not count', () => {
  const d = Dialog.asUas(INVITE, ok());
  const req = (seq: number, method: string, contact?: string) =>
    parseMessage(
      `${method} sip:bob@192.0.2.4 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx${seq}\r\nFrom: <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n` +
        `To: <sip:bob@biloxi.example.com>;tag=8321234356\r\nCall-ID: 3848276298220188511@atlanta.example.com\r\nCSeq: ${seq} ${method}\r\n` +
        (contact !== undefined ? `Contact: ${contact}\r\n` : '') +
        'Content-Length: 0\r\n\r\n',
    ) as SipRequest;
  assert.equal(d.receiveRequest(req(314160, 'INFO')), true);
  assert.equal(d.remoteSeq, 314160);
  assert.equal(d.receiveRequest(req(314100, 'INFO')), false);
  assert.equal(d.receiveRequest(req(1, 'ACK')), true);
  assert.equal(d.remoteSeq, 314160);
  // §12.2: a re-INVITE (target refresh) updates the remote target.
  assert.equal(d.receiveRequest(req(314161, 'INVITE', '<sip:alice@198.51.100.7>')), true);
  assert.equal(d.remoteTarget, 'sip:alice@198.51.100.7');
  // INFO is not a target refresh request.
  d.receiveRequest(req(314162, 'INFO', '<sip:alice@203.0.113.9>'));
  assert.equal(d.remoteTarget, 'sip:alice@198.51.100.7');
});

test('RFC 3261 §12.2.1.1 a UAS dialog starts its own sequence when it first sends a request', () => {
  const d = Dialog.asUas(INVITE, ok());
  const bye = d.createRequest('BYE');
  assert.ok(bye.cseq().seq >= 1 && bye.cseq().seq < 2 ** 31);
  assert.equal(bye.uri, 'sip:alice@pc33.atlanta.example.com');
  assert.deepEqual(bye.getAll('route'), ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
  assert.equal(bye.toTag(), '9fxced76sl');
});
