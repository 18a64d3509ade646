// RFC 3515 §2.4 (REFER implicit subscription), RFC 4488 (Refer-Sub) and the RFC 6665 §4.2
// notifier rules: two UAs on loopback UDP, and a recording transport + FakeClock for timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptRefer, type ReferNotifier, type ReferTerminationReason } from '../../../src/sip/events/index.js';
import { Dialog } from '../../../src/sip/dialog/dialog.js';
import { FakeClock } from '../../../src/sip/clock.js';
import type { SipRequest } from '../../../src/sip/message/message.js';
import type { IncomingRequest } from '../../../src/sip/ua/incoming.js';
import { answer, flush, inject, peerRequest, recordingUa, startUa, waitFor, type LoopbackUa } from './harness.js';

interface Setup {
  a: LoopbackUa;
  b: LoopbackUa;
  notifies: SipRequest[];
  ended: ReferTerminationReason[];
  notifier(): ReferNotifier;
  refer: SipRequest;
  dialog: Dialog | undefined;
  /** Status A answers NOTIFYs with. */
  notifyAnswer: { status: number };
  close(): Promise<void>;
}

/**
 * B plays the History Function (acceptRefer), A the IM client that sent the REFER and
 * collects the NOTIFYs, whether they beat the 202 or not.
 */
async function referSetup(opts: { referSub?: string; onAccepted?: (n: ReferNotifier | undefined) => void } = {}): Promise<Setup> {
  const clock = new FakeClock(); // the notifier's timers only; the UAs run on real time
  const ended: ReferTerminationReason[] = [];
  let notifier: ReferNotifier | undefined;
  const late: { b?: LoopbackUa } = {};
  const b = await startUa({
    onRequest: (inc) => {
      if (inc.request.method !== 'REFER') return void inc.respond(405);
      const r = acceptRefer(late.b!.ua, inc, { clock, onTerminated: (why) => ended.push(why) });
      notifier = r.notifier;
      opts.onAccepted?.(notifier);
    },
  });
  late.b = b;
  const a = await startUa();
  const notifies: SipRequest[] = [];
  const notifyAnswer = { status: 200 };
  const collect = (inc: IncomingRequest) => {
    notifies.push(inc.request);
    inc.respond(notifyAnswer.status);
  };
  const refer = a.ua.createRequest('REFER', `sip:history@127.0.0.1:${b.port}`, '<sip:alice@example.com>', '<sip:history@example.com>');
  refer.append('refer-to', '<sip:conf-factory@example.com>');
  if (opts.referSub !== undefined) refer.append('refer-sub', opts.referSub);
  a.ua.addOrphanHandler((inc) => {
    if (inc.request.method !== 'NOTIFY' || inc.request.callId() !== refer.callId()) return false;
    collect(inc);
    return true;
  });
  const res = await a.ua.request(refer);
  let dialog: Dialog | undefined;
  if (res.status === 202 && res.get('refer-sub') !== 'false') {
    dialog = Dialog.asUac(refer, res);
    a.ua.addDialog(dialog);
    a.ua.setDialogHandler(dialog, (_d, inc) => collect(inc));
  }
  return {
    a, b, notifies, ended, refer, dialog, notifyAnswer,
    notifier: () => {
      assert.ok(notifier, 'notifier created');
      return notifier;
    },
    close: async () => {
      await a.close();
      await b.close();
    },
  };
}

