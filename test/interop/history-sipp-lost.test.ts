// Issue 6, UDP loss between the History Function and a real sipp IM Client: the same sipp
// client and conference focus as history-sipp.test.ts (sipp/history-client.xml,
// history-focus.xml); the client runs with `-lost 20`, dropping 20% of what it sends (REFER,
// 200s to NOTIFYs) and receives (NOTIFYs). The History Function's retransmissions (RFC 3261
// §17) and sipp's (retrans="500") must carry every session to its end: the client's scenario
// passes only when it got the 202 and the sipfrag NOTIFYs up to the final 200 (RFC 3515
// §2.4.4); the focus's only when the INVITE, ACK, SUBSCRIBE, BYE and unsubscribe all came.
// Every history is closed with a reason, and a retransmitted REFER makes no second one.
// The focus runs without -lost: its scenario is linear and cannot absorb a retransmission of a
// request it has already answered (a lost 200 to the SUBSCRIBE aborts it); loss on the focus's
// path is tested with the seeded fault proxy against the loopback focus (test/reliability/udp-faults).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.js';
import { startSipStack, type SipStack } from '../../src/sip/stack.js';
import { HistoryFunction, HISTORY_PROFILE } from '../../src/history/function.js';
import { SignallingOnlyUserPlane } from '../../src/history/user-plane.js';
import { MemoryStore } from '../../src/store/memory.js';
import { systemClock } from '../../src/sip/clock.js';
import { freePort, messageTable, missing, runSipp, startSipp, delay } from './peers.js';

const skip = missing('sipp');
const SESSIONS = 10;

let stack: SipStack;
let fn: HistoryFunction;
let store: MemoryStore;
let hfPort = 0;
let focusPort = 0;

before(async () => {
  if (skip !== undefined) return;
  hfPort = await freePort();
  focusPort = await freePort();
  const config = parseConfig({
    sip: { udp: [{ address: '127.0.0.1', port: hfPort }], tcp: [] },
    history: { conferenceFactories: [`sip:factory@127.0.0.1:${focusPort}`], trustedDomains: ['example.net'] },
  });
  const logger = pino({ level: process.env.TEST_LOG ?? 'silent' });
  const late: { fn?: HistoryFunction } = {};
  stack = await startSipStack(config.sip, logger, {
    profile: HISTORY_PROFILE,
    contactUser: 'history',
    onRequest: (inc) => late.fn?.handleRequest(inc),
    onDialogTerminated: (d, why) => late.fn?.dialogTerminated(d, why),
  });
  store = new MemoryStore();
  fn = new HistoryFunction({ ua: stack.ua, store, userPlane: new SignallingOnlyUserPlane(config.history.msrp), config: config.history, clock: systemClock, logger });
  late.fn = fn;
});

after(async () => {
  if (fn !== undefined) await fn.close();
  if (stack !== undefined) await stack.close();
});

function readOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

test(`sipp IM Client with -lost 20: ${SESSIONS} REFER-initiated sessions all complete and close with a reason`, { skip, timeout: 120_000 }, async (t) => {
  const focus = startSipp({
    scenario: { file: 'history-focus.xml' },
    localPort: focusPort,
    calls: SESSIONS * 2,
    extra: ['-d', '500', '-timeout', '80s', '-timeout_error', '-trace_msg', '-message_file', 'messages.log'],
    limitMs: 90_000,
  });
  try {
    await delay(300);
    const client = await runSipp({
      scenario: { file: 'history-client.xml' },
      remote: `127.0.0.1:${hfPort}`,
      localPort: await freePort(),
      calls: SESSIONS,
      rate: 2,
      lost: 20,
      extra: ['-key', 'refer_to', `sip:factory@127.0.0.1:${focusPort}`, '-timeout', '80s', '-timeout_error'],
      limitMs: 90_000,
    });
    const f = await focus.done;
    const fm = /Successful call\s*\|\s*\d+\s*\|\s*(\d+)/.exec(f.stdout);
    const why = `focus: ${readOr(join(focus.dir, 'errors.log'))}\n${f.stdout.slice(-2500)}`;
    assert.equal(client.failed, 0, `client: ${client.log}\n${client.stdout.slice(-2500)}`);
    assert.equal(client.successful, SESSIONS, client.stdout.slice(-2500));
    assert.equal(f.code, 0, why);
    assert.equal(Number(fm?.[1] ?? -1), SESSIONS * 2, why);
    const focusTable = messageTable(f.stdout);
    assert.ok(client.lost > 0, 'the sipp client dropped messages');
    await (async () => {
      const end = Date.now() + 20_000;
      while (fn.sessions.size > 0 && Date.now() < end) await delay(50);
    })();
    assert.equal(fn.sessions.size, 0);
    const histories = await store.listHistories();
    assert.equal(histories.length, SESSIONS, 'one history per REFER, retransmitted REFERs made no second one');
    for (const h of histories) {
      assert.equal(h.state, 'ended', `${h.id}: ${h.state} ${h.endReason ?? ''}`);
      assert.equal(h.endReason, 'BYE received');
    }
    t.diagnostic(
      `client: dropped ${client.lost}, retransmitted ${client.retransmissions}; focus retransmitted ${focusTable.retransmissions}; ` +
        `History Function retransmissions ${stack.ua.layer.stats.retransmissionsSent}`,
    );
  } finally {
    focus.kill();
  }
});
