// The History Function end to end on loopback, one test per seed clause (or group):
// an IM client REFERs, the History Function INVITEs a conference focus, NOTIFYs the client,
// subscribes to the conference, records everything, and ends with the focus's BYE.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Focus, startHistoryFunction, waitFor, type HfNode } from './harness.js';
import { parseMultipart } from '../../src/sip/message/headers/multipart.js';
import { parseContentType } from '../../src/sip/message/headers/content-type.js';
import { getParamUnquoted } from '../../src/sip/message/headers/scan.js';
import { parseResourceLists } from '../../src/xml/resource-lists.js';
import { parseMsrpOffer } from '../../src/sdp/msrp-offer.js';
import type { SipRequest } from '../../src/sip/message/message.js';

let focus: Focus;
let client: Client;
let hf: HfNode;
let hfUri: string;

before(async () => {
  focus = await new Focus().start();
  client = await new Client().start();
  hf = await startHistoryFunction({
    conferenceFactories: [focus.uri],
    trustedDomains: ['example.net'],
    deny: ['sip:mallory@example.net'],
    maxImUsers: 5,
    maxSessions: 2,
  });
  hfUri = `sip:history@127.0.0.1:${hf.port}`;
});

after(async () => {
  await hf.close();
  await client.node.close();
  await focus.node.close();
});

