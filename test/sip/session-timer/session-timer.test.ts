// RFC 4028 §7.4, §9, §10 with a fake clock: a real UserAgent on a recording transport plays
// the History Function; the test plays the conference focus by feeding it parsed messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserAgent } from '../../../src/sip/ua/user-agent.js';
import { FakeClock } from '../../../src/sip/clock.js';
import { parseMessage } from '../../../src/sip/message/parse.js';
import type { SipMessage, SipRequest, SipResponse } from '../../../src/sip/message/message.js';
import type { Dialog } from '../../../src/sip/dialog/dialog.js';
import type { Destination, ListenAddress, Transport, TransportName } from '../../../src/sip/transport/types.js';
import {
  SessionTimer, handle422, negotiate, resolveSessionTimerConfig, retryRequestAfter422, sessionTimerRequestHeaders,
  type Attempt, type SessionExpiry, type SessionTimerConfig,
} from '../../../src/sip/session-timer/index.js';

const PROFILE = { methods: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'UPDATE'], optionTags: ['timer'] };
const SDP = 'v=0\r\no=hf 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=message 7654 TCP/MSRP *\r\n';
const FOCUS = { address: '127.0.0.1', port: 5999 };
const WITH_UPDATE = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'UPDATE'];
const WITHOUT_UPDATE = ['INVITE', 'ACK', 'BYE', 'CANCEL'];

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

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

function fromFocus<T extends SipMessage>(text: string): T {
  const m = parseMessage(text) as T;
  m.source = { transport: 'UDP', localAddress: '127.0.0.1', localPort: 5070, remoteAddress: FOCUS.address, remotePort: FOCUS.port };
  return m;
}

