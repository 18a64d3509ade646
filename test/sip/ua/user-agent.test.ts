// RFC 3261 §8, §9, §12, §13, §15 through the UserAgent facade: two UAs on loopback
// (real UDP/TCP sockets) and one UA on a fake transport with a fake clock for the timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTransports } from '../../../src/sip/transport/index.js';
import { UserAgent, type UserAgentOptions } from '../../../src/sip/ua/user-agent.js';
import type { IncomingRequest } from '../../../src/sip/ua/incoming.js';
import { FakeClock } from '../../../src/sip/clock.js';
import { parseMessage } from '../../../src/sip/message/parse.js';
import type { SipMessage, SipRequest } from '../../../src/sip/message/message.js';
import type { Destination, ListenAddress, Transport, TransportName } from '../../../src/sip/transport/types.js';

const PROFILE = { methods: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS'], optionTags: ['timer'] };

async function startUa(transport: 'UDP' | 'TCP', extra: Partial<UserAgentOptions> = {}) {
  const late: { ua?: UserAgent } = {};
  const t = await createTransports(
    transport === 'UDP' ? { udp: [{ address: '127.0.0.1', port: 0 }] } : { tcp: [{ address: '127.0.0.1', port: 0 }] },
    { message: (m) => late.ua?.receive(m), parseError: () => undefined },
  );
  const ua = new UserAgent({ transport: t, profile: PROFILE, serverHeader: 'test-server', userAgentHeader: 'test-ua', ...extra });
  late.ua = ua;
  const port = t.listening[0]!.port;
  return { ua, t, port, close: async () => { await ua.close(); await t.close(); } };
}

for (const tp of ['UDP', 'TCP'] as const) {
  test(`RFC 3261 §13 + §15 over ${tp}: INVITE, 200, ACK, BYE between two UAs`, async () => {
    const events: string[] = [];
    const b = await startUa(tp, {
      onRequest: (req) => {
        events.push(`B got ${req.request.method}`);
        req.respond(180);
        req.accept({ body: 'v=0\r\n', contentType: 'application/sdp' });
      },
      onDialogTerminated: (_d, why) => events.push(`B dialog ended: ${why}`),
    });
    const a = await startUa(tp);
    try {
      const uri = `sip:b@127.0.0.1:${b.port}${tp === 'TCP' ? ';transport=tcp' : ''}`;
      const inv = a.ua.createRequest('INVITE', uri, '<sip:a@example.com>', `<sip:b@example.com>`);
      let ringing = 0;
      const r = await a.ua.invite(inv, { body: 'v=0\r\n', contentType: 'application/sdp', onProvisional: (p) => { if (p.status === 180) ringing++; } });
      assert.equal(r.response.status, 200);
      assert.equal(r.response.get('server'), 'test-server');
      assert.equal(ringing, 1);
      assert.ok(r.dialog);
      assert.equal(r.dialog.state, 'confirmed');
      assert.equal(b.ua.dialogs.size, 1);
      // The ACK reaches B and stops its 2xx retransmissions.
      await waitFor(() => (b.ua as unknown as { pendingAck: Map<string, unknown> }).pendingAck.size === 0);
      const bye = await a.ua.sendInDialog(r.dialog, 'BYE');
      assert.equal(bye.status, 200);
      assert.equal(a.ua.dialogs.size, 0);
      await waitFor(() => b.ua.dialogs.size === 0);
      assert.deepEqual(events, ['B got INVITE', 'B dialog ended: BYE received']);
    } finally {
      await a.close();
      await b.close();
    }
  });
}

test('RFC 3261 §11 OPTIONS is answered 200 with Allow, Supported and Server', async () => {
  const b = await startUa('UDP');
  const a = await startUa('UDP');
  try {
    const res = await a.ua.request(a.ua.createRequest('OPTIONS', `sip:b@127.0.0.1:${b.port}`, '<sip:a@x>', '<sip:b@x>'));
    assert.equal(res.status, 200);
    assert.equal(res.get('allow'), 'ACK, CANCEL, INVITE, BYE, OPTIONS');
    assert.equal(res.get('supported'), 'timer');
    assert.equal(res.get('server'), 'test-server');
    assert.ok(res.toTag());
  } finally {
    await a.close();
    await b.close();
  }
});

test('RFC 3261 §8.2.1 an unknown method gets 501 and an unsupported known one 405, both with Allow', async () => {
  const b = await startUa('UDP');
  const a = await startUa('UDP');
  try {
    const r1 = await a.ua.request(a.ua.createRequest('FOO', `sip:b@127.0.0.1:${b.port}`, '<sip:a@x>', '<sip:b@x>'));
    assert.equal(r1.status, 501);
    assert.ok(r1.get('allow'));
    const r2 = await a.ua.request(a.ua.createRequest('MESSAGE', `sip:b@127.0.0.1:${b.port}`, '<sip:a@x>', '<sip:b@x>'));
    assert.equal(r2.status, 405);
    assert.ok(r2.get('allow'));
  } finally {
    await a.close();
    await b.close();
  }
});

test('RFC 3261 §12.2.2 a request for an unknown dialog gets 481', async () => {
  const b = await startUa('UDP');
  const a = await startUa('UDP');
  try {
    const bye = a.ua.createRequest('BYE', `sip:b@127.0.0.1:${b.port}`, '<sip:a@x>', '<sip:b@x>;tag=nosuch');
    assert.equal((await a.ua.request(bye)).status, 481);
  } finally {
    await a.close();
    await b.close();
  }
});

test('RFC 3261 §9.2 CANCEL of an unanswered INVITE: 200 to the CANCEL, 487 to the INVITE', async () => {
  let cancelled = 0;
  const b = await startUa('UDP', { onRequest: (req) => void req.respond(180), onCancelled: () => cancelled++ });
  const a = await startUa('UDP');
  try {
    const inv = a.ua.createRequest('INVITE', `sip:b@127.0.0.1:${b.port}`, '<sip:a@x>', '<sip:b@x>');
    const ac = new AbortController();
    const r = await a.ua.invite(inv, { signal: ac.signal, onProvisional: () => ac.abort() });
    assert.equal(r.response.status, 487);
    assert.equal(cancelled, 1);
  } finally {
    await a.close();
    await b.close();
  }
});

/** A transport that records what is sent and never delivers anything by itself. */
class RecordingTransport implements Transport {
  sent: { msg: SipMessage; dest: Destination }[] = [];
  readonly listening: ListenAddress[] = [{ transport: 'UDP', address: '127.0.0.1', port: 5070 }];
  send(msg: SipMessage, dest: Destination): Promise<void> {
    this.sent.push({ msg, dest });
    return Promise.resolve();
  }
  isReliable(t: TransportName): boolean {
    return t !== 'UDP';
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A UA on a FakeClock that has accepted one INVITE from 127.0.0.1:5999 (its 200 sent once). */
function acceptedInvite(branch: string, callId: string) {
  const clock = new FakeClock();
  const t = new RecordingTransport();
  let terminated = '';
  const ua = new UserAgent({
    transport: t,
    clock,
    profile: PROFILE,
    serverHeader: 's',
    userAgentHeader: 'u',
    onRequest: (req: IncomingRequest) => void req.accept(),
    onDialogTerminated: (_d, why) => (terminated = why),
  });
  const invite = parseMessage(
    `INVITE sip:b@127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=${branch}\r\nFrom: <sip:a@x>;tag=1\r\n` +
      `To: <sip:b@x>\r\nCall-ID: ${callId}\r\nCSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:5999>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`,
  ) as SipRequest;
  invite.source = { transport: 'UDP', localAddress: '127.0.0.1', localPort: 5070, remoteAddress: '127.0.0.1', remotePort: 5999 };
  ua.receive(invite);
  const oks = (): number => t.sent.filter((s) => !s.msg.isRequest() && s.msg.status === 200).length;
  return { clock, t, ua, invite, ended: () => terminated, oks };
}

test('RFC 3261 §13.3.1.4 the UAS retransmits its 2xx at T1, 2T1, ... T2 until the ACK, and BYEs after 64*T1', async () => {
  const { clock, t, ended, oks } = acceptedInvite('z9hG4bKabc', 'c1');
  assert.equal(oks(), 1);
  const times: number[] = [];
  let last = 1;
  let endedBefore = '';
  for (let ms = 0; ms < 64 * 500; ms += 50) {
    clock.advance(50);
    if (oks() > last) {
      times.push(clock.now());
      last = oks();
    }
    if (clock.now() === 64 * 500 - 50) endedBefore = ended();
  }
  assert.equal(endedBefore, '', 'nothing given up before 64*T1');
  // Retransmissions at 500, 1500, 3500, 7500, then every 4000 ms (T2) until 32 s, where the
  // UAS gives up instead of sending another.
  assert.deepEqual(times, [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  await Promise.resolve();
  await new Promise((r) => setImmediate(r));
  const bye = t.sent.find((s) => s.msg.isRequest() && s.msg.method === 'BYE');
  assert.ok(bye, 'BYE sent after 64*T1 without ACK');
  assert.equal(ended(), 'BYE sent');
  assert.equal(bye.dest.port, 5999);
});

test('RFC 3261 §13.3.1.4 a 2xx retransmission that throws does not stop the schedule: the BYE still comes at 64*T1', async () => {
  const { clock, t, ended } = acceptedInvite('z9hG4bKthrow', 'c-throw');
  const send = t.send.bind(t);
  let thrown = 0;
  t.send = (msg, dest) => {
    if (!msg.isRequest()) {
      thrown++;
      throw new Error('transport bug');
    }
    return send(msg, dest);
  };
  clock.advance(64 * 500 - 1);
  assert.equal(thrown, 10, 'every retransmission was tried');
  assert.equal(ended(), '');
  clock.advance(1);
  await new Promise((r) => setImmediate(r));
  assert.equal(ended(), 'BYE sent');
  assert.equal(t.sent.filter((x) => x.msg.isRequest() && x.msg.method === 'BYE').length, 1);
});

test('RFC 3261 §13.3.1.4 the ACK stops the 2xx retransmissions: none after it, and no BYE at 64*T1', async () => {
  const { clock, t, ua, invite, ended, oks } = acceptedInvite('z9hG4bKack1', 'c-ack');
  clock.advance(600); // one retransmission at T1
  assert.equal(oks(), 2);
  const ok = t.sent.find((s) => !s.msg.isRequest() && s.msg.status === 200)!.msg;
  const ack = parseMessage(
    'ACK sip:a@127.0.0.1:5999 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKack2\r\nFrom: <sip:a@x>;tag=1\r\n' +
      `To: ${ok.get('to')}\r\nCall-ID: c-ack\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`,
  ) as SipRequest;
  ack.source = invite.source;
  ua.receive(ack);
  clock.advance(64 * 500);
  await new Promise((r) => setImmediate(r));
  assert.equal(oks(), 2, 'no 2xx after the ACK');
  assert.equal(t.sent.filter((s) => s.msg.isRequest() && s.msg.method === 'BYE').length, 0);
  assert.equal(ended(), '');
  assert.equal(ua.dialogs.size, 1);
});

test('RFC 3261 §13.3.1.4 over a transport that takes bytes, each 2xx retransmission is the very bytes of the first 200', () => {
  const clock = new FakeClock();
  const t = new RecordingTransport();
  const bytes: { bytes: Buffer; dest: Destination }[] = [];
  const withBytes = Object.assign(t, { sendBytes: (b: Buffer, dest: Destination) => void bytes.push({ bytes: b, dest }) });
  const ua = new UserAgent({
    transport: withBytes,
    clock,
    profile: PROFILE,
    serverHeader: 's',
    userAgentHeader: 'u',
    onRequest: (req: IncomingRequest) => void req.accept({ body: 'v=0\r\n', contentType: 'application/sdp' }),
  });
  const invite = parseMessage(
    'INVITE sip:b@127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKbytes\r\nFrom: <sip:a@x>;tag=1\r\n' +
      'To: <sip:b@x>\r\nCall-ID: c-bytes\r\nCSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:5999>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n',
  ) as SipRequest;
  invite.source = { transport: 'UDP', localAddress: '127.0.0.1', localPort: 5070, remoteAddress: '127.0.0.1', remotePort: 5999 };
  ua.receive(invite);
  assert.equal(bytes.length, 1);
  const first = bytes[0]!.bytes.toString('latin1');
  assert.match(first, /^SIP\/2.0 200 /);
  assert.match(first, /\r\n\r\nv=0\r\n$/);
  clock.advance(1600);
  assert.equal(bytes.length, 3, 'retransmitted at 500 and 1500 ms');
  for (const b of bytes) {
    assert.equal(b.bytes.toString('latin1'), first);
    assert.equal(b.dest.port, 5999);
  }
  assert.equal(t.sent.length, 0, 'nothing went through the message path');
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('RFC 3261 §12.1.2 a 180 with a To tag creates an early dialog that the 2xx confirms; §18.1.2 foreign Vias are dropped', async () => {
  const clock = new FakeClock();
  const t = new RecordingTransport();
  const ua = new UserAgent({ transport: t, clock, profile: PROFILE, serverHeader: 's', userAgentHeader: 'u' });
  const inv = ua.createRequest('INVITE', 'sip:b@127.0.0.1:5999', '<sip:a@x>', '<sip:b@x>');
  const result = ua.invite(inv);
  await new Promise((r) => setImmediate(r));
  const sent = t.sent[0]!.msg as SipRequest;
  assert.equal(sent.get('user-agent'), 'u');
  assert.match(sent.get('contact') ?? '', /^<sip:127\.0\.0\.1:5070>$/);
  const answer = (status: number, via: string) => {
    const r = parseMessage(
      `SIP/2.0 ${status} X\r\nVia: ${via}\r\nFrom: ${sent.get('from')}\r\nTo: <sip:b@x>;tag=bt\r\nCall-ID: ${sent.callId()}\r\n` +
        `CSeq: ${sent.get('cseq')}\r\nContact: <sip:b@127.0.0.1:5999>\r\nContent-Length: 0\r\n\r\n`,
    );
    r.source = { transport: 'UDP', localAddress: '127.0.0.1', localPort: 5070, remoteAddress: '127.0.0.1', remotePort: 5999 };
    return r;
  };
  const ourVia = sent.get('via')!;
  // A response whose top Via is someone else's never reaches the transaction.
  ua.receive(answer(180, ourVia.replace('127.0.0.1:5070', '192.0.2.66:5070')));
  assert.equal(ua.misroutedResponses, 1);
  assert.equal(ua.dialogs.size, 0);
  ua.receive(answer(180, ourVia));
  assert.equal(ua.dialogs.size, 1);
  assert.equal([...ua.dialogs.values()][0]!.state, 'early');
  ua.receive(answer(200, ourVia));
  const r = await result;
  assert.equal(r.response.status, 200);
  assert.equal(ua.dialogs.size, 1);
  assert.equal(r.dialog?.state, 'confirmed');
  await new Promise((res) => setImmediate(res));
  const ack = t.sent.find((s) => s.msg.isRequest() && s.msg.method === 'ACK');
  assert.ok(ack, 'ACK sent for the 2xx');
  assert.equal((ack.msg as SipRequest).uri, 'sip:b@127.0.0.1:5999');
  assert.equal((ack.msg as SipRequest).cseq().seq, sent.cseq().seq);
});
