import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SipRequest } from '../../../src/sip/message/message.js';
import { parseMessage } from '../../../src/sip/message/parse.js';
import { ServerInviteTransaction } from '../../../src/sip/transaction/server-invite.js';
import { ServerNonInviteTransaction } from '../../../src/sip/transaction/server-non-invite.js';
import { tortureDir } from '../../helpers/paths.js';
import { harness, incoming, outgoing, responseTo, tuResponse, UDP_PEER } from './harness.js';

function fixture(name: string): SipRequest {
  const req = parseMessage(readFileSync(join(tortureDir, 'rfc4475', name))) as SipRequest;
  req.source = { transport: 'UDP', localAddress: '192.0.2.10', localPort: 5060, remoteAddress: '192.0.2.1', remotePort: 5060 };
  return req;
}

test('RFC 3261 §17.2.3: same branch and sent-by but another method is another transaction', () => {
  const h = harness();
  h.layer.receive(incoming('INVITE', { branch: 'z9hG4bKsame' }));
  h.layer.receive(incoming('OPTIONS', { branch: 'z9hG4bKsame' }));
  assert.equal(h.requests.length, 2);
  assert.ok(h.requests[0]!.tx instanceof ServerInviteTransaction);
  assert.ok(h.requests[1]!.tx instanceof ServerNonInviteTransaction);
  assert.notEqual(h.requests[0]!.tx, h.requests[1]!.tx);
  assert.equal(h.layer.stats.activeServerTransactions, 2);
});

test('RFC 3261 §17.2.3: same branch from another sent-by is another transaction', () => {
  const h = harness();
  h.layer.receive(incoming('MESSAGE', { via: 'SIP/2.0/UDP 192.0.2.30:5070;branch=z9hG4bKdup' }));
  h.layer.receive(incoming('MESSAGE', { via: 'SIP/2.0/UDP 192.0.2.31:5070;branch=z9hG4bKdup' }));
  h.layer.receive(incoming('MESSAGE', { via: 'SIP/2.0/UDP 192.0.2.30;branch=z9hG4bKdup' }));
  assert.equal(h.requests.length, 3);
  // An absent port is the default port: 5060 and no port are the same sent-by.
  h.layer.receive(incoming('MESSAGE', { via: 'SIP/2.0/UDP 192.0.2.30:5060;branch=z9hG4bKdup' }));
  assert.equal(h.requests.length, 3);
});

test('RFC 3261 §9.2, §17.2.3: a CANCEL is its own transaction; findInviteForCancel finds the INVITE; 200 to CANCEL, 487 to INVITE, ACK confirms', () => {
  const h = harness();
  const invite = incoming('INVITE', { branch: 'z9hG4bKcx' });
  h.layer.receive(invite);
  const inviteTx = h.requests[0]!.tx as ServerInviteTransaction;
  inviteTx.respond(tuResponse(invite, 180, 'u1'));

  const cancel = incoming('CANCEL', { branch: 'z9hG4bKcx' });
  h.layer.receive(cancel);
  assert.equal(h.requests.length, 2, 'the CANCEL reaches the TU');
  const cancelTx = h.requests[1]!.tx;
  assert.ok(cancelTx instanceof ServerNonInviteTransaction);
  assert.equal(inviteTx.state, 'proceeding', 'the CANCEL does not match the INVITE transaction');
  assert.equal(h.layer.findInviteForCancel(cancel), inviteTx);
  assert.equal(h.layer.findTransactionForCancel(cancel), inviteTx);

  cancelTx.respond(tuResponse(cancel, 200, 'u1'));
  inviteTx.respond(tuResponse(invite, 487, 'u1'));
  assert.equal(inviteTx.state, 'completed');
  h.layer.receive(incoming('CANCEL', { branch: 'z9hG4bKcx' }));
  assert.deepEqual(
    h.transport.responses().map((r) => `${r.status} ${r.cseq().method}`),
    ['180 INVITE', '200 CANCEL', '487 INVITE', '200 CANCEL'],
    'the CANCEL retransmission gets the CANCEL\'s 200, not the INVITE\'s response',
  );
  h.layer.receive(incoming('ACK', { branch: 'z9hG4bKcx', toTag: 'u1' }));
  assert.equal(inviteTx.state, 'confirmed', 'the ACK for the 487 matches the INVITE transaction');
  assert.equal(h.requests.length, 2);
});

