// Issue 6, network faults on the SIP path: UDP loss, duplication and reordering between the
// History Function and its peers (the IM clients and the conference focus of the loopback IM
// network). This kernel has no netem, so a seeded user-space relay (test/helpers/
// udp-fault-proxy.ts) sits in front of every SIP UDP socket and every datagram crosses it.
// RFC 3261 §17 retransmissions (Timers A/E/G) and duplicate absorption must carry every
// session through: REFER -> 202 -> sipfrag NOTIFYs to the final 200 (RFC 3515 §2.4.4),
// INVITE/ACK, conference SUBSCRIBE/NOTIFY, BYE either way. Then every history is closed with
// a reason and every message the History Function's MSRP leg acknowledged is in the store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { SimNetwork } from '../../src/sim/network.js';
import { startHistoryNode } from '../../src/sim/history-node.js';
import { MemoryStore } from '../../src/store/memory.js';
import { parseCpim } from '../../src/cpim/parse.js';
import { until } from '../helpers/wait.js';
import { UdpFaultProxy } from '../helpers/udp-fault-proxy.js';

const SESSIONS = 8;
const MESSAGES_PER_USER = 4;
const SEED = Number(process.env.FAULT_SEED ?? 20261125);

test(`UDP loss 15% + duplication 10% + reordering 10% on every SIP datagram: ${SESSIONS} recorded sessions all complete, close with a reason, and lose no acknowledged message`, { timeout: 120_000 }, async (t) => {
  const proxy = new UdpFaultProxy({ loss: 0.15, duplicate: 0.1, reorder: 0.1, maxDelayMs: 60, seed: SEED });
  const users = Array.from({ length: SESSIONS * 2 }, (_, i) => ({ aor: `sip:u${i}@example.net`, name: `U${i}` }));
  const front = (name: string, port: number) => proxy.add(name, port);
  const net = await new SimNetwork(undefined, front).start(users);
  const store = new MemoryStore();
  const hf = await startHistoryNode(
    store,
    { conferenceFactories: [net.factoryUri], trustedDomains: ['example.net'] },
    pino({ level: process.env.TEST_LOG ?? 'silent' }),
    {},
    { udpFront: (port) => proxy.add('history', port) },
  );
  // What the History Function's MSRP leg answered 200 to, per conference entity.
  const acked = new Set<string>();
  net.focusMedia.onAcked = (user, body) => {
    if (user.startsWith('sip:history@')) acked.add(Buffer.from(parseCpim(body).content).toString());
  };
  try {
    const runs = Array.from({ length: SESSIONS }, async (_, i) => {
      const a = net.client(users[2 * i]!.aor);
      const b = net.client(users[2 * i + 1]!.aor);
      const res = await a.refer(`${hf.uri};history=session;filename=fault-${i}`, net.factoryUri, [a.aor, b.aor]);
      assert.equal(res.status, 202, `session ${i}: REFER answered ${res.status}`);
      await until(() => a.session?.state === 'open' && b.session?.state === 'open', 30_000, `session ${i}: clients joined`);
      const conf = [...net.focus.conferences.values()].find((c) => c.uri === a.conference);
      assert.ok(conf, `session ${i}: conference found`);
      await until(() => conf.legs.size === 3, 30_000, `session ${i}: the History Function joined the conference`);
      await until(() => [...hf.fn.sessions].some((s) => s.record.name === `fault-${i}` && s.phase === 'active'), 30_000, `session ${i}: active`);
      for (let m = 0; m < MESSAGES_PER_USER; m++) {
        await a.say(`s${i} a #${m}`);
        await b.say(`s${i} b #${m}`);
      }
      await until(() => [...acked].filter((x) => x.startsWith(`s${i} `)).length === 2 * MESSAGES_PER_USER, 30_000, `session ${i}: all messages acknowledged by the recorder`);
      // Half end at the focus (BYE to the History Function), half at the History Function (BYE to the focus).
      const hfLeg = [...conf.legs.entries()].find(([u]) => u.startsWith('sip:history@'))![1];
      if (i % 2 === 0) await net.focus.end(conf.id);
      else await [...hf.fn.sessions].find((s) => s.record.name === `fault-${i}`)!.stop('operator stop');
      await until(() => ![...hf.fn.sessions].some((s) => s.record.name === `fault-${i}`), 40_000, `session ${i}: over at the History Function`);
      await until(() => hfLeg.dialog.state === 'terminated', 40_000, `session ${i}: the focus's dialog with the History Function ended`);
      if (i % 2 === 1) {
        // The History Function's BYE reached the focus (through retransmissions if need be).
        assert.equal(hfLeg.user.disconnectionMethod, 'departed', `session ${i}: the focus saw a BYE`);
      }
      // RFC 3515 §2.4.4: the IM Client got the final sipfrag (the factory's 200) with terminated.
      await until(() => a.notifyStates.some((n) => n.state.startsWith('terminated') && n.body.startsWith('SIP/2.0 200')), 40_000, `session ${i}: final NOTIFY`);
      return i;
    });
    const done = await Promise.all(runs);
    assert.equal(done.length, SESSIONS);

    const histories = await store.listHistories();
    assert.equal(histories.length, SESSIONS, 'one history per REFER (no duplicate REFER made a second one)');
    let stored = 0;
    for (const h of histories) {
      assert.equal(h.state, 'ended', `${h.name}: ${h.state}`);
      assert.ok((h.endReason ?? '').length > 0, `${h.name}: closed with a reason`);
      assert.ok(h.endedAt !== undefined);
      const texts = (await store.messages(h.id)).map((m) => m.body.toString('utf8'));
      stored += texts.length;
      assert.equal(new Set(texts).size, texts.length, `${h.name}: no message stored twice`);
    }
    const all = new Set<string>();
    for (const h of histories) for (const m of await store.messages(h.id)) all.add(m.body.toString('utf8'));
    const lost = [...acked].filter((x) => !all.has(x));
    assert.deepEqual(lost, [], 'every acknowledged message is stored');
    assert.equal(acked.size, SESSIONS * 2 * MESSAGES_PER_USER);
    // The faults really happened, on the History Function's own links too.
    const c = proxy.counts;
    assert.ok(c.dropped > 0 && c.duplicated > 0 && c.reordered > 0, JSON.stringify(c));
    const hfDropped = [...proxy.byLink].filter(([k]) => k.includes('history')).reduce((n, [, v]) => n + v.dropped, 0);
    assert.ok(hfDropped > 0, 'datagrams to or from the History Function were dropped');
    t.diagnostic(`seed ${SEED}: ${JSON.stringify(c)}; to/from the History Function dropped ${hfDropped}; sessions ${SESSIONS}, messages acknowledged ${acked.size}, stored ${stored}, lost ${lost.length}`);
  } finally {
    await hf.close();
    await net.close();
    await proxy.close();
  }
});