/** The focus's response to a request the UA sent. */
function answer(req: SipRequest, status: number, headers: string[] = [], body = ''): SipResponse {
  const to = req.toTag() === undefined ? `${req.get('to')};tag=focus` : req.get('to');
  const vias = req.getAll('via').map((v) => `Via: ${v}\r\n`).join('');
  return fromFocus(
    `SIP/2.0 ${status} X\r\n${vias}From: ${req.get('from')}\r\nTo: ${to}\r\nCall-ID: ${req.callId()}\r\nCSeq: ${req.get('cseq')}\r\n` +
      `${headers.map((h) => h + '\r\n').join('')}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

let focusCseq = 100;
let branches = 0;
/** A request the focus sends inside the dialog. */
function focusRequest(dialog: Dialog, method: string, headers: string[] = [], body = ''): SipRequest {
  const cseq = method === 'ACK' ? focusCseq : ++focusCseq;
  return fromFocus(
    `${method} sip:hf@127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKfocus${++branches}\r\n` +
      `From: <sip:focus@x>;tag=${dialog.id.remoteTag}\r\nTo: <sip:factory@x>;tag=${dialog.id.localTag}\r\nCall-ID: ${dialog.id.callId}\r\n` +
      `CSeq: ${cseq} ${method}\r\nContact: <sip:focus@127.0.0.1:5999>\r\nMax-Forwards: 70\r\n${headers.map((h) => h + '\r\n').join('')}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

interface Setup {
  clock: FakeClock;
  t: RecordingTransport;
  ua: UserAgent;
  dialog: Dialog;
  timer: SessionTimer;
  expired: SessionExpiry[];
  terminated: string[];
  /** Requests the UA sent after the INVITE and its ACK. */
  requests(method?: string): SipRequest[];
  responses(status?: number): SipResponse[];
}

/**
 * The History Function INVITEs the factory with the seed 1.2.1 timer headers; the focus
 * answers 200 with `se` (and Allow = `allow`); the timer starts from that 200 (seed 1.2.1).
 */
async function setup(se: string | undefined, allow: readonly string[], partial: Partial<SessionTimerConfig> = {}): Promise<Setup> {
  const clock = new FakeClock();
  const t = new RecordingTransport();
  const terminated: string[] = [];
  const ua = new UserAgent({
    transport: t,
    clock,
    profile: PROFILE,
    serverHeader: 'IM-serv/OMA1.0 im-history/test',
    userAgentHeader: 'IM-serv/OMA1.0 im-history/test',
    onDialogTerminated: (_d, why) => terminated.push(why),
  });
  const config = resolveSessionTimerConfig(partial);
  const st = sessionTimerRequestHeaders(config);
  const inv = ua.createRequest('INVITE', `sip:factory@${FOCUS.address}:${FOCUS.port}`, '<sip:alice@x>', '<sip:factory@x>');
  const pending = ua.invite(inv, { headers: [['supported', st.supported], ...st.headers], body: SDP, contentType: 'application/sdp' });
  await flush();
  const sent = t.sent[0]!.msg as SipRequest;
  const headers = [`Contact: <sip:focus@${FOCUS.address}:${FOCUS.port}>;isfocus`, `Allow: ${allow.join(', ')}`, 'Require: timer', 'Supported: timer'];
  if (se !== undefined) headers.push(`Session-Expires: ${se}`);
  ua.receive(answer(sent, 200, headers, SDP));
  const result = await pending;
  assert.equal(result.response.status, 200);
  const dialog = result.dialog!;
  await flush();
  const start = t.sent.length;
  const expired: SessionExpiry[] = [];
  const peerAllow = result.response.tokens('allow');
  const timer = new SessionTimer({
    ua,
    dialog,
    clock,
    config,
    negotiated: negotiate(result.response, config, { sessionExpires: config.sessionExpires }),
    sdp: () => SDP,
    peerAllow: () => peerAllow,
    onExpired: (e) => expired.push(e),
    random: () => 0,
  });
  ua.setDialogHandler(dialog, (_d, incoming) => {
    if (!timer.handleRequest(incoming)) incoming.respond(501);
  });
  const after = () => t.sent.slice(start).map((s) => s.msg);
  return {
    clock,
    t,
    ua,
    dialog,
    timer,
    expired,
    terminated,
    requests: (method) => after().filter((m): m is SipRequest => m.isRequest() && (method === undefined || m.method === method)),
    responses: (status) => after().filter((m): m is SipResponse => !m.isRequest() && (status === undefined || m.status === status)),
  };
}

test('RFC 4028 §10 + §7.4: the refresher sends an UPDATE at exactly interval/2 when the peer allows UPDATE, and again after the 2xx', async () => {
  const s = await setup('90;refresher=uac', WITH_UPDATE, { sessionExpires: 90 });
  assert.equal(s.timer.state, 'waiting');
  s.clock.advance(44_999);
  await flush();
  assert.equal(s.requests().length, 0);
  s.clock.advance(1);
  await flush();
  const [update] = s.requests();
  assert.ok(update);
  assert.equal(update.method, 'UPDATE');
  assert.equal(update.get('session-expires'), '90;refresher=uac');
  assert.equal(update.get('min-se'), '90');
  assert.equal(update.get('supported'), 'timer');
  assert.equal(update.body.length, 0, 'UPDATE refresh carries no offer');
  assert.equal(s.timer.state, 'refreshing');
  s.ua.receive(answer(update, 200, ['Session-Expires: 90;refresher=uac', 'Require: timer', 'Contact: <sip:focus@127.0.0.1:5999>']));
  await flush();
  assert.equal(s.timer.state, 'waiting');
  assert.equal(s.timer.refreshCount, 1);
  assert.equal(s.timer.expiresAt, 45_000 + 90_000);
  s.clock.advance(44_999);
  await flush();
  assert.equal(s.requests('UPDATE').length, 1);
  s.clock.advance(1);
  await flush();
  assert.equal(s.requests('UPDATE').length, 2, 'next refresh half an interval after the last 2xx');
  assert.equal(s.expired.length, 0);
  s.timer.stop();
});

test('RFC 4028 §7.4: without UPDATE in the peer\'s Allow the refresh is a re-INVITE with the same SDP, ACKed after its 2xx', async () => {
  const s = await setup('1800;refresher=uac', WITHOUT_UPDATE);
  s.clock.advance(900_000);
  await flush();
  const [reinvite] = s.requests();
  assert.ok(reinvite);
  assert.equal(reinvite.method, 'INVITE');
  assert.equal(reinvite.get('session-expires'), '1800;refresher=uac');
  assert.equal(reinvite.body.toString(), SDP);
  assert.equal(reinvite.get('content-type'), 'application/sdp');
  assert.equal(reinvite.toTag(), 'focus');
  s.ua.receive(answer(reinvite, 200, ['Session-Expires: 1800;refresher=uac', 'Require: timer', 'Contact: <sip:focus@127.0.0.1:5999>'], SDP));
  await flush();
  const ack = s.requests('ACK')[0];
  assert.ok(ack, 'the 2xx to the re-INVITE is ACKed');
  assert.equal(ack.cseq().seq, reinvite.cseq().seq);
  assert.equal(s.timer.state, 'waiting');
  s.timer.stop();
});

test('RFC 4028 §7.4 method INVITE: configured re-INVITE refreshes even when UPDATE is allowed', async () => {
  const s = await setup('90;refresher=uac', WITH_UPDATE, { sessionExpires: 90, method: 'INVITE' });
  s.clock.advance(45_000);
  await flush();
  assert.deepEqual(s.requests().map((r) => r.method), ['INVITE']);
  s.timer.stop();
});

for (const [interval, byeAt] of [[90, 60_000], [1800, 1_768_000]] as const) {
  test(`RFC 4028 §10 non-refresher (interval ${interval} s): BYE at interval - min(32 s, interval/3) = ${byeAt / 1000} s without a refresh`, async () => {
    const s = await setup(`${interval};refresher=uas`, WITH_UPDATE, { sessionExpires: interval });
    assert.equal(s.timer.state, 'watching');
    s.clock.advance(byeAt - 1);
    await flush();
    assert.equal(s.requests().length, 0);
    assert.equal(s.expired.length, 0);
    s.clock.advance(1);
    await flush();
    assert.deepEqual(s.requests().map((r) => r.method), ['BYE']);
    assert.deepEqual(s.expired, [{ reason: 'no-refresh-received' }]);
    assert.equal(s.timer.state, 'ended');
    assert.deepEqual(s.terminated, ['BYE sent']);
  });
}

test('RFC 4028 §9 + §10: a peer UPDATE refresh is answered 200 with Session-Expires, Require and Contact, and restarts the timer', async () => {
  const s = await setup('90;refresher=uas', WITH_UPDATE, { sessionExpires: 90 });
  s.clock.advance(50_000);
  s.ua.receive(focusRequest(s.dialog, 'UPDATE', ['Supported: timer', 'Session-Expires: 90;refresher=uac', 'Min-SE: 90']));
  await flush();
  const [ok] = s.responses(200);
  assert.ok(ok);
  assert.equal(ok.cseq().method, 'UPDATE');
  assert.equal(ok.get('session-expires'), '90;refresher=uac');
  assert.equal(ok.get('require'), 'timer');
  assert.equal(ok.get('supported'), 'timer');
  assert.ok(ok.get('contact'));
  assert.equal(ok.body.length, 0);
  assert.equal(s.timer.refreshCount, 1);
  // The old deadline (60 s) is gone; the new one is 50 + 60 s.
  s.clock.advance(59_999);
  await flush();
  assert.equal(s.requests('BYE').length, 0);
  s.clock.advance(1);
  await flush();
  assert.equal(s.requests('BYE').length, 1);
  assert.deepEqual(s.expired, [{ reason: 'no-refresh-received' }]);
});

test('RFC 4028 §9 + RFC 3261 §13.3.1.4: a peer re-INVITE refresh gets 200 with our SDP, retransmitted until the ACK', async () => {
  const s = await setup('90;refresher=uas', WITH_UPDATE, { sessionExpires: 90 });
  s.clock.advance(30_000);
  s.ua.receive(focusRequest(s.dialog, 'INVITE', ['Supported: timer', 'Session-Expires: 90;refresher=uac', 'Content-Type: application/sdp'], SDP));
  await flush();
  assert.equal(s.responses(200).length, 1);
  const ok = s.responses(200)[0]!;
  assert.equal(ok.body.toString(), SDP);
  assert.equal(ok.get('content-type'), 'application/sdp');
  assert.equal(ok.get('session-expires'), '90;refresher=uac');
  s.clock.advance(500);
  assert.equal(s.responses(200).length, 2, '2xx retransmitted at T1');
  s.ua.receive(focusRequest(s.dialog, 'ACK'));
  s.clock.advance(10_000);
  assert.equal(s.responses(200).length, 2, 'no more after the ACK');
  assert.equal(s.requests('BYE').length, 0);
  assert.equal(s.timer.state, 'watching');
  assert.equal(s.timer.expiresAt, 30_000 + 90_000);
  s.timer.stop();
});

test('RFC 4028 §9: the peer becomes refresher through its refresh; §7.2 our refresh\'s 2xx may hand the role back', async () => {
  const s = await setup('90;refresher=uac', WITH_UPDATE, { sessionExpires: 90 });
  s.clock.advance(10_000);
  // The focus refreshes and names itself (the UAC of its UPDATE) as refresher.
  s.ua.receive(focusRequest(s.dialog, 'UPDATE', ['Supported: timer', 'Session-Expires: 120;refresher=uac']));
  await flush();
  assert.deepEqual(s.timer.negotiated, { interval: 120, refresher: 'remote' });
  assert.equal(s.timer.state, 'watching');
  s.clock.advance(60_000);
  await flush();
  assert.equal(s.requests('UPDATE').length, 0, 'no refresh of ours at the old interval/2');
  // We refresh anyway (refreshNow) and the focus's 2xx says refresher=uas: it keeps refreshing.
  assert.equal(s.timer.refreshNow(), true);
  await flush();
  const update = s.requests('UPDATE')[0]!;
  assert.equal(update.get('session-expires'), '120;refresher=uas', 'our refresh names the current refresher, the focus, as uas');
  s.ua.receive(answer(update, 200, ['Session-Expires: 120;refresher=uas', 'Require: timer', 'Contact: <sip:focus@127.0.0.1:5999>']));
  await flush();
  assert.deepEqual(s.timer.negotiated, { interval: 120, refresher: 'remote' });
  s.timer.stop();
});

test('RFC 4028 §10: a refresh answered with a final error ends the session with BYE and onExpired', async () => {
  const s = await setup('90;refresher=uac', WITH_UPDATE, { sessionExpires: 90 });
  s.clock.advance(45_000);
  await flush();
  const update = s.requests('UPDATE')[0]!;
  s.ua.receive(answer(update, 500));
  await flush();
  assert.deepEqual(s.requests().map((r) => r.method), ['UPDATE', 'BYE']);
  assert.deepEqual(s.expired, [{ reason: 'refresh-failed', status: 500, method: 'UPDATE' }]);
  assert.equal(s.timer.state, 'ended');
  assert.deepEqual(s.terminated, ['BYE sent']);
});

test('RFC 4028 §10 + RFC 3261 §12.2.1.2: a 481 to a re-INVITE refresh ends the dialog and the session (BYE per §10)', async () => {
  const s = await setup('90;refresher=uac', WITHOUT_UPDATE, { sessionExpires: 90 });
  s.clock.advance(45_000);
  await flush();
  const reinvite = s.requests('INVITE')[0]!;
  s.ua.receive(answer(reinvite, 481));
  await flush();
  assert.deepEqual(s.expired, [{ reason: 'refresh-failed', status: 481, method: 'INVITE' }]);
  assert.equal(s.requests('BYE').length, 1);
  assert.equal(s.ua.dialogs.size, 0);
});

test('RFC 4028 §10: a refresh that times out (408 from Timer F) ends the session with BYE', async () => {
  const s = await setup('90;refresher=uac', WITH_UPDATE, { sessionExpires: 90 });
  s.clock.advance(45_000);
  await flush();
  assert.equal(s.requests('UPDATE').length, 1);
  s.clock.advance(32_000); // 64*T1
  await flush();
  assert.deepEqual(s.expired, [{ reason: 'refresh-failed', status: 408, method: 'UPDATE' }]);
  assert.equal(s.requests('BYE').length, 1);
  assert.equal(s.ua.dialogs.size, 0);
});

test('RFC 4028 §7.3: a 422 to a refresh is retried with Session-Expires and Min-SE from its Min-SE', async () => {
  const s = await setup('90;refresher=uac', WITH_UPDATE, { sessionExpires: 90 });
  s.clock.advance(45_000);
  await flush();
  const first = s.requests('UPDATE')[0]!;
  s.ua.receive(answer(first, 422, ['Min-SE: 300']));
  await flush();
  const second = s.requests('UPDATE')[1];
  assert.ok(second, 'retried');
  assert.equal(second.get('session-expires'), '300;refresher=uac');
  assert.equal(second.get('min-se'), '300');
  assert.ok(second.cseq().seq > first.cseq().seq);
  s.ua.receive(answer(second, 200, ['Session-Expires: 300;refresher=uac', 'Require: timer', 'Contact: <sip:focus@127.0.0.1:5999>']));
  await flush();
  assert.deepEqual(s.timer.negotiated, { interval: 300, refresher: 'local' });
  assert.equal(s.timer.minSE, 300);
  s.clock.advance(150_000);
  await flush();
  assert.equal(s.requests('UPDATE')[2]?.get('min-se'), '300', '§7.4: the dialog Min-SE rides on later refreshes');
  s.timer.stop();
});

test('RFC 3311 §5.1: a 405 to the UPDATE refresh falls back to re-INVITE', async () => {
  const s = await setup('90;refresher=uac', WITH_UPDATE, { sessionExpires: 90 });
  s.clock.advance(45_000);
  await flush();
  s.ua.receive(answer(s.requests('UPDATE')[0]!, 405, ['Allow: INVITE, ACK, BYE']));
  await flush();
  const reinvite = s.requests('INVITE')[0];
  assert.ok(reinvite);
  assert.equal(reinvite.body.toString(), SDP);
  s.ua.receive(answer(reinvite, 200, ['Session-Expires: 90;refresher=uac', 'Contact: <sip:focus@127.0.0.1:5999>'], SDP));
  await flush();
  s.clock.advance(45_000);
  await flush();
  assert.equal(s.requests('INVITE').length, 2, 'later refreshes stay re-INVITEs');
  assert.equal(s.requests('UPDATE').length, 1);
  s.timer.stop();
});

test('RFC 3261 §14.1: a 491 to the refresh is retried after 2.1-4 s when we own the Call-ID', async () => {
  const s = await setup('90;refresher=uac', WITHOUT_UPDATE, { sessionExpires: 90 });
  s.clock.advance(45_000);
  await flush();
  s.ua.receive(answer(s.requests('INVITE')[0]!, 491));
  await flush();
  assert.equal(s.timer.state, 'retrying');
  s.clock.advance(2_099);
  await flush();
  assert.equal(s.requests('INVITE').length, 1);
  s.clock.advance(1); // random() = 0 -> 2.1 s
  await flush();
  assert.equal(s.requests('INVITE').length, 2);
  assert.equal(s.timer.state, 'refreshing');
  s.timer.stop();
});

test('RFC 3261 §14.2: the peer\'s re-INVITE crossing our pending re-INVITE refresh gets 491', async () => {
  const s = await setup('90;refresher=uac', WITHOUT_UPDATE, { sessionExpires: 90 });
  s.clock.advance(45_000);
  await flush();
  s.ua.receive(focusRequest(s.dialog, 'INVITE', ['Supported: timer', 'Session-Expires: 90', 'Content-Type: application/sdp'], SDP));
  await flush();
  assert.equal(s.responses(491).length, 1);
  assert.equal(s.timer.state, 'refreshing');
  s.timer.stop();
});

test('RFC 4028 §9: a peer refresh below our Min-SE gets 422 with Min-SE and does not restart the timer', async () => {
  const s = await setup('120;refresher=uas', WITH_UPDATE, { sessionExpires: 120, minSE: 120 });
  s.clock.advance(20_000);
  s.ua.receive(focusRequest(s.dialog, 'UPDATE', ['Supported: timer', 'Session-Expires: 90;refresher=uac']));
  await flush();
  const [r] = s.responses(422);
  assert.equal(r?.get('min-se'), '120');
  assert.equal(s.timer.refreshCount, 0);
  s.clock.advance(68_000); // 120 - 32 = 88 s from the start
  await flush();
  assert.equal(s.requests('BYE').length, 1);
});

test('RFC 4028 §7.2: a 2xx without Session-Expires means no session timer; a later 2xx without one stops it', async () => {
  const none = await setup(undefined, WITH_UPDATE);
  assert.equal(none.timer.state, 'inactive');
  assert.equal(none.timer.expiresAt, undefined);
  none.clock.advance(10_000_000);
  await flush();
  assert.equal(none.requests().length, 0);

  const s = await setup('90;refresher=uac', WITH_UPDATE, { sessionExpires: 90 });
  s.clock.advance(45_000);
  await flush();
  s.ua.receive(answer(s.requests('UPDATE')[0]!, 200, ['Contact: <sip:focus@127.0.0.1:5999>']));
  await flush();
  assert.equal(s.timer.state, 'inactive');
  s.clock.advance(10_000_000);
  await flush();
  assert.equal(s.requests().length, 1);
  assert.equal(s.expired.length, 0);
});

test('RFC 4028 §10: stop() on BYE cancels the refresh and the deadline', async () => {
  const s = await setup('90;refresher=uac', WITH_UPDATE, { sessionExpires: 90 });
  s.ua.receive(focusRequest(s.dialog, 'BYE'));
  s.timer.stop();
  assert.equal(s.timer.state, 'ended');
  s.clock.advance(1_000_000);
  await flush();
  assert.deepEqual(s.requests(), []);
  assert.equal(s.expired.length, 0);
  assert.equal(s.timer.refreshNow(), false);
});

test('RFC 4028 §10: a dialog that ended without stop() is neither refreshed nor BYEd', async () => {
  const s = await setup('90;refresher=uas', WITH_UPDATE, { sessionExpires: 90 });
  s.ua.receive(focusRequest(s.dialog, 'BYE'));
  s.clock.advance(1_000_000);
  await flush();
  assert.deepEqual(s.requests(), []);
  assert.equal(s.expired.length, 0);
  assert.equal(s.timer.state, 'ended');
});

test('RFC 3261 §14.1/§14.2: while waiting to retry after a 491 the peer\'s re-INVITE is accepted, and it stands in for ours', async () => {
  const s = await setup('90;refresher=uac', WITHOUT_UPDATE, { sessionExpires: 90 });
  s.clock.advance(45_000);
  await flush();
  s.ua.receive(answer(s.requests('INVITE')[0]!, 491));
  await flush();
  assert.equal(s.timer.state, 'retrying');
  s.ua.receive(focusRequest(s.dialog, 'INVITE', ['Supported: timer', 'Session-Expires: 90;refresher=uas', 'Content-Type: application/sdp'], SDP));
  await flush();
  assert.equal(s.responses(200).at(-1)?.get('session-expires'), '90;refresher=uas');
  assert.equal(s.timer.state, 'waiting', 'we stay refresher, from the peer refresh on');
  s.ua.receive(focusRequest(s.dialog, 'ACK'));
  s.clock.advance(10_000);
  await flush();
  assert.equal(s.requests('INVITE').length, 1, 'the pending retry was dropped');
  s.clock.advance(35_000);
  await flush();
  assert.equal(s.requests('INVITE').length, 2, 'next refresh half an interval after the peer refresh');
  s.timer.stop();
});

test('RFC 4028 §7.3 with a real UserAgent: a 422 to the initial INVITE is retried in the same call, and the timer starts from the 200', async () => {
  const clock = new FakeClock();
  const t = new RecordingTransport();
  const ua = new UserAgent({ transport: t, clock, profile: PROFILE, serverHeader: 's', userAgentHeader: 'u' });
  const config = resolveSessionTimerConfig();
  const st = sessionTimerRequestHeaders(config);
  const inv = ua.createRequest('INVITE', `sip:factory@${FOCUS.address}:${FOCUS.port}`, '<sip:alice@x>', '<sip:factory@x>');
  let attempt: Attempt = { sessionExpires: config.sessionExpires, minSE: config.minSE, retries: 0 };
  const first = ua.invite(inv, { headers: [['supported', st.supported], ...st.headers], body: SDP, contentType: 'application/sdp' });
  await flush();
  ua.receive(answer(t.sent[0]!.msg as SipRequest, 422, ['Min-SE: 3600']));
  const r1 = await first;
  assert.equal(r1.response.status, 422);
  const next = handle422(r1.response, config, attempt);
  assert.ok(next);
  attempt = next;
  const retry = retryRequestAfter422(inv, attempt);
  const second = ua.invite(retry);
  await flush();
  const sent = t.sent.map((x) => x.msg).filter((m): m is SipRequest => m.isRequest() && m.method === 'INVITE');
  assert.equal(sent.length, 2);
  assert.equal(sent[1]!.callId(), sent[0]!.callId());
  assert.equal(sent[1]!.cseq().seq, sent[0]!.cseq().seq + 1);
  assert.notEqual(sent[1]!.topVia()?.branch, sent[0]!.topVia()?.branch);
  assert.equal(sent[1]!.get('session-expires'), '3600;refresher=uac');
  assert.equal(sent[1]!.get('min-se'), '3600');
  assert.equal(sent[1]!.count('user-agent'), 1);
  ua.receive(answer(sent[1]!, 200, ['Contact: <sip:focus@127.0.0.1:5999>', 'Session-Expires: 3600;refresher=uac', 'Require: timer'], SDP));
  const r2 = await second;
  assert.equal(r2.response.status, 200);
  const timer = new SessionTimer({
    ua, dialog: r2.dialog!, clock, config, negotiated: negotiate(r2.response, config, attempt), minSE: attempt.minSE,
    sdp: () => SDP, peerAllow: () => [], onExpired: () => undefined,
  });
  assert.deepEqual(timer.negotiated, { interval: 3600, refresher: 'local' });
  assert.equal(timer.minSE, 3600);
  await flush();
  const before = t.sent.length;
  clock.advance(1_800_000);
  await flush();
  const refresh = t.sent.slice(before).map((x) => x.msg).find((m): m is SipRequest => m.isRequest() && m.method === 'INVITE');
  assert.equal(refresh?.get('min-se'), '3600');
  timer.stop();
});
