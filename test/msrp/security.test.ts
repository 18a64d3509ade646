// Issue 6, MSRP side. RFC 4975 §14.1: the session-id in our MSRP URI is what keeps a
// stranger from injecting into a session, so it needs at least 80 bits of randomness —
// measured here on 100,000 generated ids (length and alphabet -> bits, no repeats, every
// character equally likely). RFC 4975 §7.3: a request's To-Path has exactly one URI, which
// must name an existing session associated with the connection it came on, else 481; the
// session also checks that the From-Path is the peer's path it negotiated (§6.1 comparison).
// Checked where it matters: through the History Function's user plane, with the store
// showing that nothing a stranger (or the other session's peer) sends is recorded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { base62Bits, newMessageId, newSessionId, newTransactionId, SESSION_ID_LENGTH } from '../../src/msrp/ids.js';
import { MsrpEndpoint } from '../../src/msrp/endpoint.js';
import { getHeader, type MsrpMessage } from '../../src/msrp/message.js';
import { MsrpUserPlane } from '../../src/history/msrp-user-plane.js';
import { SignallingOnlyUserPlane } from '../../src/history/user-plane.js';
import { buildMsrpOffer, parseMsrpOffer } from '../../src/sdp/msrp-offer.js';
import { MemoryStore } from '../../src/store/memory.js';
import { crlf } from './fixtures.js';
import { rawConnect, rawServer, until, type FrameReader } from './helpers.js';

const T = { timeout: 20_000 };
const ALPHABET = /^[A-Za-z0-9]+$/;

test('RFC 4975 §14.1: 100,000 session-ids — 20 base-62 characters (119 bits >= 80), no repeats, uniform characters', () => {
  const N = 100_000;
  const seen = new Set<string>();
  const counts = new Map<string, number>();
  for (let i = 0; i < N; i++) {
    const id = newSessionId();
    assert.equal(id.length, SESSION_ID_LENGTH);
    assert.match(id, ALPHABET);
    seen.add(id);
    for (const c of id) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  assert.equal(seen.size, N, 'no session-id repeated');
  // Bits from length and alphabet: only meaningful if every one of the 62 characters is
  // used and equally likely (a modulo bias would make 8 of them 25% likelier).
  assert.equal(counts.size, 62);
  const bits = base62Bits(SESSION_ID_LENGTH);
  assert.ok(bits >= 80, `${bits} bits`);
  assert.ok(Math.abs(bits - 20 * Math.log2(62)) < 1e-9);
  const expected = (N * SESSION_ID_LENGTH) / 62; // ~32,258; one standard deviation is ~178
  for (const [c, n] of counts) assert.ok(Math.abs(n - expected) < expected * 0.05, `character ${c}: ${n} times, expected ~${Math.round(expected)}`);
  // Transaction and message ids (§7.1: >= 64 bits).
  assert.ok(base62Bits(newTransactionId().length) >= 64 && base62Bits(newMessageId().length) >= 64);
});

test('RFC 4975 §14.1: the session-ids written into a=path by both user planes carry >= 80 random bits and differ', async () => {
  const ep = await MsrpEndpoint.create({ listen: { address: '127.0.0.1', port: 0 } });
  try {
    const msrp = new MsrpUserPlane({ endpoint: ep, store: new MemoryStore(), host: '127.0.0.1', acceptTypes: ['text/plain'], log: pino({ level: 'silent' }) });
    const sig = new SignallingOnlyUserPlane({ address: '127.0.0.1', port: 2855, acceptTypes: ['text/plain'] });
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      for (const [plane, bitsPerChar] of [[msrp, Math.log2(62)], [sig, 6]] as const) {
        const path = parseMsrpOffer(await plane.offer(`h${i}`)).path;
        assert.equal(path.length, 1);
        const id = /^msrp:\/\/[^/]+\/([^;]+);tcp$/.exec(path[0]!)![1]!;
        assert.ok(id.length * bitsPerChar >= 80, `${id}: ${id.length * bitsPerChar} bits`);
        ids.add(id);
      }
    }
    assert.equal(ids.size, 4000);
  } finally {
    await ep.close();
  }
});

function send(tid: string, to: string, from: string, body: string): string {
  return crlf([`MSRP ${tid} SEND`, `To-Path: ${to}`, `From-Path: ${from}`, `Message-ID: m-${tid}`, 'Byte-Range: 1-*/*', 'Content-Type: text/plain', '', body, `-------${tid}$`]);
}

function ok(tid: string, req: MsrpMessage): string {
  return crlf([`MSRP ${tid} 200 OK`, `To-Path: ${getHeader(req, 'From-Path')}`, `From-Path: ${getHeader(req, 'To-Path')}`, `-------${tid}$`]);
}

async function status(c: FrameReader, tid: string): Promise<number> {
  for (;;) {
    const m = await c.next();
    if (m.kind === 'response' && m.transactionId === tid) return m.code;
  }
}