test('RFC 3261 §9.2: a CANCEL matching nothing finds no INVITE (the TU answers 481)', () => {
  const h = harness();
  h.layer.receive(incoming('INVITE', { branch: 'z9hG4bKone' }));
  const cancel = incoming('CANCEL', { branch: 'z9hG4bKother' });
  h.layer.receive(cancel);
  assert.equal(h.layer.findInviteForCancel(cancel), undefined);
  const stranger = incoming('CANCEL', { via: 'SIP/2.0/UDP 192.0.2.99;branch=z9hG4bKone' });
  assert.equal(h.layer.findInviteForCancel(stranger), undefined, 'same branch, another sent-by');
});

test('RFC 3261 §9.2: a CANCEL of a non-INVITE finds that transaction but no INVITE', () => {
  const h = harness();
  h.layer.receive(incoming('OPTIONS', { branch: 'z9hG4bKopt' }));
  const cancel = incoming('CANCEL', { branch: 'z9hG4bKopt' });
  h.layer.receive(cancel);
  assert.equal(h.layer.findInviteForCancel(cancel), undefined);
  assert.equal(h.layer.findTransactionForCancel(cancel), h.requests[0]!.tx);
});

test('RFC 3261 §17.2.3: RFC 2543 fallback (RFC 4475 §3.4.1 inv2543): retransmission, ACK by To tag, new CSeq', () => {
  const h = harness();
  const invite = fixture('inv2543.dat');
  h.layer.receive(invite);
  assert.equal(h.requests.length, 1);
  const tx = h.requests[0]!.tx as ServerInviteTransaction;
  h.layer.receive(fixture('inv2543.dat'));
  assert.equal(h.requests.length, 1, 'a byte-identical INVITE is a retransmission');
  tx.respond(tuResponse(invite, 486, 'srv'));

  const ackText = (toTag: string) =>
    readFileSync(join(tortureDir, 'rfc4475', 'inv2543.dat'), 'utf8')
      .replace(/^INVITE /, 'ACK ')
      .replace('CSeq: 56 INVITE', 'CSeq: 56 ACK')
      .replace('To: sip:+16505552222@ss1.example.net;user=phone', `To: <sip:+16505552222@ss1.example.net;user=phone>;tag=${toTag}`)
      .split(/\r?\n\r?\n/)[0]! + '\r\n\r\n';
  const wrongAck = parseMessage(ackText('other')) as SipRequest;
  h.layer.receive(wrongAck);
  assert.equal(tx.state, 'completed', 'an ACK with another To tag does not match');
  assert.equal(h.requests[1]?.tx, undefined);
  h.layer.receive(parseMessage(ackText('srv')));
  assert.equal(tx.state, 'confirmed');

  const next = readFileSync(join(tortureDir, 'rfc4475', 'inv2543.dat'), 'utf8').replace('CSeq: 56 INVITE', 'CSeq: 57 INVITE');
  h.layer.receive(parseMessage(next));
  assert.equal(h.requests.length, 3, 'another CSeq is another transaction');
});

test('RFC 3261 §17.2.3: RFC 2543 fallback compares the To tag of non-INVITE requests and the method', () => {
  const h = harness();
  const via = 'SIP/2.0/UDP old.example.com:5060';
  h.layer.receive(incoming('BYE', { via, toTag: 't1' }));
  h.layer.receive(incoming('BYE', { via, toTag: 't1' }));
  assert.equal(h.requests.length, 1);
  h.layer.receive(incoming('BYE', { via, toTag: 't2' }));
  h.layer.receive(incoming('INFO', { via, toTag: 't1', cseqMethod: 'INFO' }));
  h.layer.receive(incoming('BYE', { via, toTag: 't1', fromTag: 'other' }));
  h.layer.receive(incoming('BYE', { via, toTag: 't1', uri: 'sip:other@192.0.2.10' }));
  assert.equal(h.requests.length, 5);
});

test('RFC 4475 §3.2.1 badbranch: a bare z9hG4bK branch is not an identifier; the request falls back to RFC 2543 matching', () => {
  const h = harness();
  const req = fixture('badbranch.dat');
  assert.doesNotThrow(() => h.layer.receive(req));
  assert.equal(h.requests.length, 1);
  assert.ok(h.requests[0]!.tx instanceof ServerNonInviteTransaction);
  h.layer.receive(fixture('badbranch.dat'));
  assert.equal(h.requests.length, 1, 'its retransmission still matches');
  const other = readFileSync(join(tortureDir, 'rfc4475', 'badbranch.dat'), 'utf8').replace('Call-ID: badbranch.', 'Call-ID: other.');
  h.layer.receive(parseMessage(other));
  assert.equal(h.requests.length, 2, 'another request with the same bare cookie is not taken for a retransmission');
  const tx = h.requests[0]!.tx!;
  tx.respond(tuResponse(req, 200, 'x'));
  assert.equal(h.transport.sent[0]?.dest.address, '192.0.2.1');
});

