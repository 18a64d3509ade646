// The fuzz targets: each pure parser, its seed corpus and the errors it may refuse input with.
// Seeds come from the real corpora (RFC 4475/5118 torture messages, bench fixtures, the MSRP
// and conference-info test fixtures) plus a few frames built with our own serializers.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tortureDir } from '../helpers/paths.js';
import { parseDatagram } from '../../src/sip/message/parse.js';
import { ParseError } from '../../src/sip/message/errors.js';
import { StreamFramer } from '../../src/sip/message/stream.js';
import { checkRequest, isUsableResponse, type UasProfile } from '../../src/sip/message/validate.js';
import { MissingHeaderError, type SipMessage } from '../../src/sip/message/message.js';
import { parseMultipart } from '../../src/sip/message/headers/multipart.js';
import { parseUri } from '../../src/sip/message/headers/uri.js';
import { MsrpStreamParser, parseMsrpMessage } from '../../src/msrp/parse.js';
import { MsrpParseError } from '../../src/msrp/errors.js';
import { buildReport, buildRequest, buildResponse, serializeMsrp } from '../../src/msrp/serialize.js';
import {
  byteRangeOf, expiresOf, failureReportOf, messageIdOf, pathOf, statusOf, successReportOf, type MsrpMessage,
} from '../../src/msrp/message.js';
import { ALL_EXAMPLES } from '../msrp/fixtures.js';
import { parseCpim } from '../../src/cpim/parse.js';
import { buildCpim } from '../../src/cpim/serialize.js';
import { CpimError } from '../../src/cpim/errors.js';
import { parseConferenceInfo } from '../../src/conference/conference-info.js';
import { ConferenceInfoError } from '../../src/conference/types.js';
import { RFC4575_BASIC, RFC4575_RICH, doc, user } from '../conference/fixtures.js';
import { parseSdp, SdpError } from '../../src/sdp/sdp.js';
import { parseResourceLists, ResourceListError } from '../../src/xml/resource-lists.js';
import { XmlError } from '../../src/xml/safe-xml.js';
import { pick, type Rng, type Target } from './engine.js';

const enc = (s: string): Buffer => Buffer.from(s, 'latin1');
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** The generic UAS profile of test/torture/torture.test.ts. */
export const PROFILE: UasProfile = {
  methods: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'MESSAGE', 'REFER', 'NOTIFY', 'SUBSCRIBE', 'UPDATE'],
  optionTags: ['timer', 'norefersub', 'replaces'],
  contentTypes: {
    INVITE: ['application/sdp', 'multipart/mixed'],
    MESSAGE: ['text/plain', 'message/cpim', 'multipart/mixed'],
  },
  responseBodyType: { INVITE: 'application/sdp' },
};

function files(dir: string, suffix: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, suffix, out);
    else if (name.endsWith(suffix)) out.push(p);
  }
  return out;
}

function toCrlf(b: Buffer): Buffer {
  return enc(b.toString('latin1').replace(/\r?\n/g, '\r\n'));
}

let sipCache: Buffer[] | undefined;
/** test/fixtures/torture/**\/*.dat and bench/fixtures/*.sip (as written and with CRLF line ends). */
export function sipSeeds(): Buffer[] {
  if (sipCache) return sipCache;
  const out: Buffer[] = files(tortureDir, '.dat').map((p) => readFileSync(p));
  for (const p of files(join(repoRoot, 'bench', 'fixtures'), '.sip')) {
    const b = readFileSync(p);
    out.push(b, toCrlf(b));
  }
  sipCache = out;
  return out;
}

/** Messages of the SIP corpus that parse, for the derived corpora (bodies, URIs). */
function parsedSeeds(): SipMessage[] {
  const out: SipMessage[] = [];
  for (const b of sipSeeds()) {
    try { out.push(parseDatagram(b)); } catch { /* a torture message that is meant to fail */ }
  }
  return out;
}

