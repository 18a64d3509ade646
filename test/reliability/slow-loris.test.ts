// Issue 6, overload: slow-loris peers on SIP over TCP and on MSRP. Each byte they send resets
// the idle timer, so what bounds them is the deadline for a started message to complete
// (limits.messageTimeoutMs) and the cap on inbound connections per IP address
// (limits.maxConnectionsPerIp). Time is the FakeClock's (design.md convention 2); the sockets
// are real, on loopback. The attackers come from 127.0.0.2, the legitimate peer from 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { TcpTransport } from '../../src/sip/transport/tcp.js';
import { resolveContext } from '../../src/sip/transport/config.js';
import { MsrpEndpoint } from '../../src/msrp/endpoint.js';
import { FakeClock } from '../../src/sip/clock.js';
import { recorder, request, waitFor, delay } from '../sip/transport/helpers.js';

const ATTACKER = '127.0.0.2';

interface Loris {
  socket: net.Socket;
  closedAt: number | undefined;
  sent: number;
}

async function openLoris(port: number, n: number, clock: FakeClock): Promise<Loris[]> {
  const out: Loris[] = [];
  for (let i = 0; i < n; i++) {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: ATTACKER });
    const l: Loris = { socket, closedAt: undefined, sent: 0 };
    socket.on('error', () => undefined);
    socket.once('close', () => (l.closedAt = clock.now()));
    await new Promise<void>((resolve) => {
      socket.once('connect', () => resolve());
      socket.once('close', () => resolve());
    });
    out.push(l);
  }
  return out;
}

/** One byte from every open attacker, then the fake time moves on by stepMs. */
async function dribble(lorises: Loris[], text: string, clock: FakeClock, stepMs: number): Promise<void> {
  for (const l of lorises) {
    if (l.closedAt !== undefined || l.socket.destroyed) continue;
    l.socket.write(text[l.sent % text.length]!);
    l.sent++;
  }
  await delay(15); // let the bytes reach the server before time moves
  clock.advance(stepMs);
}

test('SIP over TCP slow-loris: the per-address cap refuses the excess at once, messageTimeoutMs closes the dribblers; a legitimate peer is served meanwhile', { timeout: 30_000 }, async () => {
  const clock = new FakeClock();
  const ev = recorder();
  const limits = { messageTimeoutMs: 10_000, maxConnectionsPerIp: 8, idleTimeoutMs: 60_000 };
  const t = await TcpTransport.open([{ address: '127.0.0.1', port: 0 }], resolveContext({ clock, limits }), ev);
  const port = t.listening[0]!.port;
  const lorises: Loris[] = [];
  try {
    lorises.push(...(await openLoris(port, 20, clock)));
    // The 12 over the cap are closed by the server without a byte sent.
    await waitFor('the connections over the per-address cap closed', () => (lorises.filter((l) => l.closedAt !== undefined).length >= 12 ? true : undefined));
    assert.equal(lorises.filter((l) => l.closedAt !== undefined).length, 12);
    assert.equal(t.connectionCount, 8);

    const legit = net.connect({ host: '127.0.0.1', port });
    legit.on('error', () => undefined);
    await new Promise<void>((r) => legit.once('connect', () => r()));
    const head = request({ method: 'OPTIONS', via: 'SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-legit' });
    let step = 0;
    // Each attacker sends a byte per (fake) second: the idle timer (60 s) never fires.
    while (lorises.some((l) => l.closedAt === undefined) && step < 30) {
      if (step === 3) legit.write(head); // a whole message, mid-attack
      await dribble(lorises, 'OPTIONS sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.2;branch=z9hG4bK-', clock, 1000);
      step++;
      await delay(5);
    }
    await waitFor('every dribbler closed', () => (lorises.every((l) => l.closedAt !== undefined) ? true : undefined));
    const late = lorises.filter((l) => l.sent > 0);
    assert.equal(late.length, 8);
    // Closed by the message deadline: after messageTimeoutMs of fake time, long before the idle timeout.
    for (const l of late) assert.ok(l.closedAt! >= limits.messageTimeoutMs && l.closedAt! < limits.idleTimeoutMs, `closed at ${l.closedAt}`);
    // The legitimate request was framed and delivered while the attack went on; its connection is still open.
    const m = await ev.nextMessage(1);
    assert.match(m.get('via') ?? '', /z9hG4bK-legit/);
    assert.equal(ev.messages.length, 1, 'no attacker bytes made a message');
    assert.equal(t.connectionCount, 1);
    assert.ok(!legit.destroyed);
    // The cap frees with the connections: the attacker address may connect again.
    const again = await openLoris(port, 1, clock);
    await delay(20);
    assert.equal(again[0]!.closedAt, undefined);
    again[0]!.socket.destroy();
    legit.destroy();
  } finally {
    for (const l of lorises) l.socket.destroy();
    await t.close();
  }
});

