// SIP over UDP on loopback (RFC 3261 §18, RFC 3581), with real sockets on ephemeral ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UdpTransport } from '../../../src/sip/transport/udp.js';
import { resolveContext, type TransportLimitsInput } from '../../../src/sip/transport/config.js';
import { responseDestination } from '../../../src/sip/transport/received.js';
import { parseMessage } from '../../../src/sip/message/parse.js';
import { SipRequest, SipResponse } from '../../../src/sip/message/message.js';
import { tortureDir } from '../../helpers/paths.js';
import { NO_IPV6, delay, ipv6Loopback, recorder, request, response, udpPeer, waitFor, type Recorder, type UdpPeer } from './helpers.js';

const T = { timeout: 5000 };

async function withUdp(
  address: string,
  fn: (t: UdpTransport, ev: Recorder, peer: UdpPeer, port: number) => Promise<void>,
  limits?: TransportLimitsInput,
): Promise<void> {
  const ev = recorder();
  const t = await UdpTransport.open([{ address, port: 0 }], resolveContext({ limits }), ev);
  const peer = await udpPeer(address);
  try {
    const port = t.listening[0]!.port;
    assert.notEqual(port, 0);
    await fn(t, ev, peer, port);
  } finally {
    await peer.close();
    await t.close();
  }
}

test('RFC 3261 §18.2.1 / RFC 3581 §4: a UDP request arrives with received and rport stamped', T, () =>
  withUdp('127.0.0.1', async (_t, ev, peer, port) => {
    await peer.sendTo(request({ via: 'SIP/2.0/UDP client.example.com:5070;rport;branch=z9hG4bK-u1' }), port, '127.0.0.1');
    const m = await ev.nextMessage();
    assert.ok(m instanceof SipRequest);
    assert.equal(m.get('via'), `SIP/2.0/UDP client.example.com:5070;rport=${peer.port};branch=z9hG4bK-u1;received=127.0.0.1`);
    assert.deepEqual(m.source, {
      transport: 'UDP',
      localAddress: '127.0.0.1',
      localPort: port,
      remoteAddress: '127.0.0.1',
      remotePort: peer.port,
      connectionId: `UDP:127.0.0.1:${port}`,
    });
  }));

