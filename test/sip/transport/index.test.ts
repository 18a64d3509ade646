// createTransports: one Transport over UDP and TCP listeners (RFC 3261 §18), IPv4 and IPv6.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { TransportError, createTransports, type TransportLogger } from '../../../src/sip/transport/index.js';
import { parseMessage } from '../../../src/sip/message/parse.js';
import { SipRequest } from '../../../src/sip/message/message.js';
import { ipv6Loopback, recorder, request, tcpServer, udpPeer, waitFor } from './helpers.js';

const T = { timeout: 5000 };

test('RFC 3261 §18: createTransports listens on UDP and TCP, IPv4 and IPv6, and dispatches send by transport', T, async () => {
  const v6 = await ipv6Loopback();
  const addrs = v6 ? ['127.0.0.1', '::1'] : ['127.0.0.1'];
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger: TransportLogger = pino({ level: 'debug' }, sink);
  const ev = recorder();
  const tr = await createTransports(
    { udp: addrs.map((address) => ({ address, port: 0 })), tcp: addrs.map((address) => ({ address, port: 0 })), logger },
    ev,
  );
  const peers = await Promise.all(addrs.map((a) => udpPeer(a)));
  const servers = await Promise.all(addrs.map((a) => tcpServer(a)));
  try {
    assert.equal(tr.listening.length, addrs.length * 2);
    assert.ok(tr.listening.every((l) => l.port > 0));
    assert.deepEqual(
      tr.listening.map((l) => `${l.transport} ${l.address}`),
      [...addrs.map((a) => `UDP ${a}`), ...addrs.map((a) => `TCP ${a}`)],
    );
    assert.equal(tr.isReliable('UDP'), false);
    assert.equal(tr.isReliable('TCP'), true);

    const msg = parseMessage(request({ via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-d' }));
    for (const [i, a] of addrs.entries()) {
      await tr.send(msg, { transport: 'UDP', address: a, port: peers[i]!.port });
      const got = await peers[i]!.next();
      const from = tr.listening.find((l) => l.transport === 'UDP' && l.address === a);
      assert.equal(got.port, from?.port, `UDP to ${a} leaves from the ${a} socket`);
      await tr.send(msg, { transport: 'TCP', address: a, port: servers[i]!.port });
      const server = servers[i]!;
      const peer = await waitFor('accepted connection', () => server.peers[0]);
      await peer.waitText('request', (s) => s.includes('\r\n\r\n'));
    }
    await assert.rejects(
      tr.send(msg, { transport: 'TLS', address: '127.0.0.1', port: 5061 }),
      (e: unknown) => e instanceof TransportError && e.code === 'NO_TRANSPORT',
    );

    // Requests arrive from every listener into the same events.
    const udpPort = tr.listening.find((l) => l.transport === 'UDP')!.port;
    await peers[0]!.sendTo(request({ via: 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-in' }), udpPort, '127.0.0.1');
    const m = await ev.nextMessage();
    assert.ok(m instanceof SipRequest);

    assert.ok(lines.some((l) => JSON.parse(l).msg === 'listening'), 'structured logs reach a pino logger');
    assert.ok(lines.some((l) => JSON.parse(l).callId === 'call-1@example.com'));
  } finally {
    await tr.close();
    for (const p of peers) await p.close();
    for (const s of servers) await s.close();
  }
  await assert.rejects(
    tr.send(parseMessage(request({ via: 'SIP/2.0/UDP h;branch=z9hG4bK-c' })), { transport: 'UDP', address: '127.0.0.1', port: 9 }),
    (e: unknown) => e instanceof TransportError && e.code === 'CLOSED',
  );
});

test('RFC 3261 §18: a listener that cannot bind fails createTransports and leaves nothing open', T, async () => {
  const ev = recorder();
  const first = await createTransports({ tcp: [{ address: '127.0.0.1', port: 0 }] }, ev);
  try {
    const taken = first.listening[0]!.port;
    await assert.rejects(
      createTransports({ udp: [{ address: '127.0.0.1', port: 0 }], tcp: [{ address: '127.0.0.1', port: taken }] }, ev),
      /EADDRINUSE/,
    );
  } finally {
    await first.close();
  }
});
