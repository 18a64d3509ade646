// Chunked messages (RFC 4975 §5.1, §7.1.1, §7.3.1): reassembly in any order, overlaps,
// "*" totals, "#" aborts, limits; chunking for sending.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkBody, Reassembler, type ChunkOutcome, type IncomingChunk } from '../../src/msrp/reassembly.js';
import type { ByteRange } from '../../src/msrp/message.js';

function chunk(messageId: string, start: number, text: string, flag: '$' | '+' | '#', total: number | '*' = '*', end?: number | '*'): IncomingChunk {
  const body = Buffer.from(text);
  const byteRange: ByteRange = { start, end: end ?? start + body.length - 1, total };
  return { messageId, byteRange, continuation: flag, body, contentType: 'text/plain' };
}

function completed(o: ChunkOutcome): string {
  assert.equal(o.kind, 'complete', JSON.stringify(o));
  return o.kind === 'complete' ? o.message.body.toString() : '';
}

test('RFC 4975 §7.3.1: a single "$" chunk is complete at once and nothing is kept', () => {
  const r = new Reassembler();
  assert.equal(completed(r.add(chunk('m1', 1, 'hello', '$', 5))), 'hello');
  assert.equal(r.inProgress, 0);
});

test('RFC 4975 §7.3.1: a missing Byte-Range means the whole message from byte 1', () => {
  const r = new Reassembler();
  const o = r.add({ messageId: 'm1', continuation: '$', body: Buffer.from('whole'), contentType: 'text/plain' });
  assert.equal(completed(o), 'whole');
});

test('RFC 4975 §5.1: chunks in order, reversed and shuffled all reassemble; the "$" chunk can arrive first', () => {
  const text = 'The quick brown fox jumps over the lazy dog';
  const pieces: IncomingChunk[] = [];
  for (let s = 0; s < text.length; s += 5) {
    const e = Math.min(text.length, s + 5);
    pieces.push(chunk('m1', s + 1, text.slice(s, e), e === text.length ? '$' : '+', text.length));
  }
  const orders = [pieces, [...pieces].reverse(), [pieces[3]!, pieces[0]!, pieces[8]!, pieces[1]!, pieces[5]!, pieces[2]!, pieces[4]!, pieces[7]!, pieces[6]!]];
  for (const order of orders) {
    const r = new Reassembler();
    const outcomes = order.map((c) => r.add(c));
    outcomes.slice(0, -1).forEach((o) => assert.equal(o.kind, 'partial'));
    const last = outcomes[outcomes.length - 1]!;
    assert.equal(completed(last), text);
    assert.equal(last.kind === 'complete' && last.message.chunks, pieces.length);
    assert.equal(r.bufferedBytes, 0);
  }
});

test('RFC 4975 §7.1.1: "*" end and total (interruptible chunks): the "$" chunk fixes the length', () => {
  const r = new Reassembler();
  assert.equal(r.add(chunk('m1', 1, 'abc', '+', '*', '*')).kind, 'partial');
  assert.equal(completed(r.add(chunk('m1', 4, 'def', '$', '*', '*'))), 'abcdef');
});

test('RFC 4975 §7.3.1: overlapping chunks — the last one received takes precedence', () => {
  const r = new Reassembler();
  r.add(chunk('m1', 1, 'aaaaaaaaaa', '+', 12));
  r.add(chunk('m1', 4, 'BBBB', '+', 12));
  assert.equal(r.bufferedBytes, 10);
  assert.equal(completed(r.add(chunk('m1', 9, 'CCCC', '$', 12))), 'aaaBBBBaCCCC');
});

test('RFC 4975 §7.1: "#" aborts the message and frees what was kept', () => {
  const r = new Reassembler();
  r.add(chunk('m1', 1, '0123456789', '+', 100));
  const o = r.add(chunk('m1', 11, 'xx', '#', 100));
  assert.deepEqual(o, { kind: 'aborted', messageId: 'm1', receivedBytes: 10 });
  assert.equal(r.inProgress, 0);
  assert.equal(r.bufferedBytes, 0);
});

