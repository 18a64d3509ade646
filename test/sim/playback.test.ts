// Issue 4, beyond the seed: `history=playback;filename=<name>` sets up a new session and plays
// the stored history into it (CPIM with the original senders), for users who may see it.
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
  { aor: 'sip:dave@example.net', name: 'Dave' },
  { aor: 'sip:eve@example.net', name: 'Eve' },
];

test('issue 4 playback: a participant replays a stored history into a new session; others get 404', async () => {
  const net = await new SimNetwork().start(USERS);
  const store = new MemoryStore();
  const hf = await startHistoryNode(store, { conferenceFactories: [net.factoryUri], trustedDomains: ['example.net'] }, pino({ level: 'silent' }));
  try {
    const alice = net.client('sip:alice@example.net');
    const bob = net.client('sip:bob@example.net');
    // 1. Record a session between Alice and Bob.
    assert.equal((await alice.refer(`${hf.uri};filename=standup`, net.factoryUri, ['sip:alice@example.net', 'sip:bob@example.net'])).status, 202);
    await until(() => alice.session?.state === 'open' && bob.session?.state === 'open', 5000, 'joined');
    await until(() => [...hf.fn.sessions].some((s) => s.phase === 'active'), 5000, 'recording');
    const [rec] = await store.listHistories();
    await alice.say('first');
    await until(async () => (await store.messages(rec!.id)).length === 1, 3000, 'first recorded');
    await bob.say('second');
    await until(async () => (await store.messages(rec!.id)).length === 2, 3000, 'second recorded');
    await net.focus.end([...net.focus.conferences.keys()][0]!);
    await until(() => hf.fn.sessions.size === 0, 5000, 'recording over');

    // 2. Eve took no part: for her the history does not exist.
    const eve = net.client('sip:eve@example.net');
    const denied = await eve.refer(`${hf.uri};history=playback;filename=standup`, net.factoryUri, ['sip:eve@example.net']);
    assert.equal(denied.status, 404);

    // 3. Bob plays it to Dave.
    const dave = net.client('sip:dave@example.net');
    const res = await bob.refer(`${hf.uri};history=playback;filename=standup`, net.factoryUri, ['sip:dave@example.net']);
    assert.equal(res.status, 202);
    await until(() => dave.received.length === 2, 5000, 'Dave received the playback');
    assert.deepEqual(dave.received, [
      { from: 'sip:alice@example.net', text: 'first' },
      { from: 'sip:bob@example.net', text: 'second' },
    ]);
    const playback = (await store.listHistories()).find((h) => h.type === 'playback');
    assert.equal(playback?.name, 'playback of standup');
    assert.equal(playback?.owner, 'sip:bob@example.net');
  } finally {
    await hf.close();
    await net.close();
  }
});

test('playback without a filename is refused with 400', async () => {
  const { readHistoryType } = await import('../../src/history/history-type.js');
  const { parseUri } = await import('../../src/sip/message/headers/uri.js');
  assert.throws(() => readHistoryType(parseUri('sip:history@example.net;history=playback')), /playback needs the filename/);
});
