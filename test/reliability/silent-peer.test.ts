// Issue 6, a peer that stops answering mid-session. The History Function runs on a FakeClock
// (every SIP transaction and transport timer, the RFC 4028 session timer, the MSRP transaction
// timeout), its peers on real time over loopback; silence is made by the fault relays
// (test/helpers). What must end the session, cleanly and with a reason in the history:
// - the focus stops answering SIP: the session refresh (RFC 4028 §10) times out (Timer F,
//   RFC 3261 §17.1.2.2), the session ends with BYE (itself unanswered, Timer F again);
// - the focus never answers the MSRP binding SEND: RFC 4975 §7.1.1's 30 s transaction
//   timeout (408) fails the user plane and the session ends with BYE;
// and what must not: the IM Client not answering the REFER's NOTIFYs ends only the implicit
// subscription (RFC 3515 §2.4.4 / RFC 6665), not the recorded session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { SimNetwork } from '../../src/sim/network.js';
import { startHistoryNode, type HistoryNode } from '../../src/sim/history-node.js';
import { MemoryStore } from '../../src/store/memory.js';
import { FakeClock } from '../../src/sip/clock.js';
import { until } from '../helpers/wait.js';
import { UdpFaultProxy } from '../helpers/udp-fault-proxy.js';
import { TcpFaultRelay } from '../helpers/tcp-fault-relay.js';

const ALICE = { aor: 'sip:alice@example.net', name: 'Alice' };
const logger = () => pino({ level: process.env.TEST_LOG ?? 'silent' });
const HISTORY = { trustedDomains: ['example.net'], sessionTimer: { sessionExpires: 90, minSE: 90 } };

/** Move the History Function's time on in steps, letting real I/O run between, until cond() or maxMs. */
async function runClock(clock: FakeClock, cond: () => boolean, maxMs: number, stepMs = 500): Promise<number> {
  let waited = 0;
  while (!cond() && waited < maxMs) {
    clock.advance(stepMs);
    waited += stepMs;
    await new Promise((r) => setTimeout(r, 3));
  }
  return waited;
}

interface Rig {
  net: SimNetwork;
  hf: HistoryNode;
  store: MemoryStore;
  clock: FakeClock;
  proxy: UdpFaultProxy;
  close(): Promise<void>;
}

async function rig(opts: { msrpFront?: (name: string, port: number) => Promise<number> } = {}): Promise<Rig> {
  const proxy = new UdpFaultProxy({ loss: 0, duplicate: 0, reorder: 0, maxDelayMs: 1, seed: 1 });
  const net = await new SimNetwork(undefined, (name, port) => proxy.add(name, port), opts.msrpFront).start([ALICE]);
  const store = new MemoryStore();
  const clock = new FakeClock();
  const hf = await startHistoryNode(store, { ...HISTORY, conferenceFactories: [net.factoryUri] }, logger(), {}, { clock, udpFront: (port) => proxy.add('history', port) });
  return {
    net,
    hf,
    store,
    clock,
    proxy,
    async close() {
      await hf.close();
      await net.close();
      await proxy.close();
    },
  };
}

test('the focus stops answering SIP mid-session: the session refresh times out, the History Function BYEs and closes the history with the reason; recorded messages stay', { timeout: 60_000 }, async (t) => {
  const r = await rig();
  try {
    const alice = r.net.client(ALICE.aor);
    const res = await alice.refer(`${r.hf.uri};filename=silent-focus`, r.net.factoryUri, [ALICE.aor]);
    assert.equal(res.status, 202);
    await until(() => alice.session?.state === 'open' && [...r.hf.fn.sessions].some((s) => s.phase === 'active'), 10_000, 'session active');
    const rec = (await r.store.listHistories())[0]!;
    for (let i = 0; i < 5; i++) await alice.say(`before silence #${i}`);
    await until(async () => (await r.store.messages(rec.id)).length === 5, 5000, 'recorded');
    await until(() => alice.notifyStates.some((n) => n.state.startsWith('terminated') && n.body.startsWith('SIP/2.0 200')), 5000, 'final NOTIFY to the client');

    r.proxy.silence('focus');
    // RFC 4028: we refresh at 45 s of a 90 s interval; the refresh gets nothing back, Timer F
    // (64*T1 = 32 s) fails it, §10 sends BYE. Bounded at 5 minutes of fake time.
    const took = await runClock(r.clock, () => r.hf.fn.sessions.size === 0, 300_000);
    assert.equal(r.hf.fn.sessions.size, 0, `session still up after ${took} ms of fake time`);
    const h = await r.store.getHistory(rec.id);
    assert.equal(h?.state, 'ended');
    // RFC 3261 §12.2.1.2: a 408 to an in-dialog request ends the dialog (the reason the UA
    // reports); RFC 4028 §10 then sends the BYE.
    assert.match(h?.endReason ?? '', /^(408 to UPDATE|session timer: .*"reason":"refresh-(failed|timeout)")/);
    assert.ok(took >= 45_000 + 32_000 - 1000, `ended after ${took} ms of fake time: the refresh at 45 s, then Timer F`);
    // The BYE went out towards the focus (and was lost like everything else): its transaction
    // ends with Timer F too, and nothing is left behind.
    await runClock(r.clock, () => r.hf.ua.layer.stats.activeClientTransactions === 0, 120_000);
    assert.ok((r.proxy.droppedKinds.get('history->focus UPDATE') ?? 0) >= 2, 'the refresh was sent and retransmitted');
    assert.ok((r.proxy.droppedKinds.get('history->focus BYE') ?? 0) >= 2, `the BYE was sent and retransmitted: ${JSON.stringify([...r.proxy.droppedKinds])}`);
    assert.equal(r.hf.ua.layer.stats.activeClientTransactions, 0);
    assert.equal(r.hf.msrp.sessionCount, 0, 'the MSRP session is closed');
    assert.equal((await r.store.messages(rec.id)).length, 5);
    t.diagnostic(`session over after ${took / 1000} s of fake time: "${h?.endReason}"; dropped ${JSON.stringify([...r.proxy.droppedKinds])}`);
  } finally {
    await r.close();
  }
});

