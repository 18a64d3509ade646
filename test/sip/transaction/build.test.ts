import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createResponse, reasonPhrase } from '../../../src/sip/transaction/build.js';
import { harness, incoming, isStatus } from './harness.js';

test('RFC 3261 §8.2.6.2: createResponse copies Via (all, in order), From, To, Call-ID, CSeq, and adds a To tag only if missing', () => {
  const req = incoming('MESSAGE', {
    via: 'SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com;branch=z9hG4bK2',
    extra: ['Via: SIP/2.0/UDP c.example.com;branch=z9hG4bK3', 'Contact: <sip:carol@192.0.2.30>', 'Subject: hi'],
  });
  const res = createResponse(req, 202, undefined, 'srv1');
  assert.equal(res.reason, 'Accepted');
  assert.deepEqual(res.getAll('via'), req.getAll('via'));
  assert.equal(res.via().length, 3);
  assert.equal(res.toTag(), 'srv1');
  assert.equal(res.get('from'), req.get('from'));
  assert.equal(res.get('call-id'), req.get('call-id'));
  assert.equal(res.get('cseq'), req.get('cseq'));
  assert.equal(res.has('contact'), false);
  assert.equal(res.has('subject'), false);
  const inDialog = incoming('BYE', { toTag: 'existing' });
  assert.equal(createResponse(inDialog, 200, 'OK', 'other').toTag(), 'existing');
});

test('RFC 3261 §8.2.6.2: a request with two To fields (rejected with 400) gets one tagged To back, where the first was', () => {
  const req = incoming('OPTIONS', { extra: ['To: <sip:second@example.com>'] });
  assert.equal(req.count('to'), 2);
  const res = createResponse(req, 400, undefined, 'srv2');
  assert.deepEqual(res.getAll('to'), [`${req.get('to')};tag=srv2`]);
  assert.deepEqual(res.headers.map((h) => h.name), req.headers.map((h) => h.name).filter((n, i, all) => ['via', 'from', 'to', 'call-id', 'cseq'].includes(n) && !(n === 'to' && all.indexOf('to') !== i)));
});

test('RFC 3261 §21: reason phrases for the codes the layer sends, class names otherwise', () => {
  assert.equal(reasonPhrase(100), 'Trying');
  assert.equal(reasonPhrase(503), 'Service Unavailable');
  assert.equal(reasonPhrase(487), 'Request Terminated');
  assert.equal(reasonPhrase(199), 'Early Dialog Terminated');
  assert.equal(reasonPhrase(198), 'Provisional');
  assert.equal(reasonPhrase(699), 'Global Failure');
});

test('RFC 3261 §18.2.2: respondStateless answers where the request\'s responses go, without a transaction', async () => {
  const h = harness();
  const req = incoming('OPTIONS', { via: 'SIP/2.0/UDP 192.0.2.30:5070;branch=z9hG4bKs;rport' });
  await h.layer.respondStateless(req, createResponse(req, 481));
  assert.equal(h.transport.times(isStatus(481)).length, 1);
  assert.deepEqual(h.transport.sent[0]!.dest, { transport: 'UDP', address: '192.0.2.30', port: 5070 });
  assert.equal(h.layer.stats.activeServerTransactions, 0);
});
