import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SipResponse } from '../../../src/sip/message/message.js';
import type { ClientInviteTransaction } from '../../../src/sip/transaction/client-invite.js';
import type { ClientTransactionHandlers } from '../../../src/sip/transaction/context.js';
import { TransactionTransportError } from '../../../src/sip/transaction/errors.js';
import {
  flush,
  gaps,
  harness,
  isMethod,
  outgoing,
  responseTo,
  TCP_PEER,
  UDP_PEER,
  type Harness,
} from './harness.js';

interface Seen {
  provisional: SipResponse[];
  final: SipResponse[];
  timeouts: number;
  transportErrors: TransactionTransportError[];
  terminated: number;
}

function recorder(): { seen: Seen; handlers: ClientTransactionHandlers } {
  const seen: Seen = { provisional: [], final: [], timeouts: 0, transportErrors: [], terminated: 0 };
  return {
    seen,
    handlers: {
      onProvisional: (r) => seen.provisional.push(r),
      onFinal: (r) => seen.final.push(r),
      onTimeout: () => seen.timeouts++,
      onTransportError: (e) => seen.transportErrors.push(e),
      onTerminated: () => seen.terminated++,
    },
  };
}

function startInvite(h: Harness, dest = UDP_PEER, extra: string[] = []) {
  const { seen, handlers } = recorder();
  const tx = h.layer.sendRequest(outgoing('INVITE', extra), dest, handlers) as ClientInviteTransaction;
  return { tx, seen, invite: tx.request };
}

test('RFC 3261 §17.1.1.2: Timer A retransmits the INVITE at 500, 1000, 2000 ... ms until Timer B (64*T1) fires', () => {
  const h = harness();
  const { tx, seen } = startInvite(h);
  assert.equal(tx.state, 'calling');
  h.clock.advance(31_999);
  const times = h.transport.times(isMethod('INVITE'));
  assert.deepEqual(times, [0, 500, 1500, 3500, 7500, 15500, 31500]);
  assert.deepEqual(gaps(times), [500, 1000, 2000, 4000, 8000, 16000]);
  assert.equal(seen.timeouts, 0);
  h.clock.advance(1);
  assert.equal(seen.timeouts, 1, 'Timer B informs the TU');
  assert.equal(tx.state, 'terminated');
  assert.equal(seen.terminated, 1);
  assert.equal(h.transport.requests('ACK').length, 0, 'no ACK on timeout');
  assert.equal(h.layer.stats.retransmissionsSent, 6);
  assert.equal(h.layer.stats.timeouts, 1);
  assert.equal(h.layer.stats.activeClientTransactions, 0);
  assert.equal(h.clock.pending, 0);
});

test('RFC 3261 §17.1.1.2: every retransmission is the same message (same branch)', () => {
  const h = harness();
  startInvite(h);
  h.clock.advance(2000);
  const texts = h.transport.sent.map((s) => s.text);
  assert.equal(texts.length, 3);
  assert.equal(new Set(texts).size, 1);
});

test('RFC 3261 §17.1.1.2: Timer A scales with a configured T1', () => {
  const h = harness({ timers: { T1: 100 } });
  const { seen } = startInvite(h);
  h.clock.advance(6400);
  assert.deepEqual(h.transport.times(isMethod('INVITE')), [0, 100, 300, 700, 1500, 3100, 6300]);
  assert.equal(seen.timeouts, 1, 'Timer B = 64*T1 = 6.4 s');
});

test('RFC 3261 §17.1.1.2: no Timer A over TCP; Timer B still times out at 32 s', () => {
  const h = harness();
  const { seen } = startInvite(h, TCP_PEER);
  h.clock.advance(31_999);
  assert.equal(h.transport.requests('INVITE').length, 1);
  assert.equal(seen.timeouts, 0);
  h.clock.advance(1);
  assert.equal(seen.timeouts, 1);
});

