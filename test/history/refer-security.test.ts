// Issue 6, REFER side: the RFC 3325 trust domain (a P-Asserted-Identity from outside it is
// not believed), REFER authorisation (seed 1.1.1-1a, 1.1.2-1; RFC 3515 §2.4.2), and no
// amplification — the History Function INVITEs only a configured conference factory, never
// a Refer-To target of the referrer's choosing, whatever method, parameters, embedded
// headers or cid: reference it carries. Every refusal is checked on the wire: a spy on the
// History Function's transports records every request it sends, and a UDP "victim" socket
// named in the Refer-To counts what reaches it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { Client, Focus, startHistoryFunction, waitFor, type HfNode } from './harness.js';
import { authorize, matchFactory, type PolicyConfig } from '../../src/history/policy.js';
import { parseUri, type SipUri } from '../../src/sip/message/headers/uri.js';
import { formatMultipart, makeBoundary, parseMultipart } from '../../src/sip/message/headers/multipart.js';
import { parseContentType } from '../../src/sip/message/headers/content-type.js';
import { getParamUnquoted } from '../../src/sip/message/headers/scan.js';
import { buildResourceLists, parseResourceLists } from '../../src/xml/resource-lists.js';
import type { SipMessage, SipResponse } from '../../src/sip/message/message.js';
import type { Destination } from '../../src/sip/transport/types.js';

interface Wire {
  /** Requests the History Function sent: method, Request-URI, destination. */
  requests: { method: string; uri: string; dest: Destination }[];
  /** Responses it sent (status codes). */
  responses: number[];
}

/** Record everything the node sends, at its transport boundary. */
function spy(node: HfNode): Wire {
  const wire: Wire = { requests: [], responses: [] };
  const t = node.transports;
  const send = t.send.bind(t);
  const sendBytes = t.sendBytes.bind(t);
  const note = (msg: SipMessage, dest: Destination): void => {
    if (msg.isRequest()) wire.requests.push({ method: msg.method, uri: msg.uri, dest });
    else wire.responses.push((msg as SipResponse).status);
  };
  t.send = (msg, dest) => {
    note(msg, dest);
    return send(msg, dest);
  };
  t.sendBytes = (bytes, dest, onError) => {
    const head = bytes.subarray(0, 16).toString('latin1');
    if (head.startsWith('SIP/2.0 ')) wire.responses.push(Number(head.slice(8, 11)));
    else wire.requests.push({ method: head.split(' ')[0]!, uri: '(pre-serialized)', dest });
    return sendBytes(bytes, dest, onError);
  };
  return wire;
}

let focus: Focus;
let client: Client;
let victim: dgram.Socket;
let victimPort: number;
let victimDatagrams = 0;
/** Trusts the client's address (127.0.0.1); no default factory. */
let hf: HfNode;
let wire: Wire;
/** Trusts only 192.0.2.0/24: the client on 127.0.0.1 is outside the trust domain. */
let untrusting: HfNode;
let untrustingWire: Wire;
/** Has a default conference factory, for cid: Refer-To. */
let withDefault: HfNode;
let withDefaultWire: Wire;

before(async () => {
  focus = await new Focus().start();
  client = await new Client().start();
  victim = dgram.createSocket('udp4');
  victim.on('message', () => victimDatagrams++);
  await new Promise<void>((r) => victim.bind(0, '127.0.0.1', r));
  victimPort = (victim.address() as AddressInfo).port;
  const common = { conferenceFactories: [focus.uri], trustedDomains: ['example.net'], deny: ['sip:mallory@example.net'], maxImUsers: 5 };
  hf = await startHistoryFunction(common);
  wire = spy(hf);
  untrusting = await startHistoryFunction({ ...common, trustedPeers: ['192.0.2.0/24'] });
  untrustingWire = spy(untrusting);
  withDefault = await startHistoryFunction({ ...common, defaultConferenceFactory: focus.uri });
  withDefaultWire = spy(withDefault);
});

after(async () => {
  await hf?.close();
  await untrusting?.close();
  await withDefault?.close();
  await client?.node.close();
  await focus?.node.close();
  victim?.close();
});

