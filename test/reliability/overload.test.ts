// Issue 6, overload: a REFER flood far above the History Function's capacity. What bounds
// memory: history.maxSessions (REFERs beyond it: 503 + Retry-After from the History Function,
// seed 1.1.1-1b, RFC 3261 §21.5.4 / §20.33), sip.maxServerTransactions and
// sip.maxServerTransactionsPerSource (beyond them: a stateless 503 + Retry-After from the
// transaction layer, no state kept). A legitimate REFER sent during the flood, from another
// address than the flooder, still gets its session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { pino } from 'pino';
import { SimNetwork } from '../../src/sim/network.js';
import { startHistoryNode } from '../../src/sim/history-node.js';
import { MemoryStore } from '../../src/store/memory.js';
import { until } from '../helpers/wait.js';

/** REFERs in the untrusted flood (FLOOD_COUNT=40000 for a by-hand run, docs/reliability.md). */
const FLOOD = Number(process.env.FLOOD_COUNT ?? 4000);

const USERS = [
  { aor: 'sip:alice@example.net', name: 'Alice' },
  { aor: 'sip:bob@example.net', name: 'Bob' },
  { aor: 'sip:carol@example.net', name: 'Carol' },
];

function refer(hfPort: number, from: { address: string; port: number }, factory: string, n: number, pai: boolean): Buffer {
  const body = '<?xml version="1.0" encoding="UTF-8"?><resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list><entry uri="sip:bob@example.net"/></list></resource-lists>';
  return Buffer.from(
    [
      `REFER sip:history@127.0.0.1:${hfPort};filename=flood-${n} SIP/2.0`,
      `Via: SIP/2.0/UDP ${from.address}:${from.port};branch=z9hG4bK-flood-${from.address}-${n};rport`,
      'Max-Forwards: 70',
      `From: <sip:mallory@example.net>;tag=f${n}`,
      `To: <sip:history@127.0.0.1:${hfPort}>`,
      `Call-ID: flood-${from.address}-${n}@test`,
      'CSeq: 1 REFER',
      `Contact: <sip:mallory@${from.address}:${from.port}>;+g.oma.sip-im`,
      ...(pai ? ['P-Asserted-Identity: <sip:mallory@example.net>'] : []),
      'Accept-Contact: *;+g.oma.sip-im',
      `Refer-To: <${factory}>`,
      'Content-Type: application/resource-lists+xml',
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n'),
  );
}

interface Flooder {
  socket: Socket;
  port: number;
  address: string;
  statuses: Map<number, number>;
  withRetryAfter: number;
  close(): Promise<void>;
}

async function flooder(address: string): Promise<Flooder> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => resolve());
  });
  socket.setRecvBufferSize(4 * 1024 * 1024); // the answers come back as fast as the flood goes out
  const f: Flooder = {
    socket,
    address,
    port: socket.address().port,
    statuses: new Map(),
    withRetryAfter: 0,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
  socket.on('message', (d) => {
    const text = d.toString('latin1');
    const m = /^SIP\/2\.0 (\d{3}) /.exec(text);
    if (m === null) return;
    const status = Number(m[1]);
    f.statuses.set(status, (f.statuses.get(status) ?? 0) + 1);
    if (status === 503 && /\r\nRetry-After: *\d+/i.test(text)) f.withRetryAfter++;
  });
  return f;
}

async function flood(f: Flooder, hfPort: number, factory: string, from: number, count: number, pai: boolean, during?: (i: number) => Promise<void>): Promise<void> {
  for (let i = from; i < from + count; i++) {
    f.socket.send(refer(hfPort, { address: f.address, port: f.port }, factory, i, pai), hfPort, '127.0.0.1');
    // Bursts of 50, then a breath so the loopback socket buffers are not what limits the test.
    if (i % 50 === 49) {
      await new Promise((r) => setTimeout(r, 2));
      await during?.(i);
    }
  }
}

