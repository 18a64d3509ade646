// Hostile inputs: every parser must throw (or answer) in linear time, never hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseAccept, parseAcceptContact, parseContact, parseContentType, parseCSeq, parseEvent, parseMultipart,
  parseNameAddr, parseNameAddrList, parseReferTo, parseSessionExpires, parseSubscriptionState, parseUri, parseVia,
} from '../../../../src/sip/message/headers/index.js';
import { assertParseError, elapsed } from './helpers.js';

const N = 100_000;
// Generous bound: linear scans of ~1 MB take a few ms; a quadratic one would take minutes.
const LIMIT_MS = 1500;

const parsers: Array<[string, (s: string) => unknown]> = [
  ['parseUri', parseUri], ['parseNameAddr', parseNameAddr], ['parseNameAddrList', parseNameAddrList], ['parseContact', parseContact],
  ['parseVia', parseVia], ['parseCSeq', parseCSeq], ['parseAcceptContact', parseAcceptContact], ['parseReferTo', parseReferTo],
  ['parseEvent', parseEvent], ['parseSubscriptionState', parseSubscriptionState], ['parseSessionExpires', parseSessionExpires],
  ['parseContentType', parseContentType], ['parseAccept', parseAccept],
];

const inputs: Array<[string, string]> = [
  ['100k commas', ','.repeat(N)],
  ['100k semicolons', ';'.repeat(N)],
  ['unbalanced quote', '"' + 'a'.repeat(N)],
  ['many quotes', '"\\'.repeat(N)],
  ['unbalanced <', '<'.repeat(N)],
  ['unbalanced [', 'sip:[' + ':'.repeat(N)],
  ['long token', 'a'.repeat(N * 10)],
  ['long digits', '9'.repeat(N)],
  ['many params', 'sip:a@b.example.com' + ';p=v'.repeat(N) + ';'],
  ['many @', 'sip:' + '@'.repeat(N)],
  ['escapes', 'sip:' + '%4'.repeat(N)],
  ['nested <', '<sip:a@b>'.repeat(N)],
  ['NULs', '\0'.repeat(N)],
];

for (const [iname, input] of inputs) {
  test(`RFC 3261 §25.1 hostile input (${iname}): every parser fails fast`, () => {
    for (const [pname, parse] of parsers) {
      const ms = elapsed(() => parse(input));
      assert.ok(ms < LIMIT_MS, `${pname} took ${ms.toFixed(0)} ms`);
    }
  });
}

test('RFC 3261 §7.3.1: a long but valid list parses in linear time', () => {
  const via = Array.from({ length: 20_000 }, (_, k) => `SIP/2.0/UDP h${k}.example.com;branch=z9hG4bK${k}`).join(', ');
  let n = 0;
  assert.ok(elapsed(() => (n = parseVia(via).length)) < LIMIT_MS);
  assert.equal(n, 20_000);
  const contacts = Array.from({ length: 20_000 }, (_, k) => `"U ${k}" <sip:u${k}@example.com;transport=tcp>;q=0.${k % 10}`).join(',');
  assert.ok(elapsed(() => (n = parseNameAddrList(contacts).length)) < LIMIT_MS);
  assert.equal(n, 20_000);
});

test('RFC 3261 §25.1: hostile inputs are rejected with ParseError', () => {
  assertParseError(() => parseVia(','.repeat(N)));
  assertParseError(() => parseContact(','.repeat(N)));
  assertParseError(() => parseNameAddr('"' + 'a'.repeat(N)));
  assertParseError(() => parseNameAddr('<sip:a@example.com' + 'a'.repeat(N)));
  assertParseError(() => parseCSeq('9'.repeat(N) + ' INVITE'));
  assertParseError(() => parseUri('sip:[' + ':'.repeat(N) + ']'));
});

test('RFC 2046 §5.1.1 hostile bodies: no close-delimiter, many delimiters', () => {
  const noClose = Buffer.concat([Buffer.from('--b\r\n\r\n'), Buffer.alloc(5_000_000, 0x61)]);
  assert.ok(elapsed(() => parseMultipart(noClose, 'b')) < LIMIT_MS);
  assertParseError(() => parseMultipart(noClose, 'b'));
  const many = Buffer.from('--b\r\n' + '\r\n\r\n--b\r\n'.repeat(N) + '--');
  assert.ok(elapsed(() => parseMultipart(many, 'b')) < LIMIT_MS);
  assertParseError(() => parseMultipart(many, 'b'), 413);
});
