// RFC 4475 (SIP torture test messages) and RFC 5118 (IPv6 torture messages): every message in
// test/fixtures/torture gets the verdict MANIFEST.tsv gives it, through the same path a
// datagram takes (parseDatagram -> checkRequest / isUsableResponse), and the stream framer
// agrees with the datagram parser whether the bytes arrive at once or one at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tortureDir } from '../helpers/paths.js';
import { parseDatagram, MessageParseError } from '../../src/sip/message/parse.js';
import { StreamFramer } from '../../src/sip/message/stream.js';
import { checkRequest, isUsableResponse, type UasProfile } from '../../src/sip/message/validate.js';
import type { SipMessage, SipRequest, SipResponse } from '../../src/sip/message/message.js';
import type { SipUri } from '../../src/sip/message/headers/uri.js';
import { getParam } from '../../src/sip/message/headers/scan.js';

/** A generic UAS (and registrar) profile, so each verdict is the message's, not a policy's. */
const PROFILE: UasProfile = {
  methods: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'MESSAGE', 'REFER', 'NOTIFY', 'SUBSCRIBE', 'UPDATE'],
  optionTags: ['timer', 'norefersub', 'replaces'],
  contentTypes: {
    INVITE: ['application/sdp', 'multipart/mixed'],
    MESSAGE: ['text/plain', 'message/cpim', 'multipart/mixed'],
  },
  responseBodyType: { INVITE: 'application/sdp' },
};

type Verdict = { accept: true } | { status: number } | { discard: true } | { noVerdict: true };

/** Our reading of each MANIFEST verdict (where the RFC allows two, the comment says which we took). */
const EXPECTED: Record<string, Verdict> = {
  wsinv: { accept: true },
  intmeth: { status: 501 },
  esc01: { accept: true },
  escnull: { accept: true },
  esc02: { status: 501 },
  lwsdisp: { accept: true },
  longreq: { accept: true },
  dblreq: { accept: true },
  semiuri: { accept: true },
  transports: { accept: true },
  mpart01: { accept: true },
  unreason: { accept: true },
  noreason: { accept: true },
  badinv01: { status: 400 },
  clerr: { status: 400 },
  ncl: { status: 400 },
  scalar02: { status: 400 },
  scalarlg: { discard: true },
  quotbal: { status: 400 },
  ltgtruri: { status: 400 },
  lwsruri: { status: 400 },
  lwsstart: { accept: true }, // liberal accept allowed (§3.1.2.9); we never forward
  trws: { accept: true }, // liberal accept allowed (§3.1.2.10)
  escruri: { status: 400 }, // "may reject": we do
  baddate: { accept: true }, // Date does not matter to us, so it is ignored
  regbadct: { status: 400 },
  badaspec: { status: 400 },
  baddn: { status: 400 },
  badvers: { status: 505 },
  mismatch01: { status: 400 },
  mismatch02: { status: 400 }, // 400 acceptable per §3.1.2.18: the CSeq mismatch is checked first
  bigcode: { discard: true },
  badbranch: { accept: true }, // RFC 2543 fallback matching
  insuf: { status: 400 },
  unkscm: { status: 416 },
  novelsc: { status: 416 },
  unksm2: { status: 400 },
  bext01: { status: 420 },
  invut: { status: 415 },
  regaut01: { accept: true },
  multi01: { status: 400 },
  mcl01: { status: 400 },
  bcast: { accept: true }, // parses; an endpoint without a matching transaction discards it
  zeromf: { accept: true },
  cparam01: { accept: true },
  cparam02: { accept: true },
  regescrt: { accept: true },
  sdp01: { status: 406 },
  inv2543: { accept: true },
  test: { noVerdict: true },
  'ipv6-good': { accept: true },
  'ipv6-bad': { status: 400 },
  'port-ambiguous': { accept: true },
  'port-unambiguous': { accept: true },
  'via-received-param-with-delim': { accept: true },
  'via-received-param-no-delim': { accept: true },
  'ipv6-in-sdp': { accept: true },
  'mult-ip-in-header': { accept: true },
  'mult-ip-in-sdp': { accept: true },
  'ipv4-mapped-ipv6': { accept: true },
  'ipv6-bug-abnf-3-colons': { status: 400 },
  'ipv6-correct-abnf-2-colons': { accept: true },
};