test('RFC 3261 §17.1.3: a response with an unknown branch, or no Via, is stray', () => {
  const h = harness();
  h.layer.sendRequest(outgoing('OPTIONS'), UDP_PEER, { onFinal: () => assert.fail('not ours') });
  const unknown = responseTo(incoming('OPTIONS', { branch: 'z9hG4bKnotmine' }), 200, 'x');
  h.layer.receive(unknown);
  const noVia = parseMessage('SIP/2.0 200 OK\r\nTo: <sip:b@x>;tag=1\r\nFrom: <sip:a@x>;tag=2\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n');
  h.layer.receive(noVia);
  assert.deepEqual(h.stray, [unknown, noVia]);
  assert.equal(h.layer.stats.strayResponses, 2);
});

test('RFC 3261 §17.1.3: responses are matched by the top Via branch only (a multi-Via field is split)', () => {
  const h = harness();
  let finals = 0;
  const tx = h.layer.sendRequest(outgoing('OPTIONS'), UDP_PEER, { onFinal: () => finals++ });
  const req = tx.request;
  const res = responseTo(req, 200, 'x');
  res.set('via', `${req.get('via')}, SIP/2.0/UDP 192.0.2.77;branch=z9hG4bKbelow`);
  h.layer.receive(res);
  assert.equal(finals, 1);
});

test('RFC 3261 §17.2.3: a request with an unreadable CSeq is answered 400 and reaches no TU', () => {
  const h = harness();
  const errors: unknown[] = [];
  const h2 = harness({ onMalformed: (_m, e) => errors.push(e) });
  for (const x of [h, h2]) {
    const req = incoming('MESSAGE');
    req.set('cseq', 'not-a-number MESSAGE');
    x.layer.receive(req);
    assert.equal(x.requests.length, 0);
    assert.equal(x.transport.responses(400).length, 1);
    assert.equal(x.layer.stats.malformed, 1);
  }
  assert.equal(errors.length, 1);
});

test('RFC 3261 §18.2.1: a request without a Via is dropped (there is nowhere to answer)', () => {
  const h = harness();
  const req = incoming('MESSAGE');
  req.remove('via');
  h.layer.receive(req);
  assert.equal(h.requests.length, 0);
  assert.equal(h.transport.sent.length, 0);
  assert.equal(h.layer.stats.malformed, 1);
});

test('RFC 3261 §17.1.3: a response without a To (or with an unreadable CSeq) is dropped as malformed, not thrown', () => {
  const h = harness();
  let finals = 0;
  const tx = h.layer.sendRequest(outgoing('INVITE'), UDP_PEER, { onFinal: () => finals++ });
  const noTo = responseTo(tx.request, 486, 'x');
  noTo.remove('to');
  const badCseq = responseTo(tx.request, 486, 'x');
  badCseq.set('cseq', 'x INVITE');
  assert.doesNotThrow(() => h.layer.receive(noTo));
  assert.doesNotThrow(() => h.layer.receive(badCseq));
  assert.equal(finals, 0);
  assert.equal(h.layer.stats.malformed, 2);
  assert.equal(tx.state, 'calling');
});

test('RFC 3261 §9.2 with RFC 2543 matching: a CANCEL without a cookie finds its INVITE by R-URI, tags, Call-ID, CSeq number and Via', () => {
  const h = harness();
  const via = 'SIP/2.0/UDP old.example.com:5060';
  const invite = incoming('INVITE', { via });
  h.layer.receive(invite);
  const cancel = incoming('CANCEL', { via });
  h.layer.receive(cancel);
  assert.equal(h.requests.length, 2);
  assert.ok(h.requests[1]!.tx instanceof ServerNonInviteTransaction);
  assert.equal(h.layer.findInviteForCancel(cancel), h.requests[0]!.tx);
  assert.equal(h.layer.findInviteForCancel(incoming('CANCEL', { via, cseq: 2 })), undefined);
  assert.equal(h.layer.findInviteForCancel(incoming('CANCEL', { via, toTag: 'zz' })), undefined);
});