async function eventually<T>(get: () => Promise<T>, ok: (v: T) => boolean, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function notifiesFor(refer: { callId(): string } | string): SipRequest[] {
  const id = typeof refer === 'string' ? refer : refer.callId();
  return client.notifies.filter((n) => n.callId() === id);
}

test('seed 1.1 + 1.2 + 1.3: REFER -> 202 -> INVITE factory -> NOTIFYs -> 200 -> SUBSCRIBE conference -> BYE, all recorded', async () => {
  const before = focus.invites.length;
  const res = await client.refer(`${hfUri};history=session;filename=weekly-sync`, { referTo: `<${focus.uri}>` });
  // 1.1.1 responses: RFC 3515 202, Server with the IM release version, Allow.
  assert.equal(res.status, 202);
  assert.match(res.get('server') ?? '', /^IM-serv\/OMA1\.0 im-history\/\d+\.\d+\.\d+$/);
  assert.match(res.get('allow') ?? '', /REFER/);
  assert.ok(res.toTag());

  await waitFor(() => focus.invites.length === before + 1, 5000, 'INVITE at the focus');
  const inv = focus.invites.at(-1)!;
  // 1.3-2 / 1.3-5: Request-URI = factory URI with the History Type parameter carried on.
  assert.equal(inv.uri, `${focus.uri};history=session;filename=weekly-sync`);
  // 1.3-3: From = the initiator.
  assert.equal((inv.from().uri as { user?: string }).user, 'alice');
  assert.equal(inv.get('p-asserted-identity'), '<sip:alice@example.net>');
  // 1.2.1-1/4: Accept-Contact with the IM feature tag and explicit.
  assert.equal(inv.get('accept-contact'), '*;+g.oma.sip-im;explicit');
  // 1.2.1-2: User-Agent with the release version; 1.2.1-3: Allow; 1.2.1-5: Supported timer.
  assert.match(inv.get('user-agent') ?? '', /^IM-serv\/OMA1\.0 im-history\//);
  assert.match(inv.get('allow') ?? '', /INVITE.*BYE.*REFER.*NOTIFY.*SUBSCRIBE.*UPDATE/);
  assert.ok(inv.tokens('supported').includes('timer'));
  // 1.2.1-6: Session-Expires with refresher=uac.
  assert.match(inv.get('session-expires') ?? '', /^1800;refresher=uac$/);
  assert.equal(inv.get('require'), 'recipient-list-invite');
  assert.match(inv.get('contact') ?? '', /;\+g\.oma\.sip-im$/);
  // 1.2.1-7 / 1.3-4: multipart/mixed with the SDP MSRP offer and the URI list.
  const ct = parseContentType(inv.get('content-type')!);
  assert.equal(`${ct.type}/${ct.subtype}`, 'multipart/mixed');
  const parts = parseMultipart(inv.body, getParamUnquoted(ct.params, 'boundary')!);
  assert.equal(parts.length, 2);
  const sdp = parseMsrpOffer(parts[0]!.body.toString());
  assert.equal(sdp.transport, 'TCP/MSRP');
  assert.ok(sdp.acceptTypes.includes('message/cpim'));
  assert.match(sdp.path[0]!, /^msrp:\/\/127\.0\.0\.1:2855\/[A-Za-z0-9_-]{16,};tcp$/);
  assert.ok(parts[1]!.headers.some((h) => h.name.toLowerCase() === 'content-disposition' && h.value === 'recipient-list'));
  assert.deepEqual(parseResourceLists(parts[1]!.body).entries.map((e) => e.uri), ['sip:bob@example.net', 'sip:carol@example.net']);

  // 1.1.2-6: NOTIFYs with sipfrag for each step of the INVITE's progress.
  await waitFor(() => notifiesFor(res).some((n) => n.body.toString().startsWith('SIP/2.0 200')), 5000, 'final NOTIFY');
  const frags = notifiesFor(res).map((n) => n.body.toString().trim());
  assert.deepEqual(frags, ['SIP/2.0 100 Trying', 'SIP/2.0 180 Ringing', 'SIP/2.0 200 OK']);
  const last = notifiesFor(res).at(-1)!;
  assert.equal(last.get('subscription-state'), 'terminated;reason=noresource');
  assert.match(last.get('event') ?? '', /^refer/);
  assert.equal(last.get('content-type'), 'message/sipfrag;version=2.0');

  // 1.3-5: SUBSCRIBE to the conference event package at the IM Session Identity.
  await waitFor(() => focus.subscribes.length > 0, 5000, 'SUBSCRIBE at the focus');
  const sub = focus.subscribes.at(-1)!;
  assert.equal(sub.uri, `sip:conf${focus.invites.length}@127.0.0.1:${focus.node.port}`);
  assert.equal(sub.get('event'), 'conference');
  assert.equal(sub.get('accept'), 'application/conference-info+xml');
  assert.equal(sub.get('accept-contact'), '*;+g.oma.sip-im;explicit');

  // Store: 1.1.1-3/4 (client Allow, Contact), 1.2.1 / 1.3 (server Allow, IM Session Identity, all headers).
  const [rec] = await hf.store.listHistories({ owner: 'sip:alice@example.net' });
  assert.ok(rec);
  assert.equal(rec.name, 'weekly-sync');
  assert.equal(rec.type, 'session');
  assert.equal(rec.state, 'active');
  assert.deepEqual(rec.imUsers, ['sip:bob@example.net', 'sip:carol@example.net']);
  assert.ok(rec.clientAllow.includes('MESSAGE'));
  assert.match(rec.clientContact ?? '', /^<sip:alice@127\.0\.0\.1:\d+>;\+g\.oma\.sip-im$/);
  assert.ok(rec.serverAllow?.includes('SUBSCRIBE'));
  assert.equal(rec.conferenceUri, `sip:conf${focus.invites.length}@127.0.0.1:${focus.node.port}`);
  assert.ok(rec.sessionHeaders?.some((h) => h.name === 'session-expires' && h.value === '1800;refresher=uac'));
  assert.ok(rec.sessionHeaders?.some((h) => h.name === 'contact' && h.value.includes(';isfocus')));
  const events = await hf.store.sipEvents(rec.id);
  assert.deepEqual(events.map((e) => e.summary), ['SIP/2.0 180 Ringing', 'SIP/2.0 200 OK']);
  // The focus's conference-info NOTIFY is recorded as received.
  const notes = await eventually(() => hf.store.conferenceNotifications(rec.id), (n) => n.length >= 1);
  assert.equal(notes[0]!.contentType, 'application/conference-info+xml');
  assert.match(notes[0]!.body, /<conference-info [^>]*version="1"/);

  // The focus ends the conference: the history is closed.
  const bye = await focus.bye();
  assert.equal(bye?.status, 200);
  await waitFor(() => hf.fn.sessions.size === 0, 5000, 'session closed');
  const done = await hf.store.getHistory(rec.id);
  assert.equal(done?.state, 'ended');
  assert.equal(done?.endReason, 'BYE received');
  assert.ok((done?.endedAt ?? 0) >= (done?.startedAt ?? Infinity));
});

test('RFC 4488: Refer-Sub: false -> 202 with Refer-Sub: false, and no NOTIFY at all', async () => {
  const res = await client.refer(hfUri, { referTo: `<${focus.uri}>`, extra: [['refer-sub', 'false']] });
  assert.equal(res.status, 202);
  assert.equal(res.get('refer-sub'), 'false');
  await waitFor(() => hf.fn.sessions.size === 1 && [...hf.fn.sessions][0]!.phase === 'active', 5000, 'session active');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(notifiesFor(res).length, 0);
  await focus.bye();
  await waitFor(() => hf.fn.sessions.size === 0, 5000, 'session closed');
});

test('seed 1.1.2-6: a failed INVITE is reported with its final status and the history is marked failed', async () => {
  focus.answer = 486;
  try {
    const res = await client.refer(`${hfUri};filename=busy-one`, { referTo: `<${focus.uri}>` });
    assert.equal(res.status, 202);
    await waitFor(() => notifiesFor(res).some((n) => n.body.toString().startsWith('SIP/2.0 486')), 5000, 'NOTIFY 486');
    await waitFor(() => hf.fn.sessions.size === 0, 5000, 'session closed');
    const rec = (await hf.store.listHistories()).find((h) => h.name === 'busy-one');
    assert.equal(rec?.state, 'failed');
    assert.equal(rec?.endReason, '486 Busy Here');
  } finally {
    focus.answer = 200;
  }
});

test('RFC 3261 §9.1: an INVITE that keeps ringing is CANCELled after inviteTimeout; the client hears 487', async () => {
  const slow = await startHistoryFunction({ conferenceFactories: [focus.uri], trustedDomains: ['example.net'], inviteTimeout: 1 });
  focus.answer = 0;
  const cancelled = focus.cancelled;
  try {
    const res = await client.refer(`sip:history@127.0.0.1:${slow.port};filename=ringing`, { referTo: `<${focus.uri}>` });
    assert.equal(res.status, 202);
    await waitFor(() => notifiesFor(res).some((n) => n.body.toString().startsWith('SIP/2.0 487')), 5000, 'NOTIFY 487');
    assert.equal(focus.cancelled, cancelled + 1);
    await waitFor(() => slow.fn.sessions.size === 0, 3000, 'session closed');
    const rec = (await slow.store.listHistories()).find((h) => h.name === 'ringing');
    assert.equal(rec?.state, 'failed');
    assert.equal(rec?.endReason, 'no final response within 1 s');
  } finally {
    focus.answer = 200;
    await slow.close();
  }
});

test('RFC 3261 §9.1: shutting down while the INVITE rings CANCELs it', async () => {
  const other = await startHistoryFunction({ conferenceFactories: [focus.uri], trustedDomains: ['example.net'] });
  focus.answer = 0;
  const cancelled = focus.cancelled;
  try {
    const res = await client.refer(`sip:history@127.0.0.1:${other.port};filename=cut-short`, { referTo: `<${focus.uri}>` });
    assert.equal(res.status, 202);
    await waitFor(() => notifiesFor(res).some((n) => n.body.toString().startsWith('SIP/2.0 180')), 5000, 'ringing');
    await other.fn.close();
    assert.equal(other.fn.sessions.size, 0);
    assert.equal(focus.cancelled, cancelled + 1);
    const rec = (await other.store.listHistories()).find((h) => h.name === 'cut-short');
    assert.deepEqual([rec?.state, rec?.endReason], ['failed', 'shutdown']);
  } finally {
    focus.answer = 200;
    await other.close();
  }
});

const rejections: { title: string; target?: string; opts: Parameters<Client['refer']>[1] | ((f: Focus) => Parameters<Client['refer']>[1]); status: number; reason: RegExp }[] = [
  { title: 'seed 1.1.1-1a: no P-Asserted-Identity -> 403', opts: (f) => ({ referTo: `<${f.uri}>`, pai: null }), status: 403, reason: /P-Asserted-Identity/ },
  { title: 'seed 1.1.1-2: Accept-Contact without +g.oma.sip-im -> 403', opts: (f) => ({ referTo: `<${f.uri}>`, acceptContact: '*;+g.3gpp.smsip' }), status: 403, reason: /\+g\.oma\.sip-im/ },
  { title: 'seed 1.1.1-2: no Accept-Contact at all -> 403', opts: (f) => ({ referTo: `<${f.uri}>`, acceptContact: null }), status: 403, reason: /\+g\.oma\.sip-im/ },
  { title: 'seed 1.1.2-1: initiator not authorised -> 403', opts: (f) => ({ referTo: `<${f.uri}>`, pai: '<sip:mallory@example.net>' }), status: 403, reason: /not authorised/ },
  { title: 'seed 1.1.2-1: initiator of an untrusted domain -> 403', opts: (f) => ({ referTo: `<${f.uri}>`, pai: '<sip:eve@evil.example>' }), status: 403, reason: /not authorised/ },
  { title: 'seed 1.1.2-1 adding policy: too many IM users -> 403', opts: (f) => ({ referTo: `<${f.uri}>`, users: ['a', 'b', 'c', 'd', 'e', 'f'].map((u) => `sip:${u}@example.net`) }), status: 403, reason: /more than 5/ },
  { title: 'issue 6: Refer-To outside the configured factories -> 403', opts: { referTo: '<sip:victim@192.0.2.1>' }, status: 403, reason: /conference factory/ },
  { title: 'seed 1.1.2: Refer-To method=BYE is not served -> 403', opts: (f) => ({ referTo: `<${f.uri};method=BYE>` }), status: 403, reason: /method BYE/ },
  { title: 'seed 1.1.2-2: a History Filename that is a path -> 400', target: ';filename=..%2Fetc%2Fpasswd', opts: (f) => ({ referTo: `<${f.uri}>` }), status: 400, reason: /History Filename/ },
  { title: 'spec-digest: an unknown History Type -> 400', target: ';history=everything', opts: (f) => ({ referTo: `<${f.uri}>` }), status: 400, reason: /unknown History Type/ },
  { title: 'seed 1.1.2-2: a REFER naming no IM users -> 400', opts: (f) => ({ referTo: `<${f.uri}>`, users: [] }), status: 400, reason: /no IM users/ },
];

for (const r of rejections) {
  test(r.title, async () => {
    const invites = focus.invites.length;
    const opts = typeof r.opts === 'function' ? r.opts(focus) : r.opts;
    const res = await client.refer(hfUri + (r.target ?? ''), opts);
    assert.equal(res.status, r.status, `${res.status} ${res.reason}`);
    assert.match(res.reason, r.reason);
    assert.match(res.get('server') ?? '', /^IM-serv\/OMA1\.0 /);
    assert.match(res.get('allow') ?? '', /REFER/);
    if (r.status === 400 && r.target !== undefined) assert.match(res.get('warning') ?? '', /^399 \S+ "/);
    await new Promise((res2) => setTimeout(res2, 50));
    assert.equal(focus.invites.length, invites, 'no INVITE was sent');
  });
}

test('seed 1.1.1-1b: over maxSessions the REFER gets 503 with Retry-After', async () => {
  const a = await client.refer(`${hfUri};filename=one`, { referTo: `<${focus.uri}>` });
  const b = await client.refer(`${hfUri};filename=two`, { referTo: `<${focus.uri}>` });
  assert.equal(a.status, 202);
  assert.equal(b.status, 202);
  await waitFor(() => [...hf.fn.sessions].every((s) => s.phase === 'active'), 5000, 'both sessions active');
  const c = await client.refer(`${hfUri};filename=three`, { referTo: `<${focus.uri}>` });
  assert.equal(c.status, 503);
  assert.equal(c.get('retry-after'), '30');
  // Shutdown ends the active sessions with BYE.
  const byes = focus.byes;
  await hf.fn.close();
  assert.equal(hf.fn.sessions.size, 0);
  const ended = (await hf.store.listHistories()).filter((h) => h.name === 'one' || h.name === 'two');
  assert.deepEqual(ended.map((h) => [h.state, h.endReason]), [['ended', 'shutdown'], ['ended', 'shutdown']]);
  await waitFor(() => focus.byes === byes + 2, 3000, 'BYEs at the focus');
});
