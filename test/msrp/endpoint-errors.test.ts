// Error handling of the MSRP endpoint against raw TCP peers (RFC 4975 §7.1.1 timeouts and
// Failure-Report, §7.2, §7.3 session matching, §10 response codes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MsrpEndpoint } from '../../src/msrp/endpoint.js';
import { MsrpSendError } from '../../src/msrp/errors.js';
import { getHeader, type MsrpMessage } from '../../src/msrp/message.js';
import type { ReceivedMessage } from '../../src/msrp/session.js';
import { FakeClock } from '../../src/sip/clock.js';
import { crlf } from './fixtures.js';
import { delay, next, rawConnect, rawServer, until } from './helpers.js';

const T = { timeout: 10_000 };
const PEER = 'msrp://127.0.0.1:7777/peerSession1;tcp';

function send(tid: string, to: string, from: string, extra: string[] = [], body?: string, flag = '$'): string {
  const lines = [`MSRP ${tid} SEND`, `To-Path: ${to}`, `From-Path: ${from}`, ...extra];
  if (body === undefined) return crlf([...lines, `-------${tid}${flag}`]);
  return crlf([...lines, 'Content-Type: text/plain', '', body, `-------${tid}${flag}`]);
}

function code(m: MsrpMessage): number {
  assert.equal(m.kind, 'response');
  return m.kind === 'response' ? m.code : 0;
}

async function endpoint(clock?: FakeClock): Promise<MsrpEndpoint> {
  return MsrpEndpoint.create({ listen: { address: '127.0.0.1', port: 0 }, ...(clock ? { clock } : {}) });
}

test('RFC 4975 §7.3: a To-Path naming no session gets 481 from the addressed URI to the previous hop', T, async () => {
  const ep = await endpoint();
  const c = await rawConnect(ep.port!);
  try {
    const to = `msrp://127.0.0.1:${ep.port}/noSuchSession;tcp`;
    c.write(send('t1abc', to, PEER, ['Message-ID: m1']));
    const r = await c.next();
    assert.equal(code(r), 481);
    assert.equal(r.transactionId, 't1abc');
    assert.equal(getHeader(r, 'To-Path'), PEER);
    assert.equal(getHeader(r, 'From-Path'), to);
  } finally {
    c.socket.destroy();
    await ep.close();
  }
});

test('RFC 4975 §7.3, §6.1: a From-Path other than the peer\'s path gets 481; the right one binds; another connection gets 506', T, async () => {
  const ep = await endpoint();
  const s = ep.createSession({ localUriHost: '127.0.0.1' });
  s.accept([PEER]);
  const c = await rawConnect(ep.port!);
  const c2 = await rawConnect(ep.port!);
  try {
    c.write(send('t1abc', s.localUri, 'msrp://127.0.0.1:7777/someoneElse;tcp', ['Message-ID: m1']));
    assert.equal(code(await c.next()), 481);
    assert.equal(s.state, 'waiting');
    // §6.1: host case and an explicit transport case do not matter
    c.write(send('t2abc', s.localUri, 'msrp://127.0.0.1:7777/peerSession1;TCP', ['Message-ID: m2']));
    assert.equal(code(await c.next()), 200);
    assert.equal(s.state, 'open');
    // the session-id is compared case-sensitively
    c.write(send('t3abc', s.localUri, 'msrp://127.0.0.1:7777/PEERSESSION1;tcp', ['Message-ID: m3']));
    assert.equal(code(await c.next()), 481);
    c2.write(send('t4abc', s.localUri, PEER, ['Message-ID: m4']));
    assert.equal(code(await c2.next()), 506);
  } finally {
    c.socket.destroy();
    c2.socket.destroy();
    await ep.close();
  }
});