const uriOf = (n: HfNode): string => `sip:history@127.0.0.1:${n.port}`;

/** Refused: the status, and nothing but the final response left the History Function. */
async function assertRefused(node: HfNode, w: Wire, res: SipResponse, status: number, reason: RegExp): Promise<void> {
  assert.equal(res.status, status, `${res.status} ${res.reason}`);
  assert.match(res.reason, reason);
  // Give a wrongly sent INVITE time to show; the refusal is decided before any could leave.
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(w.requests, [], 'no request left the History Function');
  assert.deepEqual(w.responses, [status], 'only the final response was sent');
  assert.equal(victimDatagrams, 0, 'nothing reached the Refer-To target');
  assert.equal(node.fn.sessions.size, 0);
  assert.deepEqual(await node.store.listHistories(), [], 'no history was created');
}

function reset(...ws: Wire[]): void {
  for (const w of ws) {
    w.requests.length = 0;
    w.responses.length = 0;
  }
}

// ---- RFC 3325 trust domain ---------------------------------------------------------------

test('RFC 3325 §4: a P-Asserted-Identity from outside the trust domain is ignored; the REFER is refused (seed 1.1.1-1a), nothing sent', async () => {
  reset(untrustingWire);
  // The client claims a user of a trusted domain, in PAI and in From: neither is believed.
  const res = await client.refer(uriOf(untrusting), { referTo: `<${focus.uri}>`, pai: '<sip:alice@example.net>' });
  await assertRefused(untrusting, untrustingWire, res, 403, /no trusted P-Asserted-Identity/);
});

test('RFC 3325 §4: spoofing a trusted-domain user, and several PAI values, from an untrusted peer are refused', async () => {
  for (const pai of ['"Boss" <sip:ceo@example.net>', '<sip:alice@example.net>, <tel:+15551234>', '<sips:alice@example.net>']) {
    reset(untrustingWire);
    const res = await client.refer(uriOf(untrusting), { referTo: `<${focus.uri}>`, pai, extra: [['p-preferred-identity', '<sip:alice@example.net>']] });
    await assertRefused(untrusting, untrustingWire, res, 403, /no trusted P-Asserted-Identity/);
  }
  // Without any PAI, From alone (sip:alice@example.net) does not authorise either.
  reset(untrustingWire);
  await assertRefused(untrusting, untrustingWire, await client.refer(uriOf(untrusting), { referTo: `<${focus.uri}>`, pai: null }), 403, /P-Asserted-Identity/);
});

test('RFC 3325 §4: the same REFER from inside the trust domain is believed and served (control case)', async () => {
  reset(wire);
  const invites = focus.invites.length;
  const res = await client.refer(`${uriOf(hf)};filename=trusted-control`, { referTo: `<${focus.uri}>`, pai: '<sip:alice@example.net>' });
  assert.equal(res.status, 202);
  await waitFor(() => focus.invites.length === invites + 1, 3000, 'INVITE at the factory');
  const invite = focus.invites.at(-1)!;
  assert.equal(invite.get('p-asserted-identity'), '<sip:alice@example.net>');
  // A closed HistoryFunction refuses new REFERs (503): the tests below get a fresh one.
  await hf.close();
  hf = await startHistoryFunction({ conferenceFactories: [focus.uri], trustedDomains: ['example.net'], deny: ['sip:mallory@example.net'], maxImUsers: 5 });
  wire = spy(hf);
});

// ---- Authorisation (seed 1.1.2-1) ----------------------------------------------------------

const cfg: PolicyConfig = {
  trustedPeers: ['127.0.0.1'],
  trustedDomains: ['example.net'],
  allow: ['sip:partner-*@example.org', 'sip:guest@example.com'],
  deny: ['sip:mallory@example.net', 'sip:*@blocked.example.net'],
  maxImUsers: 3,
  conferenceFactories: ['sip:conf-factory@example.net'],
};
const u = (s: string): SipUri => parseUri(s) as SipUri;

