// RFC 6665 §4.1 subscriber behaviour against a small notifier written here: two UAs on
// loopback UDP for the message flow, a recording transport + FakeClock for every timer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  subscribe, type NotifyInfo, type SubscribeOptions, type SubscriberTerminationReason, type Subscription,
} from '../../../src/sip/events/index.js';
import { Dialog } from '../../../src/sip/dialog/dialog.js';
import { FakeClock } from '../../../src/sip/clock.js';
import type { SipRequest } from '../../../src/sip/message/message.js';
import type { IncomingRequest } from '../../../src/sip/ua/incoming.js';
import type { UserAgent } from '../../../src/sip/ua/user-agent.js';
import { answer, flush, inject, peerRequest, recordingUa, startUa, waitFor, type LoopbackUa, type RecordingTransport } from './harness.js';

const CONF_XML = '<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:conf@x" state="full" version="1"/>';

interface Observed {
  notifies: NotifyInfo[];
  terminated: { reason: SubscriberTerminationReason; retryAfter: number | undefined; status: number | undefined }[];
  resubscribes: [string, number][];
}

function observer(): Observed & { handlers: Parameters<typeof subscribe>[2] } {
  const o: Observed = { notifies: [], terminated: [], resubscribes: [] };
  return {
    ...o,
    handlers: {
      onNotify: (info) => o.notifies.push(info),
      onTerminated: (reason, retryAfter, detail) => o.terminated.push({ reason, retryAfter, status: detail?.status }),
      onResubscribe: (reason, delay) => o.resubscribes.push([reason, delay]),
    },
  };
}

// ------------------------------------------------------------------ loopback

/** B: a minimal conference notifier. `notifyFirst` sends the NOTIFY before the 200. */
async function notifierUa(mode: { notifyFirst?: boolean }) {
  const state: { dialog?: Dialog; subscribes: SipRequest[]; notifyStatus: number[] } = { subscribes: [], notifyStatus: [] };
  const late: { b?: LoopbackUa } = {};
  const notify = async (d: Dialog, subState: string, event = 'conference') => {
    const r = await late.b!.ua.sendInDialog(d, 'NOTIFY', {
      headers: [['event', event], ['subscription-state', subState]],
      body: CONF_XML,
      contentType: 'application/conference-info+xml',
    });
    state.notifyStatus.push(r.status);
    return r.status;
  };
  const b = await startUa({
    onRequest: (inc: IncomingRequest) => {
      if (inc.request.method !== 'SUBSCRIBE') return void inc.respond(405);
      state.subscribes.push(inc.request);
      const ua = late.b!.ua;
      const headers: [string, string][] = [['expires', '600'], ['contact', ua.localContact(inc.request)]];
      const d = Dialog.asUas(inc.request, inc.build(200, { headers }));
      ua.addDialog(d);
      ua.setDialogHandler(d, (_d, i) => i.respond(200, { headers: [['expires', i.request.get('expires') ?? '600']] }));
      state.dialog = d;
      if (mode.notifyFirst === true) {
        void notify(d, 'active;expires=600').then(() => inc.respond(200, { headers }));
      } else {
        inc.respond(200, { headers });
        void notify(d, 'active;expires=600');
      }
    },
  });
  late.b = b;
  return { b, state, notify };
}

function loopbackOpts(b: LoopbackUa, clock: FakeClock): SubscribeOptions {
  return {
    target: `sip:conf@127.0.0.1:${b.port}`,
    from: '<sip:history@example.com>',
    to: '<sip:conf@example.com>',
    event: 'conference',
    accept: 'application/conference-info+xml',
    expires: 3600,
    headers: [['accept-contact', '*;+g.oma.sip-im;explicit']],
    clock, // the subscription's timers stay still; the UAs run on real time
  };
}

