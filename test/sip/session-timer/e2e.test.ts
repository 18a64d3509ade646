// RFC 4028 end to end on loopback UDP: the History Function (A) INVITEs a focus (B) with the
// seed 1.2.1 timer headers, B settles the timer per §9 (Session-Expires 90, refresher=uac),
// A starts its timer from the 200 (seed 1.2.1) and refreshes once with UPDATE (§7.4), which
// B answers 200 per §9. Real sockets, so the refresh is triggered with refreshNow().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTransports } from '../../../src/sip/transport/index.js';
import { UserAgent, type UserAgentOptions } from '../../../src/sip/ua/user-agent.js';
import type { SipRequest } from '../../../src/sip/message/message.js';
import {
  SessionTimer, answerSessionTimer, negotiate, resolveSessionTimerConfig, sessionTimerRequestHeaders, type Negotiated,
} from '../../../src/sip/session-timer/index.js';

const PROFILE = { methods: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'UPDATE'], optionTags: ['timer'] };
const SDP_A = 'v=0\r\no=hf 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=message 7654 TCP/MSRP *\r\n';
const SDP_B = 'v=0\r\no=focus 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=message 7655 TCP/MSRP *\r\n';

async function startUa(extra: Partial<UserAgentOptions> = {}) {
  const late: { ua?: UserAgent } = {};
  const t = await createTransports({ udp: [{ address: '127.0.0.1', port: 0 }] }, { message: (m) => late.ua?.receive(m), parseError: () => undefined });
  const ua = new UserAgent({ transport: t, profile: PROFILE, serverHeader: 'test', userAgentHeader: 'test', ...extra });
  late.ua = ua;
  return { ua, port: t.listening[0]!.port, close: async () => { await ua.close(); await t.close(); } };
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('RFC 4028 §7.1/§9/§7.2/§7.4 over loopback UDP: Session-Expires 90 negotiated, one UPDATE refresh answered 200', async () => {
  const config = resolveSessionTimerConfig({ sessionExpires: 90, minSE: 90 });
  const focusTimers: SessionTimer[] = [];
  const seenByFocus: SipRequest[] = [];
  const b = await startUa({
    onRequest: (incoming) => {
      const a = answerSessionTimer(incoming.request, config);
      if (a.kind === 'reject') return void incoming.respond(a.status, { reason: a.reason, headers: a.headers });
      const dialog = incoming.accept({
        headers: [...a.headers, ['supported', a.supported], ['allow', 'INVITE, ACK, BYE, CANCEL, UPDATE']],
        body: SDP_B,
        contentType: 'application/sdp',
      });
      const timer = new SessionTimer({
        ua: b.ua, dialog, config, negotiated: a.negotiated, minSE: a.minSE,
        sdp: () => SDP_B, peerAllow: () => incoming.request.tokens('allow'), onExpired: () => undefined,
      });
      focusTimers.push(timer);
      b.ua.setDialogHandler(dialog, (_d, req) => {
        seenByFocus.push(req.request);
        if (!timer.handleRequest(req)) req.respond(501);
      });
    },
  });
  const a = await startUa();
  let aTimer: SessionTimer | undefined;
  try {
    const st = sessionTimerRequestHeaders(config);
    const inv = a.ua.createRequest('INVITE', `sip:factory@127.0.0.1:${b.port}`, '<sip:alice@x>', '<sip:factory@x>');
    const r = await a.ua.invite(inv, {
      headers: [['supported', st.supported], ['allow', 'INVITE, ACK, BYE, CANCEL, UPDATE'], ...st.headers],
      body: SDP_A,
      contentType: 'application/sdp',
    });
    assert.equal(r.response.status, 200);
    assert.equal(r.response.get('session-expires'), '90;refresher=uac', '§9: the UAS copies refresher=uac');
    assert.equal(r.response.get('require'), 'timer', '§9: refresher=uac obliges Require: timer');
    const negotiated = negotiate(r.response, config, { sessionExpires: 90 });
    assert.deepEqual(negotiated, { interval: 90, refresher: 'local' });
    const refreshed: (Negotiated | undefined)[] = [];
    const dialog = r.dialog!;
    const timer = new SessionTimer({
      ua: a.ua, dialog, config, negotiated,
      sdp: () => SDP_A, peerAllow: () => r.response.tokens('allow'),
      onExpired: () => assert.fail('not expected to expire'),
      onRefreshed: (n) => refreshed.push(n),
    });
    aTimer = timer;
    a.ua.setDialogHandler(dialog, (_d, req) => {
      if (!timer.handleRequest(req)) req.respond(501);
    });
    await waitFor(() => focusTimers.length === 1);
    assert.equal(focusTimers[0]!.state, 'watching', 'the focus expects our refreshes');
    assert.equal(timer.state, 'waiting');

    assert.equal(timer.refreshNow(), true);
    await waitFor(() => refreshed.length === 1);
    assert.deepEqual(refreshed, [{ interval: 90, refresher: 'local' }]);
    assert.equal(timer.state, 'waiting');
    assert.equal(timer.refreshCount, 1);
    const update = seenByFocus[0];
    assert.equal(update?.method, 'UPDATE');
    assert.equal(update.get('session-expires'), '90;refresher=uac');
    assert.equal(focusTimers[0]!.refreshCount, 1);
    assert.equal(focusTimers[0]!.state, 'watching');

    timer.stop();
    focusTimers[0]!.stop();
    assert.equal((await a.ua.sendInDialog(dialog, 'BYE')).status, 200);
  } finally {
    aTimer?.stop();
    for (const t of focusTimers) t.stop();
    await a.close();
    await b.close();
  }
});
