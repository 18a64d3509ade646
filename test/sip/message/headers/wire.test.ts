// headers/wire.ts: the byte readers give exactly what the string parsers give (RFC 3261
// §25.1 grammar stays theirs), or undefined; they never throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tortureDir, repoRoot } from '../../../helpers/paths.js';
import { mutations } from '../../../helpers/mutate.js';
import { parseDatagram } from '../../../../src/sip/message/parse.js';
import { parseVia } from '../../../../src/sip/message/headers/via.js';
import { parseContact, parseNameAddr } from '../../../../src/sip/message/headers/name-addr.js';
import { parseCSeq } from '../../../../src/sip/message/headers/cseq.js';
import { parseContentType } from '../../../../src/sip/message/headers/content-type.js';
import { wireContentType, wireCSeq, wireNameAddr, wireVia } from '../../../../src/sip/message/headers/wire.js';

type Reader = (bytes: Uint8Array, off: number, text: string, start: number, end: number) => unknown;

const READERS: readonly [string, Reader, (s: string) => unknown][] = [
  ['via', (b, o, t, s, e) => wireVia(b, o, t, s, e), (s) => parseVia(s)[0]],
  ['name-addr', (b, o, t, s, e) => wireNameAddr(b, o, t, s, e), parseNameAddr],
  ['cseq', (b, o, t, s, e) => wireCSeq(b, o, t, s, e), parseCSeq],
  ['content-type', (b, o, t, s, e) => wireContentType(b, o, t, s, e), parseContentType],
];

/** Runs a reader on `value` placed inside a larger text, as the parser hands it over. */
function read(reader: Reader, value: string): unknown {
  const text = `X: ${value}\r\nY: z`;
  const bytes = Buffer.from('\r\n\r\n' + text, 'latin1');
  return reader(bytes, 4, text, 3, 3 + value.length);
}

function outcome(f: () => unknown): unknown {
  try {
    return { ok: f() };
  } catch (e) {
    return { threw: e instanceof Error ? e.message : String(e) };
  }
}

function corpusValues(): string[] {
  const out = new Set<string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(dat|sip)$/.test(name)) {
        try {
          for (const h of parseDatagram(readFileSync(p)).headers) out.add(h.value);
        } catch {
          // unparseable torture messages have no header values to offer
        }
      }
    }
  };
  walk(tortureDir);
  walk(join(repoRoot, 'bench', 'fixtures'));
  return [...out];
}

const USUAL: Record<string, string[]> = {
  via: [
    'SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds',
    'SIP/2.0/TCP 192.0.2.1:5060;received=192.0.2.207;rport=5060;branch=z9hG4bK77',
    'SIP/2.0/TLS proxy.example.net.:5061;branch=z9hG4bKx;ttl=16;maddr=224.2.0.1',
    'sip/2.0/udp h;branch=z9hG4bKa;rport',
  ],
  'name-addr': [
    '<sip:alice@example.net>;tag=a73kszlfl',
    '"Alice" <sip:alice@198.51.100.23:5060;transport=udp>;+g.oma.sip-im',
    '"" <sips:bob@b.example.com;lr;user=phone>;tag=x;expires="3600"',
    '<sip:pcscf1.example.net;lr>',
    'sip:sipp@127.0.0.1:5061',
    'sip:alice@example.net;tag=a73kszlfl',
    'sips:example.com;expires=60;q=0.5',
  ],
  cseq: ['31862 REFER', '0009 INVITE', '4294967295 ACK'],
  'content-type': ['application/sdp', 'multipart/mixed;boundary="boundary1"', 'Application/Resource-Lists+XML;charset=utf-8'],
};

// Shapes the readers leave to the string parsers (valid or not): LWS inside, escapes,
// passwords, IPv6, URI headers, lists, other schemes, wildcards, overflow...
const UNUSUAL = [
  'SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas', 'SIP / 2.0 / UDP h;branch=z9hG4bKx', 'SIP/2.0/UDP h ;branch=x',
  'SIP/2.0/UDP h;branch="x"', 'SIP/2.0/UDP h;received=::1', 'SIP/2.0/UDP h, SIP/2.0/UDP g', 'SIP/2.0/UDP h;branch=a;branch=b',
  'SIP/2.0/UDP 192.0.2.256;branch=x', 'SIP/2.0/UDP -h;branch=x', 'SIP/2.0/UDP h:99999', 'SIP/2.0/UDP h;rport=70000',
  '<sip:a%20b@example.com>', '<sip:user:pw@example.com>', '<sip:example.com:5060>', '<sip:a@example.com?subject=x>',
  '<tel:+1-201-555-0123>', 'sip:a@example.com;tag=1', 'Alice <sip:a@example.com>', '"A\\"B" <sip:a@example.com>',
  '<sip:a@example.com>, <sip:b@example.com>', '<sip:a@example.com> ;tag=1', '<sip:a@[::1]>', '<sip:a@example.com',
  '*', '<sip:a@example.com>;tag', '1 INVITE x', '4294967296 INVITE', '1  INVITE', 'INVITE', '*/*', 'text/*',
  'text / plain', 'text/plain;charset', 'text/plain; charset=x', 'a@b',
];

