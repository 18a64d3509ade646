// parse.ts parseHeadInPlace and message.ts WireText: a small datagram read in one pass over
// its bytes, header fields kept as offsets until msg.headers is read, structured headers
// read from the bytes. Everything must come out as on the general path (findHeadEnd +
// parseHead + the string parsers), which a datagram inside a large allocation still takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tortureDir, repoRoot } from '../../helpers/paths.js';
import { DEFAULT_LIMITS, MessageParseError, parseDatagram } from '../../../src/sip/message/parse.js';
import type { SipMessage } from '../../../src/sip/message/message.js';

/** The same bytes, in an allocation too large for the in-place path (see parse.ts SMALL_ALLOCATION). */
function onGeneralPath(buf: Buffer): Buffer {
  const big = Buffer.alloc(64 * 1024);
  buf.copy(big);
  return big.subarray(0, buf.length);
}

/** A datagram in a Buffer of its own, as dgram delivers it. */
function own(buf: Buffer): Buffer {
  const b = Buffer.allocUnsafeSlow(buf.length);
  buf.copy(b);
  return b;
}

function attempt(f: () => unknown): unknown {
  try {
    return { ok: f() };
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    return { error: e.name, message: e.message, status: (e as { status?: number }).status };
  }
}

/** Everything a reader of the message can observe, accessors first (headers read last). */
function observe(m: SipMessage): unknown {
  const o: Record<string, unknown> = {};
  for (const a of ['via', 'cseq', 'callId', 'from', 'to', 'fromTag', 'toTag', 'contact', 'contentType', 'topVia'] as const) {
    o[a] = attempt(() => m[a]());
  }
  o.get = ['Via', 'v', 'call-id', 'i', 'CSEQ', 'content-length', 'x-unknown', 'max-forwards'].map((n) => [m.get(n), m.count(n), m.joined(n)]);
  o.start = m.isRequest() ? [m.method, m.uri, m.version, attempt(() => m.requestUri())] : [m.status, m.reason, m.version];
  o.body = m.body.toString('hex');
  o.headers = m.headers.map((h) => [h.name, h.value]);
  return o;
}

function outcome(buf: Buffer): unknown {
  try {
    return { message: observe(parseDatagram(buf)) };
  } catch (e) {
    if (!(e instanceof MessageParseError)) throw e;
    return { error: e.message, status: e.status, offset: e.offset, partial: e.partial === undefined ? undefined : observe(e.partial) };
  }
}

function corpus(): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(dat|sip)$/.test(name)) out.push([p, readFileSync(p)]);
    }
  };
  walk(tortureDir);
  walk(join(repoRoot, 'bench', 'fixtures'));
  return out;
}

test('in-place parsing: every torture message and bench fixture reads as on the general path', () => {
  const all = corpus();
  assert.ok(all.length > 60);
  for (const [name, buf] of all) assert.deepEqual(outcome(own(buf)), outcome(onGeneralPath(buf)), name);
});

const BASE = [
  'NOTIFY sip:history@192.0.2.50:5060;transport=udp SIP/2.0',
  'Via: SIP/2.0/UDP scscf1.example.net:5060;branch=z9hG4bK4b43c2ff8.1',
  'v: SIP/2.0/UDP conf.im.example.net;branch=z9hG4bKx5s6f9a1',
  'From: <sip:conf@im.example.net>;tag=zxcvb77',
  'To: "Hist" <sip:history@example.net>;tag=hf-42a9c1',
  'Call-ID: 5f1d2c3b@192.0.2.50',
  'CSeq: 2 NOTIFY',
  'Contact: <sip:conf@im.example.net>;isfocus',
  'X-Unknown-Header: some value',
  'Content-Type: text/plain',
];

function datagram(lines: readonly string[], body = 'hello'): Buffer {
  return own(Buffer.from(lines.join('\r\n') + `\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n` + body, 'utf8'));
}

test('in-place parsing: unusual lines (folding, odd spellings and whitespace, UTF-8) read as on the general path', () => {
  const variants: string[][] = [
    BASE,
    [...BASE.slice(0, 3), 'Subject: folded', '  across lines', ...BASE.slice(3)],
    [...BASE, 'CSEQ: 2 NOTIFY'],
    [...BASE.slice(0, 5), 'call-ID   : x@y', ...BASE.slice(6)],
    [...BASE, 'Subject:\ttabbed\t'],
    [...BASE, 'Subject: \u00a0nbsp'],
    [...BASE.slice(0, 4), 'To: "J\u00f6rg" <sip:j@example.net>', ...BASE.slice(5)],
    // Token display names (sipp writes "sipp <sip:...>"), and shapes the wire reader leaves to
    // the string parser: an addr-spec, tokens run into a quote, a colon, a folded name.
    ...[
      'To: sipp <sip:j@example.net>;tag=1',
      'To: Big  Bad\tWolf <sip:j@example.net>',
      'To: Wolf<sip:j@example.net>',
      'To: sip:j@example.net;tag=2',
      'To: a"b" <sip:j@example.net>',
      'To: a: <sip:j@example.net>',
      'To: a b',
      'To: a\r\n  b <sip:j@example.net>',
      'To: J\u00f6rg <sip:j@example.net>',
      'To: a <sip:j@example.net',
    ].map((to) => [...BASE.slice(0, 4), to, ...BASE.slice(5)]),
    [...BASE, 'Bad Name: x'],
    [...BASE, 'no colon here'],
    [...BASE, 'Content-Length: 5'],
    [...BASE, 'Content-Length: 3'],
    [...BASE, 'l: 05'],
    ['SIP/2.0 200 OK', ...BASE.slice(1)],
    ['NOTIFY  sip:a@b  SIP/2.0 ', ...BASE.slice(1)],
    ['NOTIFY sip:a@b sip/2.0', ...BASE.slice(1)],
    ['NOTIFY sip:a@b', ...BASE.slice(1)],
  ];
  for (const lines of variants) {
    for (const body of ['hello', 'h\u00e9llo \u20ac', '']) {
      const buf = datagram(lines, body);
      assert.deepEqual(outcome(buf), outcome(onGeneralPath(buf)), lines.join(' | ') + ' / ' + body);
    }
  }
  // LF-only line ends, a missing empty line, and CRs before the empty line.
  for (const text of [
    BASE.join('\n') + '\nContent-Length: 2\n\nhi',
    BASE.join('\r\n') + '\r\n',
    BASE.join('\r\n'),
    BASE.join('\r\n') + '\r\r\n\r\nxx',
    BASE[0] + '\r\n\r\n',
    BASE.join('\r\n') + '\r\nContent-Length: 2\n\r\nhi',
  ]) {
    const buf = own(Buffer.from(text, 'latin1'));
    assert.deepEqual(outcome(buf), outcome(onGeneralPath(buf)), JSON.stringify(text));
  }
});