test('RFC 6665 §4.1.2.1 / §4.1.3: SUBSCRIBE, 2xx, NOTIFY active, 489 for a wrong Event, terminated;reason=noresource ends it', async () => {
  const { b, state, notify } = await notifierUa({});
  const a = await startUa();
  const o = observer();
  try {
    const sub = subscribe(a.ua, loopbackOpts(b, new FakeClock()), o.handlers);
    await waitFor(() => o.notifies.length === 1 && sub.state === 'active');
    const s1 = state.subscribes[0]!;
    assert.equal(s1.get('event'), 'conference');
    assert.equal(s1.get('accept'), 'application/conference-info+xml');
    assert.equal(s1.get('expires'), '3600');
    assert.equal(s1.get('accept-contact'), '*;+g.oma.sip-im;explicit');
    assert.ok(s1.get('contact'));
    const n = o.notifies[0]!;
    assert.equal(n.first, true);
    assert.equal(n.state.state, 'active');
    assert.equal(n.body.toString(), CONF_XML);
    assert.equal(n.contentType, 'application/conference-info+xml');
    assert.equal(a.ua.dialogs.size, 1);

    assert.equal(await notify(state.dialog!, 'active', 'presence'), 489);
    assert.equal(o.notifies.length, 1);

    assert.equal(await notify(state.dialog!, 'terminated;reason=noresource'), 200);
    assert.equal(await sub.done, 'noresource');
    assert.deepEqual(o.terminated, [{ reason: 'noresource', retryAfter: undefined, status: undefined }]);
    assert.equal(o.resubscribes.length, 0);
    assert.equal(a.ua.dialogs.size, 0);
    // RFC 6665 §4.1.3 / RFC 3261 §12.2.2: the subscription is gone, a late NOTIFY gets 481.
    assert.equal(await notify(state.dialog!, 'active'), 481);
  } finally {
    await a.close();
    await b.close();
  }
});

test('RFC 6665 §4.1.2.4 / §4.4.1: a NOTIFY that beats the 2xx creates the dialog; the 2xx then joins it', async () => {
  const { b, state, notify } = await notifierUa({ notifyFirst: true });
  const a = await startUa();
  const o = observer();
  try {
    const sub = subscribe(a.ua, loopbackOpts(b, new FakeClock()), o.handlers);
    await waitFor(() => state.notifyStatus.length === 1);
    assert.deepEqual(state.notifyStatus, [200]);
    assert.equal(o.notifies.length, 1);
    assert.equal(o.notifies[0]!.first, true);
    assert.equal(sub.state, 'active');
    assert.equal(sub.dialog?.id.remoteTag, state.dialog!.id.localTag);
    assert.equal(sub.dialog?.remoteTarget, `sip:127.0.0.1:${b.port}`);
    await waitFor(() => sub.remaining !== undefined); // the 200 (Expires: 600) arrived
    assert.equal(a.ua.dialogs.size, 1);
    assert.equal(await notify(state.dialog!, 'active;expires=300'), 200);
    assert.equal(o.notifies.length, 2);
    assert.equal(o.notifies[1]!.first, false);
    assert.equal(Math.round(sub.remaining!), 300);
  } finally {
    await a.close();
    await b.close();
  }
});

// ------------------------------------------------------------------ FakeClock

const FOCUS = 'sip:focus@127.0.0.1:5999';

function fakeSetup(extra: Partial<SubscribeOptions> = {}) {
  const clock = new FakeClock();
  const { ua, t } = recordingUa(clock);
  const o = observer();
  const sub = subscribe(ua, {
    target: FOCUS,
    from: '<sip:history@example.com>',
    to: '<sip:conf@example.com>',
    event: 'conference',
    accept: 'application/conference-info+xml',
    expires: 3600,
    clock,
    ...extra,
  }, o.handlers);
  return { clock, ua, t, o, sub };
}

let cseq = 100;

