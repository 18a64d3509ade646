import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCSeq, parseCSeq, parseDeltaSeconds, parseQValue, parseUint32 } from '../../../../src/sip/message/headers/index.js';
import { assertParseError } from './helpers.js';

test('RFC 3261 §20.16: CSeq number and method', () => {
  assert.deepEqual(parseCSeq('4711 INVITE'), { seq: 4711, method: 'INVITE' });
  assert.deepEqual(parseCSeq('4294967295 BYE'), { seq: 4294967295, method: 'BYE' });
  assert.equal(formatCSeq(parseCSeq(' 1   MESSAGE ')), '1 MESSAGE');
});

test('RFC 4475 §3.1.1.1 wsinv: leading zeros and folded LWS before the method', () => {
  assert.deepEqual(parseCSeq('0009 \t INVITE'), { seq: 9, method: 'INVITE' });
});

test('RFC 4475 §3.1.1.2 intmeth and §3.1.1.5 esc02: any token is a method, "%" is not an escape', () => {
  assert.equal(parseCSeq("139122385 !interesting-Method0123456789_*+`.%indeed'~").method, "!interesting-Method0123456789_*+`.%indeed'~");
  assert.equal(parseCSeq('29344 RE%47IST%45R').method, 'RE%47IST%45R');
});

test('RFC 4475 §3.1.2.4 scalar02 and §3.1.2.5 scalarlg: a CSeq over 2^32-1 is rejected', () => {
  assertParseError(() => parseCSeq('36893488147419103232 REGISTER'));
  assertParseError(() => parseCSeq('4294967296 INVITE'));
});

test('RFC 3261 §25.1: malformed CSeq values are rejected', () => {
  for (const bad of ['', 'INVITE', '1', '1INVITE', '-1 INVITE', '1 INVITE extra', '1 INV@TE', '1.5 INVITE', '1 "INVITE"']) {
    assertParseError(() => parseCSeq(bad));
  }
});

test('RFC 3261 §25.1: delta-seconds and 32-bit scalars', () => {
  assert.equal(parseUint32(' 0068 '), 68);
  assert.equal(parseDeltaSeconds('3600'), 3600);
  assertParseError(() => parseDeltaSeconds('280297596632815'));
  assert.equal(parseDeltaSeconds('280297596632815', 'clamp'), 4294967295);
  assert.equal(parseDeltaSeconds('1' + '0'.repeat(102), 'clamp'), 4294967295);
  assert.equal(parseDeltaSeconds('000000000000000000042', 'clamp'), 42);
  for (const bad of ['', ' ', '-1', '1e3', '12 34', '0x10']) {
    assertParseError(() => parseUint32(bad));
    assertParseError(() => parseDeltaSeconds(bad, 'clamp'));
  }
});

test('RFC 3261 §25.1: qvalue', () => {
  assert.equal(parseQValue('0.33'), 0.33);
  assert.equal(parseQValue('1'), 1);
  assert.equal(parseQValue('1.000'), 1);
  assert.equal(parseQValue('0'), 0);
  for (const bad of ['1.5', '0.1234', '2', '.5', 'x', '', '1.001', '0,5']) assertParseError(() => parseQValue(bad));
});
