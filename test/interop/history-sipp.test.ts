// Interop of the History Function with sipp as both of its peers, on loopback, over UDP and TCP.
// sipp plays the IM Client (sipp/history-client.xml: REFER, answers the refer NOTIFYs) and the
// conference focus behind the Conference-factory-URI (sipp/history-focus.xml: answers the
// INVITE with an MSRP SDP answer, takes the conference SUBSCRIBE, sends conference-info
// NOTIFYs, ends the conference with BYE). Each seed clause is checked on the wire by sipp's
// regexp actions (check_it: a check that fails fails the call, and sipp exits non-zero);
// sipp/history-reject.xml plays the REFERs the History Function must refuse, one CSV line each
// (history-reject.csv: no PAI, no feature tag, unauthorised, not a factory, bad filename,
// unknown History Type; history-overload.csv: over maxSessions). tshark dissects a capture.
// The store is looked at too, to tie what went over the wire to what was recorded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.js';
import { startSipStack, type SipStack } from '../../src/sip/stack.js';
import { HistoryFunction, HISTORY_PROFILE } from '../../src/history/function.js';
import { SignallingOnlyUserPlane } from '../../src/history/user-plane.js';
import { MemoryStore } from '../../src/store/memory.js';
import { systemClock } from '../../src/sip/clock.js';
import { analyseCapture, delay, freePort, missing, runSipp, SIPP_DIR, startCapture, startSipp, type Peer } from './peers.js';

const skip = missing('sipp');
const skipShark = skip ?? missing('tshark');

type Transport = 'UDP' | 'TCP';

/** The History Function wired as `im-history serve` wires it, UDP and TCP on one port. */
interface Hf {
  stack: SipStack;
  fn: HistoryFunction;
  store: MemoryStore;
  port: number;
  close(): Promise<void>;
}

async function startHf(port: number, history: Record<string, unknown>): Promise<Hf> {
  const config = parseConfig({ sip: { udp: [{ address: '127.0.0.1', port }], tcp: [{ address: '127.0.0.1', port }] }, history });
  const logger = pino({ level: process.env.TEST_LOG ?? 'silent' });
  const late: { fn?: HistoryFunction } = {};
  const stack = await startSipStack(config.sip, logger, {
    profile: HISTORY_PROFILE,
    contactUser: 'history',
    onRequest: (inc) => late.fn?.handleRequest(inc),
    onDialogTerminated: (d, why) => late.fn?.dialogTerminated(d, why),
  });
  const store = new MemoryStore();
  const fn = new HistoryFunction({ ua: stack.ua, store, userPlane: new SignallingOnlyUserPlane(config.history.msrp), config: config.history, clock: systemClock, logger });
  late.fn = fn;
  return {
    stack,
    fn,
    store,
    port,
    async close() {
      await fn.close();
      await stack.close();
    },
  };
}

/** No session left (the previous test's focus has said BYE and the unsubscribe is done). */
function idle(): Promise<void> {
  return waitFor(() => hf.fn.sessions.size === 0, 10_000, 'no History Function session left');
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await delay(20);
  }
}

function readOr(file: string, fallback = ''): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

let hf: Hf;
/** One sipp focus port per transport; both URIs are configured conference factories. */
const focusPort: Record<Transport, number> = { UDP: 0, TCP: 0 };
const peers: Peer[] = [];

before(async () => {
  if (skip !== undefined) return;
  focusPort.UDP = await freePort();
  focusPort.TCP = await freePort();
  hf = await startHf(await freePort(), {
    conferenceFactories: [factoryUri('UDP'), factoryUri('TCP')],
    trustedDomains: ['example.net'],
    deny: ['sip:mallory@example.net'],
    // One session at a time: the overload test holds it and the next REFER gets 503.
    maxSessions: 1,
    retryAfterSeconds: 30,
  });
});

after(async () => {
  for (const p of peers) p.kill();
  if (hf !== undefined) await hf.close();
});

function factoryUri(t: Transport): string {
  return t === 'UDP' ? `sip:factory@127.0.0.1:${focusPort.UDP}` : `sip:factory@127.0.0.1:${focusPort.TCP};transport=tcp`;
}

/** The sipp focus for one recorded session (an INVITE call and a SUBSCRIBE call); it holds the conference holdMs before its BYE. */
async function startFocus(t: Transport, holdMs: number): Promise<ReturnType<typeof startSipp>> {
  const focus = startSipp({
    scenario: { file: 'history-focus.xml' },
    localPort: focusPort[t],
    transport: t,
    calls: 2,
    extra: ['-d', String(holdMs), '-timeout', '20s', '-timeout_error', '-trace_msg', '-message_file', 'messages.log'],
    limitMs: 25_000,
  });
  peers.push(focus);
  await waitBound(focusPort[t], t, focus);
  return focus;
}

