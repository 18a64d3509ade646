// src/sip/transport/received.ts reads the top via-parm with one pass over the value. Its
// earlier implementation (split into [start, end) pairs, every parameter kept) is the
// reference here: readTopVia and stampViaValue must agree with it on typical, odd and
// mutated Via values (RFC 3261 §18.2.1, §20.42; RFC 3581 §4; RFC 5118).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { canonicalIp, readTopVia, stampRequest, stampViaValue, type TopVia } from '../../../src/sip/transport/received.js';
import { parseDatagram } from '../../../src/sip/message/parse.js';
import { mutations } from '../../helpers/mutate.js';

// ---- reference: the previous scanner, kept as it was -------------------------------------

interface RefParam {
  name: string;
  value: string | undefined;
  start: number;
  end: number;
}

const SENT_BY =
  /^\s*[^\s/]+\s*\/\s*[^\s/]+\s*\/\s*([^\s/;]+)\s+(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?:\s*:\s*(\d{1,5}))?\s*$/;

function splitOutside(value: string, sep: string, from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  let start = from;
  let quoted = false;
  for (let i = from; i < to; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === sep) {
      out.push([start, i]);
      start = i + 1;
    }
  }
  out.push([start, to]);
  return out;
}

function refScan(value: string): { via: TopVia; params: RefParam[]; parmEnd: number } | undefined {
  const [parm] = splitOutside(value, ',', 0, value.length);
  if (parm === undefined) return undefined;
  const [first, ...rest] = splitOutside(value, ';', parm[0], parm[1]);
  if (first === undefined) return undefined;
  const m = SENT_BY.exec(value.slice(first[0], first[1]));
  if (m === null) return undefined;
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && port > 65535) return undefined;
  const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
  if (m[2]!.startsWith('[') && isIP(host) !== 6) return undefined;
  const params: RefParam[] = [];
  for (const [s, e] of rest) {
    const text = value.slice(s, e);
    const lead = text.length - text.trimStart().length;
    const trimmed = text.trim();
    if (trimmed.length === 0) return undefined;
    const eq = trimmed.indexOf('=');
    const name = (eq < 0 ? trimmed : trimmed.slice(0, eq)).trim().toLowerCase();
    const v = eq < 0 ? undefined : trimmed.slice(eq + 1).trim();
    params.push({ name, value: v === '' ? undefined : v, start: s + lead, end: s + lead + trimmed.length });
  }
  const param = (n: string): RefParam | undefined => params.find((p) => p.name === n);
  const rp = param('rport');
  let rport: number | true | undefined;
  if (rp !== undefined) {
    if (rp.value === undefined) rport = true;
    else if (/^\d{1,5}$/.test(rp.value) && Number(rp.value) <= 65535) rport = Number(rp.value);
    else return undefined;
  }
  const firstText = value.slice(first[0], first[1]);
  const lastEnd = params.length > 0 ? params[params.length - 1]!.end : first[0] + firstText.trimEnd().length;
  const received = param('received')?.value;
  return {
    via: {
      transport: m[1]!.toUpperCase(),
      host,
      port,
      received: received?.startsWith('[') === true ? received.slice(1, -1) : received,
      rport,
      maddr: param('maddr')?.value,
    },
    params,
    parmEnd: lastEnd,
  };
}