interface Entry {
  name: string;
  section: string;
  verdict: string;
  file: string;
  bytes: number;
  sha256: string;
}

function manifest(): Entry[] {
  const lines = readFileSync(join(tortureDir, 'MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => {
    const [name, section, verdict, , file, bytes, sha256] = l.split('\t') as string[];
    return { name: name!, section: section!, verdict: verdict!, file: file!, bytes: Number(bytes), sha256: sha256! };
  });
}

/** The file we judge for an RFC 5118 entry: its CRLF wire form, with Content-Length fixed where the archive's is wrong. */
function wireFile(e: Entry): string {
  if (!e.file.startsWith('rfc5118/')) return e.file;
  const base = e.file.slice('rfc5118/'.length);
  const fixed = `rfc5118-crlf/${base}.clfixed.dat`;
  try {
    readFileSync(join(tortureDir, fixed));
    return fixed;
  } catch {
    return `rfc5118-crlf/${base}.dat`;
  }
}

type Outcome = { kind: 'accept'; msg: SipMessage } | { kind: 'status'; status: number; reason: string } | { kind: 'discard'; why: string };

function judge(bytes: Buffer): Outcome {
  let msg: SipMessage;
  try {
    msg = parseDatagram(bytes);
  } catch (e) {
    if (!(e instanceof MessageParseError)) throw e;
    const isResponse = bytes.subarray(0, 4).toString('latin1').toUpperCase() === 'SIP/';
    return isResponse ? { kind: 'discard', why: e.message } : { kind: 'status', status: e.status, reason: e.message };
  }
  if (!msg.isRequest()) return isUsableResponse(msg) ? { kind: 'accept', msg } : { kind: 'discard', why: 'unusable response' };
  const r = checkRequest(msg, PROFILE);
  return r === undefined ? { kind: 'accept', msg } : { kind: 'status', status: r.status, reason: r.reason };
}

function describe(o: Outcome): string {
  return o.kind === 'accept' ? 'accepted' : o.kind === 'status' ? `${o.status} ${o.reason}` : `discarded (${o.why})`;
}

const entries = manifest();

test('fixtures are byte-exact copies of the torture corpus (sha256 from MANIFEST.tsv)', () => {
  let checked = 0;
  for (const e of entries) {
    if (e.section === 'derived') continue;
    const data = readFileSync(join(tortureDir, e.file));
    assert.equal(data.length, e.bytes, e.file);
    assert.equal(createHash('sha256').update(data).digest('hex'), e.sha256, e.file);
    checked++;
  }
  assert.ok(checked >= 60, `checked ${checked}`);
});

for (const e of entries) {
  if (e.section === 'derived') continue;
  const expected = EXPECTED[e.name];
  test(`${e.section} ${e.name}: ${e.verdict}`, () => {
    assert.ok(expected, `no expectation written for ${e.name}`);
    const bytes = readFileSync(join(tortureDir, wireFile(e)));
    const got = judge(bytes);
    if ('noVerdict' in expected) return;
    if ('accept' in expected) assert.equal(got.kind, 'accept', `${e.name}: ${describe(got)}`);
    else if ('discard' in expected) assert.equal(got.kind, 'discard', `${e.name}: ${describe(got)}`);
    else {
      assert.equal(got.kind, 'status', `${e.name}: ${describe(got)}`);
      if (got.kind === 'status') assert.equal(got.status, expected.status, `${e.name}: ${describe(got)}`);
    }
  });
}

test('RFC 4475 baddn with its terminating CRLF (stream form) is rejected with 400 too', () => {
  const got = judge(readFileSync(join(tortureDir, 'rfc4475-variants/baddn.crlf-terminated.dat')));
  assert.equal(got.kind === 'status' && got.status, 400, describe(got));
});

function load(name: string): SipMessage {
  return parseDatagram(readFileSync(join(tortureDir, 'rfc4475', `${name}.dat`)));
}

function req(name: string): SipRequest {
  const m = load(name);
  assert.ok(m.isRequest());
  return m;
}

