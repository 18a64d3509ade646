// Issue 6, network faults on stream connections: TCP resets (RST, socket.resetAndDestroy())
// in the middle of a message, mid-session, on the MSRP leg between the History Function and
// the focus and on SIP over TCP. The History Function must not crash, must end what can no
// longer go on (RFC 4975 §5.4: a failed MSRP connection fails its sessions; the SIP session is
// then ended with BYE) with a reason in the history, and keep every message it acknowledged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { pino } from 'pino';
import { SimNetwork } from '../../src/sim/network.js';
import { startHistoryNode } from '../../src/sim/history-node.js';
import { MemoryStore } from '../../src/store/memory.js';
import { parseCpim } from '../../src/cpim/parse.js';
import { StreamFramer } from '../../src/sip/message/stream.js';
import { createResponse } from '../../src/sip/transaction/build.js';
import { serialize } from '../../src/sip/message/serialize.js';
import type { SipRequest, SipResponse } from '../../src/sip/message/message.js';
import { until } from '../helpers/wait.js';
import { mulberry32 } from '../fuzz/engine.js';
import { TcpFaultRelay } from '../helpers/tcp-fault-relay.js';

const logger = () => pino({ level: process.env.TEST_LOG ?? 'silent' });

test('MSRP connection reset in the middle of a chunk: the History Function BYEs the focus, closes the history with the reason, and keeps every message it acknowledged', { timeout: 60_000 }, async () => {
  let relay: TcpFaultRelay | undefined;
  const net1 = await new SimNetwork(undefined, undefined, async (_name, port) => {
    relay = await TcpFaultRelay.start(port);
    return relay.port;
  }).start([{ aor: 'sip:alice@example.net', name: 'Alice' }]);
  const store = new MemoryStore();
  const hf = await startHistoryNode(store, { conferenceFactories: [net1.factoryUri], trustedDomains: ['example.net'] }, logger());
  const acked = new Set<string>();
  net1.focusMedia.onAcked = (user, body) => {
    if (user.startsWith('sip:history@')) acked.add(Buffer.from(parseCpim(body).content).toString());
  };
  try {
    assert.ok(relay);
    const alice = net1.client('sip:alice@example.net');
    // Only Alice and the recorder are in the conference: the only MSRP bytes going from the
    // focus towards a connecting side that carry Alice's words are those to the recorder.
    const res = await alice.refer(`${hf.uri};filename=reset-mid-chunk`, net1.factoryUri, [alice.aor]);
    assert.equal(res.status, 202);
    await until(() => alice.session?.state === 'open', 10_000, 'alice joined');
    const conf = [...net1.focus.conferences.values()][0]!;
    await until(() => conf.legs.size === 2 && [...hf.fn.sessions].some((s) => s.phase === 'active'), 10_000, 'recorder joined');
    await until(() => hf.msrp.sessionCount === 1 && [...hf.fn.sessions][0]!.live().state === 'active', 10_000, 'recorder MSRP session');
    for (let i = 0; i < 10; i++) await alice.say(`before reset #${i}`);
    await until(() => acked.size === 10, 10_000, '10 messages acknowledged by the recorder');
    const cut = relay.resetAt('toClient', 'CUT-HERE');
    await alice.say(`${'x'.repeat(600)} CUT-HERE and the rest of this chunk never arrives`);
    const { forwardedBeforeMarker } = await cut;
    assert.ok(forwardedBeforeMarker > 600, `the recorder got part of the chunk (${forwardedBeforeMarker} bytes) before the reset`);

    const rec = (await store.listHistories())[0]!;
    await until(() => hf.fn.sessions.size === 0, 10_000, 'the History Function ended the session');
    const h = await store.getHistory(rec.id);
    assert.equal(h?.state, 'ended');
    assert.match(h?.endReason ?? '', /^MSRP session failed: connection lost/);
    // The BYE reached the focus: the recorder's leg departed (not failed).
    const leg = [...conf.legs.entries()].find(([u]) => u.startsWith('sip:history@'))![1];
    await until(() => leg.dialog.state === 'terminated', 10_000, 'focus dialog ended');
    assert.equal(leg.user.disconnectionMethod, 'departed');
    // The IM Client had its final NOTIFY (the 200) before; nothing else is owed to it.
    assert.ok(alice.notifyStates.some((n) => n.state.startsWith('terminated') && n.body.startsWith('SIP/2.0 200')));
    const stored = (await store.messages(rec.id)).map((m) => m.body.toString('utf8'));
    assert.deepEqual(stored, [...acked]);
    assert.ok(!stored.some((s) => s.includes('CUT-HERE')), 'the half chunk is not stored');
    assert.equal(hf.msrp.sessionCount, 0);
    assert.equal(relay.resets, 1);

    // Not crashed: the next REFER is served and recorded.
    await net1.focus.end(conf.id).catch(() => undefined);
    alice.session = undefined;
    const again = await alice.refer(`${hf.uri};filename=after-reset`, net1.factoryUri, [alice.aor]);
    assert.equal(again.status, 202);
    await until(() => [...hf.fn.sessions].some((s) => s.phase === 'active') && alice.session?.state === 'open', 10_000, 'second session');
    await alice.say('after the reset');
    await until(async () => (await store.listHistories()).some((x) => x.name === 'after-reset'), 5000, 'second history');
    const second = (await store.listHistories()).find((x) => x.name === 'after-reset')!;
    await until(async () => (await store.messages(second.id)).length === 1, 5000, 'message after the reset recorded');
  } finally {
    await hf.close();
    await net1.close();
    await relay?.close();
  }
});