test('RFC 4975 §7.3: SENDs with a guessed or the other session\'s To-Path, a foreign From-Path, several To-Path URIs, or on a stranger\'s connection get 481/506 and nothing is stored', T, async () => {
  const store = new MemoryStore();
  const ep = await MsrpEndpoint.create({ listen: { address: '127.0.0.1', port: 0 } });
  const focus = await rawServer();
  const strangers: FrameReader[] = [];
  try {
    const plane = new MsrpUserPlane({ endpoint: ep, store, host: '127.0.0.1', acceptTypes: ['text/plain', 'message/cpim'], log: pino({ level: 'silent' }) });
    const mk = (name: string) =>
      store.createHistory({ name, type: 'session', owner: 'sip:alice@example.net', conferenceFactory: 'sip:f@x', imUsers: [], referCallId: name, clientAllow: [], clientContact: undefined, referHeaders: [], createdAt: 0 });
    const hA = await mk('a');
    const hB = await mk('b');
    const focusA = `msrp://127.0.0.1:${focus.port}/focusSessionA;tcp`;
    const focusB = `msrp://127.0.0.1:${focus.port}/focusSessionB;tcp`;
    const ourA = parseMsrpOffer(await plane.offer(hA.id)).path[0]!;
    const ourB = parseMsrpOffer(await plane.offer(hB.id)).path[0]!;
    const answer = (path: string) => Buffer.from(buildMsrpOffer({ address: '127.0.0.1', port: focus.port, path, acceptTypes: ['text/plain'], setup: 'passive', sessionId: 1 }));

    // Both sessions connect to the same focus and share one connection (RFC 4975 §5.4).
    const boundA = plane.answer(hA.id, answer(focusA));
    await until(() => focus.accepted.length === 1);
    const conn = focus.accepted[0]!;
    const bindA = await conn.next();
    conn.write(ok(bindA.transactionId, bindA));
    await boundA;
    const boundB = plane.answer(hB.id, answer(focusB));
    const bindB = await conn.next();
    conn.write(ok(bindB.transactionId, bindB));
    await boundB;
    assert.equal(focus.accepted.length, 1);

    // The legitimate SEND is recorded (control case).
    conn.write(send('legit1', ourA, focusA, 'hello from the focus'));
    assert.equal(await status(conn, 'legit1'), 200);

    const port = ep.port!;
    const guessed = `msrp://127.0.0.1:${port}/${newSessionId()};tcp`;
    const cases: [string, string, string, number][] = [
      ['guessed', guessed, focusA, 481],
      ['guessedShort', `msrp://127.0.0.1:${port}/a;tcp`, focusA, 481],
      // Our session A's id with a different authority is not our URI (§6.1).
      ['otherHost', ourA.replace('127.0.0.1', 'localhost'), focusA, 481],
      // Session B's URI, from session A's peer: cross-session injection.
      ['crossAB', ourB, focusA, 481],
      ['crossBA', ourA, focusB, 481],
      // From-Path of nobody we negotiated with.
      ['foreign', ourA, 'msrp://127.0.0.1:9/intruder;tcp', 481],
      // From-Path with an extra hop in front of the peer.
      ['extraHop', ourA, `msrp://127.0.0.1:9/relay;tcp ${focusA}`, 481],
      // §7.3: To-Path must hold exactly one URI when it reaches us.
      ['twoTo', `msrp://127.0.0.1:9/somewhere;tcp ${ourA}`, focusA, 481],
      ['twoToSelf', `${ourA} ${ourA}`, focusA, 481],
    ];
    for (const [tid, to, from, code] of cases) {
      conn.write(send(`${tid}x`, to, from, `injected ${tid}`));
      assert.equal(await status(conn, `${tid}x`), code, tid);
    }

    // A stranger's own connection: with A's peer spoofed (506, A is bound elsewhere) or not (481).
    const stranger = await rawConnect(port);
    strangers.push(stranger);
    stranger.write(send('spoof1', ourA, focusA, 'injected spoof'));
    assert.equal(await status(stranger, 'spoof1'), 506);
    stranger.write(send('spoof2', ourB, 'msrp://127.0.0.1:9/stranger;tcp', 'injected stranger'));
    assert.equal(await status(stranger, 'spoof2'), 481);
    stranger.write(send('spoof3', guessed, 'msrp://127.0.0.1:9/stranger;tcp', 'injected guessed'));
    assert.equal(await status(stranger, 'spoof3'), 481);

    // Only the legitimate message is in the store; session B got nothing.
    assert.deepEqual((await store.messages(hA.id)).map((m) => m.body.toString()), ['hello from the focus']);
    assert.deepEqual(await store.messages(hB.id), []);
    assert.equal(plane.recorded, 1);
    // Both sessions survive the attempts.
    conn.write(send('legit2', ourB, focusB, 'hello B'));
    assert.equal(await status(conn, 'legit2'), 200);
    assert.deepEqual((await store.messages(hB.id)).map((m) => m.body.toString()), ['hello B']);
    await plane.close(hA.id);
    await plane.close(hB.id);
  } finally {
    for (const s of strangers) s.socket.destroy();
    await focus.close();
    await ep.close();
  }
});
