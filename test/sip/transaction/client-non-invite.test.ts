import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SipResponse } from '../../../src/sip/message/message.js';
import type { ClientNonInviteTransaction } from '../../../src/sip/transaction/client-non-invite.js';
import type { ClientTransactionHandlers } from '../../../src/sip/transaction/context.js';
import type { TransactionTransportError } from '../../../src/sip/transaction/errors.js';
import { flush, gaps, harness, isMethod, outgoing, responseTo, TCP_PEER, UDP_PEER, type Harness } from './harness.js';

function start(h: Harness, method = 'OPTIONS', dest = UDP_PEER) {
  const seen = {
    provisional: [] as SipResponse[],
    final: [] as SipResponse[],
    timeouts: 0,
    errors: [] as TransactionTransportError[],
    terminated: 0,
  };
  const handlers: ClientTransactionHandlers = {
    onProvisional: (r) => seen.provisional.push(r),
    onFinal: (r) => seen.final.push(r),
    onTimeout: () => seen.timeouts++,
    onTransportError: (e) => seen.errors.push(e),
    onTerminated: () => seen.terminated++,
  };
  const tx = h.layer.sendRequest(outgoing(method), dest, handlers) as ClientNonInviteTransaction;
  return { tx, seen, req: tx.request };
}

test('RFC 3261 §17.1.2.2: Timer E doubles from T1 and is capped at T2 (500, 1000, 2000, 4000, 4000 ...); Timer F times out at 64*T1', () => {
  const h = harness();
  const { tx, seen } = start(h);
  assert.equal(tx.state, 'trying');
  h.clock.advance(31_999);
  const times = h.transport.times(isMethod('OPTIONS'));
  assert.deepEqual(times, [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.deepEqual(gaps(times), [500, 1000, 2000, 4000, 4000, 4000, 4000, 4000, 4000, 4000]);
  assert.equal(seen.timeouts, 0);
  h.clock.advance(1);
  assert.equal(seen.timeouts, 1, 'Timer F informs the TU');
  assert.equal(tx.state, 'terminated');
  assert.equal(seen.terminated, 1);
  assert.equal(h.layer.stats.retransmissionsSent, 10);
  assert.equal(h.layer.stats.activeClientTransactions, 0);
  assert.equal(h.clock.pending, 0);
});

test('RFC 3261 §17.1.2.2: a T2 configured smaller caps Timer E lower', () => {
  const h = harness({ timers: { T1: 500, T2: 1000 } });
  start(h);
  h.clock.advance(5000);
  assert.deepEqual(gaps(h.transport.times(isMethod('OPTIONS'))), [500, 1000, 1000, 1000, 1000]);
});

test('RFC 3261 §17.1.2.2: in Proceeding the request is still retransmitted, every T2', () => {
  const h = harness();
  const { tx, seen, req } = start(h);
  h.clock.advance(600); // sent at 0 and 500; Timer E next due at 1500
  h.layer.receive(responseTo(req, 100));
  assert.equal(tx.state, 'proceeding');
  assert.equal(seen.provisional.length, 1);
  h.clock.advance(20_000 - 600);
  // The pending Timer E fires at 1500 as scheduled; from then on it is reset to T2.
  assert.deepEqual(h.transport.times(isMethod('OPTIONS')), [0, 500, 1500, 5500, 9500, 13500, 17500]);
  h.clock.advance(12_000);
  assert.equal(seen.timeouts, 1, 'Timer F still runs in Proceeding');
});

test('RFC 3261 §17.1.2.2: a final response completes the transaction; retransmissions of it are absorbed; Timer K = T4', () => {
  const h = harness();
  const { tx, seen, req } = start(h);
  h.clock.advance(100);
  h.layer.receive(responseTo(req, 200, 'b'));
  assert.equal(tx.state, 'completed');
  h.layer.receive(responseTo(req, 200, 'b'));
  h.layer.receive(responseTo(req, 180, 'b'));
  assert.equal(seen.final.length, 1);
  assert.equal(seen.provisional.length, 0);
  assert.equal(h.stray.length, 0, 'absorbed, not stray');
  h.clock.advance(5000 - 1);
  assert.equal(tx.state, 'completed');
  assert.equal(h.transport.requests('OPTIONS').length, 1, 'no retransmission after the final response');
  h.clock.advance(1);
  assert.equal(tx.state, 'terminated');
  assert.equal(seen.timeouts, 0);
  assert.equal(h.layer.stats.activeClientTransactions, 0);
});

test('RFC 3261 §17.1.2.2: over TCP there is no Timer E and Timer K is zero', () => {
  const h = harness();
  const { tx, seen, req } = start(h, 'MESSAGE', TCP_PEER);
  h.clock.advance(20_000);
  assert.equal(h.transport.requests('MESSAGE').length, 1);
  h.layer.receive(responseTo(req, 202, 'b'));
  assert.equal(tx.state, 'completed');
  h.clock.advance(0);
  assert.equal(tx.state, 'terminated');
  assert.equal(seen.final.length, 1);
});

test('RFC 3261 §17.1.2.2: Timer F fires at 64*T1 over TCP too', () => {
  const h = harness();
  const { seen } = start(h, 'BYE', TCP_PEER);
  h.clock.advance(32_000);
  assert.equal(seen.timeouts, 1);
});

test('RFC 3261 §17.1.4: a transport error in Trying informs the TU and terminates', async () => {
  const h = harness();
  h.transport.failWith = () => new Error('boom');
  const { tx, seen } = start(h);
  await flush();
  assert.equal(tx.state, 'terminated');
  assert.equal(seen.errors.length, 1);
  assert.equal(h.clock.pending, 0);
});

test('RFC 3261 §17.1.4: a transport error on a retransmission in Proceeding terminates too', async () => {
  const h = harness();
  const { tx, seen, req } = start(h);
  h.layer.receive(responseTo(req, 100));
  h.transport.failWith = () => new Error('gone');
  h.clock.advance(500);
  await flush();
  assert.equal(tx.state, 'terminated');
  assert.equal(seen.errors.length, 1);
});

test('RFC 3261 §17.1.3: a response with the right branch but another CSeq method is not this transaction\'s', () => {
  const h = harness();
  const { tx, seen, req } = start(h, 'OPTIONS');
  const res = responseTo(req, 200, 'b');
  res.set('cseq', '1 INFO');
  h.layer.receive(res);
  assert.equal(seen.final.length, 0);
  assert.equal(h.stray.length, 1);
  assert.equal(tx.state, 'trying');
});
