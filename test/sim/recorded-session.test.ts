// Issue 4 end to end: the real History Function records a whole IM session on the loopback
// IM network — REFER, factory INVITE, focus dial-out, MSRP messages relayed by the focus
// (RFC 4975) as CPIM (RFC 3862), conference-info (RFC 4575), BYE — into the store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { SimNetwork } from '../../src/sim/network.js';
import { startHistoryNode } from '../../src/sim/history-node.js';
import { MemoryStore } from '../../src/store/memory.js';
import { until } from '../helpers/wait.js';

const USERS = [
  { aor: 'sip:alice@example.net', name: 'Alice' },
  { aor: 'sip:bob@example.net', name: 'Bob' },
  { aor: 'sip:carol@example.net', name: 'Carol' },
];

test('issue 4: a recorded session on the loopback IM network keeps every message, in order, with its sender', async () => {
  const net = await new SimNetwork().start(USERS);
  const store = new MemoryStore();
  const hf = await startHistoryNode(store, { conferenceFactories: [net.factoryUri], trustedDomains: ['example.net'] }, pino({ level: process.env.TEST_LOG ?? 'silent' }));
  try {
    const alice = net.client('sip:alice@example.net');
    const res = await alice.refer(`${hf.uri};history=session;filename=demo-sync`, net.factoryUri, USERS.map((u) => u.aor));
    assert.equal(res.status, 202);
    await until(() => USERS.every((u) => net.client(u.aor).session?.state === 'open'), 5000, 'all clients joined');
    await until(() => [...hf.fn.sessions].some((s) => s.phase === 'active'), 5000, 'History Function session active');
    const [rec] = await store.listHistories();
    assert.ok(rec);
    assert.equal(rec.name, 'demo-sync');

    const script: [string, string][] = [
      ['sip:alice@example.net', 'Good morning, everyone'],
      ['sip:bob@example.net', 'Morning Alice! Ünïcödé ok?'],
      ['sip:carol@example.net', 'Hi both 👋'],
      ['sip:alice@example.net', 'Let us start the weekly sync.'],
    ];
    for (const [who, text] of script) {
      await net.client(who).say(text);
      // Wait for it to be recorded before the next one, so "in order" is well defined.
      const n = script.findIndex(([w, t]) => w === who && t === text) + 1;
      await until(async () => (await store.messages(rec.id)).length >= n, 5000, `message ${n} recorded`);
    }
    const msgs = await store.messages(rec.id);
    assert.deepEqual(
      msgs.map((m) => [m.sender, m.body.toString('utf8')]),
      script,
    );
    assert.deepEqual(msgs.map((m) => m.seq), [1, 2, 3, 4]);
    assert.ok(msgs.every((m) => m.contentType.startsWith('text/plain') && (m.imdnMessageId ?? '').length >= 16));
    // The other participants got each message through the focus.
    await until(() => net.client('sip:bob@example.net').received.length === 3, 3000, 'bob received');
    assert.deepEqual(net.client('sip:bob@example.net').received.map((r) => r.from), ['sip:alice@example.net', 'sip:carol@example.net', 'sip:alice@example.net']);

    // The focus ends the conference: the history closes.
    await net.focus.end([...net.focus.conferences.keys()][0]!);
    await until(() => hf.fn.sessions.size === 0, 5000, 'session closed');
    const done = await store.getHistory(rec.id);
    assert.equal(done?.state, 'ended');
    assert.ok((await store.conferenceNotifications(rec.id)).length >= 1);
    // RFC 4575 roster: the three users joined (the focus's partial notifications), in the store.
    const joined = (await store.rosterEvents(rec.id)).filter((e) => e.kind === 'joined').map((e) => e.user);
    for (const u of USERS) assert.ok(joined.includes(u.aor), `${u.aor} joined: ${joined.join(', ')}`);
    const people = await store.participants(rec.id);
    assert.ok(USERS.every((u) => people.some((p) => p.user === u.aor && p.joinedAt !== undefined)));
  } finally {
    await hf.close();
    await net.close();
  }
});