test('seed 1.1.2-1: allow/deny patterns — deny wins over trusted domain and allow, wildcards, no partial matches', () => {
  assert.equal(authorize(u('sip:partner-1@example.org'), [], cfg), undefined);
  assert.equal(authorize(u('sip:guest@example.com'), [], cfg), undefined);
  assert.equal(authorize(u('sip:guest2@example.com'), [], cfg)?.status, 403, 'an allow entry without * is exact');
  assert.equal(authorize(u('sip:xpartner-1@example.org'), [], cfg)?.status, 403, 'the pattern is anchored');
  assert.equal(authorize(u('sip:partner-1@example.org.evil.example'), [], cfg)?.status, 403, 'the pattern is anchored at the end');
  assert.equal(authorize(u('sip:alice@blocked.example.net'), [], cfg)?.status, 403, 'deny wildcard');
  assert.equal(authorize(u('sip:alice@example.net.evil.example'), [], cfg)?.status, 403, 'a trusted domain is matched whole');
  assert.equal(authorize(u('sip:alice@sub.example.net'), [], cfg)?.status, 403, 'a trusted domain does not cover subdomains');
  // Pattern metacharacters in the configuration are literal.
  assert.equal(authorize(u('sip:partner-1@exampleXorg'), [], cfg)?.status, 403, "'.' in a pattern is not a regex wildcard");
});

test('RFC 3261 §19.1.4: an escaped spelling of a denied user is still denied', () => {
  assert.equal(authorize(u('sip:mallory@example.net'), [], cfg)?.status, 403);
  assert.equal(authorize(u('sip:MALLORY@example.net'), [], cfg)?.status, 403);
  assert.equal(authorize(u('sip:mall%6Fry@example.net'), [], cfg)?.status, 403, '%6F is "o"');
  assert.equal(authorize(u('sip:%6d%61%6c%6c%6f%72%79@EXAMPLE.NET'), [], cfg)?.status, 403);
  assert.equal(authorize(u('sip:mallory@example.net;user=phone'), [], cfg)?.status, 403);
});

test('seed 1.1.2-1 end to end: a denied initiator spelled with escapes gets 403 and nothing is sent', async () => {
  reset(wire);
  const res = await client.refer(uriOf(hf), { referTo: `<${focus.uri}>`, pai: '<sip:mall%6Fry@example.net>' });
  await assertRefused(hf, wire, res, 403, /not authorised/);
});

// ---- No amplification: only a configured factory is ever INVITEd ---------------------------

test('matchFactory: maddr, sips, user, port, transport and embedded headers never turn another target into a factory', () => {
  const f = ['sip:conf-factory@example.net'];
  for (const t of [
    'sip:conf-factory@example.net;maddr=192.0.2.66',
    'sips:conf-factory@example.net',
    'sip:conf-factory@example.net:5070',
    'sip:conf-factory@example.net;transport=tcp',
    'sip:conf-factory@example.net;user=phone',
    'sip:Conf-Factory@example.net',
    'sip:conf-factory@example.net.evil.example',
    'sip:example.net',
    'tel:+15551234',
  ]) {
    assert.equal(matchFactory(t, f), undefined, t);
  }
  // What a match returns is the configured URI, never the referrer's text.
  assert.equal(matchFactory('sip:conf-factory@EXAMPLE.NET;history=session;filename=x', f), 'sip:conf-factory@example.net');
});