/** A NOTIFY from the focus for the SUBSCRIBE `sub`, answered by the UA; returns the status. */
function notifyFromFocus(ua: UserAgent, t: RecordingTransport, sub: SipRequest, subState: string, opts: { tag?: string; event?: string } = {}): number {
  const req = inject(ua, peerRequest('NOTIFY', 'sip:127.0.0.1:5070', [
    ['From', `<sip:conf@example.com>;tag=${opts.tag ?? 'focus1'}`],
    ['To', sub.get('from')!],
    ['Call-ID', sub.callId()],
    ['CSeq', `${++cseq} NOTIFY`],
    ['Contact', `<${FOCUS}>`],
    ['Event', opts.event ?? 'conference'],
    ['Subscription-State', subState],
    ['Content-Type', 'application/conference-info+xml'],
  ], CONF_XML));
  const res = t.responsesTo(req);
  assert.equal(res.length, 1, 'the NOTIFY was answered at once');
  return res[0]!.status;
}

async function established(extra: Partial<SubscribeOptions> = {}, expires = '600') {
  const s = fakeSetup(extra);
  await flush();
  const s1 = s.t.requests('SUBSCRIBE')[0]!;
  answer(s.ua, s1, 200, { toTag: 'focus1', headers: [['expires', expires], ['contact', `<${FOCUS}>`]] });
  await flush();
  assert.equal(notifyFromFocus(s.ua, s.t, s1, 'active'), 200);
  assert.equal(s.sub.state, 'active');
  return { ...s, s1 };
}

test('RFC 6665 §4.1.2.2: refresh in the dialog at max(expires - 32 s, expires / 2) of the granted 2xx Expires', async () => {
  const { clock, ua, t, sub, s1 } = await established({ headers: [['accept-contact', '*;+g.oma.sip-im;explicit']] });
  clock.advance(567_999);
  await flush();
  assert.equal(t.requests('SUBSCRIBE').length, 1);
  clock.advance(1);
  await flush();
  const s2 = t.requests('SUBSCRIBE')[1]!;
  assert.ok(s2, 'refresh sent at 568 s');
  assert.equal(s2.callId(), s1.callId());
  assert.equal(s2.toTag(), 'focus1');
  assert.equal(s2.fromTag(), s1.fromTag());
  assert.equal(s2.uri, FOCUS);
  assert.equal(s2.get('event'), 'conference');
  assert.equal(s2.get('expires'), '3600');
  assert.equal(s2.get('accept-contact'), '*;+g.oma.sip-im;explicit');
  assert.ok(s2.cseq().seq > s1.cseq().seq);
  answer(ua, s2, 200, { headers: [['expires', '600']] });
  await flush();
  // §4.1.3: a NOTIFY's expires is authoritative: 100 s -> next refresh at max(68, 50) = 68 s.
  assert.equal(notifyFromFocus(ua, t, s1, 'active;expires=100'), 200);
  clock.advance(67_999);
  await flush();
  assert.equal(t.requests('SUBSCRIBE').length, 2);
  clock.advance(1);
  await flush();
  assert.equal(t.requests('SUBSCRIBE').length, 3);
  assert.equal(sub.state, 'active');
});

test('RFC 6665 §4.1.2.2: short subscriptions refresh at half their duration', async () => {
  const { clock, t } = await established({}, '40');
  clock.advance(19_999);
  await flush();
  assert.equal(t.requests('SUBSCRIBE').length, 1);
  clock.advance(1);
  await flush();
  assert.equal(t.requests('SUBSCRIBE').length, 2);
});

test('RFC 6665 §4.1.2.2: a refresh answered 481 ends the subscription; one answered 500 is retried half way to expiry', async () => {
  {
    const { clock, ua, t, o } = await established();
    clock.advance(568_000);
    await flush();
    answer(ua, t.requests('SUBSCRIBE')[1]!, 481);
    await flush();
    assert.deepEqual(o.terminated, [{ reason: 'refresh-failed', retryAfter: undefined, status: 481 }]);
    assert.equal(ua.dialogs.size, 0);
  }
  {
    const { clock, ua, t, o, sub } = await established();
    clock.advance(568_000);
    await flush();
    answer(ua, t.requests('SUBSCRIBE')[1]!, 500);
    await flush();
    assert.equal(o.terminated.length, 0);
    clock.advance(15_999);
    await flush();
    assert.equal(t.requests('SUBSCRIBE').length, 2);
    clock.advance(1);
    await flush();
    const s3 = t.requests('SUBSCRIBE')[2]!;
    answer(ua, s3, 200, { headers: [['expires', '600']] });
    await flush();
    assert.equal(sub.state, 'active');
    assert.equal(Math.round(sub.remaining!), 600);
  }
});