test('RFC 4975 §11: Byte-Range end/total larger than the body of a "$" chunk (RFC examples) still completes', () => {
  const r = new Reassembler();
  const o = r.add({ messageId: 'm1', byteRange: { start: 1, end: 25, total: 25 }, continuation: '$', body: Buffer.from('Hey Bob, are you there?') });
  assert.equal(completed(o), 'Hey Bob, are you there?');
  assert.equal(r.add(chunk('m2', 1, 'abc', '+', 10)).kind, 'partial');
  assert.equal(completed(r.add(chunk('m2', 4, 'de', '$', 10))), 'abcde');
});

test('limits: a message over maxMessageBytes (by total or by end) is refused with 413 and its state dropped', () => {
  const r = new Reassembler({ maxMessageBytes: 100 });
  assert.deepEqual(r.add(chunk('m1', 1, 'x', '+', 101)).kind, 'rejected');
  r.add(chunk('m2', 1, 'x'.repeat(60), '+', '*'));
  const o = r.add(chunk('m2', 61, 'y'.repeat(60), '+', '*'));
  assert.equal(o.kind === 'rejected' && o.status, 413);
  assert.equal(r.inProgress, 0);
  assert.equal(r.bufferedBytes, 0);
});

test('limits: messages in progress and total buffered bytes are capped (413), expire() drops stale ones', () => {
  const r = new Reassembler({ maxMessagesInProgress: 2, maxBufferedBytes: 50 });
  assert.equal(r.add(chunk('a', 1, 'x'.repeat(10), '+'), 1).kind, 'partial');
  assert.equal(r.add(chunk('b', 1, 'x'.repeat(10), '+'), 2).kind, 'partial');
  const third = r.add(chunk('c', 1, 'x', '+'), 3);
  assert.equal(third.kind === 'rejected' && third.status, 413);
  // single-chunk messages do not count against the in-progress cap
  assert.equal(r.add(chunk('d', 1, 'ok', '$'), 3).kind, 'complete');
  const over = r.add(chunk('b', 11, 'y'.repeat(40), '+'), 4);
  assert.equal(over.kind, 'rejected');
  assert.equal(r.bufferedBytes, 10);
  assert.deepEqual(r.expire(2), ['a']);
  assert.equal(r.inProgress, 0);
});

test('limits: repeated overlapping resends cannot grow memory (trimmed pieces are copied, bytes stay = covered)', () => {
  const r = new Reassembler();
  const big = 'z'.repeat(1000);
  for (let s = 1; s <= 500; s++) r.add(chunk('m1', s, big, '+', '*'));
  assert.equal(r.bufferedBytes, 1499);
});

test('RFC 4975 §7.1.1: chunkBody cuts a body into numbered Byte-Ranges, last flagged "$"; empty body is 1-0/0', () => {
  const body = Buffer.alloc(5000, 7);
  const chunks = chunkBody(body, 2048);
  assert.deepEqual(chunks.map((c) => [c.byteRange, c.continuation, c.body.length]), [
    [{ start: 1, end: 2048, total: 5000 }, '+', 2048],
    [{ start: 2049, end: 4096, total: 5000 }, '+', 2048],
    [{ start: 4097, end: 5000, total: 5000 }, '$', 904],
  ]);
  assert.deepEqual(chunkBody(Buffer.alloc(0), 2048).map((c) => [c.byteRange, c.continuation]), [[{ start: 1, end: 0, total: 0 }, '$']]);
  assert.throws(() => chunkBody(body, 0), RangeError);
  // and back
  const r = new Reassembler();
  let last: ChunkOutcome | undefined;
  for (const c of chunkBody(body, 700)) last = r.add({ messageId: 'm', byteRange: c.byteRange, continuation: c.continuation, body: c.body });
  assert.ok(last?.kind === 'complete' && last.message.body.equals(body));
});