test('RFC 4975 §7.1.1: Failure-Report no gets no response, partial only negative ones; §7.1.2 a REPORT is never answered', T, async () => {
  const ep = await endpoint();
  const s = ep.createSession({ localUriHost: '127.0.0.1' });
  s.accept([PEER]);
  const c = await rawConnect(ep.port!);
  try {
    const messages: ReceivedMessage[] = [];
    s.on('message', (m) => messages.push(m));
    c.write(send('n1abc', s.localUri, PEER, ['Message-ID: m1', 'Failure-Report: no'], 'quiet'));
    c.write(send('p1abc', s.localUri, PEER, ['Message-ID: m2', 'Failure-Report: partial'], 'partial ok'));
    c.write(send('p2abc', s.localUri, PEER, ['Message-ID: m3', 'Failure-Report: partial', 'Byte-Range: 0-1/1'], 'x'));
    c.write(crlf(['MSRP r1abc REPORT', `To-Path: ${s.localUri}`, `From-Path: ${PEER}`, 'Message-ID: m9', 'Status: 000 200 OK', '-------r1abc$']));
    c.write(send('y1abc', s.localUri, PEER, ['Message-ID: m4'], 'loud'));
    const first = await c.next();
    assert.equal(first.transactionId, 'p2abc');
    assert.equal(code(first), 400);
    const second = await c.next();
    assert.equal(second.transactionId, 'y1abc');
    assert.equal(code(second), 200);
    assert.deepEqual(messages.map((m) => m.body.toString()), ['quiet', 'partial ok', 'loud']);
  } finally {
    c.socket.destroy();
    await ep.close();
  }
});

test('RFC 4975 §10: 400 for a bad request (bad header line, bad Byte-Range, no Message-ID), 501 for an unknown method', T, async () => {
  const ep = await endpoint();
  const s = ep.createSession({ localUriHost: '127.0.0.1' });
  s.accept([PEER]);
  const c = await rawConnect(ep.port!);
  try {
    c.write(send('b1abc', s.localUri, PEER, ['Message-ID: m1', 'Bad Header: x']));
    c.write(send('b2abc', s.localUri, PEER, ['Message-ID: m1', 'Byte-Range: 5-1/9'], 'x'));
    c.write(send('b3abc', s.localUri, PEER, [], 'x'));
    c.write(crlf(['MSRP b4abc NICKNAME', `To-Path: ${s.localUri}`, `From-Path: ${PEER}`, '-------b4abc$']));
    const got = await Promise.all([c.next(), c.next(), c.next(), c.next()]);
    assert.deepEqual(got.map((m) => [m.transactionId, code(m)]), [['b1abc', 400], ['b2abc', 400], ['b3abc', 400], ['b4abc', 501]]);
    assert.match(got[1]!.kind === 'response' ? got[1]!.comment ?? '' : '', /Byte-Range/);
  } finally {
    c.socket.destroy();
    await ep.close();
  }
});

test('RFC 4975 §7.1: a chunked message ending in "#" is dropped; each chunk still gets its 200', T, async () => {
  const ep = await endpoint();
  const s = ep.createSession({ localUriHost: '127.0.0.1' });
  s.accept([PEER]);
  const c = await rawConnect(ep.port!);
  try {
    let got = 0;
    s.on('message', () => got++);
    c.write(send('c1abc', s.localUri, PEER, ['Message-ID: mm1', 'Byte-Range: 1-5/*'], 'hello', '+'));
    c.write(send('c2abc', s.localUri, PEER, ['Message-ID: mm1', 'Byte-Range: 6-*/*'], 'wor', '#'));
    c.write(send('c3abc', s.localUri, PEER, ['Message-ID: mm2', 'Byte-Range: 1-2/2'], 'ok'));
    const codes = await Promise.all([c.next(), c.next(), c.next()]);
    assert.deepEqual(codes.map(code), [200, 200, 200]);
    await until(() => got === 1);
    await delay(50);
    assert.equal(got, 1);
  } finally {
    c.socket.destroy();
    await ep.close();
  }
});

test('RFC 4975 §7.3: a stream that cannot be framed closes the connection', T, async () => {
  const ep = await endpoint();
  const c = await rawConnect(ep.port!);
  try {
    const closed = next(c.socket, 'close');
    c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await closed;
    await until(() => ep.connectionCount === 0);
  } finally {
    await ep.close();
  }
});