test('RFC 3515 §2.4.4–2.4.7: REFER -> 202 -> NOTIFY 100 Trying -> 180 -> 200 terminated;reason=noresource', async () => {
  const s = await referSetup();
  try {
    const id = String(s.refer.cseq().seq);
    await waitFor(() => s.notifies.length === 1);
    const n1 = s.notifies[0]!;
    assert.equal(n1.get('event'), `refer;id=${id}`);
    assert.equal(n1.get('subscription-state'), 'active;expires=60');
    assert.equal(n1.get('content-type'), 'message/sipfrag;version=2.0');
    assert.equal(n1.body.toString(), 'SIP/2.0 100 Trying\r\n');
    assert.ok(n1.get('contact'), 'NOTIFY carries Contact (RFC 6665 §8.2)');
    assert.equal(n1.toTag(), s.refer.fromTag());
    assert.equal(n1.fromTag(), s.dialog?.id.remoteTag);

    assert.equal(s.notifier().progress(180, 'Ringing'), true);
    await waitFor(() => s.notifies.length === 2);
    const n2 = s.notifies[1]!;
    assert.equal(n2.body.toString(), 'SIP/2.0 180 Ringing\r\n');
    assert.equal(n2.get('subscription-state'), 'active;expires=60');
    assert.equal(n2.get('event'), `refer;id=${id}`);

    s.notifier().progress(200, 'OK');
    await waitFor(() => s.notifies.length === 3);
    const n3 = s.notifies[2]!;
    assert.equal(n3.body.toString(), 'SIP/2.0 200 OK\r\n');
    assert.equal(n3.get('subscription-state'), 'terminated;reason=noresource');
    assert.equal(n3.get('event'), `refer;id=${id}`);
    assert.ok(n1.cseq().seq < n2.cseq().seq && n2.cseq().seq < n3.cseq().seq);

    assert.equal(await s.notifier().done, 'noresource');
    assert.deepEqual(s.ended, ['noresource']);
    assert.equal(s.b.ua.dialogs.size, 0, 'the REFER dialog ends with its only usage (RFC 6665 §4.4.1)');
    assert.equal(s.notifier().progress(180), false);
  } finally {
    await s.close();
  }
});

test('RFC 4488 §4: Refer-Sub: false -> the 202 carries Refer-Sub: false, no dialog, no NOTIFY ever', async () => {
  let accepted = 0;
  const s = await referSetup({ referSub: 'false', onAccepted: (n) => (accepted += n === undefined ? 1 : 100) });
  try {
    assert.equal(accepted, 1, 'acceptRefer returned no notifier');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(s.notifies.length, 0);
    assert.equal(s.b.ua.dialogs.size, 0);
  } finally {
    await s.close();
  }
});

test('RFC 4488 §4: the 2xx to a REFER with Refer-Sub: false echoes it exactly', async () => {
  const clock = new FakeClock();
  const { ua, t } = recordingUa(clock, { onRequest: (inc) => void acceptRefer(ua, inc, { clock }) });
  const refer = inject(ua, peerRequest('REFER', 'sip:history@127.0.0.1:5070', [
    ['From', '<sip:alice@example.com>;tag=a1'], ['To', '<sip:history@example.com>'], ['Call-ID', 'rs1'],
    ['CSeq', '3 REFER'], ['Contact', '<sip:alice@127.0.0.1:5999>'], ['Refer-To', '<sip:factory@example.com>'],
    ['Refer-Sub', 'false'],
  ]));
  await flush();
  const [res] = t.responsesTo(refer);
  assert.equal(res?.status, 202);
  assert.equal(res?.get('refer-sub'), 'false');
  assert.equal(t.requests('NOTIFY').length, 0);
  clock.advance(120_000);
  await flush();
  assert.equal(t.requests('NOTIFY').length, 0);
  assert.equal(ua.dialogs.size, 0);
});

test('RFC 6665 §4.2.2: states produced while a NOTIFY is outstanding collapse into the latest', async () => {
  const s = await referSetup({
    onAccepted: (n) => {
      // All at once, while the 100 Trying NOTIFY is still in flight.
      n?.progress(180, 'Ringing');
      n?.progress(183, 'Session Progress');
      n?.progress(200, 'OK');
    },
  });
  try {
    assert.equal(await s.notifier().done, 'noresource');
    await waitFor(() => s.notifies.length === 2);
    assert.deepEqual(s.notifies.map((n) => n.body.toString()), ['SIP/2.0 100 Trying\r\n', 'SIP/2.0 200 OK\r\n']);
    assert.deepEqual(s.notifies.map((n) => n.get('subscription-state')), ['active;expires=60', 'terminated;reason=noresource']);
  } finally {
    await s.close();
  }
});

