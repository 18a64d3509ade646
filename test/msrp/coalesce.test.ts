// limits.coalesceResponses: the responses one connection writes in one event-loop turn leave
// in one write (one TCP segment), or, switched off, each in a write of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { MsrpEndpoint } from '../../src/msrp/endpoint.js';
import type { MsrpMessage } from '../../src/msrp/message.js';
import { crlf } from './fixtures.js';
import { rawConnect, type FrameReader } from './helpers.js';
import type { MsrpLimitsInput, MsrpLogger } from '../../src/msrp/config.js';
import type { MsrpSession } from '../../src/msrp/session.js';
import { FakeClock } from '../../src/sip/clock.js';

const T = { timeout: 10_000 };
const PEER = 'msrp://127.0.0.1:7777/peerSession1;tcp';

function send(tid: string, to: string, body?: string): string {
  const lines = [`MSRP ${tid} SEND`, `To-Path: ${to}`, `From-Path: ${PEER}`, `Message-ID: m-${tid}`];
  if (body === undefined) return crlf([...lines, `-------${tid}$`]);
  return crlf([...lines, `Byte-Range: 1-${body.length}/${body.length}`, 'Content-Type: text/plain', '', body, `-------${tid}$`]);
}

/** An endpoint with `limits`, a session bound (binding SEND answered) over a raw connection. */
async function boundSession(limits: MsrpLimitsInput, clock?: FakeClock, logger?: MsrpLogger): Promise<{ ep: MsrpEndpoint; s: MsrpSession; c: FrameReader }> {
  const ep = await MsrpEndpoint.create({ listen: { address: '127.0.0.1', port: 0 }, limits, ...(clock !== undefined ? { clock } : {}), ...(logger !== undefined ? { logger } : {}) });
  const s = ep.createSession({ localUriHost: '127.0.0.1' });
  s.accept([PEER]);
  const c = await rawConnect(ep.port!);
  c.write(send('bind1', s.localUri));
  assert.equal((await c.next()).kind, 'response');
  return { ep, s, c };
}

/** Binds a session over a raw connection, then sends 5 SENDs in one write and counts how the 5 responses were written. */
async function fiveResponses(coalesceResponses: boolean): Promise<{ writes: number; writevs: number[]; codes: number[] }> {
  const { ep, s, c } = await boundSession({ coalesceResponses });
  try {
    // The server side's socket is private to MsrpConnection: watch how Writable hands it bytes.
    const socket = (s.connection as unknown as { socket: Socket }).socket;
    const counts = { writes: 0, writevs: [] as number[] };
    const write = socket._write.bind(socket);
    const writev = socket._writev!.bind(socket);
    socket._write = (chunk, enc, cb) => {
      counts.writes++;
      write(chunk, enc, cb);
    };
    socket._writev = (chunks, cb) => {
      counts.writevs.push(chunks.length);
      writev(chunks, cb);
    };
    let got = 0;
    s.on('message', () => void got++);
    c.write(['t1', 't2', 't3', 't4', 't5'].map((t) => send(t, s.localUri, `hello ${t}`)).join(''));
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r: MsrpMessage = await c.next();
      codes.push(r.kind === 'response' ? r.code : 0);
    }
    assert.equal(got, 5);
    return { ...counts, codes };
  } finally {
    c.socket.destroy();
    await ep.close();
  }
}

test('coalesceResponses (default): 5 SENDs read together are answered in one write of 5 frames', T, async () => {
  const r = await fiveResponses(true);
  assert.deepEqual(r.codes, [200, 200, 200, 200, 200]);
  assert.deepEqual(r.writevs, [5]);
  assert.equal(r.writes, 0);
});

test('coalesceResponses: false: each of the 5 responses is a write of its own (a packet each for Wireshark)', T, async () => {
  const r = await fiveResponses(false);
  assert.deepEqual(r.codes, [200, 200, 200, 200, 200]);
  assert.equal(r.writes, 5);
  assert.deepEqual(r.writevs, []);
});

test('the default is on, and the config carries the switch to the endpoint', async () => {
  const { DEFAULT_MSRP_LIMITS } = await import('../../src/msrp/config.js');
  const { parseConfig } = await import('../../src/config.js');
  assert.equal(DEFAULT_MSRP_LIMITS.coalesceResponses, true);
  assert.equal(parseConfig({}).history.msrp.limits.coalesceResponses, true);
  assert.equal(parseConfig({ history: { msrp: { limits: { coalesceResponses: false } } } }).history.msrp.limits.coalesceResponses, false);
});

test('backpressure: a peer that stops reading its responses is read no further, not cut off; reading resumes when it reads', { timeout: 30_000 }, async () => {
  const { ep, s, c } = await boundSession({ maxPendingWriteBytes: 64 * 1024 });
  try {
    let got = 0;
    s.on('message', () => void got++);
    // The peer stops reading, then sends 40,000 SENDs (~8 MB): their responses (~6 MB) can
    // not all fit in the socket buffers, so ours back up past maxPendingWriteBytes.
    c.socket.pause();
    const N = 40_000;
    const text = Array.from({ length: N }, (_, i) => send(`t${i}x`, s.localUri, `message number ${i}`)).join('');
    c.socket.write(text);
    // Wait for the count to stop moving: we stopped reading.
    let last = -1;
    for (let i = 0; i < 100 && got !== last; i++) {
      last = got;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(got > 0 && got < N, `received ${got} of ${N} while the peer read nothing`);
    assert.equal(s.connection?.isOpen, true, 'the connection stays open');
    // The peer reads again: every SEND is received and answered 200.
    c.socket.resume();
    let ok = 0;
    for (let i = 0; i < N; i++) if ((await c.next()).kind === 'response') ok++;
    assert.equal(ok, N);
    assert.equal(got, N);
  } finally {
    c.socket.destroy();
    await ep.close();
  }
});

test('backpressure: a peer that reads none of its responses for messageTimeoutMs is closed', { timeout: 30_000 }, async () => {
  const clock = new FakeClock();
  const reasons: string[] = [];
  const note = (o: object): void => {
    const r = (o as { reason?: unknown }).reason;
    if (typeof r === 'string') reasons.push(r);
  };
  const logger: MsrpLogger = { isLevelEnabled: () => false, debug: note, info: note, warn: note, error: note };
  const { ep, s, c } = await boundSession({ maxPendingWriteBytes: 64 * 1024, messageTimeoutMs: 30_000 }, clock, logger);
  try {
    let got = 0;
    s.on('message', () => void got++);
    c.socket.pause();
    const N = 40_000;
    c.socket.write(Array.from({ length: N }, (_, i) => send(`t${i}x`, s.localUri, `message number ${i}`)).join(''));
    let last = -1;
    for (let i = 0; i < 100 && got !== last; i++) {
      last = got;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(got < N, `received ${got} of ${N}`);
    const conn = s.connection!;
    clock.advance(29_000);
    assert.equal(conn.isOpen, true, 'still open before messageTimeoutMs');
    clock.advance(1_000);
    assert.equal(conn.isOpen, false, 'closed once the peer has read nothing for messageTimeoutMs');
    assert.ok(reasons.some((r) => /read none of its responses for 30000 ms/.test(r)), reasons.join('; '));
  } finally {
    c.socket.destroy();
    await ep.close();
  }
});
