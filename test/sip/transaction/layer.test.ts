import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientInviteTransaction } from '../../../src/sip/transaction/client-invite.js';
import { TransactionLimitError, TransactionUsageError } from '../../../src/sip/transaction/errors.js';
import type { ClientTransaction, ServerTransaction } from '../../../src/sip/transaction/layer.js';
import { ServerInviteTransaction } from '../../../src/sip/transaction/server-invite.js';
import type { Destination } from '../../../src/sip/transport/types.js';
import { harness, incoming, LOCAL, outgoing, responseTo, TCP_PEER, tuResponse, UDP_PEER } from './harness.js';

test('RFC 3261 §8.1.1.7: sendRequest inserts a top Via with a fresh z9hG4bK branch (>= 64 random bits) and our sent-by', () => {
  const asked: Destination[] = [];
  const h = harness({ via: (dest) => (asked.push(dest), { host: LOCAL.host, port: LOCAL.port }) });
  const branches = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const tx = h.layer.sendRequest(outgoing('OPTIONS'), UDP_PEER, { onFinal: () => {} });
    const via = tx.request.topVia();
    assert.equal(via?.transport, 'UDP');
    assert.equal(via?.host, LOCAL.host);
    assert.equal(via?.port, LOCAL.port);
    assert.match(tx.branch, /^z9hG4bK[0-9a-f]{24}$/);
    assert.equal(via?.branch, tx.branch);
    assert.equal(via?.rport, null, 'RFC 3581 §3: rport without a value asks for symmetric responses');
    branches.add(tx.branch);
  }
  assert.equal(branches.size, 200);
  assert.deepEqual(asked[0], UDP_PEER);
  const tcp = h.layer.sendRequest(outgoing('OPTIONS'), TCP_PEER, { onFinal: () => {} });
  assert.equal(tcp.request.topVia()?.transport, 'TCP', 'the Via transport follows the destination');
  assert.match(h.transport.sent[0]!.text, /^OPTIONS sip:bob@example\.com SIP\/2\.0\r\nVia: SIP\/2\.0\/UDP 192\.0\.2\.10:5060;branch=z9hG4bK[0-9a-f]{24};rport\r\n/);
});

test('RFC 3261 §8.1.1.7: a branch the caller set is kept; newVia always adds one; a Via without a cookie is refused', () => {
  const h = harness();
  const own = outgoing('MESSAGE', ['Via: SIP/2.0/UDP me.example.com;branch=z9hG4bKmine']);
  const tx = h.layer.sendRequest(own, UDP_PEER, { onFinal: () => {} });
  assert.equal(tx.branch, 'z9hG4bKmine');
  assert.equal(own.via().length, 1);

  const proxied = outgoing('MESSAGE', ['Via: SIP/2.0/UDP up.example.com;branch=z9hG4bKupstream']);
  const ptx = h.layer.sendRequest(proxied, UDP_PEER, { onFinal: () => {} }, { newVia: true });
  assert.equal(proxied.via().length, 2);
  assert.notEqual(ptx.branch, 'z9hG4bKupstream');
  assert.equal(proxied.via()[1]?.branch, 'z9hG4bKupstream');

  const old = outgoing('MESSAGE', ['Via: SIP/2.0/UDP me.example.com']);
  assert.throws(() => h.layer.sendRequest(old, UDP_PEER, { onFinal: () => {} }), TransactionUsageError);
  const dup = outgoing('MESSAGE', ['Via: SIP/2.0/UDP me.example.com;branch=z9hG4bKmine']);
  assert.throws(() => h.layer.sendRequest(dup, UDP_PEER, { onFinal: () => {} }), TransactionUsageError);
});

test('RFC 3261 §17.1.1.3, §13.2.2.4: ACK has no client transaction; sendAck sends it once with its own branch', async () => {
  const h = harness();
  assert.throws(() => h.layer.sendRequest(outgoing('ACK'), UDP_PEER, { onFinal: () => {} }), TransactionUsageError);
  const ack = outgoing('ACK');
  await h.layer.sendAck(ack, UDP_PEER);
  assert.equal(h.transport.sent.length, 1);
  assert.match(ack.topVia()?.branch ?? '', /^z9hG4bK[0-9a-f]{24}$/);
  assert.deepEqual(h.transport.sent[0]!.dest, UDP_PEER);
  assert.equal(h.layer.stats.activeClientTransactions, 0);
  h.clock.advance(60_000);
  assert.equal(h.transport.sent.length, 1);
});

