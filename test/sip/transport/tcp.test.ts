// SIP over TCP on loopback (RFC 3261 §18.3 framing, §18.2.2 connection reuse, RFC 5626 keep-alive).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TcpTransport } from '../../../src/sip/transport/tcp.js';
import { TransportError, resolveContext, type TransportLimitsInput } from '../../../src/sip/transport/config.js';
import { responseDestination } from '../../../src/sip/transport/received.js';
import { parseMessage } from '../../../src/sip/message/parse.js';
import { SipRequest, SipResponse } from '../../../src/sip/message/message.js';
import { FakeClock, type Clock } from '../../../src/sip/clock.js';
import { tortureDir } from '../../helpers/paths.js';
import {
  NO_IPV6,
  count,
  delay,
  ipv6Loopback,
  recorder,
  request,
  response,
  tcpConnect,
  tcpServer,
  waitFor,
  type Recorder,
} from './helpers.js';

const T = { timeout: 5000 };

async function withTcp(
  address: string,
  fn: (t: TcpTransport, ev: Recorder, port: number) => Promise<void>,
  opts: { limits?: TransportLimitsInput; clock?: Clock } = {},
): Promise<void> {
  const ev = recorder();
  const t = await TcpTransport.open([{ address, port: 0 }], resolveContext(opts), ev);
  try {
    await fn(t, ev, t.listening[0]!.port);
  } finally {
    await t.close();
  }
}

function torture(name: string): Buffer {
  return readFileSync(join(tortureDir, 'rfc4475', name));
}