test('RFC 6665 §4.2.1.2 / §4.2.1.4: SUBSCRIBE refresh -> 200 + NOTIFY of the current state; Expires: 0 -> final NOTIFY reason=timeout; other events 489', async () => {
  const s = await referSetup();
  try {
    await waitFor(() => s.notifies.length === 1);
    const id = String(s.refer.cseq().seq);
    const dialog = s.dialog!;
    const r1 = await s.a.ua.sendInDialog(dialog, 'SUBSCRIBE', { headers: [['event', `refer;id=${id}`], ['expires', '120']] });
    assert.equal(r1.status, 200);
    assert.equal(r1.get('expires'), '120');
    await waitFor(() => s.notifies.length === 2);
    assert.equal(s.notifies[1]!.get('subscription-state'), 'active;expires=120');
    assert.equal(s.notifies[1]!.body.toString(), 'SIP/2.0 100 Trying\r\n');

    const bad = await s.a.ua.sendInDialog(dialog, 'SUBSCRIBE', { headers: [['event', 'presence'], ['expires', '60']] });
    assert.equal(bad.status, 489);
    const other = await s.a.ua.sendInDialog(dialog, 'SUBSCRIBE', { headers: [['event', 'refer;id=999999'], ['expires', '60']] });
    assert.equal(other.status, 481);

    const r0 = await s.a.ua.sendInDialog(dialog, 'SUBSCRIBE', { headers: [['event', `refer;id=${id}`], ['expires', '0']] });
    assert.equal(r0.status, 200);
    assert.equal(r0.get('expires'), '0');
    await waitFor(() => s.notifies.length === 3);
    assert.equal(s.notifies[2]!.get('subscription-state'), 'terminated;reason=timeout');
    assert.equal(s.notifies[2]!.body.toString(), 'SIP/2.0 100 Trying\r\n');
    assert.equal(await s.notifier().done, 'unsubscribed');
    assert.equal(s.notifier().progress(200), false);
  } finally {
    await s.close();
  }
});

test('RFC 6665 §4.2.2: a 481 to a NOTIFY removes the subscription and nothing more is sent', async () => {
  const s = await referSetup();
  try {
    await waitFor(() => s.notifies.length === 1);
    s.notifyAnswer.status = 481;
    s.notifier().progress(180, 'Ringing');
    assert.equal(await s.notifier().done, 'notify-failed');
    s.notifier().progress(200, 'OK');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(s.notifies.length, 2);
    assert.equal(s.b.ua.dialogs.size, 0);
  } finally {
    await s.close();
  }
});

function referFromPeer(cseq: number): string {
  return peerRequest('REFER', 'sip:history@127.0.0.1:5070', [
    ['From', '<sip:alice@example.com>;tag=a1'], ['To', '<sip:history@example.com>'], ['Call-ID', `r${cseq}`],
    ['CSeq', `${cseq} REFER`], ['Contact', '<sip:alice@127.0.0.1:5999>'], ['Refer-To', '<sip:factory@example.com>'],
  ]);
}

test('RFC 3515 §2.4.4 / RFC 6665 §4.2.2: at expiry the notifier sends terminated;reason=timeout with the last sipfrag (FakeClock)', async () => {
  const clock = new FakeClock();
  const ended: ReferTerminationReason[] = [];
  let notifier: ReferNotifier | undefined;
  const { ua, t } = recordingUa(clock, {
    onRequest: (inc) => (notifier = acceptRefer(ua, inc, { clock, expires: 30, onTerminated: (w) => ended.push(w) }).notifier),
  });
  inject(ua, referFromPeer(7));
  await flush();
  const n1 = t.requests('NOTIFY')[0]!;
  assert.equal(n1.get('event'), 'refer;id=7');
  assert.equal(n1.get('subscription-state'), 'active;expires=30');
  assert.equal(n1.uri, 'sip:alice@127.0.0.1:5999');
  answer(ua, n1, 200);
  clock.advance(10_000);
  notifier!.progress(180, 'Ringing');
  await flush();
  const n2 = t.requests('NOTIFY')[1]!;
  assert.equal(n2.get('subscription-state'), 'active;expires=20');
  answer(ua, n2, 200);
  clock.advance(19_999);
  await flush();
  assert.equal(t.requests('NOTIFY').length, 2);
  clock.advance(1);
  await flush();
  const n3 = t.requests('NOTIFY')[2]!;
  assert.equal(n3.get('subscription-state'), 'terminated;reason=timeout');
  assert.equal(n3.body.toString(), 'SIP/2.0 180 Ringing\r\n');
  answer(ua, n3, 200);
  await flush();
  assert.deepEqual(ended, ['timeout']);
  assert.equal(ua.dialogs.size, 0);
  assert.equal(clock.pending > 0, true); // only transaction timers remain
  assert.equal(notifier!.progress(200), false);
});