test('RFC 4975 §7.1.1: a SEND with no response fails with 408 after the transaction timeout (30 s, FakeClock)', T, async () => {
  const clock = new FakeClock();
  const ep = await endpoint(clock);
  const silent = await rawServer();
  try {
    const s = ep.createSession({ localUriHost: '127.0.0.1' });
    const connecting = s.connect([`msrp://127.0.0.1:${silent.port}/silentPeer;tcp`]);
    let outcome: unknown;
    connecting.then(() => (outcome = 'resolved'), (e: unknown) => (outcome = e));
    await until(() => silent.accepted.length === 1);
    const bind = await silent.accepted[0]!.next();
    assert.equal(bind.kind === 'request' && bind.method, 'SEND');
    assert.equal(bind.kind === 'request' && bind.body, undefined);
    assert.equal(getHeader(bind, 'Byte-Range'), '1-0/0');
    assert.match(getHeader(bind, 'Message-ID') ?? '', /^[A-Za-z0-9]{16}$/);
    clock.advance(29_999);
    await delay(20);
    assert.equal(outcome, undefined);
    clock.advance(1);
    await delay(20);
    const e: unknown = (() => outcome)();
    assert.ok(e instanceof MsrpSendError, String(e));
    assert.equal(e.code, 'timeout');
    assert.equal(e.status, 408);
    assert.equal(s.state, 'closed');
  } finally {
    await ep.close();
    await silent.close();
  }
});

test('limits: an inbound connection that never binds a session is closed after the idle timeout (FakeClock)', T, async () => {
  const clock = new FakeClock();
  const ep = await endpoint(clock);
  const c = await rawConnect(ep.port!);
  try {
    await until(() => ep.connectionCount === 1);
    const closed = next(c.socket, 'close');
    clock.advance(59_999);
    await delay(20);
    assert.equal(ep.connectionCount, 1);
    clock.advance(1);
    await closed;
    await until(() => ep.connectionCount === 0);
  } finally {
    await ep.close();
  }
});

test('RFC 4975 §7.3: requests for a session whose peer path never comes are answered 481 after the bind timeout', T, async () => {
  const clock = new FakeClock();
  const ep = await endpoint(clock);
  const s = ep.createSession({ localUriHost: '127.0.0.1' });
  const c = await rawConnect(ep.port!);
  try {
    c.write(send('d1abc', s.localUri, PEER, ['Message-ID: m1']));
    await delay(50);
    assert.equal(c.frames.length, 0);
    clock.advance(30_000);
    assert.equal(code(await c.next()), 481);
  } finally {
    c.socket.destroy();
    await ep.close();
  }
});

test('RFC 4976 §5: AUTH goes to the relay URI from a fresh URI of ours; a 401 Digest challenge rejects clearly', T, async () => {
  const ep = await endpoint();
  const relay = await rawServer();
  try {
    const relayUri = `msrp://127.0.0.1:${relay.port};tcp`;
    const auth = ep.authenticate(relayUri, { localUriHost: '127.0.0.1', expires: 600 });
    await until(() => relay.accepted.length === 1);
    const req = await relay.accepted[0]!.next();
    assert.equal(req.kind === 'request' && req.method, 'AUTH');
    assert.equal(getHeader(req, 'To-Path'), relayUri);
    assert.match(getHeader(req, 'From-Path') ?? '', new RegExp(`^msrp://127\\.0\\.0\\.1:${ep.port}/[A-Za-z0-9]{20};tcp$`));
    assert.equal(getHeader(req, 'Expires'), '600');
    relay.accepted[0]!.write(crlf([
      `MSRP ${req.transactionId} 401 Unauthorized`,
      `To-Path: ${getHeader(req, 'From-Path')}`,
      `From-Path: ${relayUri}`,
      'WWW-Authenticate: Digest realm="example.com", nonce="abc"',
      `-------${req.transactionId}$`,
    ]));
    await assert.rejects(auth, (e: unknown) => e instanceof MsrpSendError && e.status === 401 && /Digest/.test(e.message));
  } finally {
    await ep.close();
    await relay.close();
  }
});

test('RFC 6135: a passive session nobody connects to times out in opened(ms) (FakeClock) and can still be closed', T, async () => {
  const clock = new FakeClock();
  const ep = await endpoint(clock);
  try {
    const s = ep.createSession({ localUriHost: '127.0.0.1' });
    s.accept([PEER]);
    const waiting = s.opened(5000);
    clock.advance(5000);
    await assert.rejects(waiting, (e: unknown) => e instanceof MsrpSendError && e.code === 'timeout');
    assert.equal(s.state, 'waiting');
    s.close();
    assert.equal(ep.sessionCount, 0);
  } finally {
    await ep.close();
  }
});