test('RFC 6665 §4.1.2.1 / RFC 3261 §21.4.17: 423 Interval Too Brief -> SUBSCRIBE again with Min-Expires', async () => {
  const { ua, t, o } = fakeSetup();
  await flush();
  answer(ua, t.requests('SUBSCRIBE')[0]!, 423, { toTag: 'x', headers: [['min-expires', '7200']] });
  await flush();
  const s2 = t.requests('SUBSCRIBE')[1]!;
  assert.equal(s2.get('expires'), '7200');
  assert.equal(s2.toTag(), undefined);
  answer(ua, s2, 403, { toTag: 'x' });
  await flush();
  assert.deepEqual(o.terminated, [{ reason: 'refused', retryAfter: undefined, status: 403 }]);
});

test('RFC 6665 §4.1.2.4: Timer N — a 2xx but no NOTIFY within 64*T1 of sending the SUBSCRIBE ends it', async () => {
  const { clock, ua, t, o } = fakeSetup();
  await flush();
  answer(ua, t.requests('SUBSCRIBE')[0]!, 200, { toTag: 'focus1', headers: [['expires', '600'], ['contact', `<${FOCUS}>`]] });
  await flush();
  assert.equal(ua.dialogs.size, 1);
  clock.advance(31_999);
  assert.equal(o.terminated.length, 0);
  clock.advance(1);
  assert.deepEqual(o.terminated, [{ reason: 'timer-n', retryAfter: undefined, status: undefined }]);
  assert.equal(ua.dialogs.size, 0);
});

test('RFC 6665 §4.1.2.4: a NOTIFY before the 2xx creates the dialog; a 2xx from another fork is ignored (FakeClock)', async () => {
  const { ua, t, o, sub } = fakeSetup();
  await flush();
  const s1 = t.requests('SUBSCRIBE')[0]!;
  assert.equal(notifyFromFocus(ua, t, s1, 'pending;expires=900', { tag: 'forkA' }), 200);
  assert.equal(sub.state, 'pending');
  assert.equal(sub.dialog?.id.remoteTag, 'forkA');
  assert.equal(sub.dialog?.remoteTarget, FOCUS);
  // RFC 6665 §5.4.9: one subscription; a NOTIFY from another fork finds no dialog.
  assert.equal(notifyFromFocus(ua, t, s1, 'active', { tag: 'forkB' }), 481);
  answer(ua, s1, 200, { toTag: 'forkB', headers: [['expires', '600'], ['contact', '<sip:other@127.0.0.1:5998>']] });
  await flush();
  assert.equal(ua.dialogs.size, 1);
  assert.equal(sub.dialog?.id.remoteTag, 'forkA');
  assert.equal(Math.round(sub.remaining!), 900, 'the NOTIFY expires stays authoritative');
  assert.equal(notifyFromFocus(ua, t, s1, 'active', { tag: 'forkA' }), 200);
  assert.equal(sub.state, 'active');
  assert.deepEqual(o.notifies.map((n) => n.first), [true, false]);
});

