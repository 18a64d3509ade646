import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerNonInviteTransaction } from '../../../src/sip/transaction/server-non-invite.js';
import type { TransactionTransportError } from '../../../src/sip/transaction/errors.js';
import { countingClock, flush, harness, incoming, isStatus, tuResponse, type Harness, type IncomingOptions } from './harness.js';

function receive(h: Harness, method = 'MESSAGE', o: IncomingOptions = {}) {
  const req = incoming(method, o);
  h.layer.receive(req);
  const tx = h.requests[h.requests.length - 1]!.tx;
  assert.ok(tx instanceof ServerNonInviteTransaction);
  const seen = { timeouts: 0, errors: [] as TransactionTransportError[], terminated: 0 };
  tx.handlers = {
    onTimeout: () => seen.timeouts++,
    onTransportError: (e) => seen.errors.push(e),
    onTerminated: () => seen.terminated++,
  };
  return { req, tx, seen };
}

test('RFC 3261 §17.2.2: a non-INVITE starts in Trying; retransmissions there are discarded and no 100 is sent', () => {
  const h = harness();
  const { tx } = receive(h);
  assert.equal(tx.state, 'trying');
  h.clock.advance(500);
  h.layer.receive(incoming('MESSAGE'));
  h.clock.advance(1000);
  assert.equal(h.transport.sent.length, 0);
  assert.equal(h.requests.length, 1);
  assert.equal(h.layer.stats.retransmissionsReceived, 1);
});

test('RFC 3261 §17.2.2: a provisional moves to Proceeding; retransmissions are answered with it', () => {
  const h = harness();
  const { req, tx } = receive(h);
  assert.equal(tx.respond(tuResponse(req, 100)), true);
  assert.equal(tx.state, 'proceeding');
  h.clock.advance(500);
  h.layer.receive(incoming('MESSAGE'));
  assert.deepEqual(h.transport.times(isStatus(100)), [0, 500]);
});

test('RFC 3261 §17.2.2: a final response completes; retransmissions get it again; later responses are discarded; Timer J = 64*T1', () => {
  const h = harness();
  const { req, tx, seen } = receive(h);
  tx.respond(tuResponse(req, 100));
  assert.equal(tx.respond(tuResponse(req, 200, 'u1')), true);
  assert.equal(tx.state, 'completed');
  h.clock.advance(1500);
  h.layer.receive(incoming('MESSAGE'));
  assert.deepEqual(h.transport.times(isStatus(200)), [0, 1500]);
  assert.equal(tx.respond(tuResponse(req, 500, 'u1')), false);
  assert.equal(tx.respond(tuResponse(req, 180, 'u1')), false);
  h.clock.advance(32_000 - 1500 - 1);
  assert.equal(tx.state, 'completed');
  assert.equal(h.transport.responses(200).length, 2, 'the transaction never retransmits on its own');
  h.clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.equal(seen.terminated, 1);
  assert.equal(h.layer.stats.activeServerTransactions, 0);
  h.layer.receive(incoming('MESSAGE'));
  assert.equal(h.requests.length, 2, 'after Timer J the request is new');
});

test('RFC 3261 §17.2.2: Timer J is zero over TCP', () => {
  const h = harness();
  const { req, tx } = receive(h, 'OPTIONS', { via: 'SIP/2.0/TCP 192.0.2.30;branch=z9hG4bKj', source: { transport: 'TCP', connectionId: 'c1' } });
  tx.respond(tuResponse(req, 200, 'u1'));
  assert.equal(tx.state, 'completed');
  h.clock.advance(0);
  assert.equal(tx.state, 'terminated');
});

test('RFC 3261 §17.2.4: a transport error in Completed informs the TU and terminates', async () => {
  const h = harness();
  const { req, tx, seen } = receive(h);
  h.transport.failWith = () => new Error('EPIPE');
  tx.respond(tuResponse(req, 200, 'u1'));
  await flush();
  assert.equal(seen.errors.length, 1);
  assert.equal(tx.state, 'terminated');
  assert.equal(h.layer.stats.activeServerTransactions, 0);
  assert.equal(h.clock.pending, 0);
});

test('RFC 3261 §17.2.4: a transport error in Proceeding informs the TU and terminates', async () => {
  const h = harness();
  const { req, tx, seen } = receive(h);
  h.transport.failWith = () => new Error('EPIPE');
  tx.respond(tuResponse(req, 100));
  await flush();
  assert.equal(seen.errors.length, 1);
  assert.equal(tx.state, 'terminated');
});

test('RFC 3261 §17.1.2.2 (Timer F): a transaction the TU never answers is dropped after 64*T1 and the TU told', () => {
  const h = harness();
  const { req, tx, seen } = receive(h);
  h.clock.advance(31_999);
  assert.equal(tx.state, 'trying');
  h.clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.equal(seen.timeouts, 1);
  assert.equal(tx.respond(tuResponse(req, 200, 'u1')), false, 'too late: the client has given up');
  assert.equal(h.transport.sent.length, 0);
  assert.equal(h.layer.stats.activeServerTransactions, 0);
});

test('design.md §8: a request the TU answers inside onRequest arms only Timer J, not the Timer F guard', () => {
  const c = countingClock();
  const answered = harness({
    clock: c.clock,
    onRequest: (req, tx) => {
      assert.ok(tx instanceof ServerNonInviteTransaction);
      tx.respond(tuResponse(req, 200, 'u1'));
    },
  });
  answered.layer.receive(incoming('MESSAGE'));
  assert.equal(answered.transport.responses(200).length, 1);
  assert.deepEqual(c.set, [32_000], 'Timer J only');
  c.clock.advance(32_000);
  assert.equal(c.clock.pending, 0);
  assert.equal(answered.layer.stats.activeServerTransactions, 0);

  // Answered later, the guard was armed after onRequest and is cancelled by the answer.
  const l = countingClock();
  const later = harness({ clock: l.clock });
  const { req, tx } = receive(later);
  assert.deepEqual(l.set, [32_000], 'the Timer F guard');
  tx.respond(tuResponse(req, 200, 'u1'));
  l.clock.advance(32_000);
  assert.equal(tx.state, 'terminated');
  assert.equal(l.clock.pending, 0);
});
