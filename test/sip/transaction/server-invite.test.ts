import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerInviteTransaction } from '../../../src/sip/transaction/server-invite.js';
import type { TransactionTransportError } from '../../../src/sip/transaction/errors.js';
import { flush, gaps, harness, incoming, isStatus, tuResponse, type Harness, type IncomingOptions } from './harness.js';

function receiveInvite(h: Harness, o: IncomingOptions = {}) {
  const invite = incoming('INVITE', o);
  h.layer.receive(invite);
  const last = h.requests[h.requests.length - 1]!;
  assert.equal(last.req, invite);
  assert.ok(last.tx instanceof ServerInviteTransaction);
  const tx = last.tx;
  const seen = { timeouts: 0, errors: [] as TransactionTransportError[], terminated: 0 };
  tx.handlers = {
    onTimeout: () => seen.timeouts++,
    onTransportError: (e) => seen.errors.push(e),
    onTerminated: () => seen.terminated++,
  };
  return { invite, tx, seen };
}

test('RFC 3261 §17.2.1: a new INVITE goes to the TU with a server transaction in Proceeding', () => {
  const h = harness();
  const { tx } = receiveInvite(h);
  assert.equal(tx.state, 'proceeding');
  assert.equal(h.requests.length, 1);
  assert.equal(h.layer.stats.activeServerTransactions, 1);
  assert.equal(h.layer.stats.serverTransactionsCreated, 1);
});

test('RFC 3261 §17.2.1, §8.2.6: 100 Trying goes out after 200 ms if the TU has not answered, with Via/From/To/Call-ID/CSeq copied and no To tag', () => {
  const h = harness();
  const { invite } = receiveInvite(h, {
    via: 'SIP/2.0/UDP 192.0.2.30:5070;branch=z9hG4bKt1;rport, SIP/2.0/UDP origin.example.net;branch=z9hG4bKo',
  });
  h.clock.advance(199);
  assert.equal(h.transport.sent.length, 0);
  h.clock.advance(1);
  assert.equal(h.transport.sent.length, 1);
  const sent = h.transport.sent[0]!;
  const trying = sent.msg;
  assert.ok(!trying.isRequest());
  assert.equal(trying.status, 100);
  assert.equal(trying.reason, 'Trying');
  assert.deepEqual(trying.getAll('via'), invite.getAll('via'));
  assert.equal(trying.get('to'), invite.get('to'));
  assert.equal(trying.toTag(), undefined, '§17.2.1: SHOULD NOT add a To tag to the 100');
  assert.equal(trying.get('from'), invite.get('from'));
  assert.equal(trying.get('call-id'), invite.get('call-id'));
  assert.equal(trying.get('cseq'), '1 INVITE');
  assert.deepEqual(sent.dest, { transport: 'UDP', address: '192.0.2.30', port: 5070 });
});

test('RFC 3261 §8.2.6.1: the 100 Trying copies Timestamp, adding the delay', () => {
  const h = harness();
  receiveInvite(h, { extra: ['Timestamp: 54.2'] });
  h.clock.advance(200);
  assert.equal(h.transport.responses(100)[0]?.get('timestamp'), '54.2 0.200');
});

test('RFC 3261 §17.2.1: no 100 Trying when the TU answers within 200 ms', () => {
  const h = harness();
  const { invite, tx } = receiveInvite(h);
  h.clock.advance(50);
  assert.equal(tx.respond(tuResponse(invite, 180, 'u1')), true);
  h.clock.advance(10_000);
  assert.deepEqual(
    h.transport.responses().map((r) => r.status),
    [180],
  );
});

test('RFC 3261 §17.2.1: an INVITE retransmission in Proceeding is answered with the latest provisional', () => {
  const h = harness();
  const { invite, tx } = receiveInvite(h);
  h.clock.advance(200);
  h.layer.receive(incoming('INVITE'));
  tx.respond(tuResponse(invite, 180, 'u1'));
  h.layer.receive(incoming('INVITE'));
  assert.deepEqual(
    h.transport.responses().map((r) => r.status),
    [100, 100, 180, 180],
  );
  assert.equal(h.requests.length, 1, 'retransmissions do not reach the TU');
  assert.equal(h.layer.stats.retransmissionsReceived, 2);
});

test('RFC 3261 §17.2.1: a retransmission before the 200 ms elapse gets the 100 at once (and only once)', () => {
  const h = harness();
  receiveInvite(h);
  h.clock.advance(100);
  h.layer.receive(incoming('INVITE'));
  assert.deepEqual(h.transport.times(isStatus(100)), [100]);
  h.clock.advance(1000);
  assert.equal(h.transport.responses(100).length, 1);
});