test('RFC 3261 §17.1.1.2: a 1xx moves Calling to Proceeding, stops retransmissions and Timer B', () => {
  const h = harness();
  const { tx, seen, invite } = startInvite(h);
  h.clock.advance(600);
  h.layer.receive(responseTo(invite, 100));
  assert.equal(tx.state, 'proceeding');
  h.layer.receive(responseTo(invite, 180, 'b1'));
  assert.deepEqual(
    seen.provisional.map((r) => r.status),
    [100, 180],
  );
  h.clock.advance(120_000);
  assert.equal(h.transport.requests('INVITE').length, 2, 'original + the one at 500 ms');
  assert.equal(seen.timeouts, 0);
  assert.equal(tx.state, 'proceeding');
});

test('RFC 3261 §17.1.1.3: the ACK for a 300-699 has the INVITE\'s Request-URI, Call-ID, From, CSeq number, top Via, Route, and the response\'s To', () => {
  const h = harness();
  const { tx, seen, invite } = startInvite(h, UDP_PEER, [
    'Route: <sip:p1.example.com;lr>',
    'Route: <sip:p2.example.com;lr>',
    'Contact: <sip:alice@192.0.2.10>',
    'Content-Type: application/sdp',
  ]);
  invite.body = Buffer.from('v=0\r\n');
  h.layer.receive(responseTo(invite, 486, 'busy-tag'));
  assert.equal(tx.state, 'completed');
  assert.equal(seen.final.length, 1);
  assert.equal(seen.final[0]!.status, 486);

  const acks = h.transport.sent.filter((s) => isMethod('ACK')(s.msg));
  assert.equal(acks.length, 1);
  const sent = acks[0]!;
  assert.deepEqual(sent.dest, UDP_PEER, 'the ACK goes where the INVITE went');
  const ack = sent.msg;
  assert.ok(ack.isRequest());
  assert.equal(ack.uri, 'sip:bob@example.com');
  assert.deepEqual(ack.getAll('via'), [invite.getAll('via')[0]]);
  assert.equal(ack.topVia()?.branch, invite.topVia()?.branch);
  assert.deepEqual(ack.getAll('route'), ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
  assert.equal(ack.get('to'), 'Bob <sip:bob@example.com>;tag=busy-tag');
  assert.equal(ack.get('from'), 'Alice <sip:alice@example.org>;tag=a1');
  assert.equal(ack.get('call-id'), 'call-1@example.org');
  assert.equal(ack.get('cseq'), '1 ACK');
  assert.equal(ack.get('max-forwards'), '70');
  assert.equal(ack.has('contact'), false);
  assert.equal(ack.body.length, 0, 'no body in an ACK for a non-2xx (§17.1.1.3: NOT RECOMMENDED)');
  assert.equal(tx.ack, ack);
});

test('RFC 3261 §17.1.1.3: the ACK carries only the top Via when the INVITE has several', () => {
  const h = harness();
  const req = outgoing('INVITE', ['Via: SIP/2.0/UDP upstream.example.com;branch=z9hG4bKup']);
  const { handlers } = recorder();
  const tx = h.layer.sendRequest(req, UDP_PEER, handlers, { newVia: true });
  assert.equal(req.via().length, 2);
  h.layer.receive(responseTo(req, 404, 'x'));
  const ack = h.transport.requests('ACK')[0]!;
  assert.equal(ack.via().length, 1);
  assert.equal(ack.topVia()?.branch, (tx as ClientInviteTransaction).branch);
});

test('RFC 3261 §17.1.1.2: Completed absorbs final-response retransmissions, re-sending the ACK; Timer D (32 s) ends it', () => {
  const h = harness();
  const { tx, seen, invite } = startInvite(h);
  h.clock.advance(100);
  h.layer.receive(responseTo(invite, 503, 't'));
  h.clock.advance(1000);
  h.layer.receive(responseTo(invite, 503, 't'));
  h.clock.advance(2000);
  h.layer.receive(responseTo(invite, 503, 't'));
  assert.equal(seen.final.length, 1, 'retransmissions are not passed up');
  assert.deepEqual(h.transport.times(isMethod('ACK')), [100, 1100, 3100]);
  assert.equal(h.transport.requests('INVITE').length, 1, 'Timer A stopped');
  assert.equal(h.layer.stats.retransmissionsReceived, 2);
  h.clock.advance(32_000 - 3000 - 1);
  assert.equal(tx.state, 'completed');
  h.clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.equal(seen.terminated, 1);
  assert.equal(seen.timeouts, 0);
  h.layer.receive(responseTo(invite, 503, 't'));
  assert.equal(h.stray.length, 1, 'after Timer D the response is stray');
});

test('RFC 3261 §17.1.1.2: Timer D is zero over TCP', () => {
  const h = harness();
  const { tx, invite } = startInvite(h, TCP_PEER);
  h.layer.receive(responseTo(invite, 486, 't'));
  assert.equal(tx.state, 'completed');
  h.clock.advance(0);
  assert.equal(tx.state, 'terminated');
  assert.equal(h.layer.stats.activeClientTransactions, 0);
});

test('RFC 6026 §7.2: a 2xx moves to Accepted; every 2xx (retransmission or other fork) goes to the TU; no ACK from the transaction', () => {
  const h = harness();
  const { tx, seen, invite } = startInvite(h);
  h.layer.receive(responseTo(invite, 180, 'fork1'));
  h.layer.receive(responseTo(invite, 200, 'fork1'));
  assert.equal(tx.state, 'accepted');
  h.layer.receive(responseTo(invite, 200, 'fork1'));
  h.layer.receive(responseTo(invite, 200, 'fork2'));
  h.layer.receive(responseTo(invite, 183, 'fork3'));
  assert.deepEqual(
    seen.final.map((r) => `${r.status} ${r.toTag()}`),
    ['200 fork1', '200 fork1', '200 fork2'],
  );
  assert.equal(seen.provisional.length, 1, 'provisionals in Accepted are dropped');
  assert.equal(h.transport.requests('ACK').length, 0);
  assert.equal(h.stray.length, 0);
});

test('RFC 6026 §8.4: Timer M (64*T1) ends Accepted; a later 2xx is stray (the TU re-ACKs it)', () => {
  const h = harness();
  const { tx, seen, invite } = startInvite(h, TCP_PEER);
  h.layer.receive(responseTo(invite, 200, 'b'));
  h.clock.advance(31_999);
  assert.equal(tx.state, 'accepted', 'Accepted lasts 64*T1 even over TCP');
  h.clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.equal(seen.terminated, 1);
  h.layer.receive(responseTo(invite, 200, 'b'));
  assert.equal(seen.final.length, 1);
  assert.equal(h.stray.length, 1);
});

test('RFC 3261 §17.1.1.2: a 2xx in Calling (no provisional) also goes to Accepted', () => {
  const h = harness();
  const { tx, seen, invite } = startInvite(h);
  h.clock.advance(700);
  h.layer.receive(responseTo(invite, 200, 'b'));
  assert.equal(tx.state, 'accepted');
  h.clock.advance(10_000);
  assert.equal(h.transport.requests('INVITE').length, 2, 'Timer A stopped by the 2xx');
  assert.equal(seen.timeouts, 0, 'Timer B stopped by the 2xx');
  assert.equal(seen.final.length, 1);
});

test('RFC 3261 §17.1.4: a transport error on the INVITE informs the TU and terminates the transaction', async () => {
  const h = harness();
  h.transport.failWith = () => new Error('ECONNREFUSED');
  const { tx, seen } = startInvite(h, TCP_PEER);
  await flush();
  assert.equal(tx.state, 'terminated');
  assert.equal(seen.transportErrors.length, 1);
  assert.ok(seen.transportErrors[0] instanceof TransactionTransportError);
  assert.match(seen.transportErrors[0]!.message, /ECONNREFUSED/);
  assert.equal(h.layer.stats.transportErrors, 1);
  assert.equal(h.layer.stats.activeClientTransactions, 0);
  assert.equal(h.clock.pending, 0);
});

test('RFC 3261 §17.1.4: a transport error on a Timer A retransmission also terminates', async () => {
  const h = harness();
  const { tx, seen } = startInvite(h);
  h.transport.failWith = () => new Error('EHOSTUNREACH');
  h.clock.advance(500);
  await flush();
  assert.equal(tx.state, 'terminated');
  assert.equal(seen.transportErrors.length, 1);
  h.clock.advance(60_000);
  assert.equal(seen.timeouts, 0);
});

test('RFC 3261 §9.1: CANCEL waits for a provisional response, then goes out with the INVITE\'s branch, Via and CSeq number', () => {
  const h = harness();
  const { tx, seen, invite } = startInvite(h, UDP_PEER, ['Route: <sip:p1.example.com;lr>']);
  const c = recorder();
  assert.equal(h.layer.sendCancel(tx, c.handlers), true);
  assert.equal(h.transport.requests('CANCEL').length, 0, 'not before a provisional response');
  h.clock.advance(300);
  h.layer.receive(responseTo(invite, 100));
  const cancels = h.transport.sent.filter((s) => isMethod('CANCEL')(s.msg));
  assert.equal(cancels.length, 1);
  assert.deepEqual(cancels[0]!.dest, UDP_PEER);
  const cancel = h.transport.requests('CANCEL')[0]!;
  assert.equal(cancel.uri, invite.uri);
  assert.deepEqual(cancel.getAll('via'), [invite.getAll('via')[0]]);
  assert.equal(cancel.get('cseq'), '1 CANCEL');
  assert.equal(cancel.get('to'), invite.get('to'));
  assert.equal(cancel.get('from'), invite.get('from'));
  assert.equal(cancel.get('call-id'), invite.get('call-id'));
  assert.deepEqual(cancel.getAll('route'), ['<sip:p1.example.com;lr>']);

  // The CANCEL is its own non-INVITE transaction: its 200 goes to its handlers only.
  h.layer.receive(responseTo(cancel, 200, 'b'));
  assert.equal(c.seen.final[0]?.status, 200);
  assert.equal(seen.final.length, 0);
  // The INVITE's 487 completes the INVITE transaction, with an ACK.
  h.layer.receive(responseTo(invite, 487, 'b'));
  assert.equal(seen.final[0]?.status, 487);
  assert.equal(tx.state, 'completed');
  assert.equal(h.transport.requests('ACK').length, 1);
  assert.equal(h.layer.sendCancel(tx, c.handlers), false, 'nothing left to cancel');
});

test('RFC 3261 §9.1: with no final response 64*T1 after the CANCEL, the INVITE transaction is destroyed', () => {
  const h = harness();
  const { tx, seen, invite } = startInvite(h);
  h.layer.receive(responseTo(invite, 180, 'b'));
  h.clock.advance(10_000);
  const c = recorder();
  assert.equal(h.layer.sendCancel(tx, c.handlers), true);
  assert.equal(h.layer.sendCancel(tx, c.handlers), true, 'asking twice is harmless');
  assert.equal(h.transport.requests('CANCEL').length, 1);
  h.clock.advance(31_999);
  assert.equal(tx.state, 'proceeding');
  h.clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.equal(seen.timeouts, 1);
});

test('RFC 3261 §9.1: a CANCEL requested in Calling is dropped when a final response comes first', () => {
  const h = harness();
  const { tx, invite } = startInvite(h);
  const c = recorder();
  h.layer.sendCancel(tx, c.handlers);
  h.layer.receive(responseTo(invite, 200, 'b'));
  h.clock.advance(40_000);
  assert.equal(h.transport.requests('CANCEL').length, 0);
  assert.equal(tx.state, 'terminated');
});