function refStamp(value: string, sourceAddress: string, sourcePort: number): string | undefined {
  const scan = refScan(value);
  if (scan === undefined) return undefined;
  const src = canonicalIp(sourceAddress) ?? sourceAddress;
  const edits: { start: number; end: number; text: string }[] = [];
  const rp = scan.params.find((p) => p.name === 'rport');
  if (rp !== undefined && rp.value === undefined) {
    edits.push({ start: rp.start, end: rp.end, text: `${value.slice(rp.start, rp.start + 5)}=${sourcePort}` });
  }
  const needReceived = rp !== undefined || canonicalIp(scan.via.host) !== src;
  if (needReceived) {
    const rc = scan.params.find((p) => p.name === 'received');
    if (rc === undefined) edits.push({ start: scan.parmEnd, end: scan.parmEnd, text: `;received=${src}` });
    else edits.push({ start: rc.start, end: rc.end, text: `${value.slice(rc.start, rc.start + 8)}=${src}` });
  }
  edits.sort((a, b) => b.start - a.start);
  let out = value;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

// ---- corpus ------------------------------------------------------------------------------

const VALUES = [
  'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1',
  'SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1234-1-0',
  'SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff',
  'SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bK1;RPORT',
  'SIP/2.0/UDP h.example.com;received=192.0.2.200;rport=7000;branch=z9hG4bK1',
  'SIP / 2.0 / TCP pc33.example.com;branch=z9hG4bK1',
  'SIP/2.0/UDP [2001:DB8:0::9:1];branch=z9hG4bK1;received=[2001:db8::9:255]',
  'SIP/2.0/TLS [::1]:5061;maddr=224.2.0.1;ttl=1;branch=z9hG4bK2;rport;received=::1',
  'SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com;branch=z9hG4bK2',
  'SIP/2.0/UDP x.example.com ; branch = z9hG4bK3 ; rport = 12 ; received = 198.51.100.1 ',
  'SIP/2.0/UDP x.example.com;x="a;b,c";branch=z9hG4bK4;rport;rport=9',
  'SIP/2.0/UDP x.example.com;x="q\\";,";received=1.2.3.4;received=5.6.7.8;maddr=a;maddr=b',
  'SIP/2.0/UDP x.example.com;branch=z9hG4bK5;rport=65535',
  'SIP/2.0/UDP x.example.com;branch=z9hG4bK5;rport=65536',
  'SIP/2.0/UDP x.example.com:65536;branch=z9hG4bK6',
  'SIP/2.0/UDP x.example.com;;branch=z9hG4bK7',
  'SIP/2.0/UDP x.example.com;branch=z9hG4bK8;',
  'SIP/2.0/UDP\u00a0x.example.com;branch=z9hG4bK9;\u00a0rport\u00a0',
  'SIP/2.0/UDP [::ffff:192.0.2.1]:5060;branch=z9hG4bKa',
  'SIP/2.0/UDP 2001:db8::9:1;branch=z9hG4bKb',
];
const SOURCES: [string, number][] = [['192.0.2.1', 40000], ['10.1.1.1', 9988], ['::1', 5062], ['2001:db8::9:1', 7], ['127.0.0.1', 5061], ['x.example.com', 1]];

function agree(v: string): void {
  assert.deepEqual(readTopVia(v), refScan(v)?.via, `readTopVia ${JSON.stringify(v)}`);
  for (const [addr, port] of SOURCES) {
    assert.equal(stampViaValue(v, addr, port), refStamp(v, addr, port), `stampViaValue ${JSON.stringify(v)} from ${addr}:${port}`);
  }
}

test('RFC 3261 §18.2.1 / RFC 3581 §4: the one-pass Via scan agrees with the reference on typical and odd values', () => {
  let read = 0;
  for (const v of VALUES) {
    agree(v);
    if (readTopVia(v) !== undefined) read++;
  }
  assert.ok(read >= 12 && read < VALUES.length, `both readable and unreadable values are covered (${read})`);
});

test('RFC 3261 §18.2.1 / RFC 3581 §4: the one-pass Via scan agrees with the reference on 20,000 mutations (seeded)', () => {
  let readable = 0;
  for (const v of mutations(4475, VALUES, ';,="\\ \t:[]./0123456789abrRxz\u00a0', 20_000, 3)) {
    agree(v);
    if (readTopVia(v) !== undefined) readable++;
  }
  assert.ok(readable > 5_000 && readable < 19_000, `mutations both readable and not (${readable})`);
});

test('RFC 3261 §18.2.1 / RFC 3581 §4: the char-code scan agrees with the reference on every ASCII whitespace and on parameter-name case (20,000 seeded mutations)', () => {
  // received.ts reads plain ASCII values without a regular expression: \s there is HT, LF,
  // VT, FF, CR and SP, as in the reference's regular expression and String#trim.
  let readable = 0;
  for (const v of mutations(5118, VALUES, ' \t\n\v\f\r;=:/,.-_0123456789MADEPTRcdeimoprtv', 20_000, 4)) {
    agree(v);
    if (readTopVia(v) !== undefined) readable++;
  }
  assert.ok(readable > 3_000 && readable < 19_000, `mutations both readable and not (${readable})`);
});

test('RFC 3261 §18.2.1: a received request is stamped from its datagram bytes exactly as its Via text would be (seeded mutations)', () => {
  // stampRequest scans the Via where it lies in the datagram; stampViaValue scans the string.
  let stamped = 0;
  let compared = 0;
  for (const v of mutations(3581, VALUES, ' \t;=:/,.-_0123456789MADEPTRcdeimoprtv"[]\u00e9', 5_000, 3)) {
    const value = v.trim();
    if (/[\r\n]/.test(value) || value.length === 0) continue;
    const datagram = Buffer.from(
      `OPTIONS sip:a@example.com SIP/2.0\r\nVia: ${value}\r\nFrom: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\n` +
        'Call-ID: c\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n',
      'utf8',
    );
    let req;
    try {
      req = parseDatagram(datagram);
    } catch {
      continue;
    }
    if (!req.isRequest() || req.get('via') !== value) continue;
    const [addr, port] = SOURCES[compared % SOURCES.length]!;
    req.source = { transport: 'UDP', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: addr, remotePort: port };
    const expected = stampViaValue(value, addr, port);
    assert.equal(stampRequest(req), expected !== undefined, `stampRequest ${JSON.stringify(value)}`);
    if (expected !== undefined) {
      assert.equal(req.get('via'), expected, `stamped ${JSON.stringify(value)} from ${addr}:${port}`);
      stamped++;
    }
    compared++;
  }
  assert.ok(compared > 3_000 && stamped > 1_000, `compared ${compared}, stamped ${stamped}`);
});