function boundaryOf(m: SipMessage): string | undefined {
  try {
    const ct = m.contentType();
    if (ct?.type !== 'multipart') return undefined;
    return ct.params.find((p) => p.name.toLowerCase() === 'boundary')?.value?.replace(/^"|"$/g, '');
  } catch {
    return undefined;
  }
}

function all(fn: () => unknown): void {
  fn();
}

/** Calls every structured accessor; each may refuse its header with ParseError independently. */
function touchSip(m: SipMessage): void {
  const accessors: Array<() => unknown> = [
    () => m.via(), () => m.topVia(), () => m.from(), () => m.to(), () => m.cseq(), () => m.callId(), () => m.fromTag(),
    () => m.toTag(), () => m.contact(), () => m.contentType(),
  ];
  if (m.isRequest()) {
    accessors.push(() => m.requestUri(), () => checkRequest(m, PROFILE));
  } else {
    accessors.push(() => isUsableResponse(m));
  }
  for (const a of accessors) {
    try {
      all(a);
    } catch (e) {
      // A missing mandatory header is MissingHeaderError; a malformed one is ParseError.
      if (!(e instanceof ParseError) && !(e instanceof MissingHeaderError)) throw e;
    }
  }
  // Also read the headers list (the in-place path builds it lazily).
  void m.headers.length;
}

const sipTokens = [
  'Content-Length: ', 'l: ', 'Via: SIP/2.0/UDP ', ';branch=z9hG4bK', 'sip:', 'sips:', 'tel:', '[::1]', '[2001:db8::1]:5060', 'SIP/2.0', ' 200 OK',
  'CSeq: 1 INVITE', 'Content-Type: multipart/mixed;boundary=x', '\r\n\t', '\r\n ', 'From: ', 'To: ', ';tag=', 'Contact: *', 'boundary=',
  '--boundary1', '--boundary1--',
].map(enc);

export const sipDatagram: Target = {
  name: 'sip-datagram',
  get corpus() { return sipSeeds(); },
  tokens: sipTokens,
  run(input) {
    let m: SipMessage;
    try {
      m = parseDatagram(input);
    } catch (e) {
      if (e instanceof ParseError) return;
      throw e;
    }
    touchSip(m);
  },
  expected: (e) => e instanceof ParseError,
};

/** Random-sized chunks: mostly small, sometimes one byte at a time, sometimes whole. */
function chunks(input: Buffer, rng: Rng): Buffer[] {
  const out: Buffer[] = [];
  const mode = pick(rng, 4);
  for (let i = 0; i < input.length;) {
    const n = mode === 0 ? 1 : mode === 1 ? input.length : 1 + pick(rng, mode === 2 ? 64 : 2048);
    out.push(input.subarray(i, i + n));
    i += n;
  }
  return out;
}

export const sipStream: Target = {
  name: 'sip-stream',
  get corpus() { return sipSeeds(); },
  tokens: sipTokens,
  run(input, rng) {
    const f = new StreamFramer();
    // Two messages back to back, the second one whole, to exercise the resynchronisation.
    const data = pick(rng, 4) === 0 ? Buffer.concat([input, input]) : input;
    for (const c of chunks(data, rng)) {
      for (const ev of f.push(c)) if (ev.kind === 'message') touchSip(ev.message);
    }
  },
  // The framer reports errors as events: any throw is a finding.
  expected: () => false,
};

let msrpCache: Buffer[] | undefined;
export function msrpSeeds(): Buffer[] {
  if (msrpCache) return msrpCache;
  const out = Object.values(ALL_EXAMPLES).map(utf8);
  const to = ['msrp://bob.example.com:8888/9di4eae923wzd;tcp'];
  const from = ['msrp://alice.example.com:7394/2s93i93idk;tcp'];
  const send = buildRequest({
    method: 'SEND', transactionId: 'a786hjs2', toPath: to, fromPath: from,
    headers: [{ name: 'Message-ID', value: '87652491' }, { name: 'Byte-Range', value: '1-11/11' }, { name: 'Success-Report', value: 'yes' }],
    contentType: 'message/cpim', body: utf8('Hello world'),
  });
  out.push(serializeMsrp(send));
  out.push(serializeMsrp(buildResponse(send, 200)));
  out.push(serializeMsrp(buildReport({ toPath: from, fromPath: to, messageId: '87652491', byteRange: { start: 1, end: 11, total: 11 }, status: { namespace: 0, code: 200 } })));
  msrpCache = out;
  return out;
}