test('RFC 3261 §18.3: pipelined messages in one write are framed by Content-Length', T, () =>
  withTcp('127.0.0.1', async (_t, ev, port) => {
    const c = await tcpConnect('127.0.0.1', port);
    try {
      const a = request({ method: 'MESSAGE', via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-p1', body: 'one\r\n\r\ntwo' });
      const b = request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-p2', cseq: 2 });
      await c.write('\r\n' + a + b);
      await ev.nextMessage(2);
      assert.equal(ev.messages[0]!.body.toString(), 'one\r\n\r\ntwo');
      assert.match(ev.messages[1]!.get('via') ?? '', /z9hG4bK-p2/);
      assert.equal(ev.errors.length, 0);
    } finally {
      c.close();
    }
  }));

test('RFC 3261 §18.3: a message split byte by byte across writes is reassembled', T, () =>
  withTcp('127.0.0.1', async (_t, ev, port) => {
    const c = await tcpConnect('127.0.0.1', port);
    try {
      c.socket.setNoDelay(true);
      const text = Buffer.from(request({ method: 'MESSAGE', via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-b', body: 'héllo' }));
      for (const byte of text) await c.write(Buffer.from([byte]));
      const m = await ev.nextMessage();
      assert.equal(m.body.toString(), 'héllo');
      assert.equal(m.get('content-length'), String(Buffer.byteLength('héllo')));
    } finally {
      c.close();
    }
  }));

test('RFC 3261 §18.2.1: a TCP request is stamped with received and rport and names its connection', T, () =>
  withTcp('127.0.0.1', async (t, ev, port) => {
    const c = await tcpConnect('127.0.0.1', port);
    try {
      await c.write(request({ via: 'SIP/2.0/TCP client.example.com:5070;rport;branch=z9hG4bK-s' }));
      const m = await ev.nextMessage();
      const local = c.socket.localPort!;
      assert.equal(m.get('via'), `SIP/2.0/TCP client.example.com:5070;rport=${local};branch=z9hG4bK-s;received=127.0.0.1`);
      assert.equal(m.source?.transport, 'TCP');
      assert.equal(m.source?.remotePort, local);
      assert.match(m.source?.connectionId ?? '', /^TCP-\d+$/);
      assert.equal(t.connectionCount, 1);
    } finally {
      c.close();
    }
  }));

test('RFC 3261 §18.2.1: a framed request with an unreadable Via gets 400 and the connection stays usable', T, () =>
  withTcp('127.0.0.1', async (t, ev, port) => {
    const c = await tcpConnect('127.0.0.1', port);
    try {
      await c.write(request({ via: 'SIP/2.0/TCP no host here;branch=z9hG4bK-bv', callId: 'bad-via' }));
      await c.waitText('400', (s) => s.includes('\r\n\r\n'));
      const res = parseMessage(Buffer.from(c.text(), 'latin1'));
      assert.ok(res instanceof SipResponse);
      assert.equal(res.status, 400);
      assert.equal(res.get('call-id'), 'bad-via');
      assert.equal(ev.errors.length, 1);
      assert.equal(ev.errors[0]!.error.fatal, false);
      await c.write(request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-ok' }));
      assert.match((await ev.nextMessage()).get('via') ?? '', /z9hG4bK-ok/);
      assert.equal(t.connectionCount, 1);
    } finally {
      c.close();
    }
  }));

test('RFC 5626 §3.5.1: a CRLFCRLF ping is answered with a CRLF pong', T, () =>
  withTcp('127.0.0.1', async (_t, ev, port) => {
    const c = await tcpConnect('127.0.0.1', port);
    try {
      await c.write('\r\n\r\n');
      await c.waitText('pong', (s) => s === '\r\n');
      // A ping right before a message: pong, then the message is framed as usual.
      await c.write('\r\n\r\n' + request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-pp' }));
      await c.waitText('second pong', (s) => s === '\r\n\r\n');
      await ev.nextMessage();
      assert.equal(ev.errors.length, 0);
    } finally {
      c.close();
    }
  }));

test('RFC 4475 §3.1.2.3: a negative Content-Length on a stream gets 400 and the connection is closed', T, () =>
  withTcp('127.0.0.1', async (t, ev, port) => {
    const c = await tcpConnect('127.0.0.1', port);
    try {
      await c.write(torture('ncl.dat'));
      await c.waitClosed();
      const res = parseMessage(Buffer.from(c.text(), 'latin1'));
      assert.ok(res instanceof SipResponse);
      assert.equal(res.status, 400);
      assert.equal(res.get('call-id'), 'ncl.0ha0isndaksdj2193423r542w35');
      assert.equal(res.get('cseq'), '0 INVITE');
      assert.match(res.get('via') ?? '', /^SIP\/2\.0\/UDP 192\.0\.2\.53;branch=z9hG4bKkdjuw;received=127\.0\.0\.1$/);
      assert.equal(ev.messages.length, 0);
      assert.equal(ev.errors.length, 1);
      assert.equal(ev.errors[0]!.error.fatal, true);
      await waitFor('connection table to empty', () => (t.connectionCount === 0 ? true : undefined));
    } finally {
      c.close();
    }
  }));

test('RFC 4475 §3.3.9: conflicting Content-Length values on a stream get 400 and a close', T, () =>
  withTcp('127.0.0.1', async (_t, ev, port) => {
    const c = await tcpConnect('127.0.0.1', port);
    try {
      await c.write(torture('mcl01.dat'));
      await c.waitClosed();
      assert.match(c.text(), /^SIP\/2\.0 400 /);
      assert.equal(count(c.text(), 'SIP/2.0 400'), 1);
      assert.equal(ev.errors.length, 1);
    } finally {
      c.close();
    }
  }));

test('RFC 3261 §18.3 / design.md §8: headers over maxHeaderBytes close the connection', T, () =>
  withTcp(
    '127.0.0.1',
    async (_t, ev, port) => {
      const c = await tcpConnect('127.0.0.1', port);
      try {
        await c.write('OPTIONS sip:bob@example.com SIP/2.0\r\nSubject: ' + 'z'.repeat(2000));
        await c.waitClosed();
        assert.equal(c.text(), '', 'no partial message to answer');
        assert.equal(ev.errors.length, 1);
        assert.match(ev.errors[0]!.error.message, /headers longer than 1024/);
      } finally {
        c.close();
      }
    },
    { limits: { parse: { maxHeaderBytes: 1024 } } },
  ));

test('RFC 3261 §18.2.2: the response goes back on the connection the request came on', T, () =>
  withTcp('127.0.0.1', async (t, ev, port) => {
    const c = await tcpConnect('127.0.0.1', port);
    try {
      // sent-by names a port nobody listens on: only connection reuse can deliver the response.
      await c.write(request({ via: 'SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-re' }));
      const req = await ev.nextMessage();
      assert.ok(req instanceof SipRequest);
      const dest = responseDestination(req);
      assert.deepEqual(dest, { transport: 'TCP', address: '127.0.0.1', port: 9, connectionId: req.source?.connectionId });
      await t.send(parseMessage(response({ via: req.get('via')! })), dest!);
      await c.waitText('response', (s) => s.includes('\r\n\r\n'));
      assert.match(c.text(), /^SIP\/2\.0 200 OK\r\n/);
      assert.equal(t.connectionCount, 1);
    } finally {
      c.close();
    }
  }));

test('RFC 3261 §18.1.1: a request to a new destination opens a connection, later sends reuse it', T, async () => {
  const server = await tcpServer('127.0.0.1');
  try {
    await withTcp('127.0.0.1', async (t, ev) => {
      const dest = { transport: 'TCP' as const, address: '127.0.0.1', port: server.port };
      await t.send(parseMessage(request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-o1' })), dest);
      await t.send(parseMessage(request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-o2', cseq: 2 })), dest);
      const peer = await waitFor('accepted connection', () => server.peers[0]);
      await peer.waitText('two requests', (s) => count(s, 'OPTIONS sip:') === 2);
      assert.equal(server.peers.length, 1);
      // The far end answers on the same connection; it arrives as a message on that connection.
      await peer.write(response({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-o1' }));
      const res = await ev.nextMessage();
      assert.ok(res instanceof SipResponse);
      assert.equal(res.source?.remotePort, server.port);
      assert.equal(t.connectionCount, 1);
    });
  } finally {
    await server.close();
  }
});

test('RFC 3261 §18.4: connection refused and connect timeout reject send', T, async () => {
  const server = await tcpServer('127.0.0.1');
  const deadPort = server.port;
  await server.close();
  const clock = new FakeClock();
  await withTcp(
    '127.0.0.1',
    async (t) => {
      const msg = parseMessage(request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-x' }));
      await assert.rejects(t.send(msg, { transport: 'TCP', address: '127.0.0.1', port: deadPort }), /ECONNREFUSED/);
      // TEST-NET-1 never answers; the timer is armed synchronously, so advancing fires it first.
      const pending = t.send(msg, { transport: 'TCP', address: '192.0.2.1', port: 5060 });
      clock.advance(1000);
      await assert.rejects(pending, (e: unknown) => e instanceof TransportError && e.code === 'CONNECT_TIMEOUT');
      assert.equal(t.connectionCount, 0);
    },
    { clock, limits: { connectTimeoutMs: 1000 } },
  );
});

test('RFC 3261 §18: a connection idle for limits.idleTimeoutMs is closed', T, async () => {
  const clock = new FakeClock();
  await withTcp(
    '127.0.0.1',
    async (t, ev, port) => {
      const c = await tcpConnect('127.0.0.1', port);
      try {
        await waitFor('accept', () => (t.connectionCount === 1 ? true : undefined));
        clock.advance(30_000);
        await c.write(request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-i' }));
        await ev.nextMessage();
        clock.advance(40_000); // 70 s since accept, 40 s since traffic: still open
        await delay(20);
        assert.equal(t.connectionCount, 1);
        clock.advance(20_000);
        await c.waitClosed();
        await waitFor('table to empty', () => (t.connectionCount === 0 ? true : undefined));
      } finally {
        c.close();
      }
    },
    { clock, limits: { idleTimeoutMs: 60_000 } },
  );
});

test('design.md §8: connections beyond limits.maxConnections are refused', T, () =>
  withTcp(
    '127.0.0.1',
    async (t, ev, port) => {
      const a = await tcpConnect('127.0.0.1', port);
      const b = await tcpConnect('127.0.0.1', port);
      try {
        await b.waitClosed();
        assert.equal(t.connectionCount, 1);
        await a.write(request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-m' }));
        await ev.nextMessage();
        const msg = parseMessage(request({ via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-m2' }));
        await assert.rejects(
          t.send(msg, { transport: 'TCP', address: '127.0.0.1', port: 9 }),
          (e: unknown) => e instanceof TransportError && e.code === 'MAX_CONNECTIONS',
        );
      } finally {
        a.close();
        b.close();
      }
    },
    { limits: { maxConnections: 1 } },
  ));

test('RFC 3261 §18.3 / RFC 5118: TCP over IPv6 loopback ::1, both directions', T, async (t) => {
  if (!(await ipv6Loopback())) {
    t.skip(NO_IPV6);
    return;
  }
  const server = await tcpServer('::1');
  try {
    await withTcp('::1', async (tr, ev, port) => {
      assert.deepEqual(tr.listening, [{ transport: 'TCP', address: '::1', port }]);
      const c = await tcpConnect('::1', port);
      try {
        await c.write(request({ via: 'SIP/2.0/TCP [2001:db8::1];branch=z9hG4bK-6' }));
        const m = await ev.nextMessage();
        assert.equal(m.get('via'), 'SIP/2.0/TCP [2001:db8::1];branch=z9hG4bK-6;received=::1');
        assert.equal(m.source?.remoteAddress, '::1');
      } finally {
        c.close();
      }
      await tr.send(parseMessage(request({ via: `SIP/2.0/TCP [::1]:${port};branch=z9hG4bK-7` })), {
        transport: 'TCP',
        address: '::1',
        port: server.port,
      });
      const peer = await waitFor('accepted connection', () => server.peers[0]);
      await peer.waitText('request', (s) => s.includes('\r\n\r\n'));
      assert.match(peer.text(), /^OPTIONS /);
    });
  } finally {
    await server.close();
  }
});
