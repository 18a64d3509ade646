// Interop of the SIP core with sipp (Debian's sip-tester), both directions, over UDP and TCP:
// RFC 3261 §11 OPTIONS, §13 INVITE/200/ACK, §15 BYE, with sipp's -lost dropping packets so
// only retransmissions (§17 Timers A/E/G, §13.3.1.4 2xx retransmission) can save the calls;
// tshark dissects a capture of a run and reports no malformed packet.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTransports, type SipTransports } from '../../src/sip/transport/index.js';
import { UserAgent } from '../../src/sip/ua/user-agent.js';
import { analyseCapture, freePort, missing, runSipp, startCapture, startSipp, delay } from './peers.js';

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n';
const skip = missing('sipp');
const skipShark = skip ?? missing('tshark');

interface Server {
  ua: UserAgent;
  transports: SipTransports;
  port: number;
  invites: number;
  byes: number;
}

let server: Server;

before(async () => {
  if (skip !== undefined) return;
  const port = await freePort();
  const late: { ua?: UserAgent } = {};
  const transports = await createTransports(
    { udp: [{ address: '127.0.0.1', port }], tcp: [{ address: '127.0.0.1', port }] },
    { message: (m) => late.ua?.receive(m), parseError: () => undefined },
  );
  const s: Server = { ua: undefined as never, transports, port, invites: 0, byes: 0 };
  s.ua = new UserAgent({
    transport: transports,
    profile: { methods: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS'], optionTags: ['timer'] },
    serverHeader: 'IM-serv/OMA1.0 im-history/test',
    userAgentHeader: 'IM-serv/OMA1.0 im-history/test',
    onRequest: (req) => {
      if (req.request.method !== 'INVITE') return void req.respond(405);
      s.invites++;
      req.accept({ body: SDP, contentType: 'application/sdp' });
    },
    onDialogTerminated: (_d, why) => {
      if (why === 'BYE received') s.byes++;
    },
  });
  late.ua = s.ua;
  server = s;
});

after(async () => {
  if (server !== undefined) {
    await server.ua.close();
    await server.transports.close();
  }
});

test('RFC 3261 §11 sipp OPTIONS -> im-history: 200 with Allow, Server and a To tag', { skip }, async () => {
  const r = await runSipp({ scenario: { file: 'options-uac.xml' }, remote: `127.0.0.1:${server.port}`, localPort: await freePort(), calls: 20, rate: 100 });
  assert.equal(r.failed, 0, r.log);
  assert.equal(r.successful, 20, r.stdout.slice(-2000));
  assert.equal(r.code, 0);
});

for (const transport of ['UDP', 'TCP'] as const) {
  test(`RFC 3261 §13/§15 sipp UAC -> im-history over ${transport}: INVITE/200/ACK/BYE`, { skip }, async () => {
    const before = { invites: server.invites, byes: server.byes };
    const r = await runSipp({ scenario: { builtin: 'uac' }, remote: `127.0.0.1:${server.port}`, localPort: await freePort(), transport, calls: 10, rate: 50, extra: ['-d', '10'] });
    assert.equal(r.failed, 0, r.log);
    assert.equal(r.successful, 10);
    assert.equal(server.invites - before.invites, 10);
    await delay(100);
    assert.equal(server.byes - before.byes, 10);
  });
}

test('RFC 3261 §17 + §13.3.1.4 sipp UAC with 10% packet loss: every call completes through retransmissions', { skip }, async () => {
  const r = await runSipp({
    scenario: { builtin: 'uac' },
    remote: `127.0.0.1:${server.port}`,
    localPort: await freePort(),
    calls: 20,
    rate: 20,
    lost: 10,
    extra: ['-d', '10', '-max_invite_retrans', '10', '-max_non_invite_retrans', '10'],
    limitMs: 60_000,
  });
  assert.equal(r.failed, 0, r.log);
  assert.equal(r.successful, 20);
  // Packets really were dropped, and the calls survived it.
  assert.ok(r.lost > 0, `sipp dropped ${r.lost} messages`);
});

for (const transport of ['UDP', 'TCP'] as const) {
  test(`RFC 3261 §13/§15 im-history UAC -> sipp UAS over ${transport}: INVITE/200/ACK/BYE`, { skip }, async () => {
    const sippPort = await freePort();
    const calls = 5;
    const sipp = startSipp({ scenario: { builtin: 'uas' }, localPort: sippPort, transport, calls, limitMs: 30_000 });
    try {
      await delay(300);
      for (let i = 0; i < calls; i++) {
        const tp = transport === 'TCP' ? ';transport=tcp' : '';
        const inv = server.ua.createRequest('INVITE', `sip:service@127.0.0.1:${sippPort}${tp}`, '<sip:history@127.0.0.1>', `<sip:service@127.0.0.1:${sippPort}>`);
        const res = await server.ua.invite(inv, { body: SDP, contentType: 'application/sdp' });
        assert.equal(res.response.status, 200, `call ${i}`);
        assert.ok(res.dialog);
        const bye = await server.ua.sendInDialog(res.dialog, 'BYE');
        assert.equal(bye.status, 200);
      }
      const r = await sipp.done;
      assert.equal(r.code, 0, r.stdout.slice(-1500));
    } finally {
      sipp.kill();
    }
  });
}

test('RFC 3261 §17.1 im-history UAC -> sipp UAS with 10% packet loss: calls complete through our retransmissions', { skip, timeout: 240_000 }, async () => {
  // sipp loses 10% of what it receives from us (test/interop/sipp/uas-recv-lossy.xml: the
  // built-in UAS with lost="10" on each recv; sipp's -lost would also drop its own 180/200 and
  // then abort the call on our INVITE retransmission, a limit of its scenario). Calls go on
  // (10 at least, 60 at most) until one of our requests or ACKs had to be retransmitted.
  const sippPort = await freePort();
  const maxCalls = 60;
  const sipp = startSipp({ scenario: { file: 'uas-recv-lossy.xml' }, localPort: sippPort, calls: maxCalls, limitMs: 220_000 });
  const sentBefore = server.ua.layer.stats.retransmissionsSent;
  try {
    await delay(300);
    let made = 0;
    const failed: string[] = [];
    while (made < maxCalls && (made < 10 || server.ua.layer.stats.retransmissionsSent === sentBefore)) {
      made++;
      const inv = server.ua.createRequest('INVITE', `sip:service@127.0.0.1:${sippPort}`, '<sip:history@127.0.0.1>', `<sip:service@127.0.0.1:${sippPort}>`);
      const res = await server.ua.invite(inv, { body: SDP, contentType: 'application/sdp' });
      if (res.response.status !== 200 || res.dialog === undefined) {
        failed.push(`call ${made}: INVITE ${res.response.status}`);
        continue;
      }
      const bye = await server.ua.sendInDialog(res.dialog, 'BYE');
      if (bye.status !== 200) failed.push(`call ${made}: BYE ${bye.status}`);
    }
    assert.deepEqual(failed, [], `${failed.length} of ${made} calls failed`);
    assert.ok(server.ua.layer.stats.retransmissionsSent > sentBefore, `loss was recovered by our retransmissions (${made} calls)`);
  } finally {
    sipp.kill();
  }
});

test('tshark dissects a capture of sipp <-> im-history traffic with no malformed packet', { skip: skipShark }, async () => {
  const sippPort = await freePort();
  const cap = await startCapture([server.port, sippPort], 30_000);
  try {
    const r1 = await runSipp({ scenario: { builtin: 'uac' }, remote: `127.0.0.1:${server.port}`, localPort: sippPort, calls: 3, rate: 10 });
    assert.equal(r1.successful, 3, r1.log + r1.stdout.slice(-1500));
    const r2 = await runSipp({ scenario: { file: 'options-uac.xml' }, remote: `127.0.0.1:${server.port}`, localPort: sippPort, calls: 3, rate: 10, transport: 'TCP' });
    assert.equal(r2.successful, 3, r2.log + r2.stdout.slice(-1500));
  } finally {
    await cap.stop();
  }
  const a = analyseCapture(cap.file, [server.port, sippPort]);
  // 3 calls x (INVITE, 200, ACK, BYE, 200) + 3 x (OPTIONS, 200), 100 Trying may add more.
  assert.ok(a.sip >= 21, `SIP packets dissected: ${a.sip}`);
  assert.equal(a.malformed, 0, a.errors.join('\n'));
});
