// MSRP header fields (RFC 4975 §7.1.1 Byte-Range and report headers, §7.1.2 Status, §9
// paths and idents) and the random identifiers (§7.1 transaction ids, §14.1 session-ids).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MsrpParseError } from '../../src/msrp/errors.js';
import {
  acceptsType, byteRangeOf, expiresOf, failureReportOf, formatByteRange, formatStatus, messageIdOf, parseByteRange, parsePath, parseStatus,
  successReportOf, type MsrpHeader,
} from '../../src/msrp/message.js';
import { base62Bits, newMessageId, newSessionId, newTransactionId, SESSION_ID_LENGTH } from '../../src/msrp/ids.js';
import { shouldRespond } from '../../src/msrp/connection.js';
import { parseMsrpUri } from '../../src/sdp/msrp-uri.js';

const h = (...pairs: [string, string][]): { headers: MsrpHeader[] } => ({ headers: pairs.map(([name, value]) => ({ name, value })) });

function badRange(v: string): void {
  assert.throws(() => parseByteRange(v), (e: unknown) => e instanceof MsrpParseError && e.code === 'bad-byte-range' && e.status === 400, v);
}

test('RFC 4975 §7.1.1 Byte-Range: numeric and "*" forms, the empty range 1-0/0, and round trip', () => {
  assert.deepEqual(parseByteRange('1-25/25'), { start: 1, end: 25, total: 25 });
  assert.deepEqual(parseByteRange('1-*/*'), { start: 1, end: '*', total: '*' });
  assert.deepEqual(parseByteRange('2049-*/10000'), { start: 2049, end: '*', total: 10000 });
  assert.deepEqual(parseByteRange('11-20/*'), { start: 11, end: 20, total: '*' });
  assert.deepEqual(parseByteRange('1-0/0'), { start: 1, end: 0, total: 0 });
  for (const v of ['1-25/25', '1-*/*', '2049-*/10000', '11-20/*', '1-0/0']) assert.equal(formatByteRange(parseByteRange(v)), v);
});

test('RFC 4975 §7.1.1 Byte-Range edge cases: zero start, end before start, end past total, junk, huge numbers are 400', () => {
  for (const v of ['0-10/10', '5-3/10', '1-11/10', '12-*/10', '1-10', '1/10', '-1-2/3', '1-2/3/4', 'a-b/c', '1 -2/3', '1-2/ 3', '', '1-2/3 ', '1-1234567890123456/1234567890123456']) {
    badRange(v);
  }
  assert.throws(() => byteRangeOf(h(['Byte-Range', '1-2/2'], ['Byte-Range', '3-4/4'])), MsrpParseError);
  assert.equal(byteRangeOf(h()), undefined);
});

test('RFC 4975 §7.1.2 Status: namespace, code and comment; malformed is 400', () => {
  assert.deepEqual(parseStatus('000 200 OK'), { namespace: 0, code: 200, comment: 'OK' });
  assert.deepEqual(parseStatus('000 413'), { namespace: 0, code: 413 });
  assert.equal(formatStatus({ namespace: 0, code: 200, comment: 'OK' }), '000 200 OK');
  for (const v of ['200 OK', '000 20 OK', '0000 200', '000  200', 'abc 200']) {
    assert.throws(() => parseStatus(v), (e: unknown) => e instanceof MsrpParseError && e.code === 'bad-status', v);
  }
});

test('RFC 4975 §7.1.1: Success-Report defaults to no, Failure-Report to yes; other values are 400', () => {
  assert.equal(successReportOf(h()), false);
  assert.equal(successReportOf(h(['Success-Report', 'yes'])), true);
  assert.equal(failureReportOf(h()), 'yes');
  assert.equal(failureReportOf(h(['Failure-Report', 'partial'])), 'partial');
  assert.throws(() => successReportOf(h(['Success-Report', 'maybe'])), MsrpParseError);
  assert.throws(() => failureReportOf(h(['Failure-Report', 'YES'])), MsrpParseError);
});

test('RFC 4975 §7.1.1, §7.1.2: whether a request is answered (Failure-Report no/partial, never a REPORT)', () => {
  assert.equal(shouldRespond('SEND', 'yes', 200), true);
  assert.equal(shouldRespond('SEND', 'no', 481), false);
  assert.equal(shouldRespond('SEND', 'partial', 200), false);
  assert.equal(shouldRespond('SEND', 'partial', 413), true);
  assert.equal(shouldRespond('REPORT', 'yes', 481), false);
});

test('RFC 4975 §9: Message-ID is an ident; paths are space-separated MSRP URIs in order; RFC 4976 Expires', () => {
  assert.equal(messageIdOf(h(['Message-ID', '12339sdqwer'])), '12339sdqwer');
  assert.throws(() => messageIdOf(h(['Message-ID', 'bad id'])), MsrpParseError);
  const p = parsePath('msrp://relay.example.com:2855/r1;tcp msrp://bob.example.com:8888/s1;tcp');
  assert.deepEqual(p.text, ['msrp://relay.example.com:2855/r1;tcp', 'msrp://bob.example.com:8888/s1;tcp']);
  assert.equal(p.uris[1]?.sessionId, 's1');
  assert.throws(() => parsePath('msrp://a:1/x;tcp  msrp://b:1/y;tcp'), (e: unknown) => e instanceof MsrpParseError && e.code === 'bad-path');
  assert.throws(() => parsePath('sip:bob@example.com'), MsrpParseError);
  assert.equal(expiresOf(h(['Expires', '900'])), 900);
});

test('RFC 4975 §8.6: accept-types matching (exact, type/*, *; parameters and case ignored)', () => {
  assert.equal(acceptsType(['message/cpim', 'text/plain'], 'Text/Plain; charset=UTF-8'), true);
  assert.equal(acceptsType(['message/cpim'], 'text/plain'), false);
  assert.equal(acceptsType(['text/*'], 'text/html'), true);
  assert.equal(acceptsType(['*'], 'image/jpeg'), true);
});

test('RFC 4975 §7.1: transaction ids are idents with at least 64 random bits, never repeating', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const t = newTransactionId();
    assert.match(t, /^[A-Za-z0-9]{4,32}$/);
    seen.add(t);
    assert.match(newMessageId(), /^[A-Za-z0-9]{4,32}$/);
  }
  assert.equal(seen.size, 2000);
  assert.ok(base62Bits(newTransactionId().length) >= 64);
});

test('RFC 4975 §14.1 / issue 6: session-ids carry at least 80 random bits, use only URI-safe characters, and spread evenly', () => {
  assert.ok(base62Bits(SESSION_ID_LENGTH) >= 80, `${base62Bits(SESSION_ID_LENGTH)} bits`);
  const counts = new Map<string, number>();
  const ids = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const id = newSessionId();
    assert.equal(id.length, SESSION_ID_LENGTH);
    assert.match(id, /^[A-Za-z0-9]+$/);
    assert.equal(parseMsrpUri(`msrp://127.0.0.1:2855/${id};tcp`).sessionId, id);
    ids.add(id);
    for (const c of id) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  assert.equal(ids.size, 5000);
  // 100 000 characters over 62 symbols: about 1613 each; a biased generator would show.
  assert.equal(counts.size, 62);
  for (const [c, n] of counts) assert.ok(n > 1300 && n < 1950, `${c}: ${n}`);
});