test('the IM Client stops answering NOTIFYs: the REFER subscription times out; the recorded session goes on and ends normally', { timeout: 60_000 }, async () => {
  const r = await rig();
  try {
    const alice = r.net.client(ALICE.aor);
    r.proxy.silence('alice', (d) => d.subarray(0, 7).toString('latin1') === 'NOTIFY ');
    const res = await alice.refer(`${r.hf.uri};filename=silent-client`, r.net.factoryUri, [ALICE.aor]);
    assert.equal(res.status, 202);
    await until(() => alice.session?.state === 'open' && [...r.hf.fn.sessions].some((s) => s.phase === 'active'), 10_000, 'session active');
    // Timer F for the unanswered NOTIFYs (and their retransmissions, Timer E).
    await runClock(r.clock, () => r.hf.ua.layer.stats.activeClientTransactions === 0, 120_000);
    assert.equal(r.hf.ua.layer.stats.activeClientTransactions, 0, 'every NOTIFY transaction ended');
    assert.equal(alice.notifyStates.length, 0, 'the client got none');
    assert.ok((r.proxy.droppedKinds.get('history->alice NOTIFY') ?? 0) >= 2, 'NOTIFYs were sent and retransmitted');
    const rec = (await r.store.listHistories())[0]!;
    assert.equal(r.hf.fn.sessions.size, 1, 'the recorded session is still up');
    await alice.say('still recorded');
    await until(async () => (await r.store.messages(rec.id)).length === 1, 5000, 'recorded');
    await r.net.focus.end([...r.net.focus.conferences.keys()][0]!);
    await until(() => r.hf.fn.sessions.size === 0, 10_000, 'session over');
    const h = await r.store.getHistory(rec.id);
    assert.equal(h?.state, 'ended');
    assert.equal(h?.endReason, 'BYE received');
  } finally {
    await r.close();
  }
});

test('the focus never answers the MSRP binding SEND: the 30 s MSRP transaction timeout fails the user plane; the History Function BYEs and closes the history with the reason', { timeout: 60_000 }, async (t) => {
  let relay: TcpFaultRelay | undefined;
  const r = await rig({
    msrpFront: async (_name, port) => {
      relay = await TcpFaultRelay.start(port);
      relay.blackhole('toTarget');
      return relay.port;
    },
  });
  try {
    const alice = r.net.client(ALICE.aor);
    const res = await alice.refer(`${r.hf.uri};filename=silent-msrp`, r.net.factoryUri, [ALICE.aor]);
    assert.equal(res.status, 202);
    await until(() => (relay?.swallowed ?? 0) > 0 && r.hf.msrp.connectionCount === 1, 10_000, 'binding SEND sent into the void');
    const rec = (await r.store.listHistories())[0]!;
    assert.equal((await r.store.getHistory(rec.id))?.state, 'active');
    const took = await runClock(r.clock, () => r.hf.fn.sessions.size === 0, 120_000);
    assert.equal(r.hf.fn.sessions.size, 0);
    assert.ok(took >= 30_000, `ended after ${took} ms of fake time (RFC 4975 §7.1.1: 30 s)`);
    const h = await r.store.getHistory(rec.id);
    assert.equal(h?.state, 'ended');
    assert.match(h?.endReason ?? '', /^user plane failed: .*408/);
    // The BYE reached the focus (SIP still works): the recorder's leg departed.
    const conf = [...r.net.focus.conferences.values()][0]!;
    const leg = [...conf.legs.entries()].find(([u]) => u.startsWith('sip:history@'))![1];
    await until(() => leg.dialog.state === 'terminated', 10_000, 'focus dialog ended');
    assert.equal(leg.user.disconnectionMethod, 'departed');
    assert.equal(r.hf.msrp.sessionCount, 0);
    t.diagnostic(`session over after ${took / 1000} s of fake time: "${h?.endReason}"`);
  } finally {
    await r.close();
    await relay?.close();
  }
});