function touchMsrp(m: MsrpMessage): void {
  const accessors: Array<() => unknown> = [
    () => pathOf(m, 'To-Path'), () => pathOf(m, 'From-Path'), () => pathOf(m, 'Use-Path'), () => byteRangeOf(m), () => statusOf(m),
    () => messageIdOf(m), () => successReportOf(m), () => failureReportOf(m), () => expiresOf(m),
  ];
  for (const a of accessors) {
    try { a(); } catch (e) { if (!(e instanceof MsrpParseError)) throw e; }
  }
}

const msrpTokens = ['-------', '$\r\n', '+\r\n', '#\r\n', 'MSRP ', ' SEND', ' REPORT', ' 200 OK', 'Byte-Range: 1-*/*', 'Byte-Range: ', '-*/', 'To-Path: ', 'From-Path: ', 'Message-ID: ', 'Content-Type: ', '\r\n\r\n', '$', '+', '#', 'msrp://', 'msrps://', ';tcp'].map(enc);

export const msrpStream: Target = {
  name: 'msrp-stream',
  get corpus() { return msrpSeeds(); },
  tokens: msrpTokens,
  run(input, rng) {
    const p = new MsrpStreamParser();
    const data = pick(rng, 4) === 0 ? Buffer.concat([input, input]) : input;
    for (const c of chunks(data, rng)) {
      for (const ev of p.push(c)) if (ev.kind === 'message') touchMsrp(ev.message);
    }
  },
  // Stream errors are events ('invalid', 'fatal'): any throw is a finding.
  expected: () => false,
};

export const msrpMessage: Target = {
  name: 'msrp-message',
  get corpus() { return msrpSeeds(); },
  tokens: msrpTokens,
  run(input) {
    let m: MsrpMessage;
    try { m = parseMsrpMessage(input); } catch (e) { if (e instanceof MsrpParseError) return; throw e; }
    touchMsrp(m);
  },
  expected: (e) => e instanceof MsrpParseError,
};

let cpimCache: Buffer[] | undefined;
function cpimSeeds(): Buffer[] {
  if (cpimCache) return cpimCache;
  const base = {
    from: { displayName: 'Alice', uri: 'im:alice@example.com' },
    to: [{ displayName: 'Bob', uri: 'im:bob@example.com' }],
    dateTime: '2006-04-04T12:16:49-05:00',
    contentType: 'text/plain',
    body: 'Hello World',
  };
  cpimCache = [
    buildCpim(base),
    buildCpim({ ...base, imdn: { messageId: '34jk324j', dispositionNotification: ['positive-delivery', 'display'] } }),
    buildCpim({ ...base, cc: [{ uri: 'im:carol@example.com' }], subject: [{ value: 'hi', lang: 'en' }, { value: 'salut', lang: 'fr' }], ns: { MyFeatures: 'mid:MessageFeatures@id.foo.com' }, headers: [{ prefix: 'MyFeatures', name: 'VitalMessageOption', value: 'Confirmation-requested' }], mimeHeaders: [{ name: 'Content-ID', value: '<1234567890@foo.com>' }], body: 'Zoë 😀' }),
    buildCpim({ ...base, from: { displayName: 'a, "b"', uri: 'sip:a@example.com' }, dateTime: new Date(0), contentType: 'message/imdn+xml', body: '<imdn xmlns="urn:ietf:params:xml:ns:imdn"/>' }),
  ];
  return cpimCache;
}

export const cpim: Target = {
  name: 'cpim',
  get corpus() { return cpimSeeds(); },
  tokens: ['NS: ', 'DateTime: ', 'Subject:;lang=', 'From: ', 'To: ', 'Require: ', 'imdn.', 'Content-Type: ', '\\u', '\\"'].map(enc),
  run(input) { parseCpim(input); },
  expected: (e) => e instanceof CpimError,
};