test('SIP over TCP: messages completing one after another, each split over seconds, are not cut by messageTimeoutMs', { timeout: 30_000 }, async () => {
  const clock = new FakeClock();
  const ev = recorder();
  const t = await TcpTransport.open([{ address: '127.0.0.1', port: 0 }], resolveContext({ clock, limits: { messageTimeoutMs: 10_000, idleTimeoutMs: 60_000 } }), ev);
  try {
    const c = net.connect({ host: '127.0.0.1', port: t.listening[0]!.port });
    c.on('error', () => undefined);
    await new Promise<void>((r) => c.once('connect', () => r()));
    // 12 messages, each sent in two halves 6 s apart (of fake time), the next one's first half
    // in the same write as the previous one's end: 72 s in all, never 10 s on one message.
    const msgs = Array.from({ length: 12 }, (_, i) => request({ via: `SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-seq${i}`, cseq: i + 1 }));
    c.write(msgs[0]!.slice(0, 40));
    for (let i = 0; i < msgs.length; i++) {
      await delay(15);
      clock.advance(6_000);
      c.write(msgs[i]!.slice(40) + (msgs[i + 1]?.slice(0, 40) ?? ''));
      await ev.nextMessage(i + 1);
    }
    assert.equal(ev.messages.length, 12);
    assert.equal(t.connectionCount, 1);
    c.destroy();
  } finally {
    await t.close();
  }
});

test('MSRP slow-loris: the per-address cap and messageTimeoutMs bound dribbling peers; a legitimate peer still gets its answer', { timeout: 30_000 }, async () => {
  const clock = new FakeClock();
  const limits = { messageTimeoutMs: 10_000, maxConnectionsPerIp: 8, unboundIdleTimeoutMs: 60_000 };
  const ep = await MsrpEndpoint.create({ listen: { address: '127.0.0.1', port: 0 }, clock, limits });
  const port = ep.port!;
  const lorises: Loris[] = [];
  try {
    lorises.push(...(await openLoris(port, 20, clock)));
    await waitFor('the connections over the per-address cap closed', () => (lorises.filter((l) => l.closedAt !== undefined).length >= 12 ? true : undefined));
    assert.equal(ep.connectionCount, 8);
    const legit = net.connect({ host: '127.0.0.1', port });
    let answer = '';
    legit.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    legit.on('error', () => undefined);
    await new Promise<void>((r) => legit.once('connect', () => r()));
    let step = 0;
    while (lorises.some((l) => l.closedAt === undefined) && step < 30) {
      if (step === 3) {
        legit.write(
          'MSRP legit1 SEND\r\nTo-Path: msrp://127.0.0.1:' + port + '/nosuchsession;tcp\r\nFrom-Path: msrp://127.0.0.1:9/peer;tcp\r\n' +
            'Message-ID: m1\r\nByte-Range: 1-2/2\r\nContent-Type: text/plain\r\n\r\nhi\r\n-------legit1$\r\n',
        );
      }
      await dribble(lorises, 'MSRP slow SEND\r\nTo-Path: msrp://127.0.0.1:1/x;tcp\r\n', clock, 1000);
      step++;
      await delay(5);
    }
    await waitFor('every dribbler closed', () => (lorises.every((l) => l.closedAt !== undefined) ? true : undefined));
    for (const l of lorises.filter((x) => x.sent > 0)) assert.ok(l.closedAt! >= limits.messageTimeoutMs && l.closedAt! < limits.unboundIdleTimeoutMs, `closed at ${l.closedAt}`);
    // Served meanwhile: no such session, 481 (RFC 4975 §7.3), on a connection still open.
    await waitFor('the legitimate peer answered', () => (answer.includes('MSRP legit1 481') ? true : undefined));
    assert.equal(ep.connectionCount, 1);
    legit.destroy();
  } finally {
    for (const l of lorises) l.socket.destroy();
    await ep.close();
  }
});