test('RFC 3261 §18.2.2, RFC 3581 §4: response destinations (UDP source address, sent-by port or rport, maddr, TCP connection)', () => {
  const cases: Array<{ via: string; source?: object; expect: Destination }> = [
    {
      via: 'SIP/2.0/UDP 198.51.100.7:5080;branch=z9hG4bKa',
      source: { remoteAddress: '203.0.113.9', remotePort: 34567 },
      expect: { transport: 'UDP', address: '203.0.113.9', port: 5080 },
    },
    {
      via: 'SIP/2.0/UDP 198.51.100.7:5080;branch=z9hG4bKb;rport',
      source: { remoteAddress: '203.0.113.9', remotePort: 34567 },
      expect: { transport: 'UDP', address: '203.0.113.9', port: 34567 },
    },
    {
      via: 'SIP/2.0/UDP client.example.com;branch=z9hG4bKc',
      source: { remoteAddress: '203.0.113.9', remotePort: 5060 },
      expect: { transport: 'UDP', address: '203.0.113.9', port: 5060 },
    },
    {
      via: 'SIP/2.0/UDP client.example.com:5070;branch=z9hG4bKd;maddr=239.255.255.1;ttl=1',
      expect: { transport: 'UDP', address: '239.255.255.1', port: 5070 },
    },
    {
      via: 'SIP/2.0/TLS client.example.com;branch=z9hG4bKe;rport',
      source: { transport: 'TLS', remoteAddress: '203.0.113.9', remotePort: 40001, connectionId: 'tls-3' },
      expect: { transport: 'TLS', address: '203.0.113.9', port: 5061, connectionId: 'tls-3' },
    },
    {
      via: 'SIP/2.0/UDP [2001:db8::9]:5062;branch=z9hG4bKf',
      source: { remoteAddress: '2001:db8::9', remotePort: 5062 },
      expect: { transport: 'UDP', address: '2001:db8::9', port: 5062 },
    },
  ];
  for (const c of cases) {
    const h = harness();
    h.layer.receive(incoming('OPTIONS', { via: c.via, source: c.source ?? {} }));
    h.requests[0]!.tx!.respond(tuResponse(h.requests[0]!.req, 200, 'x'));
    assert.deepEqual(h.transport.sent[0]!.dest, c.expect, c.via);
  }
  // A request handed in without a source (e.g. from a test or a loopback) is answered per its Via.
  const h = harness();
  const req = incoming('OPTIONS', { via: 'SIP/2.0/UDP 198.51.100.7:5080;branch=z9hG4bKg;received=203.0.113.5;rport=4444' });
  delete req.source;
  h.layer.receive(req);
  h.requests[0]!.tx!.respond(tuResponse(req, 200, 'x'));
  assert.deepEqual(h.transport.sent[0]!.dest, { transport: 'UDP', address: '203.0.113.5', port: 4444 });
});

test('Limits (design.md 8, RFC 3261 §21.5.4): over maxServerTransactions a new request gets 503 with Retry-After and no state', () => {
  const h = harness({ maxServerTransactions: 2, retryAfterSeconds: 7 });
  h.layer.receive(incoming('MESSAGE', { branch: 'z9hG4bK1' }));
  h.layer.receive(incoming('INVITE', { branch: 'z9hG4bK2' }));
  h.layer.receive(incoming('MESSAGE', { branch: 'z9hG4bK3' }));
  assert.equal(h.requests.length, 2);
  const rejected = h.transport.responses(503);
  assert.equal(rejected.length, 1);
  assert.equal(rejected[0]!.get('retry-after'), '7');
  assert.equal(rejected[0]!.topVia()?.branch, 'z9hG4bK3');
  assert.equal(h.layer.stats.rejectedOverLimit, 1);
  assert.equal(h.layer.stats.activeServerTransactions, 2);
  // Retransmissions of existing transactions and stray ACKs still get through.
  h.layer.receive(incoming('INVITE', { branch: 'z9hG4bK2' }));
  h.layer.receive(incoming('ACK', { branch: 'z9hG4bK9' }));
  assert.equal(h.transport.responses(100).length, 1);
  assert.equal(h.requests.length, 3);
  assert.equal(h.transport.responses(503).length, 1);
});