test('RFC 4475 §3.1.1.1 wsinv: values survive folding, LWS and compact forms', () => {
  const m = req('wsinv');
  assert.equal(m.method, 'INVITE');
  assert.equal(m.get('max-forwards'), '0068');
  assert.deepEqual(m.cseq(), { seq: 9, method: 'INVITE' });
  assert.equal(m.callId(), 'wsinv.ndaksdj@192.0.2.1');
  assert.equal(m.toTag(), '1918181833n');
  assert.equal(m.fromTag(), '98asjd8');
  assert.equal(m.from().displayName, 'J Rosenberg \\"');
  assert.equal(m.get('subject'), '');
  assert.equal(m.get('newfangledheader'), 'newfangled value continued newfangled value');
  const vias = m.via();
  assert.equal(vias.length, 3);
  assert.equal(vias[0]!.transport, 'UDP');
  assert.equal(vias[0]!.host, '192.0.2.2');
  assert.equal(vias[0]!.branch, '390skdjuw');
  assert.equal(vias[1]!.transport, 'TCP');
  assert.equal(vias[1]!.host, 'spindle.example.com');
  assert.equal(vias[1]!.branch, 'z9hG4bK9ikj8');
  assert.equal(vias[2]!.branch, 'z9hG4bK30239');
  const contacts = m.contact();
  assert.ok(contacts !== '*');
  assert.equal(contacts[0]!.displayName, 'Quoted string ""');
  assert.equal(getParam(contacts[0]!.params, 'q'), '0.33');
  assert.equal(getParam(contacts[0]!.params, 'newparam'), 'newvalue');
  assert.equal(m.body.length, 150);
  assert.equal(m.contentType()?.type, 'application');
});