test('RFC 6665 §4.2.2: a NOTIFY that times out (Timer F, 408) ends the subscription (FakeClock)', async () => {
  const clock = new FakeClock();
  const details: { status?: number }[] = [];
  const { ua, t } = recordingUa(clock, {
    onRequest: (inc) => void acceptRefer(ua, inc, { clock, onTerminated: (_w, d) => details.push(d) }),
  });
  inject(ua, referFromPeer(9));
  await flush();
  assert.equal(t.requests('NOTIFY').length >= 1, true);
  clock.advance(32_000);
  await flush();
  assert.deepEqual(details, [{ status: 408 }]);
  assert.equal(ua.dialogs.size, 0);
});

test('RFC 3515 §2.4.6: Event id is the REFER CSeq unless turned off', async () => {
  const clock = new FakeClock();
  const { ua, t } = recordingUa(clock, { onRequest: (inc) => void acceptRefer(ua, inc, { clock, includeId: false }) });
  inject(ua, referFromPeer(11));
  await flush();
  assert.equal(t.requests('NOTIFY')[0]!.get('event'), 'refer');
});

test('RFC 3515 §2.4.6 / RFC 5057: a second REFER in the REFER-created dialog gets its own id; the dialog ends with the last subscription', async () => {
  const clock = new FakeClock();
  const notifiers: ReferNotifier[] = [];
  const { ua, t } = recordingUa(clock, {
    onRequest: (inc) => {
      const r = acceptRefer(ua, inc, {
        clock,
        onOtherRequest: (d, other) => {
          if (other.request.method !== 'REFER') return void other.respond(405);
          notifiers.push(acceptRefer(ua, other, { clock, dialog: d }).notifier!);
        },
      });
      notifiers.push(r.notifier!);
    },
  });
  const refer1 = inject(ua, referFromPeer(20));
  await flush();
  const toTag = t.responsesTo(refer1)[0]!.toTag()!;
  const answered = new Set<SipRequest>();
  const answerNotifies = async () => {
    await flush();
    for (const n of t.requests('NOTIFY')) {
      if (answered.has(n)) continue;
      answered.add(n);
      answer(ua, n, 200);
    }
    await flush();
  };
  await answerNotifies();
  const refer2 = inject(ua, peerRequest('REFER', 'sip:history@127.0.0.1:5070', [
    ['From', '<sip:alice@example.com>;tag=a1'], ['To', `<sip:history@example.com>;tag=${toTag}`], ['Call-ID', 'r20'],
    ['CSeq', '21 REFER'], ['Contact', '<sip:alice@127.0.0.1:5999>'], ['Refer-To', '<sip:factory2@example.com>'],
  ]));
  await answerNotifies();
  assert.equal(t.responsesTo(refer2)[0]?.status, 202);
  assert.deepEqual(t.requests('NOTIFY').map((n) => n.get('event')), ['refer;id=20', 'refer;id=21']);
  assert.equal(notifiers.length, 2);

  notifiers[0]!.progress(200, 'OK');
  await answerNotifies();
  assert.equal(await notifiers[0]!.done, 'noresource');
  assert.equal(ua.dialogs.size, 1, 'the dialog still carries the second subscription');

  const sub = inject(ua, peerRequest('SUBSCRIBE', 'sip:history@127.0.0.1:5070', [
    ['From', '<sip:alice@example.com>;tag=a1'], ['To', `<sip:history@example.com>;tag=${toTag}`], ['Call-ID', 'r20'],
    ['CSeq', '22 SUBSCRIBE'], ['Contact', '<sip:alice@127.0.0.1:5999>'], ['Event', 'refer;id=21'], ['Expires', '90'],
  ]));
  await answerNotifies();
  assert.equal(t.responsesTo(sub)[0]?.status, 200);
  assert.equal(t.requests('NOTIFY').at(-1)!.get('subscription-state'), 'active;expires=90');

  notifiers[1]!.progress(486, 'Busy Here');
  await answerNotifies();
  assert.equal(await notifiers[1]!.done, 'noresource');
  assert.equal(t.requests('NOTIFY').at(-1)!.body.toString(), 'SIP/2.0 486 Busy Here\r\n');
  assert.equal(ua.dialogs.size, 0);
});
