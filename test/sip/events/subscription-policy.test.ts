// The subscriber's pure decisions (RFC 6665 §4.1.2.2, §4.1.3) and the NOTIFY-created dialog (§4.4.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dialogFromNotify, refreshDelayMs, refreshFailureEnds, retryPlan } from '../../../src/sip/events/index.js';
import { parseMessage } from '../../../src/sip/message/parse.js';
import type { SipRequest } from '../../../src/sip/message/message.js';

test('RFC 6665 §4.1.2.2: refresh at max(expires - 32 s, expires / 2)', () => {
  assert.equal(refreshDelayMs(3600), 3568_000);
  assert.equal(refreshDelayMs(600), 568_000);
  assert.equal(refreshDelayMs(64), 32_000);
  assert.equal(refreshDelayMs(60), 30_000);
  assert.equal(refreshDelayMs(10), 5_000);
});

test('RFC 6665 §4.1.2.2: which refresh responses end the subscription', () => {
  for (const s of [404, 405, 408, 410, 416, 480, 481, 482, 483, 484, 485, 489, 501, 604]) assert.equal(refreshFailureEnds(s), true, String(s));
  for (const s of [400, 403, 423, 486, 500, 503, 603]) assert.equal(refreshFailureEnds(s), false, String(s));
});

test('RFC 6665 §4.1.3: re-subscription by Subscription-State reason', () => {
  assert.equal(retryPlan('deactivated', undefined, 30), 0);
  assert.equal(retryPlan('timeout', undefined, 30), 0);
  assert.equal(retryPlan('deactivated', 4, 30), 4000);
  assert.equal(retryPlan('probation', 20, 30), 20_000);
  assert.equal(retryPlan('probation', undefined, 30), 30_000);
  assert.equal(retryPlan('giveup', 90, 30), 90_000);
  assert.equal(retryPlan(undefined, undefined, 30), 30_000);
  assert.equal(retryPlan('some-new-reason', 7, 30), 7000);
  for (const r of ['rejected', 'noresource', 'invariant']) assert.equal(retryPlan(r, 5, 30), undefined, r);
});

test('RFC 6665 §4.4.1 / RFC 3261 §12.1.1: a NOTIFY-created dialog takes tags, target and route set (in order) from the NOTIFY', () => {
  const sub = parseMessage(
    'SUBSCRIBE sip:conf@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKs1\r\n' +
      'From: <sip:history@example.com>;tag=ours\r\nTo: <sip:conf@example.com>\r\nCall-ID: c1\r\nCSeq: 5 SUBSCRIBE\r\n' +
      'Contact: <sip:127.0.0.1:5070>\r\nEvent: conference\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n',
  ) as SipRequest;
  const notify = parseMessage(
    'NOTIFY sip:127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKn1\r\n' +
      'Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>\r\nRecord-Route: <sip:p0.example.com;lr>\r\n' +
      'From: <sip:conf@example.com>;tag=theirs\r\nTo: <sip:history@example.com>;tag=ours\r\nCall-ID: c1\r\n' +
      'CSeq: 1 NOTIFY\r\nContact: <sip:focus@192.0.2.9:5060>\r\nEvent: conference\r\n' +
      'Subscription-State: active;expires=600\r\nContent-Length: 0\r\n\r\n',
  ) as SipRequest;
  const d = dialogFromNotify(sub, notify);
  assert.deepEqual(d.id, { callId: 'c1', localTag: 'ours', remoteTag: 'theirs' });
  assert.equal(d.remoteTarget, 'sip:focus@192.0.2.9:5060');
  assert.deepEqual(d.routeSet, ['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>', '<sip:p0.example.com;lr>']);
  assert.equal(d.localSeq, 5);
  assert.equal(d.state, 'confirmed');
  const refresh = d.createRequest('SUBSCRIBE');
  assert.equal(refresh.uri, 'sip:focus@192.0.2.9:5060');
  assert.deepEqual(refresh.getAll('route'), ['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>', '<sip:p0.example.com;lr>']);
  assert.equal(refresh.cseq().seq, 6);
});