/** A REFER over TCP asking the History Function to record a session (seed 1.1), as raw bytes. */
function referBytes(hfPort: number, localPort: number, factoryUri: string, n: number): Buffer {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\r\n<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list>' +
    '<entry uri="sip:alice@example.net"/></list></resource-lists>\r\n';
  const head = [
    `REFER sip:history@127.0.0.1:${hfPort};filename=tcp-${n} SIP/2.0`,
    `Via: SIP/2.0/TCP 127.0.0.1:${localPort};branch=z9hG4bK-tcp-reset-${n}`,
    'Max-Forwards: 70',
    `From: <sip:alice@example.net>;tag=t${n}`,
    `To: <sip:history@127.0.0.1:${hfPort}>`,
    `Call-ID: tcp-reset-${n}@test`,
    'CSeq: 1 REFER',
    `Contact: <sip:alice@127.0.0.1:${localPort};transport=tcp>;+g.oma.sip-im`,
    'P-Asserted-Identity: <sip:alice@example.net>',
    'Accept-Contact: *;+g.oma.sip-im',
    `Refer-To: <${factoryUri}>`,
    'Allow: INVITE, ACK, CANCEL, BYE, REFER, NOTIFY, MESSAGE, OPTIONS',
    'Content-Type: application/resource-lists+xml',
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`);
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

test('SIP over TCP reset mid-request (40 cuts at seeded offsets) and mid-session: no crash, no half-made session, connections freed; the recorded session outlives its IM Client', { timeout: 60_000 }, async () => {
  const net1 = await new SimNetwork().start([{ aor: 'sip:alice@example.net', name: 'Alice' }]);
  const store = new MemoryStore();
  const hf = await startHistoryNode(store, { conferenceFactories: [net1.factoryUri], trustedDomains: ['example.net'] }, logger(), { timers: { T1: 50 } });
  const tcpPort = hf.transports.listening.find((l) => l.transport === 'TCP')!.port;
  try {
    const rnd = mulberry32(6);
    const full = referBytes(tcpPort, 1, net1.factoryUri, 0).length;
    for (let i = 0; i < 40; i++) {
      const s = await connect(tcpPort);
      const bytes = referBytes(tcpPort, s.localPort!, net1.factoryUri, i);
      const cutAt = 1 + Math.floor(rnd() * (full - 2)); // never the whole request
      await new Promise<void>((r) => s.write(bytes.subarray(0, cutAt), () => r()));
      await new Promise((r) => setTimeout(r, 5));
      s.resetAndDestroy();
    }
    await until(() => hf.transports.tcp!.connectionCount === 0, 10_000, 'every reset connection forgotten');
    assert.equal((await store.listHistories()).length, 0, 'no history from a half request');
    assert.equal(hf.fn.sessions.size, 0);

    // Mid-session: a REFER over TCP whose client answers the first NOTIFYs, then resets.
    const s = await connect(tcpPort);
    const framer = new StreamFramer();
    const got: (SipRequest | SipResponse)[] = [];
    s.on('data', (chunk: Buffer) => {
      for (const ev of framer.push(chunk)) {
        if (ev.kind !== 'message') continue;
        got.push(ev.message);
        if (ev.message.isRequest() && ev.message.method === 'NOTIFY' && !s.destroyed) s.write(serialize(createResponse(ev.message, 200)));
      }
    });
    s.on('error', () => undefined);
    s.write(referBytes(tcpPort, s.localPort!, net1.factoryUri, 99));
    await until(() => got.some((m) => !m.isRequest() && m.status === 202), 5000, '202 over TCP');
    await until(() => got.some((m) => m.isRequest() && m.method === 'NOTIFY'), 5000, 'first NOTIFY over TCP');
    s.resetAndDestroy();
    await until(() => [...hf.fn.sessions].some((x) => x.phase === 'active'), 10_000, 'session active');
    const rec = (await store.listHistories())[0]!;
    const alice = net1.client('sip:alice@example.net');
    await until(() => alice.session?.state === 'open', 10_000, 'alice joined');
    await alice.say('recorded although the REFER client is gone');
    await until(async () => (await store.messages(rec.id)).length === 1, 5000, 'message recorded');
    // The focus ends the conference: the history closes normally.
    await net1.focus.end([...net1.focus.conferences.keys()][0]!);
    await until(() => hf.fn.sessions.size === 0, 10_000, 'session over');
    const h = await store.getHistory(rec.id);
    assert.equal(h?.state, 'ended');
    assert.equal(h?.endReason, 'BYE received');
    await until(() => hf.transports.tcp!.connectionCount === 0, 10_000, 'TCP connections freed');
  } finally {
    await hf.close();
    await net1.close();
  }
});