test('Limits (issue 6, RFC 3261 §21.5.4): one source address over maxServerTransactionsPerSource gets a stateless 503 + Retry-After; other sources are served; the share frees as transactions end', () => {
  const h = harness({ maxServerTransactions: 10, maxServerTransactionsPerSource: 3, retryAfterSeconds: 9 });
  const flood = { remoteAddress: '203.0.113.66', remotePort: 5060 };
  for (let i = 0; i < 5; i++) h.layer.receive(incoming('MESSAGE', { branch: `z9hG4bKf${i}`, source: flood }));
  assert.equal(h.requests.length, 3);
  const rejected = h.transport.responses(503);
  assert.equal(rejected.length, 2);
  assert.ok(rejected.every((r) => r.get('retry-after') === '9'));
  assert.equal(h.layer.stats.activeServerTransactions, 3, 'no state for the refused ones');
  // Another address still gets through while the flooder is at its share.
  h.layer.receive(incoming('MESSAGE', { branch: 'z9hG4bKother', source: { remoteAddress: '198.51.100.1', remotePort: 5060 } }));
  assert.equal(h.requests.length, 4);
  // The flooder's transactions end (answered, then Timer J): its share is free again.
  for (const r of h.requests.slice(0, 3)) r.tx!.respond(tuResponse(r.req, 200, 'x'));
  h.clock.advance(64 * 500 + 1);
  h.layer.receive(incoming('MESSAGE', { branch: 'z9hG4bKf9', source: flood }));
  assert.equal(h.requests.length, 5);
  assert.equal(h.transport.responses(503).length, 2);
});

test('Limits (design.md 8): over maxClientTransactions sendRequest throws TransactionLimitError', () => {
  const h = harness({ maxClientTransactions: 1 });
  h.layer.sendRequest(outgoing('OPTIONS'), UDP_PEER, { onFinal: () => {} });
  assert.throws(() => h.layer.sendRequest(outgoing('OPTIONS'), UDP_PEER, { onFinal: () => {} }), TransactionLimitError);
});

test('RFC 3261 §17.1.1.2, §17.2.1 "destroyed immediately": after every timer has fired no transaction and no timer is left', () => {
  const h = harness();
  const clients: ClientTransaction[] = [];
  for (let i = 0; i < 20; i++) {
    for (const dest of [UDP_PEER, TCP_PEER]) {
      const inv = h.layer.sendRequest(outgoing('INVITE'), dest, { onFinal: () => {} });
      const opt = h.layer.sendRequest(outgoing('OPTIONS'), dest, { onFinal: () => {} });
      clients.push(inv, opt);
      const mode = i % 4;
      if (mode === 1) h.layer.receive(responseTo(inv.request, 200, 't'));
      if (mode === 2) h.layer.receive(responseTo(inv.request, 486, 't'));
      if (mode === 3) h.layer.receive(responseTo(inv.request, 180, 't'));
      if (mode !== 0) h.layer.receive(responseTo(opt.request, 200, 't'));
    }
  }
  const servers: ServerTransaction[] = [];
  for (let i = 0; i < 40; i++) {
    const via = (t: string) => `SIP/2.0/${t} 192.0.2.30:5070;branch=z9hG4bKsrv${i}`;
    const t = i % 2 === 0 ? 'UDP' : 'TCP';
    h.layer.receive(incoming('INVITE', { via: via(t), source: { transport: t } }));
    h.layer.receive(incoming('MESSAGE', { via: via(t), source: { transport: t } }));
  }
  for (const { req, tx } of h.requests) {
    if (tx === undefined) continue;
    servers.push(tx);
    const i = servers.length % 3;
    const status = tx.method === 'INVITE' ? [200, 486, 180][i]! : [200, 100, 404][i]!;
    tx.respond(tuResponse(req, status, 'u'));
    if (status === 486) h.layer.receive(incoming('ACK', { via: req.get('via')!, toTag: 'u', source: { transport: req.source!.transport } }));
  }
  assert.ok(h.layer.stats.activeClientTransactions > 0);
  assert.ok(h.layer.stats.activeServerTransactions > 0);

  // INVITEs left in Proceeding (client and server) are the TU's to end: it CANCELs / answers.
  for (const tx of clients) if (tx instanceof ClientInviteTransaction && tx.state === 'proceeding') h.layer.sendCancel(tx, { onFinal: () => {} });
  for (const tx of servers) if (tx instanceof ServerInviteTransaction && tx.state === 'proceeding') tx.respond(tuResponse(tx.request, 487, 'u'));
  h.clock.advance(5 * 60_000);

  assert.equal(h.layer.stats.activeClientTransactions, 0);
  assert.equal(h.layer.stats.activeServerTransactions, 0);
  assert.equal(h.clock.pending, 0);
  assert.ok(clients.every((t) => t.state === 'terminated'));
  assert.ok(servers.every((t) => t.state === 'terminated'));
});