test('headers/wire: every usual shape is read from the bytes, as the string parser reads it', () => {
  for (const [name, reader, parse] of READERS) {
    for (const v of USUAL[name]!) {
      const got = read(reader, v);
      assert.notEqual(got, undefined, `${name}: ${v}`);
      assert.deepEqual(got, parse(v), `${name}: ${v}`);
    }
  }
});

test('headers/wire: any other value is left to the string parser (undefined), never misread or thrown', () => {
  for (const v of UNUSUAL) {
    for (const [name, reader, parse] of READERS) {
      const got = outcome(() => read(reader, v));
      assert.ok('ok' in (got as object), `${name} threw on ${v}`);
      const value = (got as { ok: unknown }).ok;
      if (value !== undefined) assert.deepEqual(value, parse(v), `${name}: ${v}`);
    }
  }
});

test('headers/wire: over the torture corpus values, results equal the string parsers or are undefined', () => {
  const values = corpusValues();
  assert.ok(values.length > 300, `only ${values.length} values`);
  for (const v of values) {
    if (/[^\x20-\x7e\t]/.test(v)) continue;
    for (const [name, reader, parse] of READERS) {
      const got = outcome(() => read(reader, v));
      assert.ok('ok' in (got as object), `${name} threw on ${v}`);
      const value = (got as { ok: unknown }).ok;
      if (value !== undefined) assert.deepEqual(outcome(() => parse(v)), { ok: value }, `${name}: ${v}`);
    }
  }
});

test('headers/wire: a byte above 127 (a U+FFFD in the text) is never read as a char', () => {
  // bytes: "<sip:a\xff@b>" decoded as UTF-8 is "<sip:a\ufffd@b>": one char per byte, different chars.
  const bytes = Buffer.from([0x3c, 0x73, 0x69, 0x70, 0x3a, 0x61, 0xff, 0x40, 0x62, 0x3e]);
  const text = bytes.toString('utf8');
  assert.equal(text.length, bytes.length);
  assert.equal(wireNameAddr(bytes, 0, text, 0, text.length), undefined);
  const via = Buffer.from('SIP/2.0/UDP h\xff;branch=x', 'latin1');
  assert.equal(wireVia(via, 0, via.toString('utf8'), 0, via.length), undefined);
  const ct = Buffer.from('text/plain;charset=\xe9', 'latin1');
  assert.equal(wireContentType(ct, 0, ct.toString('utf8'), 0, ct.length), undefined);
});

test('headers/wire: name-addr and addr-spec read from the bytes equal the string parser on 20,000 seeded mutations', () => {
  // The addr-spec form (§20.10: no "<" ">", so a ";" ends the URI) beside the name-addr one.
  const bases = [
    'sip:sipp@127.0.0.1:5061',
    'sip:a;b@example.com;tag=1',
    'sips:bob@example.com:5061;expires=60',
    'sip:alice@example.net;tag=x?y',
    'service <sip:service@127.0.0.1:5060>;tag=abc',
    '"A" <sip:a@example.com;lr>;q=0.5',
  ];
  let read1 = 0;
  for (const v of mutations(2046, bases, ';:@<>",?=. \t0123456789abips', 20_000, 3)) {
    const got = outcome(() => read(wireNameAddr as Reader, v));
    assert.ok('ok' in (got as object), `threw on ${v}`);
    const value = (got as { ok: unknown }).ok;
    if (value === undefined) continue;
    read1++;
    assert.deepEqual(outcome(() => parseNameAddr(v)), { ok: value }, v);
  }
  assert.ok(read1 > 2_000, `read from the bytes: ${read1}`);
});

test('headers/wire: a one-element Contact list is what parseContact returns', () => {
  const v = '<sip:alice@198.51.100.23:5060;transport=udp>;+g.oma.sip-im';
  assert.deepEqual([read(wireNameAddr as Reader, v)], parseContact(v));
});