test('RFC 3261 §17.2.1: Timer G retransmits a 300-699 at 500, 1000, 2000, 4000, 4000 ... ms; Timer H (64*T1) tells the TU', () => {
  const h = harness();
  const { invite, tx, seen } = receiveInvite(h);
  tx.respond(tuResponse(invite, 486, 'u1'));
  assert.equal(tx.state, 'completed');
  h.clock.advance(31_999);
  const times = h.transport.times(isStatus(486));
  assert.deepEqual(times, [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.deepEqual(gaps(times).slice(0, 5), [500, 1000, 2000, 4000, 4000]);
  assert.equal(seen.timeouts, 0);
  h.clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.equal(seen.timeouts, 1);
  assert.equal(seen.terminated, 1);
  assert.equal(h.layer.stats.activeServerTransactions, 0);
  assert.equal(h.clock.pending, 0);
});

test('RFC 3261 §17.2.1: in Completed an INVITE retransmission is answered with the final response', () => {
  const h = harness();
  const { invite, tx } = receiveInvite(h);
  tx.respond(tuResponse(invite, 404, 'u1'));
  h.clock.advance(100);
  h.layer.receive(incoming('INVITE'));
  assert.deepEqual(h.transport.times(isStatus(404)), [0, 100]);
  assert.equal(tx.respond(tuResponse(invite, 500, 'u1')), false, 'other final responses are discarded');
  assert.equal(tx.respond(tuResponse(invite, 180, 'u1')), false);
  assert.equal(h.transport.sent.length, 2);
});

test('RFC 3261 §17.2.1: the ACK moves Completed to Confirmed, stopping Timer G; Timer I (T4) then terminates', () => {
  const h = harness();
  const { invite, tx, seen } = receiveInvite(h);
  tx.respond(tuResponse(invite, 603, 'u1'));
  h.clock.advance(600); // final sent at 0 and 500
  h.layer.receive(incoming('ACK', { toTag: 'u1' }));
  assert.equal(tx.state, 'confirmed');
  assert.equal(h.requests.length, 1, 'the ACK for a non-2xx is absorbed by the transaction');
  h.layer.receive(incoming('ACK', { toTag: 'u1' }));
  h.layer.receive(incoming('INVITE'));
  assert.equal(h.requests.length, 1);
  h.clock.advance(4999);
  assert.equal(tx.state, 'confirmed');
  assert.equal(h.transport.responses(603).length, 2, 'no retransmission after the ACK');
  h.clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.equal(seen.timeouts, 0);
  assert.equal(h.layer.stats.activeServerTransactions, 0);
});

test('RFC 3261 §17.2.1: over TCP there is no Timer G and Timer I is zero', () => {
  const h = harness();
  const { invite, tx } = receiveInvite(h, {
    via: 'SIP/2.0/TCP 192.0.2.30:5070;branch=z9hG4bKtcp',
    source: { transport: 'TCP', connectionId: 'conn-7', remotePort: 40000 },
  });
  tx.respond(tuResponse(invite, 486, 'u1'));
  h.clock.advance(10_000);
  assert.equal(h.transport.responses(486).length, 1);
  assert.deepEqual(h.transport.sent[0]!.dest, { transport: 'TCP', address: '192.0.2.30', port: 5070, connectionId: 'conn-7' });
  h.layer.receive(incoming('ACK', { via: 'SIP/2.0/TCP 192.0.2.30:5070;branch=z9hG4bKtcp', toTag: 'u1', source: { transport: 'TCP' } }));
  assert.equal(tx.state, 'confirmed');
  h.clock.advance(0);
  assert.equal(tx.state, 'terminated');
});

test('RFC 3261 §17.2.1: Timer H runs over TCP too (64*T1)', () => {
  const h = harness();
  const { invite, tx, seen } = receiveInvite(h, { source: { transport: 'TCP' }, via: 'SIP/2.0/TCP 192.0.2.30;branch=z9hG4bKh' });
  tx.respond(tuResponse(invite, 480, 'u1'));
  h.clock.advance(32_000);
  assert.equal(seen.timeouts, 1);
});

test('RFC 6026 §7.1: a 2xx moves to Accepted; INVITE retransmissions are absorbed, neither answered nor passed to the TU', () => {
  const h = harness();
  const { invite, tx } = receiveInvite(h);
  assert.equal(tx.respond(tuResponse(invite, 200, 'u1')), true);
  assert.equal(tx.state, 'accepted');
  h.clock.advance(1000);
  h.layer.receive(incoming('INVITE'));
  assert.equal(h.requests.length, 1);
  assert.equal(h.transport.sent.length, 1, 'the transaction does not retransmit the 2xx itself');
  h.clock.advance(10_000);
  assert.equal(h.transport.sent.length, 1);
  assert.equal(tx.lastResponseBytes, undefined, 'nothing is kept to resend in Accepted');
  // A non-2xx final is kept: Completed answers INVITE retransmissions with it.
  const r = receiveInvite(h, { branch: 'z9hG4bK-other' });
  r.tx.respond(tuResponse(r.invite, 486, 'u2'));
  assert.match(r.tx.lastResponseBytes?.toString() ?? '', /^SIP\/2\.0 486 /);
});

test('RFC 6026 §8.7: in Accepted the TU\'s 2xx retransmissions go out; other responses are discarded', () => {
  const h = harness();
  const { invite, tx } = receiveInvite(h);
  const ok = tuResponse(invite, 200, 'u1');
  tx.respond(ok);
  h.clock.advance(500);
  assert.equal(tx.respond(ok), true);
  assert.equal(tx.respond(tuResponse(invite, 486, 'u1')), false);
  assert.equal(tx.respond(tuResponse(invite, 180, 'u1')), false);
  assert.deepEqual(h.transport.times(isStatus(200)), [0, 500]);
  assert.equal(h.transport.sent.length, 2);
});

test('RFC 6026 §7.1: an ACK matching the transaction in Accepted is passed to the TU with it', () => {
  const h = harness();
  const { invite, tx } = receiveInvite(h);
  tx.respond(tuResponse(invite, 200, 'u1'));
  const ack = incoming('ACK', { toTag: 'u1' }); // same branch: an RFC 2543-era UA, or a proxy's
  h.layer.receive(ack);
  assert.equal(h.requests.length, 2);
  assert.equal(h.requests[1]!.req, ack);
  assert.equal(h.requests[1]!.tx, tx);
  assert.equal(tx.state, 'accepted');
});

test('RFC 3261 §17.2.3, §13.3.1.4: the ACK for a 2xx (new branch) matches no transaction and goes to the TU alone', () => {
  const h = harness();
  const { invite, tx } = receiveInvite(h);
  tx.respond(tuResponse(invite, 200, 'u1'));
  const ack = incoming('ACK', { branch: 'z9hG4bKack2xx', toTag: 'u1' });
  h.layer.receive(ack);
  assert.equal(h.requests[1]!.req, ack);
  assert.equal(h.requests[1]!.tx, undefined);
  assert.equal(h.layer.stats.strayAcks, 1);
  assert.equal(h.layer.stats.activeServerTransactions, 1, 'a stray ACK creates no transaction');
});

test('RFC 6026 §8.7: Timer L (64*T1) ends Accepted; an INVITE retransmission after it is a new request', () => {
  const h = harness();
  const { invite, tx, seen } = receiveInvite(h);
  tx.respond(tuResponse(invite, 200, 'u1'));
  h.clock.advance(31_999);
  assert.equal(tx.state, 'accepted');
  h.clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.equal(seen.terminated, 1);
  assert.equal(seen.timeouts, 0);
  assert.equal(h.layer.stats.activeServerTransactions, 0);
  h.layer.receive(incoming('INVITE'));
  assert.equal(h.requests.length, 2);
});

test('RFC 6026 §7.1: a transport error on a response informs the TU and leaves the state alone', async () => {
  const h = harness();
  const { invite, tx, seen } = receiveInvite(h);
  h.transport.failWith = () => new Error('ICMP unreachable');
  tx.respond(tuResponse(invite, 180, 'u1'));
  await flush();
  assert.equal(seen.errors.length, 1);
  assert.equal(tx.state, 'proceeding');
  tx.respond(tuResponse(invite, 200, 'u1'));
  await flush();
  assert.equal(seen.errors.length, 2);
  assert.equal(tx.state, 'accepted');
  h.clock.advance(32_000);
  assert.equal(tx.state, 'terminated', 'Timer L still ends it');
});

test('RFC 6026 §7.1: a transport error in Completed keeps Timer G/H running', async () => {
  const h = harness();
  const { invite, tx, seen } = receiveInvite(h);
  h.transport.failWith = () => new Error('ICMP unreachable');
  tx.respond(tuResponse(invite, 486, 'u1'));
  await flush();
  assert.equal(tx.state, 'completed');
  assert.equal(seen.errors.length, 1);
  h.transport.failWith = undefined;
  h.clock.advance(500);
  assert.equal(h.transport.responses(486).length, 2);
  h.clock.advance(32_000);
  assert.equal(seen.timeouts, 1);
});

test('RFC 3261 §17.2.1: respond() rejects a status outside 100-699', () => {
  const h = harness();
  const { invite, tx } = receiveInvite(h);
  const res = tuResponse(invite, 200);
  res.status = 99;
  assert.throws(() => tx.respond(res), RangeError);
});

test('RFC 3261 §17.2.1: the 200 ms before the 100 Trying run from the INVITE\'s arrival, however long onRequest takes', () => {
  // A TU that spends 150 ms inside onRequest (the clock moves while it runs) and answers later.
  const slow = harness({
    onRequest: (req, tx) => {
      slow.requests.push({ req, tx });
      slow.clock.advance(150);
    },
  });
  slow.layer.receive(incoming('INVITE'));
  slow.clock.advance(49);
  assert.equal(slow.transport.responses(100).length, 0);
  slow.clock.advance(1);
  assert.deepEqual(slow.transport.times(isStatus(100)), [200]);

  // A TU that answers inside onRequest: no 100 at all, whatever the answer.
  for (const status of [180, 200, 486]) {
    const h = harness({
      onRequest: (req, tx) => {
        assert.ok(tx instanceof ServerInviteTransaction);
        tx.respond(tuResponse(req, status, 'u1'));
      },
    });
    h.layer.receive(incoming('INVITE'));
    h.clock.advance(300);
    assert.deepEqual(h.transport.responses(100), [], `no 100 after a ${status}`);
  }
});