test('Stats: created/active counts and retransmissions are counted', () => {
  const h = harness();
  h.layer.sendRequest(outgoing('OPTIONS'), UDP_PEER, { onFinal: () => {} });
  h.layer.receive(incoming('MESSAGE'));
  h.clock.advance(1500);
  const s = h.layer.stats;
  assert.equal(s.clientTransactionsCreated, 1);
  assert.equal(s.serverTransactionsCreated, 1);
  assert.equal(s.activeClientTransactions, 1);
  assert.equal(s.activeServerTransactions, 1);
  assert.equal(s.retransmissionsSent, 2);
  s.retransmissionsSent = 99;
  assert.equal(h.layer.stats.retransmissionsSent, 2, 'stats is a snapshot');
});

test('RFC 3261 §8.1.1.5: sendRequest refuses a CSeq method other than the request\'s (responses are matched by it) and missing From/To/Call-ID', () => {
  const h = harness();
  const bad = outgoing('OPTIONS');
  bad.set('cseq', '1 INFO');
  assert.throws(() => h.layer.sendRequest(bad, UDP_PEER, { onFinal: () => {} }), TransactionUsageError);
  const noFrom = outgoing('OPTIONS');
  noFrom.remove('from');
  assert.throws(() => h.layer.sendRequest(noFrom, UDP_PEER, { onFinal: () => {} }), TransactionUsageError);
  assert.equal(h.transport.sent.length, 0);
  assert.equal(h.layer.stats.activeClientTransactions, 0);
});

test('RFC 3261 §18.2.2: a request with no usable response address is malformed, but an ACK (which gets no response) still reaches the TU', () => {
  // No source (not from a transport) and a Via transport with no §18.2.2 rule here: nowhere
  // to send a response. The layer looks for an address only when it needs one.
  const h = harness();
  const invite = incoming('INVITE', { via: 'SIP/2.0/SCTP 192.0.2.30;branch=z9hG4bKsctp1' });
  invite.source = undefined;
  h.layer.receive(invite);
  assert.equal(h.requests.length, 0);
  assert.equal(h.layer.stats.malformed, 1);
  assert.equal(h.layer.stats.activeServerTransactions, 0);
  const ack = incoming('ACK', { via: 'SIP/2.0/SCTP 192.0.2.30;branch=z9hG4bKsctp2' });
  ack.source = undefined;
  h.layer.receive(ack);
  assert.equal(h.layer.stats.malformed, 1);
  assert.equal(h.layer.stats.strayAcks, 1);
  assert.deepEqual(h.requests.map((r) => [r.req.method, r.tx]), [['ACK', undefined]]);
  assert.equal(h.transport.sent.length, 0);
});