test('design.md convention 5: header fields become HeaderField objects only when msg.headers is read', () => {
  const m = parseDatagram(datagram(BASE));
  assert.equal(m.get('x-unknown-header'), 'some value');
  assert.equal(m.via().length, 2);
  assert.equal(m.cseq().method, 'NOTIFY');
  const fields = m.headers;
  assert.equal(fields, m.headers, 'the same array on every read');
  assert.equal(fields.length, BASE.length);
  // Changes through the array or the API are seen by later reads; set() drops the cached parse.
  fields[fields.findIndex((h) => h.name === 'from')] = { name: 'from', value: '<sip:new@example.net>;tag=9' };
  m.set('to', '<sip:other@example.net>');
  assert.equal(m.toTag(), undefined);
  assert.equal(m.get('from'), '<sip:new@example.net>;tag=9');
  assert.equal(m.fromTag(), '9');
  m.prepend('via', 'SIP/2.0/TCP x.example.net;branch=z9hG4bKtop');
  assert.equal(m.topVia()?.host, 'x.example.net');
  assert.equal(m.via().length, 3);
});

test('limits: the partial message of a too-many-fields error holds the fields read so far', () => {
  const lines = ['OPTIONS sip:a@b SIP/2.0', ...Array.from({ length: DEFAULT_LIMITS.maxHeaders + 1 }, (_, i) => `X-A: ${i}`)];
  for (const buf of [datagram(lines), onGeneralPath(datagram(lines))]) {
    try {
      parseDatagram(buf);
      assert.fail('should throw');
    } catch (e) {
      assert.ok(e instanceof MessageParseError && e.fatal);
      assert.equal(e.partial?.headers.length, DEFAULT_LIMITS.maxHeaders + 1);
    }
  }
});

test('RFC 3261 §18.3: a small datagram keeps its body as a view of the datagram, a large one copies a small body', () => {
  const small = datagram(BASE, 'x'.repeat(20));
  assert.equal(parseDatagram(small).body.buffer, small.buffer);
  const large = onGeneralPath(datagram(BASE, 'x'.repeat(20)));
  const body = parseDatagram(large).body;
  assert.equal(body.toString(), 'x'.repeat(20));
  assert.notEqual(body.buffer, large.buffer);
});

test('message.ts replaceFirst / fieldsNamed / hasRepeated: same results in place and after headers is read', () => {
  const text =
    'OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h1;branch=z9hG4bK1\r\nv: SIP/2.0/UDP h2;branch=z9hG4bK2\r\n' +
    'From: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n';
  for (const materialized of [false, true]) {
    const m = parseDatagram(own(Buffer.from(text)));
    if (materialized) assert.equal(m.headers.length, 8);
    assert.equal(m.topVia()?.host, 'h1');
    assert.equal(m.replaceFirst('VIA', 'SIP/2.0/UDP h1;branch=z9hG4bK1;received=192.0.2.1'), true);
    assert.equal(m.replaceFirst('route', 'x'), false);
    // The cached parse is dropped; the second Via and the order of fields are untouched.
    assert.equal(m.topVia()?.params.find((p) => p.name === 'received')?.value, '192.0.2.1');
    assert.deepEqual(m.getAll('via'), ['SIP/2.0/UDP h1;branch=z9hG4bK1;received=192.0.2.1', 'SIP/2.0/UDP h2;branch=z9hG4bK2']);
    assert.deepEqual(
      m.fieldsNamed(new Set(['via', 'call-id', 'to'])),
      [
        { name: 'via', value: 'SIP/2.0/UDP h1;branch=z9hG4bK1;received=192.0.2.1' },
        { name: 'via', value: 'SIP/2.0/UDP h2;branch=z9hG4bK2' },
        { name: 'to', value: '<sip:a@example.com>' },
        { name: 'call-id', value: 'c1' },
      ],
    );
    assert.equal(m.hasRepeated(new Set(['from', 'to', 'cseq'])), false);
    assert.equal(m.hasRepeated(new Set(['from', 'via'])), true);
    assert.deepEqual(m.headers.map((h) => h.name), ['via', 'via', 'from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length']);
  }
});