const amplification: { title: string; referTo: () => string; status: number; reason: RegExp }[] = [
  { title: 'a plain non-factory target', referTo: () => `<sip:victim@127.0.0.1:${victimPort}>`, status: 403, reason: /conference factory/ },
  { title: 'a non-factory target with method=INVITE', referTo: () => `<sip:victim@127.0.0.1:${victimPort};method=INVITE>`, status: 403, reason: /conference factory/ },
  { title: 'a non-factory target with ?method=BYE embedded', referTo: () => `<sip:victim@127.0.0.1:${victimPort}?method=BYE>`, status: 403, reason: /conference factory/ },
  { title: 'the factory with ;method=BYE', referTo: () => `<${focus.uri};method=BYE>`, status: 403, reason: /method BYE/ },
  { title: 'the factory with ;method=MESSAGE', referTo: () => `<${focus.uri};method=MESSAGE>`, status: 403, reason: /method MESSAGE/ },
  { title: 'a non-factory target with ;method=BYE', referTo: () => `<sip:victim@127.0.0.1:${victimPort};method=BYE>`, status: 403, reason: /method BYE/ },
  { title: 'the factory host and port under another user', referTo: () => focus.uri.replace('factory@', 'victim@'), status: 403, reason: /conference factory/ },
  { title: 'the factory with maddr pointing elsewhere', referTo: () => `<${focus.uri};maddr=192.0.2.66>`, status: 403, reason: /conference factory/ },
  { title: 'the factory over sips:', referTo: () => `<${focus.uri.replace(/^sip:/, 'sips:')}>`, status: 403, reason: /conference factory/ },
  { title: 'a cid: list reference with no default factory configured', referTo: () => '<cid:list1@example.net>', status: 403, reason: /conference factory/ },
  { title: 'a tel: target', referTo: () => '<tel:+15551234>', status: 416, reason: /Unsupported URI Scheme/ },
  { title: 'an http: target', referTo: () => `<http://127.0.0.1:${victimPort}/>`, status: 416, reason: /Unsupported URI Scheme/ },
];

for (const a of amplification) {
  test(`issue 6 no amplification: Refer-To ${a.title} -> ${a.status}, no INVITE anywhere`, async () => {
    reset(wire);
    const invites = focus.invites.length;
    const res = await client.refer(uriOf(hf), { referTo: a.referTo() });
    await assertRefused(hf, wire, res, a.status, a.reason);
    assert.equal(focus.invites.length, invites);
  });
}

test('RFC 3515 §2.1: two Refer-To headers -> 400, nothing sent', async () => {
  reset(wire);
  const res = await client.refer(uriOf(hf), { referTo: `<${focus.uri}>`, extra: [['refer-to', `<sip:victim@127.0.0.1:${victimPort}>`]] });
  // Refused by the RFC 3261 §8.2 checks before the History Function sees it, or by readRefer.
  await assertRefused(hf, wire, res, 400, /refer-to/i);
});

test('RFC 3261 §12.2.2: a REFER inside a recorded session\'s dialog gets 405 and a REFER with an unknown To tag 481; no INVITE follows', async () => {
  reset(wire);
  const invites = focus.invites.length;
  const res = await client.refer(`${uriOf(hf)};filename=in-dialog`, { referTo: `<${focus.uri}>` });
  assert.equal(res.status, 202);
  await waitFor(() => focus.invites.length === invites + 1 && [...hf.fn.sessions].every((x) => x.phase === 'active'), 3000, 'session active');
  const inDialog = await focus.node.ua.sendInDialog(focus.inviteDialog!, 'REFER', {
    headers: [['refer-to', `<sip:victim@127.0.0.1:${victimPort}>`], ['p-asserted-identity', '<sip:alice@example.net>'], ['accept-contact', '*;+g.oma.sip-im']],
  });
  assert.equal(inDialog?.status, 405);
  // Out of dialog but with a To tag: no such dialog (RFC 3261 §12.2.2 -> 481).
  const ua = client.node.ua;
  const req = ua.createRequest('REFER', uriOf(hf), '<sip:alice@example.net>', `<${uriOf(hf)}>;tag=guessed`);
  req.append('refer-to', `<${focus.uri}>`);
  req.append('p-asserted-identity', '<sip:alice@example.net>');
  req.append('accept-contact', '*;+g.oma.sip-im');
  const orphan = await ua.request(req, { body: buildResourceLists([{ uri: 'sip:bob@example.net' }]), contentType: 'application/resource-lists+xml' });
  assert.equal(orphan.status, 481);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(focus.invites.length, invites + 1, 'only the one INVITE of the accepted REFER');
  assert.equal(wire.requests.filter((r) => r.method === 'INVITE').length, 1);
  assert.equal(victimDatagrams, 0);
  await hf.fn.close();
  await hf.close();
  hf = await startHistoryFunction({ conferenceFactories: [focus.uri], trustedDomains: ['example.net'], deny: ['sip:mallory@example.net'], maxImUsers: 5 });
  wire = spy(hf);
});