export const conferenceInfo: Target = {
  name: 'conference-info',
  corpus: [
    utf8(RFC4575_BASIC), utf8(RFC4575_RICH),
    utf8(doc(1, 'full', user('alice', 'connected', { display: 'Alice' }) + user('bob', 'dialing-out', { state: 'partial' }))),
    utf8(doc(7, 'partial', user('carol', 'disconnected', { epState: 'deleted', extra: '<disconnection-info><when>2026-01-01T00:00:00Z</when></disconnection-info>' }), 'partial')),
  ],
  tokens: ['<user entity="sip:x@y">', '</user>', '<endpoint entity="sip:e@f">', '</endpoint>', 'state="deleted"', 'version="4294967296"', '<when>', '</when>', '<status>', '</status>', '<media id="1">', '<display-text>'].map(enc),
  run(input) { parseConferenceInfo(input); },
  expected: (e) => e instanceof ConferenceInfoError,
};

const multipartSeedsCache: { v?: Buffer[] } = {};
/** "boundary LF body": the multipart bodies of the SIP corpus and two built ones. */
function multipartSeeds(): Buffer[] {
  if (multipartSeedsCache.v) return multipartSeedsCache.v;
  const out: Buffer[] = [];
  for (const m of parsedSeeds()) {
    const b = boundaryOf(m);
    if (b !== undefined && m.body.length > 0) out.push(Buffer.concat([enc(b + '\n'), m.body]));
  }
  out.push(enc('simple\n--simple\r\nContent-Type: text/plain\r\n\r\nhello\r\n--simple\r\n\r\nno headers\r\n--simple--\r\n'));
  out.push(enc('b\npreamble\r\n--b\r\nContent-Type: application/sdp\r\nContent-Length: 3\r\n\r\nv=0\r\n--b--\r\nepilogue'));
  multipartSeedsCache.v = out;
  return out;
}

export const multipart: Target = {
  name: 'multipart',
  get corpus() { return multipartSeeds(); },
  tokens: ['\r\n--', '--\r\n', 'Content-Type: ', '\r\n\r\n'].map(enc),
  run(input) {
    const nl = input.indexOf(10);
    const boundary = nl < 0 ? input.toString('latin1') : input.toString('latin1', 0, nl);
    parseMultipart(nl < 0 ? Buffer.alloc(0) : input.subarray(nl + 1), boundary);
  },
  expected: (e) => e instanceof ParseError,
};

let uriCache: Buffer[] | undefined;
function uriSeeds(): Buffer[] {
  if (uriCache) return uriCache;
  const set = new Set<string>([
    'sip:alice@example.com', 'sips:bob:secret@[2001:db8::10]:5061;transport=tls;lr?subject=hi&priority=urgent', 'tel:+1-201-555-0123;phone-context=example.com',
    'sip:user;par=u%40example.net@example.com', 'sip:[::ffff:192.0.2.1]', 'im:alice@example.com', 'urn:service:sos', 'sip:a@192.0.2.1:5060;maddr=239.255.255.1;ttl=15',
  ]);
  for (const m of parsedSeeds()) {
    if (m.isRequest()) set.add(m.uri);
    for (const h of ['from', 'to', 'contact']) {
      const v = m.get(h);
      const lt = v?.indexOf('<') ?? -1;
      const gt = v?.indexOf('>', lt) ?? -1;
      if (v !== undefined && lt >= 0 && gt > lt) set.add(v.slice(lt + 1, gt));
    }
  }
  uriCache = [...set].map(utf8);
  return uriCache;
}

export const uri: Target = {
  name: 'uri',
  get corpus() { return uriSeeds(); },
  tokens: ['sip:', 'sips:', 'tel:', '@', '[', ']', '[::1]', ':5060', ':65536', ':99999999999999999999', ';transport=', ';lr', '?', '&', '%', '%zz', '%41'].map(enc),
  run(input) { parseUri(input.toString('utf8')); },
  expected: (e) => e instanceof ParseError,
};

