// RFC 3261 §7.3.1 (names are case-insensitive), §7.3.3 and later RFCs (compact forms):
// names.ts normalizes a name the same way whichever way it is looked up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalHeaderName, knownHeaderName, knownHeaderNameBytes, normalizeHeaderName } from '../../../src/sip/message/names.js';

const CASES: readonly [string, string][] = [
  ['Via', 'via'], ['via', 'via'], ['VIA', 'via'], ['vIa', 'via'], ['v', 'via'], ['V', 'via'],
  ['Call-ID', 'call-id'], ['call-id', 'call-id'], ['CALL-ID', 'call-id'], ['Call-Id', 'call-id'], ['i', 'call-id'],
  ['CSeq', 'cseq'], ['CSEQ', 'cseq'], ['Cseq', 'cseq'], ['Content-Length', 'content-length'], ['l', 'content-length'],
  ['Content-Type', 'content-type'], ['c', 'content-type'], ['WWW-Authenticate', 'www-authenticate'],
  ['Subscription-State', 'subscription-state'], ['o', 'event'], ['u', 'allow-events'], ['r', 'refer-to'],
  ['P-Asserted-Identity', 'p-asserted-identity'], ['RAck', 'rack'], ['X-Custom', 'x-custom'], ['z', 'z'], ['Z', 'z'],
  ['P-Charging-Vector', 'p-charging-vector'], ['Content-Disposition', 'content-disposition'],
];

test('names: normalizeHeaderName gives the lower-cased long form for any spelling', () => {
  for (const [name, want] of CASES) assert.equal(normalizeHeaderName(name), want, name);
  // A normalized name is its own normal form (message.ts get() relies on it).
  for (const [, want] of CASES) assert.equal(normalizeHeaderName(want), want);
});

test('names: the in-place lookups agree with normalizeHeaderName or leave the name to it', () => {
  for (const [name, want] of CASES) {
    const text = `${name}: x`;
    const fromText = knownHeaderName(text, 0, name.length);
    const fromBytes = knownHeaderNameBytes(Buffer.from(`\r\n${text}`, 'latin1'), 2, 2 + name.length);
    if (fromText !== undefined) assert.equal(fromText, want, name);
    if (fromBytes !== undefined) assert.equal(fromBytes, want, name);
  }
  // The spellings senders use are found in place.
  for (const name of ['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Max-Forwards', 'Content-Length', 'v', 'm', 'CONTACT', 'contact']) {
    assert.equal(knownHeaderNameBytes(Buffer.from(name), 0, name.length), normalizeHeaderName(name), name);
  }
  assert.equal(knownHeaderNameBytes(Buffer.from('Vxa'), 0, 3), undefined);
  assert.equal(knownHeaderNameBytes(Buffer.from('Via'), 0, 2), undefined);
});

test('names: canonical spellings for the wire', () => {
  assert.equal(canonicalHeaderName('call-id'), 'Call-ID');
  assert.equal(canonicalHeaderName('x-custom'), 'X-Custom');
});
