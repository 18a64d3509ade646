// Issue 6 (TLS) end to end: the History Function reaches a TLS-capable conference factory
// over SIP/TLS (a sips: factory URI, RFC 5630) and the focus's MSRP switch over msrps with
// a=fingerprint (RFC 4975 §14.1, RFC 8122), and records the session. Certificates are made
// by openssl in a temporary directory.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { SimNetwork, type SimTls } from '../../src/sim/network.js';
import { startHistoryNode, type HistoryNodeTls } from '../../src/sim/history-node.js';
import { MemoryStore } from '../../src/store/memory.js';
import { until } from '../helpers/wait.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';

const USERS = [
  { aor: 'sip:alice@example.net', name: 'Alice' },
  { aor: 'sip:bob@example.net', name: 'Bob' },
];

let pki: TestPki;
let focusTls: SimTls;
let hfTls: HistoryNodeTls;

before(() => {
  pki = makeTestPki();
  const ca = [pki.read(pki.caCert)];
  const focus = pki.issue('focus', ['URI:sip:127.0.0.1', 'IP:127.0.0.1']);
  const hf = pki.issue('history', ['URI:sip:127.0.0.1', 'IP:127.0.0.1']);
  const f = { cert: pki.read(focus.cert), key: pki.read(focus.key), ca };
  const h = { cert: pki.read(hf.cert), key: pki.read(hf.key), ca };
  focusTls = { sip: f, msrp: f };
  hfTls = { sip: h, msrp: h };
});

after(() => pki.cleanup());

test('issue 6: a session set up over SIP/TLS with the factory and recorded over msrps (fingerprints checked both ways)', { timeout: 20_000 }, async () => {
  const net = await new SimNetwork().start(USERS, { tls: focusTls });
  const store = new MemoryStore();
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const hf = await startHistoryNode(store, { conferenceFactories: [net.factoryUri], trustedDomains: ['example.net'] }, pino({ level: 'debug' }, sink), {}, { tls: hfTls });
  try {
    assert.match(net.factoryUri, /^sips:factory@127\.0\.0\.1:\d+$/);
    const alice = net.client('sip:alice@example.net');
    const res = await alice.refer(`${hf.uri};history=session;filename=tls-sync`, net.factoryUri, USERS.map((u) => u.aor));
    assert.equal(res.status, 202);
    await until(() => [...hf.fn.sessions].some((s) => s.phase === 'active'), 8000, 'History Function session active');
    await until(() => USERS.every((u) => net.client(u.aor).session?.state === 'open'), 8000, 'all clients joined');
    const [rec] = await store.listHistories();
    assert.ok(rec);

    // The factory INVITE went over TLS (the focus saw Via SIP/2.0/TLS) and the answer carried msrps + a=fingerprint.
    const inviteSent = logs.find((l) => l['msg'] === 'sip message sent' && l['start'] === 'INVITE');
    assert.equal(inviteSent?.['transport'], 'TLS');
    assert.ok(logs.some((l) => l['msg'] === 'msrp connection opened' && l['tls'] === true), 'the MSRP connection to the focus is TLS');

    await net.client('sip:alice@example.net').say('secret plans, over TLS');
    await until(async () => (await store.messages(rec.id)).length >= 1, 5000, 'message recorded');
    const [m] = await store.messages(rec.id);
    assert.equal(m?.body.toString('utf8'), 'secret plans, over TLS');
    assert.equal(m?.sender, 'sip:alice@example.net');

    // The focus ends the conference: BYE to the History Function's sips: Contact over TLS.
    await net.focus.end([...net.focus.conferences.keys()][0]!);
    await until(() => hf.fn.sessions.size === 0, 5000, 'session closed');
    assert.equal((await store.getHistory(rec.id))?.state, 'ended');
    assert.ok(!logs.some((l) => /refused/.test(String(l['msg']))), 'no TLS refusal on the way');
  } finally {
    await hf.close();
    await net.close();
  }
});
