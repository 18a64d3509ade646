// RFC 4028 without timers: configuration (§4, §5), the initial INVITE's headers (§7.1, seed
// 1.2.1-5/6), reading the 2xx (§7.2), following a 422 (§7.3), answering as UAS (§9) and the §10 delays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../../src/sip/message/parse.js';
import type { SipRequest, SipResponse } from '../../../src/sip/message/message.js';
import {
  SessionTimerConfigError, answerSessionTimer, expiryDelayMs, handle422, negotiate, refreshDelayMs, refreshRequestHeaders,
  resolveSessionTimerConfig, retryRequestAfter422, sessionTimerRequestHeaders, type SessionTimerConfig,
} from '../../../src/sip/session-timer/index.js';

const CONFIG = resolveSessionTimerConfig();

function response(status: number, headers: string[]): SipResponse {
  return parseMessage(
    `SIP/2.0 ${status} X\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa\r\nFrom: <sip:hf@x>;tag=1\r\n` +
      `To: <sip:focus@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n${headers.map((h) => h + '\r\n').join('')}Content-Length: 0\r\n\r\n`,
  ) as SipResponse;
}

function request(method: string, headers: string[], body = ''): SipRequest {
  return parseMessage(
    `${method} sip:hf@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKb\r\nFrom: <sip:focus@x>;tag=2\r\n` +
      `To: <sip:hf@x>;tag=1\r\nCall-ID: c\r\nCSeq: 7 ${method}\r\nMax-Forwards: 70\r\n${headers.map((h) => h + '\r\n').join('')}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  ) as SipRequest;
}

test('RFC 4028 §4/§5 config: defaults are 1800 s, Min-SE 90, refresher=uac (seed 1.2.1-6), method auto', () => {
  assert.deepEqual(
    { ...CONFIG },
    { sessionExpires: 1800, minSE: 90, refresher: 'uac', method: 'auto', maxSessionExpires: 7200, max422Retries: 2, alwaysUse: false },
  );
  assert.equal(resolveSessionTimerConfig({ sessionExpires: 90, minSE: 90, method: 'INVITE' }).sessionExpires, 90);
});

test('RFC 4028 §5 / §7.1 config validation: Min-SE >= 90 and Session-Expires >= Min-SE', () => {
  const bad: [Partial<SessionTimerConfig>, keyof SessionTimerConfig][] = [
    [{ minSE: 89 }, 'minSE'],
    [{ sessionExpires: 100, minSE: 120 }, 'sessionExpires'],
    [{ sessionExpires: 60 }, 'sessionExpires'],
    [{ sessionExpires: 1800.5 }, 'sessionExpires'],
    [{ sessionExpires: 3600, maxSessionExpires: 1800 }, 'maxSessionExpires'],
    [{ method: 'OPTIONS' as never }, 'method'],
    [{ refresher: 'both' as never }, 'refresher'],
    [{ max422Retries: -1 }, 'max422Retries'],
  ];
  for (const [partial, field] of bad) {
    assert.throws(() => resolveSessionTimerConfig(partial), (e: unknown) => e instanceof SessionTimerConfigError && e.field === field, JSON.stringify(partial));
  }
});

test('RFC 4028 §7.1 / seed 1.2.1-5/6: the initial INVITE lists timer in Supported and sends Session-Expires;refresher=uac and Min-SE', () => {
  const h = sessionTimerRequestHeaders(CONFIG);
  assert.equal(h.supported, 'timer');
  assert.deepEqual(h.headers, [['session-expires', '1800;refresher=uac'], ['min-se', '90']]);
  const omitted = sessionTimerRequestHeaders(resolveSessionTimerConfig({ refresher: 'none', sessionExpires: 600, minSE: 120 }));
  assert.deepEqual(omitted.headers, [['session-expires', '600'], ['min-se', '120']]);
  assert.deepEqual(sessionTimerRequestHeaders(CONFIG, { sessionExpires: 2400, minSE: 2400 }).headers, [
    ['session-expires', '2400;refresher=uac'],
    ['min-se', '2400'],
  ]);
});

test('RFC 4028 §7.4 refresh headers: refresher written from our side as the UAC of the refresh', () => {
  assert.deepEqual(refreshRequestHeaders(1800, 'local', 90), [['session-expires', '1800;refresher=uac'], ['min-se', '90']]);
  assert.deepEqual(refreshRequestHeaders(1800, 'remote', 120), [['session-expires', '1800;refresher=uas'], ['min-se', '120']]);
  assert.deepEqual(refreshRequestHeaders(1800, undefined, 90), [['session-expires', '1800'], ['min-se', '90']]);
  // Never below the dialog's Min-SE.
  assert.deepEqual(refreshRequestHeaders(90, 'local', 120)[0], ['session-expires', '120;refresher=uac']);
});

test('RFC 4028 §7.2 processing the 2xx: who refreshes, and no Session-Expires means no timer', () => {
  const cases: [string, string[], ReturnType<typeof negotiate>][] = [
    ['refresher=uac with Require: timer', ['Session-Expires: 1800;refresher=uac', 'Require: timer'], { interval: 1800, refresher: 'local' }],
    ['refresher=uas with Require: timer', ['Session-Expires: 1800;refresher=uas', 'Require: timer'], { interval: 1800, refresher: 'remote' }],
    ['interval reduced by the UAS', ['Session-Expires: 900;refresher=uas', 'Require: timer'], { interval: 900, refresher: 'remote' }],
    ['inserted by a proxy for a UAS without the extension (no Require)', ['Session-Expires: 1800;refresher=uac'], { interval: 1800, refresher: 'local' }],
    ['compact form x', ['x: 600;refresher=uas'], { interval: 600, refresher: 'remote' }],
    ['no refresher parameter: we refresh', ['Session-Expires: 1200'], { interval: 1200, refresher: 'local' }],
    ['below the 90 s floor: raised to it', ['Session-Expires: 30;refresher=uac'], { interval: 90, refresher: 'local' }],
    ['no Session-Expires: no session expiration', ['Supported: timer'], undefined],
    ['malformed Session-Expires: as if absent', ['Session-Expires: soon'], undefined],
  ];
  for (const [name, headers, want] of cases) assert.deepEqual(negotiate(response(200, headers), CONFIG), want, name);
  assert.equal(negotiate(response(180, ['Session-Expires: 1800;refresher=uac']), CONFIG), undefined, 'only a 2xx settles it');
  // §7.2: a UAC may keep a timer for its own benefit when the UAS ignored the extension.
  const always = resolveSessionTimerConfig({ alwaysUse: true });
  assert.deepEqual(negotiate(response(200, []), always, { sessionExpires: 1200 }), { interval: 1200, refresher: 'local' });
});

test('RFC 4028 §7.3 a 422 is followed with Session-Expires = its Min-SE, Min-SE the largest seen, a bounded number of times', () => {
  const r422 = (minSe?: string) => response(422, minSe === undefined ? [] : [`Min-SE: ${minSe}`]);
  const first = handle422(r422('2400'), CONFIG);
  assert.deepEqual(first, { sessionExpires: 2400, minSE: 2400, retries: 1 });
  const second = handle422(r422('3600'), CONFIG, first);
  assert.deepEqual(second, { sessionExpires: 3600, minSE: 3600, retries: 2 });
  assert.equal(handle422(r422('5000'), CONFIG, second), undefined, 'max422Retries reached');
  assert.equal(handle422(r422(), CONFIG), undefined, 'no Min-SE: nothing to go by');
  assert.equal(handle422(r422('many'), CONFIG), undefined, 'unreadable Min-SE');
  assert.equal(handle422(r422('1800'), CONFIG), undefined, 'asks for no more than we sent: retrying would loop');
  assert.equal(handle422(r422('9000'), CONFIG), undefined, 'above maxSessionExpires');
  assert.equal(handle422(response(420, ['Min-SE: 2400']), CONFIG), undefined, 'not a 422');
  // A Min-SE below what we already require keeps ours.
  assert.deepEqual(handle422(r422('100'), CONFIG, { sessionExpires: 95, minSE: 95, retries: 0 }), { sessionExpires: 100, minSE: 100, retries: 1 });
  assert.deepEqual(handle422(r422('100'), CONFIG, { sessionExpires: 95, minSE: 150, retries: 0 }), { sessionExpires: 100, minSE: 150, retries: 1 });
});

test('RFC 4028 §7.3 + RFC 3261 §8.1.3.5 the retried INVITE keeps Call-ID, From tag and body, takes CSeq+1 and a fresh Via', () => {
  const original = parseMessage(
    'INVITE sip:factory@x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKold\r\nMax-Forwards: 70\r\nFrom: <sip:alice@x>;tag=f1\r\n' +
      'To: <sip:factory@x>\r\nCall-ID: call-1\r\nCSeq: 41 INVITE\r\nSupported: timer\r\nSession-Expires: 1800;refresher=uac\r\n' +
      'Min-SE: 90\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n',
  ) as SipRequest;
  const retry = retryRequestAfter422(original, { sessionExpires: 2400, minSE: 2400, retries: 1 });
  assert.equal(retry.method, 'INVITE');
  assert.equal(retry.uri, 'sip:factory@x');
  assert.equal(retry.has('via'), false);
  assert.equal(retry.get('cseq'), '42 INVITE');
  assert.equal(retry.callId(), 'call-1');
  assert.equal(retry.fromTag(), 'f1');
  assert.equal(retry.get('session-expires'), '2400;refresher=uac');
  assert.equal(retry.get('min-se'), '2400');
  assert.equal(retry.body.toString(), 'v=0\r\n');
  assert.equal(original.get('cseq'), '41 INVITE', 'the original is left alone');
});

test('RFC 4028 §9 answering a refresh: the refresher table, Require: timer, and 422 below our Min-SE', () => {
  type Want = { se: string; require: boolean; refresher: 'local' | 'remote' };
  const cases: [string, string[], Want, Parameters<typeof answerSessionTimer>[2]?][] = [
    ['supports, refresher=uac: the peer refreshes', ['Supported: timer', 'Session-Expires: 1800;refresher=uac'], { se: '1800;refresher=uac', require: true, refresher: 'remote' }],
    ['supports, refresher=uas: we refresh', ['Supported: timer', 'Session-Expires: 1800;refresher=uas'], { se: '1800;refresher=uas', require: true, refresher: 'local' }],
    ['supports, none: the peer asked, the peer refreshes', ['Supported: timer', 'Session-Expires: 600'], { se: '600;refresher=uac', require: true, refresher: 'remote' }],
    ['supports, none, dialog had us refreshing: kept', ['Supported: timer', 'Session-Expires: 600'], { se: '600;refresher=uas', require: true, refresher: 'local' }, { current: { interval: 600, refresher: 'local' } }],
    ['no support, none: we refresh, no Require', ['Session-Expires: 600'], { se: '600;refresher=uas', require: false, refresher: 'local' }],
    ['no support, refresher=uac (n/a in the table): we refresh', ['Session-Expires: 600;refresher=uac'], { se: '600;refresher=uas', require: false, refresher: 'local' }],
    ['no Session-Expires, supports: we ask for ours', ['Supported: timer'], { se: '1800;refresher=uas', require: true, refresher: 'local' }],
    ['no Session-Expires, Min-SE above ours', ['Supported: timer', 'Min-SE: 2000'], { se: '2000;refresher=uas', require: true, refresher: 'local' }],
    ['no Session-Expires, no support', [], { se: '1800;refresher=uas', require: false, refresher: 'local' }],
  ];
  for (const [name, headers, want, ctx] of cases) {
    const a = answerSessionTimer(request('UPDATE', headers), CONFIG, ctx);
    assert.equal(a.kind, 'accept', name);
    if (a.kind !== 'accept') continue;
    const h = new Map(a.headers);
    assert.equal(h.get('session-expires'), want.se, name);
    assert.equal(h.get('require') === 'timer', want.require, name);
    assert.equal(a.supported, 'timer');
    assert.equal(a.negotiated?.refresher, want.refresher, name);
  }
  const small = answerSessionTimer(request('UPDATE', ['Supported: timer', 'Session-Expires: 60;refresher=uac']), resolveSessionTimerConfig({ minSE: 120, sessionExpires: 1800 }));
  assert.deepEqual(small, { kind: 'reject', status: 422, reason: 'Session Interval Too Small', headers: [['min-se', '120']] });
  const bad = answerSessionTimer(request('UPDATE', ['Session-Expires: 1800;refresher=both']), CONFIG);
  assert.equal(bad.kind === 'reject' && bad.status, 400);
  // §7.4: the dialog's Min-SE is the largest one seen.
  const a = answerSessionTimer(request('UPDATE', ['Supported: timer', 'Session-Expires: 1800', 'Min-SE: 600']), CONFIG, { minSE: 300 });
  assert.equal(a.kind === 'accept' && a.minSE, 600);
});

test('RFC 4028 §10 delays: refresh at interval/2, BYE at interval - min(32 s, interval/3)', () => {
  assert.equal(refreshDelayMs(1800), 900_000);
  assert.equal(refreshDelayMs(90), 45_000);
  assert.equal(expiryDelayMs(1800), 1_768_000);
  assert.equal(expiryDelayMs(90), 60_000);
  assert.equal(expiryDelayMs(96), 64_000);
  assert.equal(expiryDelayMs(120), 88_000);
});