test('RFC 3261 §19.1.5: headers embedded in a factory Refer-To (Route, Call-ID, body) are not honoured', async () => {
  reset(wire);
  const invites = focus.invites.length;
  const route = encodeURIComponent(`<sip:victim@127.0.0.1:${victimPort};lr>`);
  const res = await client.refer(`${uriOf(hf)};filename=embedded`, {
    referTo: `<${focus.uri}?Route=${route}&Call-ID=chosen-by-referrer&To=%3Csip%3Avictim%40127.0.0.1%3E&body=hello>`,
  });
  assert.equal(res.status, 202, `${res.status} ${res.reason}`);
  await waitFor(() => focus.invites.length === invites + 1, 3000, 'INVITE at the factory');
  const invite = focus.invites.at(-1)!;
  assert.equal(invite.get('route'), undefined);
  assert.notEqual(invite.callId(), 'chosen-by-referrer');
  assert.doesNotMatch(invite.get('to') ?? '', /victim/);
  assert.doesNotMatch(invite.body.toString('latin1'), /hello/);
  await hf.fn.close();
  // Every request that left went to the focus (INVITE, ACK, SUBSCRIBE, BYE) or back to the client (NOTIFY).
  assert.ok(wire.requests.length > 0);
  for (const r of wire.requests) assert.ok([focus.node.port, client.node.port].includes(r.dest.port), `${r.method} to ${r.dest.address}:${r.dest.port}`);
  assert.equal(victimDatagrams, 0);
});

test('RFC 5368 §4: a cid: Refer-To goes to the default factory only; the listed users are never INVITEd by us', async () => {
  reset(withDefaultWire);
  const invites = focus.invites.length;
  const victimUri = `sip:victim@127.0.0.1:${victimPort}`;
  const boundary = makeBoundary();
  const list = buildResourceLists([{ uri: 'sip:bob@example.net' }, { uri: victimUri }]);
  const ua = client.node.ua;
  const target = `${uriOf(withDefault)};filename=via-cid`;
  const req = ua.createRequest('REFER', target, '<sip:alice@example.net>', `<${uriOf(withDefault)}>`);
  req.append('refer-to', '<cid:list1@example.net>');
  req.append('p-asserted-identity', '<sip:alice@example.net>');
  req.append('accept-contact', '*;+g.oma.sip-im');
  req.append('contact', `<sip:alice@127.0.0.1:${client.node.port}>;+g.oma.sip-im`);
  const body = formatMultipart(
    [
      { headers: [{ name: 'Content-Type', value: 'text/plain' }], body: Buffer.from('decoy') },
      { headers: [{ name: 'Content-Type', value: 'application/resource-lists+xml' }, { name: 'Content-ID', value: '<list1@example.net>' }], body: Buffer.from(list) },
    ],
    boundary,
  );
  const res = await ua.request(req, { body, contentType: `multipart/mixed;boundary=${boundary}` });
  assert.equal(res.status, 202, `${res.status} ${res.reason}`);
  await waitFor(() => focus.invites.length === invites + 1, 3000, 'INVITE at the factory');
  const invite = focus.invites.at(-1)!;
  assert.equal(invite.uri.split(";")[0], focus.uri);
  const ct = parseContentType(invite.get('content-type')!);
  const parts = parseMultipart(invite.body, getParamUnquoted(ct.params, 'boundary')!);
  const rl = parts.find((p) => p.headers.some((h) => /resource-lists/.test(h.value)))!;
  assert.deepEqual(parseResourceLists(rl.body).entries.map((e) => e.uri), ['sip:bob@example.net', victimUri]);
  await withDefault.fn.close();
  for (const r of withDefaultWire.requests) assert.ok([focus.node.port, client.node.port].includes(r.dest.port), `${r.method} to ${r.dest.address}:${r.dest.port}`);
  assert.equal(victimDatagrams, 0);
});