test('RFC 3261 §18.2.1: sent-by equal to the packet source is left exactly as sent', T, () =>
  withUdp('127.0.0.1', async (_t, ev, peer, port) => {
    await peer.sendTo(request({ via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-u2` }), port, '127.0.0.1');
    const m = await ev.nextMessage();
    assert.equal(m.get('via'), `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-u2`);
    assert.equal(ev.errors.length, 0);
  }));

test('RFC 3261 §18.1.1 / §18.2.2: requests and responses sent over UDP reach a raw peer', T, () =>
  withUdp('127.0.0.1', async (t, ev, peer, port) => {
    const out = parseMessage(request({ via: `SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-out` }));
    await t.send(out, { transport: 'UDP', address: '127.0.0.1', port: peer.port });
    const got = await peer.next();
    assert.equal(got.port, port, 'sent from the listening socket');
    assert.match(got.data.toString(), /^OPTIONS sip:bob@example\.com SIP\/2\.0\r\n/);

    // The peer's request names a bogus sent-by port but asks for rport: the response follows rport.
    await peer.sendTo(request({ via: 'SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK-in' }), port, '127.0.0.1');
    const req = await ev.nextMessage();
    assert.ok(req instanceof SipRequest);
    const res = new SipResponse(200, 'OK', req.headers.filter((h) => ['via', 'from', 'to', 'call-id', 'cseq'].includes(h.name)));
    const dest = responseDestination(req);
    assert.ok(dest !== undefined);
    await t.send(res, dest);
    const back = parseMessage((await peer.next(2)).data);
    assert.ok(back instanceof SipResponse);
    assert.equal(back.status, 200);
    assert.equal(back.get('via'), `SIP/2.0/UDP 127.0.0.1:9;rport=${peer.port};branch=z9hG4bK-in;received=127.0.0.1`);
  }));

test('RFC 3261 §18.2.2: responses reach IP literals and host names alike (names still go to the resolver)', T, () =>
  withUdp('127.0.0.1', async (t, _ev, peer) => {
    const res = parseMessage(response({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-l1' }));
    t.sendBytes(Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'), { transport: 'UDP', address: '127.0.0.1', port: peer.port });
    assert.match((await peer.next()).data.toString(), /^SIP\/2\.0 200 OK\r\n/);
    await t.send(res, { transport: 'UDP', address: 'localhost', port: peer.port });
    assert.match((await peer.next(2)).data.toString(), /^SIP\/2\.0 200 OK\r\n/);
    const failed = await new Promise<Error>((resolve) =>
      t.sendBytes(Buffer.from('x'), { transport: 'UDP', address: 'no-such-host.invalid', port: peer.port }, resolve),
    );
    assert.match(String((failed as NodeJS.ErrnoException).code), /ENOTFOUND|EAI_AGAIN/);
  }));

test('RFC 3261 §18.1.1: a message over 1300 bytes is still sent over UDP (no automatic switch to TCP)', T, () =>
  withUdp('127.0.0.1', async (t, _ev, peer) => {
    const big = parseMessage(request({ method: 'MESSAGE', via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-big', body: 'x'.repeat(4000) }));
    await t.send(big, { transport: 'UDP', address: '127.0.0.1', port: peer.port });
    const got = await peer.next();
    assert.ok(got.data.length > 4000);
    assert.equal(parseMessage(got.data).body.length, 4000);
  }));

test('RFC 4475 §3.1.2.2 / RFC 3261 §8.2: a malformed UDP request gets a stateless 400 at its received/rport', T, () =>
  withUdp('127.0.0.1', async (_t, ev, peer, port) => {
    // clerr: Content-Length 9999 with a short body. Its Via names host5.example.com:5060; add rport
    // so the 400 can reach this test's peer (RFC 3581 §4).
    const clerr = readFileSync(join(tortureDir, 'rfc4475', 'clerr.dat'), 'latin1').replace(
      'branch=z9hG4bK-39234-23523',
      'rport;branch=z9hG4bK-39234-23523',
    );
    await peer.sendTo(Buffer.from(clerr, 'latin1'), port, '127.0.0.1');
    const got = await peer.next();
    const res = parseMessage(got.data);
    assert.ok(res instanceof SipResponse);
    assert.equal(res.status, 400);
    assert.match(res.reason, /Content-Length 9999/);
    assert.equal(res.get('via'), `SIP/2.0/UDP host5.example.com;rport=${peer.port};branch=z9hG4bK-39234-23523;received=127.0.0.1`);
    assert.equal(res.get('call-id'), 'clerr.0ha0isndaksdjweiafasdk3');
    assert.equal(res.get('cseq'), '8 INVITE');
    assert.match(res.get('to') ?? '', /;tag=/);
    assert.equal(ev.messages.length, 0);
    assert.equal(ev.errors.length, 1);
    assert.equal(ev.errors[0]!.source.remotePort, peer.port);
  }));

test('RFC 3261 §18.2.1: a request with an unreadable top Via is answered 400 at the packet source', T, () =>
  withUdp('127.0.0.1', async (_t, ev, peer, port) => {
    await peer.sendTo(request({ via: 'SIP/2.0/UDP bad host;branch=z9hG4bK-bad' }), port, '127.0.0.1');
    const res = parseMessage((await peer.next()).data);
    assert.ok(res instanceof SipResponse);
    assert.equal(res.status, 400);
    assert.match(res.reason, /Via/);
    assert.equal(ev.messages.length, 0);
    assert.equal(ev.errors.length, 1);
  }));

test('RFC 3261 §18.1.2: a malformed response is dropped silently (reported, never answered)', T, () =>
  withUdp('127.0.0.1', async (_t, ev, peer, port) => {
    const bad = response({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-r' }).replace('Content-Length: 0', 'Content-Length: 50');
    await peer.sendTo(bad, port, '127.0.0.1');
    await peer.sendTo(response({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-ok' }), port, '127.0.0.1');
    const ok = await ev.nextMessage();
    assert.ok(ok instanceof SipResponse);
    assert.equal(ok.get('via'), 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-ok', 'responses are not stamped');
    assert.equal(ev.errors.length, 1);
    assert.equal(ev.errors[0]!.error.partial?.isRequest(), false);
    await delay(50);
    assert.equal(peer.received.length, 0);
  }));

test('design.md §4: an exception in the message handler never reaches the socket', T, async () => {
  const ev = recorder();
  let calls = 0;
  const t = await UdpTransport.open([{ address: '127.0.0.1', port: 0 }], resolveContext({}), {
    message: (m) => {
      calls++;
      if (calls === 1) throw new Error('upper layer bug');
      ev.message(m);
    },
    parseError: ev.parseError,
  });
  const peer = await udpPeer('127.0.0.1');
  try {
    const port = t.listening[0]!.port;
    await peer.sendTo(request({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-t1' }), port, '127.0.0.1');
    await peer.sendTo(request({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-t2' }), port, '127.0.0.1');
    assert.match((await ev.nextMessage()).get('via') ?? '', /z9hG4bK-t2/);
    assert.equal(calls, 2);
  } finally {
    await peer.close();
    await t.close();
  }
});

test('RFC 5626 §3.5.2: CRLF and STUN-like keep-alive datagrams are ignored, not parse errors', T, () =>
  withUdp('127.0.0.1', async (_t, ev, peer, port) => {
    await peer.sendTo('\r\n\r\n', port, '127.0.0.1');
    await peer.sendTo(Buffer.from([0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42]), port, '127.0.0.1');
    await peer.sendTo(request({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-k' }), port, '127.0.0.1');
    await ev.nextMessage();
    assert.equal(ev.errors.length, 0);
    assert.equal(peer.received.length, 0);
  }));

test('design.md §8: datagrams over limits.maxDatagramBytes are dropped unparsed (513 reported)', T, () =>
  withUdp(
    '127.0.0.1',
    async (_t, ev, peer, port) => {
      await peer.sendTo(request({ method: 'MESSAGE', via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-l', body: 'y'.repeat(600) }), port, '127.0.0.1');
      await peer.sendTo(request({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-s' }), port, '127.0.0.1');
      const m = await ev.nextMessage();
      assert.match(m.get('via') ?? '', /z9hG4bK-s/);
      assert.equal(ev.messages.length, 1);
      assert.equal(ev.errors.length, 1);
      assert.equal(ev.errors[0]!.error.status, 513);
    },
    { maxDatagramBytes: 512 },
  ));

test('RFC 3261 §18.2.1 / RFC 5118: UDP over IPv6 loopback ::1', T, async (t) => {
  if (!(await ipv6Loopback())) {
    t.skip(NO_IPV6);
    return;
  }
  await withUdp('::1', async (tr, ev, peer, port) => {
    assert.deepEqual(tr.listening, [{ transport: 'UDP', address: '::1', port }]);
    await peer.sendTo(request({ via: 'SIP/2.0/UDP [2001:db8::1]:5060;rport;branch=z9hG4bK-v6' }), port, '::1');
    const m = await ev.nextMessage();
    assert.ok(m instanceof SipRequest);
    assert.equal(m.get('via'), `SIP/2.0/UDP [2001:db8::1]:5060;rport=${peer.port};branch=z9hG4bK-v6;received=::1`);
    assert.equal(m.source?.remoteAddress, '::1');
    const dest = responseDestination(m);
    assert.deepEqual(dest, { transport: 'UDP', address: '::1', port: peer.port, connectionId: `UDP:[::1]:${port}` });
    await tr.send(parseMessage(response({ via: m.get('via')! })), dest);
    assert.equal(parseMessage((await peer.next()).data).isRequest(), false);
  });
});

test('udp.ts: the sends of one event-loop turn all leave, in the order they were made', T, () =>
  withUdp('127.0.0.1', async (t, _ev, peer) => {
    const dest = { transport: 'UDP' as const, address: '127.0.0.1', port: peer.port };
    // Queued without yielding: they go out together at the end of this turn.
    for (let i = 0; i < 40; i++) t.sendBytes(Buffer.from(`datagram ${i}`), dest);
    await peer.next(40);
    assert.deepEqual(
      peer.received.map((d) => d.data.toString()),
      Array.from({ length: 40 }, (_, i) => `datagram ${i}`),
    );
  }));

test('udp.ts: a queued send that the socket refuses fails alone; the rest of the turn still leaves', T, () =>
  withUdp('127.0.0.1', async (t, _ev, peer) => {
    const dest = { transport: 'UDP' as const, address: '127.0.0.1', port: peer.port };
    const failures: Error[] = [];
    t.sendBytes(Buffer.from('first'), dest);
    // Port 0 is refused by dgram's send itself, when the queue is flushed.
    t.sendBytes(Buffer.from('refused'), { ...dest, port: 0 }, (err) => failures.push(err));
    t.sendBytes(Buffer.from('third'), dest);
    await peer.next(2);
    await waitFor('the refused send to be reported', () => failures[0]);
    assert.deepEqual(peer.received.map((d) => d.data.toString()), ['first', 'third']);
    assert.equal(failures.length, 1);
    assert.equal((failures[0] as NodeJS.ErrnoException).code, 'ERR_SOCKET_BAD_PORT');
  }));

test('udp.ts: close() sends what is still queued before it closes the socket', T, async () => {
  const t = await UdpTransport.open([{ address: '127.0.0.1', port: 0 }], resolveContext({}), recorder());
  const peer = await udpPeer('127.0.0.1');
  try {
    const failures: Error[] = [];
    const dest = { transport: 'UDP' as const, address: '127.0.0.1', port: peer.port };
    for (let i = 0; i < 5; i++) t.sendBytes(Buffer.from(`last ${i}`), dest, (err) => failures.push(err));
    const sent = t.send(parseMessage(request({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-close' })), dest);
    await t.close();
    await sent;
    await peer.next(6);
    assert.deepEqual(peer.received.slice(0, 5).map((d) => d.data.toString()), ['last 0', 'last 1', 'last 2', 'last 3', 'last 4']);
    assert.match(peer.received[5]!.data.toString(), /^OPTIONS /);
    assert.deepEqual(failures, []);
    // After close, a send fails at once instead of waiting in the queue.
    const late = await new Promise<Error>((resolve) => t.sendBytes(Buffer.from('late'), dest, resolve));
    assert.equal((late as { code?: string }).code, 'CLOSED');
  } finally {
    await peer.close();
    await t.close();
  }
});

test('udp.ts: a run of datagrams read in one turn is handled in arrival order', T, () =>
  withUdp('127.0.0.1', async (_t, ev, peer, port) => {
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 30; i++) sends.push(peer.sendTo(request({ via: `SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-run${i}` }), port, '127.0.0.1'));
    await Promise.all(sends);
    await ev.nextMessage(30);
    assert.deepEqual(
      ev.messages.map((m) => /branch=(z9hG4bK-run\d+)/.exec(m.get('via') ?? '')?.[1]),
      Array.from({ length: 30 }, (_, i) => `z9hG4bK-run${i}`),
    );
  }));

test('udp.ts: promise callbacks still run between two datagrams of one run', T, async () => {
  const order: string[] = [];
  const ev = recorder();
  const t = await UdpTransport.open([{ address: '127.0.0.1', port: 0 }], resolveContext({}), {
    message: (m) => {
      order.push('message');
      queueMicrotask(() => order.push('callback'));
      ev.message(m);
    },
    parseError: ev.parseError,
  });
  const peer = await udpPeer('127.0.0.1');
  try {
    const port = t.listening[0]!.port;
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) sends.push(peer.sendTo(request({ via: `SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-mt${i}` }), port, '127.0.0.1'));
    await Promise.all(sends);
    await ev.nextMessage(10);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, Array.from({ length: 10 }, () => ['message', 'callback']).flat());
  } finally {
    await peer.close();
    await t.close();
  }
});

test('udp.ts: close() fails a send whose host name is still being resolved, instead of leaving it pending', T, async () => {
  const t = await UdpTransport.open([{ address: '127.0.0.1', port: 0 }], resolveContext({}), recorder());
  const dest = { transport: 'UDP' as const, address: 'localhost', port: 9 };
  const failed = new Promise<Error>((resolve) => t.sendBytes(Buffer.from('x'), dest, resolve));
  const sent = t.send(parseMessage(request({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-named' })), dest);
  await t.close();
  assert.equal(((await failed) as { code?: string }).code, 'CLOSED');
  await assert.rejects(sent, (e: { code?: string }) => e.code === 'CLOSED');
});