test('REFER flood: 150 trusted REFERs over maxSessions and 4,000 untrusted ones from one address get 503 + Retry-After; sessions and transactions stay bounded; a legitimate REFER during the flood gets its session', { timeout: 90_000 }, async (t) => {
  const net = await new SimNetwork().start(USERS);
  const store = new MemoryStore();
  const maxServerTransactions = 600;
  const perSource = 250;
  const hf = await startHistoryNode(
    store,
    { conferenceFactories: [net.factoryUri], trustedDomains: ['example.net'], maxSessions: 2, retryAfterSeconds: 17 },
    pino({ level: process.env.TEST_LOG ?? 'silent' }),
    { maxServerTransactions, maxServerTransactionsPerSource: perSource },
  );
  const hfPort = Number(/:(\d+)$/.exec(hf.uri)![1]);
  const trusted = await flooder('127.0.0.1');
  const untrusted = await flooder('127.0.0.2');
  let maxSessionsSeen = 0;
  let maxTransactionsSeen = 0;
  const sample = (): void => {
    maxSessionsSeen = Math.max(maxSessionsSeen, hf.fn.sessions.size);
    maxTransactionsSeen = Math.max(maxTransactionsSeen, hf.ua.layer.stats.activeServerTransactions);
  };
  try {
    // Capacity taken by two real sessions.
    for (const aor of ['sip:alice@example.net', 'sip:bob@example.net']) {
      const r = await net.client(aor).refer(`${hf.uri};filename=real-${aor.slice(4, 7)}`, net.factoryUri, [aor]);
      assert.equal(r.status, 202);
    }
    await until(() => [...hf.fn.sessions].filter((s) => s.phase === 'active').length === 2, 10_000, 'two sessions active');

    // 1. Trusted, well-formed REFERs over maxSessions: the History Function's own 503.
    await flood(trusted, hfPort, net.factoryUri, 0, 150, true, async () => sample());
    await until(() => (trusted.statuses.get(503) ?? 0) === 150, 10_000, '150 answers to the trusted flood');
    assert.equal(trusted.withRetryAfter, 150);
    assert.equal(trusted.statuses.get(202), undefined);
    sample();

    // 2. An untrusted address floods; half-way a session ends and Carol asks for one.
    // With node --expose-gc (by hand) the figures are live heap, not garbage.
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const rssBefore = process.memoryUsage().rss;
    let carol: Promise<number> | undefined;
    await flood(untrusted, hfPort, net.factoryUri, 0, FLOOD, false, async (i) => {
      sample();
      if (i === Math.floor(FLOOD / 2) - 1) {
        await net.focus.end([...net.focus.conferences.values()].find((c) => [...c.legs.keys()].includes('sip:alice@example.net'))!.id);
        await until(() => hf.fn.sessions.size === 1, 10_000, 'a session ended');
        carol = net.client('sip:carol@example.net').refer(`${hf.uri};filename=during-flood`, net.factoryUri, ['sip:carol@example.net']).then((r) => r.status);
      }
    });
    // Wait (bounded) until the answers stop coming: a datagram lost in a full socket buffer is
    // never answered, and the count must not depend on how fast this machine is.
    const answered = (): number => [...untrusted.statuses.values()].reduce((a, b) => a + b, 0);
    for (let last = -1, end = Date.now() + 20_000; answered() !== last && answered() < FLOOD && Date.now() < end; ) {
      last = answered();
      await new Promise((r) => setTimeout(r, 300));
    }
    sample();
    gc?.();
    const heapAfter = process.memoryUsage().heapUsed;
    const rssAfter = process.memoryUsage().rss;
    assert.equal(await carol, 202, 'the legitimate REFER was accepted during the flood');
    await until(() => [...hf.fn.sessions].some((s) => s.record.name === 'during-flood' && s.phase === 'active'), 10_000, "Carol's session active");

    const s403 = untrusted.statuses.get(403) ?? 0;
    const s503 = untrusted.statuses.get(503) ?? 0;
    // Stateful answers (the History Function's 503 while sessions are full, 403 for the missing
    // P-Asserted-Identity after) only up to the address's share of server transactions; the
    // rest is the transaction layer's stateless 503 with Retry-After.
    assert.ok(s403 <= perSource, `403s: ${s403}`);
    assert.ok(answered() >= FLOOD / 2, `answered: ${answered()} of ${FLOOD}`);
    assert.equal(s403 + s503, answered(), 'nothing but 403 and 503');
    assert.equal(untrusted.withRetryAfter, s503);
    assert.equal(untrusted.statuses.get(202), undefined);
    assert.ok(maxSessionsSeen <= 2, `sessions: ${maxSessionsSeen}`);
    assert.ok(maxTransactionsSeen <= maxServerTransactions, `server transactions: ${maxTransactionsSeen}`);
    // Generous bound (no GC forced in CI): the flood's state is capped, so the heap does not follow it.
    assert.ok(heapAfter - heapBefore < 64 * 1024 * 1024, `heap grew ${heapAfter - heapBefore} bytes`);
    const histories = await store.listHistories();
    assert.equal(histories.length, 3, 'only the real sessions made histories');
    t.diagnostic(
      `trusted flood: 150 -> 503 x${trusted.statuses.get(503)}; untrusted flood: ${FLOOD} -> 403 x${s403}, 503 x${s503} (all with Retry-After), ` +
        `unanswered ${FLOOD - s403 - s503}; max sessions ${maxSessionsSeen}, max server transactions ${maxTransactionsSeen}; ` +
        `heap ${(heapBefore / 1048576).toFixed(1)} -> ${(heapAfter / 1048576).toFixed(1)} MB, rss ${(rssBefore / 1048576).toFixed(1)} -> ${(rssAfter / 1048576).toFixed(1)} MB`,
    );
  } finally {
    await trusted.close();
    await untrusted.close();
    await hf.close();
    await net.close();
  }
});