/**
 * Wait (bounded) until sipp holds its port, read from /proc/net (no probe traffic, no bind
 * race with sipp); where /proc is not there, a fixed delay.
 */
async function waitBound(port: number, t: Transport, peer: Peer): Promise<void> {
  const table = t === 'UDP' ? '/proc/net/udp' : '/proc/net/tcp';
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const bound = (): boolean | undefined => {
    const text = readOr(table, '');
    if (text === '') return undefined;
    // sl local_address rem_address st ...: for TCP the listening socket (st 0A).
    return text.split('\n').some((l) => {
      const f = l.trim().split(/\s+/);
      return f[1] === local && (t === 'UDP' || f[3] === '0A');
    });
  };
  if (bound() === undefined) return delay(300);
  const end = Date.now() + 5000;
  while (bound() !== true) {
    if (Date.now() > end || peer.proc.exitCode !== null) throw new Error(`sipp did not bind ${t} port ${port}: ${peer.stderr()}`);
    await delay(20);
  }
}

async function focusResult(focus: ReturnType<typeof startSipp>): Promise<{ code: number | null; why: string }> {
  const r = await focus.done;
  const why = `focus: ${readOr(join(focus.dir, 'errors.log'))}\n${r.stdout.slice(-2500)}\n--- messages:\n${readOr(join(focus.dir, 'messages.log')).slice(-4000)}`;
  return { code: r.code, why };
}

function runClient(t: Transport, localPort: number, referToParams = '') {
  return runSipp({
    scenario: { file: 'history-client.xml' },
    remote: `127.0.0.1:${hf.port}`,
    localPort,
    transport: t,
    calls: 1,
    extra: ['-key', 'refer_to', factoryUri(t) + referToParams],
    limitMs: 15_000,
  });
}

async function runRejections(t: Transport, csv: string, calls: number) {
  return runSipp({
    scenario: { file: 'history-reject.xml' },
    remote: `127.0.0.1:${hf.port}`,
    localPort: await freePort(),
    transport: t,
    calls,
    rate: 20,
    extra: ['-inf', join(SIPP_DIR, csv), '-key', 'factory', factoryUri(t).replace(/^sip:factory@/, '')],
    limitMs: 15_000,
  });
}

/** One REFER-initiated session end to end, both peers sipp; returns the history recorded. */
async function recordedSession(t: Transport, opts: { clientPort?: number; referToParams?: string } = {}) {
  await idle();
  const before = new Set((await hf.store.listHistories()).map((h) => h.id));
  const focus = await startFocus(t, 500);
  const client = await runClient(t, opts.clientPort ?? (await freePort()), opts.referToParams);
  const f = await focusResult(focus);
  await idle();
  // seed 1.1.1 responses, 1.1.2-3/4/6: the 202 and the sipfrag NOTIFYs, checked by history-client.xml.
  assert.equal(client.failed, 0, `client: ${client.log}\n${client.stdout.slice(-2500)}`);
  assert.equal(client.successful, 1, client.stdout.slice(-2500));
  assert.equal(client.code, 0);
  // seed 1.1.2-5, 1.2.1, 1.3: the INVITE and the SUBSCRIBE, checked by history-focus.xml.
  assert.equal(f.code, 0, f.why);
  const added = (await hf.store.listHistories()).filter((h) => !before.has(h.id));
  assert.equal(added.length, 1, 'one history per accepted REFER');
  const rec = added[0]!;
  // 1.1.2-2: the History Filename of the Request-URI names it; the factory is the Refer-To one.
  assert.equal(rec.name, 'weekly-sync');
  assert.equal(rec.type, 'session');
  assert.equal(rec.conferenceFactory, factoryUri(t));
  assert.equal(rec.state, 'ended');
  return rec;
}

for (const t of ['UDP', 'TCP'] as const) {
  test(
    `seed 1.1 + 1.2 + 1.3 over ${t}: sipp IM Client REFER -> 202 + sipfrag NOTIFYs; sipp focus checks the INVITE and the conference SUBSCRIBE, ends with BYE`,
    {
      skip,
      timeout: 60_000,
    },
    async () => {
      const rec = await recordedSession(t);
      // What went over the wire is what was recorded (1.1.1-3/4, 1.1.2-2, 1.3).
      assert.equal(rec.owner, 'sip:alice@example.net');
      assert.deepEqual(rec.imUsers, ['sip:bob@example.net', 'sip:carol@example.net']);
      assert.ok(rec.clientAllow.includes('MESSAGE'));
      assert.match(rec.clientContact ?? '', /^<sip:alice@127\.0\.0\.1:\d+;transport=(UDP|TCP)>;\+g\.oma\.sip-im$/);
      assert.match(rec.conferenceUri ?? '', new RegExp(`^sip:conf@127\\.0\\.0\\.1:${focusPort[t]};transport=${t}$`));
      assert.ok(rec.serverAllow?.includes('SUBSCRIBE'));
      assert.ok(rec.sessionHeaders?.some((h) => h.name.toLowerCase() === 'session-expires' && h.value === '1800;refresher=uac'));
      assert.equal(rec.endReason, 'BYE received');
      const notes = await hf.store.conferenceNotifications(rec.id);
      assert.equal(notes[0]?.contentType, 'application/conference-info+xml');
      assert.match(notes[0]?.body ?? '', /<conference-info [^>]*state="full" version="1"/);
    },
  );
}