test('RFC 6665 §8.2.1 / §4.1.3: a NOTIFY for our dialog but another Event gets 489, with or without a dialog', async () => {
  const { ua, t, o } = fakeSetup();
  await flush();
  const s1 = t.requests('SUBSCRIBE')[0]!;
  assert.equal(notifyFromFocus(ua, t, s1, 'active', { event: 'presence' }), 489);
  assert.equal(notifyFromFocus(ua, t, s1, 'active', { event: 'conference;id=9' }), 489);
  assert.equal(ua.dialogs.size, 0);
  assert.equal(notifyFromFocus(ua, t, s1, 'active'), 200);
  assert.equal(notifyFromFocus(ua, t, s1, 'active', { event: 'dialog' }), 489);
  assert.equal(o.notifies.length, 1);
});

test('RFC 6665 §4.1.3: terminated;reason=probation;retry-after=20 -> SUBSCRIBE again after 20 s, as a new dialog', async () => {
  const { clock, ua, t, o, s1, sub } = await established();
  assert.equal(notifyFromFocus(ua, t, s1, 'terminated;reason=probation;retry-after=20'), 200);
  assert.deepEqual(o.resubscribes, [['probation', 20_000]]);
  assert.equal(ua.dialogs.size, 0);
  assert.equal(sub.state, 'init');
  clock.advance(19_999);
  await flush();
  assert.equal(t.requests('SUBSCRIBE').length, 1);
  clock.advance(1);
  await flush();
  const s2 = t.requests('SUBSCRIBE')[1]!;
  assert.notEqual(s2.callId(), s1.callId());
  assert.equal(s2.toTag(), undefined);
  assert.equal(sub.state, 'notify-wait');
  answer(ua, s2, 200, { toTag: 'focus2', headers: [['expires', '600'], ['contact', `<${FOCUS}>`]] });
  await flush();
  assert.equal(notifyFromFocus(ua, t, s2, 'active', { tag: 'focus2' }), 200);
  assert.equal(o.notifies.at(-1)!.first, true, 'a new subscription starts with a first NOTIFY');
  assert.equal(o.terminated.length, 0);
});

test('RFC 6665 §4.1.3: deactivated -> SUBSCRIBE again at once; giveup without retry-after waits the default', async () => {
  {
    const { ua, t, o, s1 } = await established();
    notifyFromFocus(ua, t, s1, 'terminated;reason=deactivated');
    await flush();
    assert.deepEqual(o.resubscribes, [['deactivated', 0]]);
    assert.equal(t.requests('SUBSCRIBE').length, 2);
  }
  {
    const { clock, ua, t, o, s1 } = await established({ defaultRetryAfter: 45 });
    notifyFromFocus(ua, t, s1, 'terminated;reason=giveup');
    assert.deepEqual(o.resubscribes, [['giveup', 45_000]]);
    clock.advance(45_000);
    await flush();
    assert.equal(t.requests('SUBSCRIBE').length, 2);
  }
});

test('RFC 6665 §4.1.3: rejected / noresource / invariant -> no new SUBSCRIBE; retry-after is reported', async () => {
  for (const reason of ['rejected', 'noresource', 'invariant']) {
    const { clock, ua, t, o, s1 } = await established();
    notifyFromFocus(ua, t, s1, `terminated;reason=${reason};retry-after=5`);
    clock.advance(3_600_000);
    await flush();
    assert.equal(t.requests('SUBSCRIBE').length, 1, reason);
    assert.deepEqual(o.terminated, [{ reason, retryAfter: 5, status: undefined }]);
  }
});

test('RFC 6665 §4.1.3: re-subscriptions are bounded by maxResubscribes', async () => {
  const { ua, t, o, s1 } = await established({ maxResubscribes: 1 });
  notifyFromFocus(ua, t, s1, 'terminated;reason=deactivated');
  await flush();
  const s2 = t.requests('SUBSCRIBE')[1]!;
  notifyFromFocus(ua, t, s2, 'terminated;reason=deactivated', { tag: 'f2' });
  await flush();
  assert.equal(t.requests('SUBSCRIBE').length, 2);
  assert.deepEqual(o.terminated.map((x) => x.reason), ['deactivated']);
});

