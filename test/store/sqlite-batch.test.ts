// src/store/sqlite-batch.ts: the binary batch SqliteStore sends its worker, and the packed replies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessageBatch, encodeReplies, forEachReply, isMessageBatch, MessageBatchWriter } from '../../src/store/sqlite-batch.js';
import type { NewMessage } from '../../src/store/types.js';

const full: NewMessage = {
  at: 1_795_000_000_123.5,
  sender: 'sip:алиса@example.net',
  recipients: ['sip:bob@example.net', 'sip:😀@example.org'],
  contentType: 'text/plain;charset=utf-8',
  body: Buffer.from([0, 1, 2, 0xff, 0xfe, 13, 10]),
  msrpMessageId: 'm1',
  imdnMessageId: 'imdn-1',
  cpimHeaders: [
    { name: 'From', value: '<sip:alice@example.net>' },
    { name: 'imdn.Message-ID', value: 'imdn-1' },
    { name: 'Subject', value: '' },
  ],
};
const bare: NewMessage = { at: 1, sender: '', recipients: [], contentType: 'application/octet-stream', body: Buffer.alloc(0) };

test('messages round-trip: UTF-8 strings, binary bodies, absent optional fields kept absent', () => {
  const w = new MessageBatchWriter();
  w.append(7, 'h-1', full);
  w.append(8, 'h-2', bare);
  w.append(9, 'h-3', { ...bare, cpimHeaders: [] });
  assert.equal(w.count, 3);
  const b = w.take()!;
  assert.ok(isMessageBatch(b));
  const calls = decodeMessageBatch(b);
  assert.deepEqual(calls.map((c) => [c.id, c.method, c.args[0]]), [[7, 'addMessage', 'h-1'], [8, 'addMessage', 'h-2'], [9, 'addMessage', 'h-3']]);
  const [m1, m2, m3] = calls.map((c) => c.args[1] as NewMessage);
  assert.deepEqual({ ...m1, body: Buffer.from(m1!.body) }, full);
  assert.deepEqual({ ...m2, body: Buffer.from(m2!.body) }, bare);
  assert.ok(!('msrpMessageId' in m2!) && !('imdnMessageId' in m2!) && !('cpimHeaders' in m2!));
  assert.deepEqual(m3!.cpimHeaders, []);
});

test('a batch is a snapshot: changing the caller\'s body and arrays afterwards changes nothing', () => {
  const w = new MessageBatchWriter();
  const body = Buffer.from('hello');
  const recipients = ['sip:a@x'];
  w.append(1, 'h', { ...bare, body, recipients });
  body.write('HELLO');
  recipients.push('sip:b@x');
  const m = decodeMessageBatch(w.take()!)[0]!.args[1] as NewMessage;
  assert.equal(m.body.toString(), 'hello');
  assert.deepEqual(m.recipients, ['sip:a@x']);
});

test('take() empties the writer; the next batch does not carry the previous one', () => {
  const w = new MessageBatchWriter();
  assert.equal(w.take(), undefined);
  w.append(1, 'h', bare);
  const first = w.take()!;
  w.append(2, 'h', full);
  const second = w.take()!;
  assert.deepEqual(decodeMessageBatch(first).map((c) => c.id), [1]);
  assert.deepEqual(decodeMessageBatch(second).map((c) => c.id), [2]);
  // Each batch owns its ArrayBuffer (it is transferred to the worker).
  assert.notEqual(first.buffer, second.buffer);
  assert.equal(first.buffer.byteLength, first.length);
});

test('a batch grows past its first buffer: 3,000 messages and a 1 MiB body', () => {
  const w = new MessageBatchWriter();
  const big = Buffer.alloc(1024 * 1024, 7);
  for (let i = 0; i < 3000; i++) w.append(i, `h-${i % 5}`, { ...full, msrpMessageId: `m${i}` });
  w.append(3000, 'h-big', { ...bare, body: big });
  const calls = decodeMessageBatch(w.take()!);
  assert.equal(calls.length, 3001);
  assert.equal((calls[2999]!.args[1] as NewMessage).msrpMessageId, 'm2999');
  assert.ok((calls[3000]!.args[1] as NewMessage).body.equals(big));
});

test('replies: numeric results packed, others kept, all delivered in id order', () => {
  const b = encodeReplies([
    { id: 1, value: 10 },
    { id: 2, value: { x: 1 } },
    { id: 3, value: 11 },
    { id: 4, error: { name: 'NoSuchHistoryError', message: 'no', historyId: 'h' } },
    { id: 5, value: 0 },
    { id: 6, value: undefined },
  ]);
  assert.equal(b.numeric.length, 6);
  assert.equal(b.other.length, 3);
  const seen: [number, unknown, unknown][] = [];
  forEachReply(b, (id, value, error) => seen.push([id, value, error?.name]));
  assert.deepEqual(seen, [
    [1, 10, undefined],
    [2, { x: 1 }, undefined],
    [3, 11, undefined],
    [4, undefined, 'NoSuchHistoryError'],
    [5, 0, undefined],
    [6, undefined, undefined],
  ]);
});

test('a message that cannot be encoded is refused alone: the batch keeps the others intact', () => {
  const w = new MessageBatchWriter();
  w.append(1, 'h', full);
  // A caller bug (e.g. an undefined recipient) throws part-way through the encoding...
  assert.throws(() => w.append(2, 'h', { ...bare, recipients: [undefined as unknown as string] }));
  assert.throws(() => w.append(3, 'h', { ...bare, sender: undefined as unknown as string }));
  assert.equal(w.count, 1);
  // ...and leaves nothing behind that the next message or the worker would trip over.
  w.append(4, 'h', bare);
  assert.deepEqual(decodeMessageBatch(w.take()!).map((c) => c.id), [1, 4]);
  assert.throws(() => w.append(5, 'h', { ...bare, body: undefined as unknown as Buffer }));
  assert.equal(w.take(), undefined);
  w.append(6, 'h', bare);
  assert.deepEqual(decodeMessageBatch(w.take()!).map((c) => c.id), [6]);
});