for (const t of ['UDP', 'TCP'] as const) {
  test(`seed 1.1.1-1a, 1.1.1-2, 1.1.2-1, 1.1.2-2 over ${t}: sipp REFERs refused with the expected status, reason, Warning, Server and Allow`, { skip, timeout: 60_000 }, async () => {
    await idle();
    const histories = (await hf.store.listHistories()).length;
    const refused = new Map(hf.fn.refused);
    const r = await runRejections(t, 'history-reject.csv', 8);
    assert.equal(r.failed, 0, `${r.log}\n${r.stdout.slice(-2500)}`);
    assert.equal(r.successful, 8, r.stdout.slice(-2500));
    assert.equal(r.code, 0);
    // Refused before anything started: no history, no session, no INVITE.
    assert.equal((await hf.store.listHistories()).length, histories);
    assert.equal(hf.fn.sessions.size, 0);
    assert.equal((hf.fn.refused.get(403) ?? 0) - (refused.get(403) ?? 0), 5);
    assert.equal((hf.fn.refused.get(400) ?? 0) - (refused.get(400) ?? 0), 3);
  });
}

test('seed 1.1.1-1b over UDP: with maxSessions (1) sessions up, a sipp REFER gets 503 with Retry-After; after the BYE REFERs are taken again', { skip, timeout: 60_000 }, async () => {
  await idle();
  // The focus holds the conference 2.5 s: the session stays up while the next REFER comes.
  const focus = await startFocus('UDP', 2500);
  const client = await runClient('UDP', await freePort());
  assert.equal(client.failed, 0, `client: ${client.log}\n${client.stdout.slice(-2500)}`);
  assert.equal(hf.fn.sessions.size, 1, 'the first session is up');
  const r = await runRejections('UDP', 'history-overload.csv', 1);
  assert.equal(r.failed, 0, `${r.log}\n${r.stdout.slice(-2500)}`);
  assert.equal(r.successful, 1, r.stdout.slice(-2500));
  assert.equal(hf.fn.sessions.size, 1, 'the refused REFER started nothing');
  const f = await focusResult(focus);
  assert.equal(f.code, 0, f.why);
  await idle();
  // Resources are back: the next REFER (Refer-To with method=INVITE, the other form seed
  // 1.1.2 serves) is accepted and runs to its end.
  await recordedSession('UDP', { referToParams: ';method=INVITE' });
});

test('tshark dissects a capture of a whole sipp <-> History Function session with no malformed packet', { skip: skipShark, timeout: 60_000 }, async () => {
  const clientPort = await freePort();
  const ports = [hf.port, focusPort.UDP, clientPort];
  const cap = await startCapture(ports, 30_000);
  try {
    await recordedSession('UDP', { clientPort });
  } finally {
    await cap.stop();
  }
  const a = analyseCapture(cap.file, ports);
  assert.equal(a.malformed, 0, a.errors.join('\n'));
  const decode = ports.flatMap((p) => ['-d', `udp.port==${p},sip`]);
  const methods = spawnSync('tshark', ['-r', cap.file, ...decode, '-Y', 'sip.Method', '-T', 'fields', '-e', 'sip.Method'], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n');
  const count = (m: string) => methods.filter((x) => x === m).length;
  // REFER; NOTIFY x3 (100, 180, 200) to the client + x2 from the focus; INVITE, ACK, BYE;
  // SUBSCRIBE x2 (subscribe, unsubscribe). UDP retransmissions may add to the counts.
  assert.ok(count('REFER') >= 1 && count('INVITE') >= 1 && count('ACK') >= 1 && count('BYE') >= 1, methods.join(','));
  assert.ok(count('NOTIFY') >= 5, `NOTIFYs: ${count('NOTIFY')}`);
  assert.ok(count('SUBSCRIBE') >= 2, `SUBSCRIBEs: ${count('SUBSCRIBE')}`);
  assert.ok(a.sip >= 22, `SIP packets dissected: ${a.sip}`);
});