let sdpCache: Buffer[] | undefined;
function sdpSeeds(): Buffer[] {
  if (sdpCache) return sdpCache;
  const out: Buffer[] = [];
  const take = (ct: string | undefined, body: Buffer): void => { if (ct?.toLowerCase().startsWith('application/sdp')) out.push(body); };
  for (const m of parsedSeeds()) {
    let ct: string | undefined;
    try { const c = m.contentType(); ct = c ? `${c.type}/${c.subtype}` : undefined; } catch { continue; }
    take(ct, m.body);
    const b = boundaryOf(m);
    if (b === undefined) continue;
    try {
      for (const part of parseMultipart(m.body, b)) {
        take(part.headers.find((h) => h.name.toLowerCase() === 'content-type')?.value, part.body);
      }
    } catch { /* not our seed */ }
  }
  out.push(utf8(['v=0', 'o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1', 's=Call to John Smith', 'i=SDP Offer #1', 'u=http://www.jdoe.example.com/home.html',
    'e=Jane Doe <jane@jdoe.example.com>', 'p=+1 617 555-6011', 'c=IN IP4 198.51.100.1', 't=0 0', 'm=audio 49170 RTP/AVP 0', 'm=audio 49180 RTP/AVP 0',
    'm=video 51372 RTP/AVP 99', 'c=IN IP6 2001:db8::2', 'a=rtpmap:99 h263-1998/90000', ''].join('\r\n')));
  sdpCache = out;
  return out;
}

export const sdp: Target = {
  name: 'sdp',
  get corpus() { return sdpSeeds(); },
  tokens: ['\r\nm=message 7394 TCP/MSRP *', '\r\na=path:msrp://h:1/x;tcp', '\r\nc=IN IP6 ::1', '\r\nb=AS:', '\r\nt=', '\r\nr=', '\r\nz=', '\r\nk=', 'a=', '=', 'IN IP4 '].map(enc),
  run(input) { parseSdp(input.toString('utf8')); },
  expected: (e) => e instanceof SdpError,
};

let rlCache: Buffer[] | undefined;
function resourceListSeeds(): Buffer[] {
  if (rlCache) return rlCache;
  const out: Buffer[] = [utf8(`<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"
   xmlns:cp="urn:ietf:params:xml:ns:copycontrol">
  <list>
    <entry uri="sip:bill@example.com" cp:copyControl="to" />
    <entry uri="sip:randy@example.net" cp:copyControl="to" cp:anonymize="true"/>
    <entry uri="sip:joe@example.org" cp:copyControl="cc" />
    <entry uri="sip:ted@example.net" cp:copyControl="bcc" />
  </list>
</resource-lists>
`), utf8('<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="a"><display-name>A</display-name><entry uri="sip:a@x"><display-name xml:lang="en">a</display-name></entry><external anchor="http://x/y"/><entry-ref ref="users/x"/><list><entry uri="sip:b@x"/></list></list></resource-lists>')];
  for (const m of parsedSeeds()) {
    const b = boundaryOf(m);
    if (b === undefined) continue;
    try {
      for (const part of parseMultipart(m.body, b)) {
        if (part.headers.some((h) => h.name.toLowerCase() === 'content-type' && h.value.toLowerCase().includes('resource-lists'))) out.push(part.body);
      }
    } catch { /* not our seed */ }
  }
  rlCache = out;
  return out;
}

export const resourceLists: Target = {
  name: 'resource-lists',
  get corpus() { return resourceListSeeds(); },
  tokens: ['<entry uri="sip:z@z"/>', '<list>', '</list>', 'cp:copyControl="', 'cp:anonymize="', '<entry-ref ref="', '<external anchor="', '&lt;', '&#x41;'].map(enc),
  run(input) { parseResourceLists(input); },
  expected: (e) => e instanceof ResourceListError || e instanceof XmlError,
};

export const TARGETS: Target[] = [sipDatagram, sipStream, msrpStream, msrpMessage, cpim, conferenceInfo, multipart, uri, sdp, resourceLists];