test('RFC 4475 §3.1.1.2 intmeth: odd tokens are legal and the To display name keeps its quoted NUL', () => {
  const m = req('intmeth');
  assert.equal(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
  assert.equal(m.cseq().method, m.method);
  assert.equal(m.callId(), 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
  assert.equal(m.to().displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
  assert.equal(m.topVia()!.branch, "z9hG4bK-.!%66*_+`'~");
});

test('RFC 4475 §3.1.1.3 esc01: escapes are kept, not unescaped twice', () => {
  const m = req('esc01');
  const uri = m.requestUri() as SipUri;
  assert.equal(uri.user, 'sips%3Auser%40example.com');
  assert.equal(uri.host, 'example.net');
});

test('RFC 4475 §3.1.1.5 esc02: RE%47IST%45R is not REGISTER and C%6Fntact is not Contact', () => {
  const m = req('esc02');
  assert.equal(m.method, 'RE%47IST%45R');
  assert.equal(m.get('c%6fntact'), '<sip:alias2@host2.example.com>');
  const contacts = m.contact();
  assert.ok(contacts !== '*');
  assert.deepEqual(contacts.map((c) => (c.uri as SipUri).host), ['host1.example.com', 'host3.example.com']);
});

test('RFC 4475 §3.1.1.8 dblreq: octets after Content-Length are ignored', () => {
  const m = req('dblreq');
  assert.equal(m.method, 'REGISTER');
  assert.equal(m.body.length, 0);
});

test('RFC 4475 §3.1.1.9 semiuri: ";" in the user part is not a parameter', () => {
  const uri = req('semiuri').requestUri() as SipUri;
  assert.equal(uri.user, 'user;par=u%40example.net');
  assert.equal(uri.host, 'example.com');
  assert.equal(uri.params.length, 0);
});

test('RFC 4475 §3.1.1.10 transports: every transport token is kept', () => {
  assert.deepEqual(req('transports').via().map((v) => v.transport), ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
});

test('RFC 4475 §3.1.1.11 mpart01: the binary body is framed by Content-Length exactly', () => {
  const m = req('mpart01');
  assert.equal(m.body.length, Number(m.get('content-length')));
  assert.ok(m.body.includes(0));
});

test('RFC 4475 §3.1.1.12/13 unreason, noreason: UTF-8 and empty reason phrases', () => {
  const u = load('unreason') as SipResponse;
  assert.equal(u.status, 200);
  assert.equal(u.reason, '= 2**3 * 5**2 но сто девяносто девять - простое');
  const n = load('noreason') as SipResponse;
  assert.equal(n.status, 100);
  assert.equal(n.reason, '');
});

test('RFC 4475 §3.3.12/13 cparam01/02: contact-param outside <> vs uri-param inside', () => {
  const c1 = req('cparam01').contact();
  assert.ok(c1 !== '*');
  assert.equal(getParam(c1[0]!.params, 'unknownparam'), null);
  assert.equal((c1[0]!.uri as SipUri).params.length, 0);
  const c2 = req('cparam02').contact();
  assert.ok(c2 !== '*');
  assert.equal(c2[0]!.params.length, 0);
  assert.equal(getParam((c2[0]!.uri as SipUri).params, 'unknownparam'), null);
});

test('RFC 4475 §3.3.14 regescrt: the escaped Route header stays in the Contact URI', () => {
  const c = req('regescrt').contact();
  assert.ok(c !== '*');
  const uri = c[0]!.uri as SipUri;
  assert.equal(uri.headers.length, 1);
  assert.equal(uri.headers[0]!.name, 'Route');
});

test('RFC 4475 §3.3.5 bext01: 420 lists exactly the unknown Require tags', () => {
  const r = checkRequest(req('bext01'), PROFILE);
  assert.equal(r?.status, 420);
  assert.deepEqual(r?.headers, [{ name: 'Unsupported', value: 'nothingSupportsThis, nothingSupportsThisEither' }]);
});

test('RFC 4475 §3.1.1.2 intmeth: 501 carries Allow', () => {
  const r = checkRequest(req('intmeth'), PROFILE);
  assert.equal(r?.status, 501);
  assert.ok(r?.headers.some((h) => h.name === 'Allow' && h.value.includes('INVITE')));
});

test('RFC 4475 §3.4.1 inv2543: no Content-Length on a datagram means the rest of it', () => {
  const m = req('inv2543');
  assert.equal(m.has('content-length'), false);
  assert.ok(m.body.toString().startsWith('v=0'));
  assert.equal(m.fromTag(), undefined);
});

test('RFC 5118 §4.1-§4.5: IPv6 references in Request-URI and Via', () => {
  const good = parseDatagram(readFileSync(join(tortureDir, 'rfc5118-crlf/ipv6-good.dat'))) as SipRequest;
  assert.equal((good.requestUri() as SipUri).host, '[2001:db8::10]');
  const amb = parseDatagram(readFileSync(join(tortureDir, 'rfc5118-crlf/port-ambiguous.dat'))) as SipRequest;
  assert.equal((amb.requestUri() as SipUri).host, '[2001:db8::10:5070]');
  assert.equal((amb.requestUri() as SipUri).port, undefined);
  const unamb = parseDatagram(readFileSync(join(tortureDir, 'rfc5118-crlf/port-unambiguous.dat'))) as SipRequest;
  assert.equal((unamb.requestUri() as SipUri).port, 5070);
  const nodelim = parseDatagram(readFileSync(join(tortureDir, 'rfc5118-crlf/via-received-param-no-delim.dat'))) as SipRequest;
  assert.match(nodelim.topVia()!.received ?? '', /2001:db8::9:255/);
  const delim = parseDatagram(readFileSync(join(tortureDir, 'rfc5118-crlf/via-received-param-with-delim.dat'))) as SipRequest;
  assert.match(delim.topVia()!.received ?? '', /2001:db8::9:255/);
});

// The stream framer must see the same messages whether bytes arrive at once or one by one.
for (const e of entries) {
  if (e.section === 'derived') continue;
  test(`stream framing agrees with datagram parsing: ${e.name}`, () => {
    const bytes = readFileSync(join(tortureDir, wireFile(e)));
    const whole = new StreamFramer().push(bytes);
    const f = new StreamFramer();
    const split = [];
    for (let i = 0; i < bytes.length; i++) split.push(...f.push(bytes.subarray(i, i + 1)));
    const summary = (evs: ReturnType<StreamFramer['push']>) =>
      evs.map((ev) => (ev.kind === 'message' ? `msg:${ev.message.body.length}` : ev.kind === 'error' ? `err:${ev.error.status}` : 'ping'));
    assert.deepEqual(summary(split), summary(whole));
  });
}