test('RFC 6665 §4.1.2.3: unsubscribe() sends SUBSCRIBE Expires: 0 and completes on the final NOTIFY', async () => {
  const { ua, t, o, s1, sub } = await established();
  const done = sub.unsubscribe();
  await flush();
  const s2 = t.requests('SUBSCRIBE')[1]!;
  assert.equal(s2.get('expires'), '0');
  assert.equal(s2.toTag(), 'focus1');
  assert.equal(s2.get('event'), 'conference');
  answer(ua, s2, 200, { headers: [['expires', '0']] });
  await flush();
  assert.equal(sub.state, 'active');
  assert.equal(notifyFromFocus(ua, t, s1, 'terminated;reason=timeout'), 200);
  await done;
  assert.deepEqual(o.terminated.map((x) => x.reason), ['unsubscribed']);
  assert.equal(o.resubscribes.length, 0);
  assert.equal(ua.dialogs.size, 0);
  assert.equal(notifyFromFocus(ua, t, s1, 'active'), 481);
});

test('RFC 6665 §4.1.2.3 / §4.1.2.4: unsubscribe() waits for the final NOTIFY at most Timer N', async () => {
  const { clock, ua, t, o, sub } = await established();
  let finished = false;
  const done = sub.unsubscribe().then(() => (finished = true));
  await flush();
  answer(ua, t.requests('SUBSCRIBE')[1]!, 200, { headers: [['expires', '0']] });
  await flush();
  clock.advance(31_999);
  await flush();
  assert.equal(finished, false);
  clock.advance(1);
  await done;
  assert.deepEqual(o.terminated.map((x) => x.reason), ['unsubscribed']);
  assert.equal(ua.dialogs.size, 0);
});

test('RFC 6665 §4.1.2.3: unsubscribe() before the dialog exists is sent once the 2xx creates it', async () => {
  const { ua, t, o, sub } = fakeSetup();
  await flush();
  const done = sub.unsubscribe();
  const s1 = t.requests('SUBSCRIBE')[0]!;
  answer(ua, s1, 200, { toTag: 'focus1', headers: [['expires', '600'], ['contact', `<${FOCUS}>`]] });
  await flush();
  const s2 = t.requests('SUBSCRIBE')[1]!;
  assert.equal(s2.get('expires'), '0');
  answer(ua, s2, 200, { headers: [['expires', '0']] });
  await flush();
  notifyFromFocus(ua, t, s1, 'terminated;reason=timeout');
  await done;
  assert.deepEqual(o.terminated.map((x) => x.reason), ['unsubscribed']);
  assertOver(sub);
});

function assertOver(sub: Subscription): void {
  assert.equal(sub.state, 'terminated');
  assert.equal(sub.dialog, undefined);
}

test('RFC 6665 §8.2.3 / RFC 3261 §8.2: a NOTIFY without Subscription-State gets 400 and changes nothing', async () => {
  const { ua, t, o, s1, sub } = await established();
  const req = inject(ua, peerRequest('NOTIFY', 'sip:127.0.0.1:5070', [
    ['From', '<sip:conf@example.com>;tag=focus1'], ['To', s1.get('from')!], ['Call-ID', s1.callId()],
    ['CSeq', `${++cseq} NOTIFY`], ['Contact', `<${FOCUS}>`], ['Event', 'conference'],
  ]));
  assert.equal(t.responsesTo(req)[0]?.status, 400);
  assert.equal(o.notifies.length, 1);
  assert.equal(sub.state, 'active');
});

test('close() tears down silently: no SUBSCRIBE, no callback, the dialog is gone, timers are cancelled', async () => {
  const { clock, ua, t, o, sub, s1 } = await established();
  sub.close();
  assert.equal(await sub.done, 'closed');
  assert.equal(ua.dialogs.size, 0);
  clock.advance(3_600_000);
  await flush();
  assert.equal(t.requests('SUBSCRIBE').length, 1);
  assert.equal(o.terminated.length, 0);
  assert.equal(notifyFromFocus(ua, t, s1, 'active'), 481);
});
