// RFC 3261 §18.3 stream framing, RFC 5626 §4.4.1 keep-alive, RFC 4475 §3.3.9 framing errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamFramer } from '../../../src/sip/message/stream.js';
import { DEFAULT_LIMITS } from '../../../src/sip/message/parse.js';

const msg = (n: number, body = '') =>
  `MESSAGE sip:a@b SIP/2.0\r\nCall-ID: c${n}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

test('RFC 3261 §18.3 pipelined messages in one chunk come out in order', () => {
  const f = new StreamFramer();
  const evs = f.push(Buffer.from(msg(1, 'hello') + msg(2) + msg(3, 'é')));
  assert.deepEqual(
    evs.map((e) => (e.kind === 'message' ? [e.message.get('call-id'), e.message.body.toString()] : e.kind)),
    [['c1', 'hello'], ['c2', ''], ['c3', 'é']],
  );
  assert.equal(f.buffered, 0);
});

test('RFC 3261 §18.3 a message split at every byte is reassembled', () => {
  const f = new StreamFramer();
  const bytes = Buffer.from(msg(1, 'body bytes') + msg(2, 'x'));
  const out = [];
  for (let i = 0; i < bytes.length; i++) out.push(...f.push(bytes.subarray(i, i + 1)));
  assert.equal(out.length, 2);
  assert.equal(out[0]?.kind === 'message' && out[0].message.body.toString(), 'body bytes');
});

test('RFC 5626 §4.4.1 CRLFCRLF is a ping; a lone CRLF before a message is skipped', () => {
  const f = new StreamFramer();
  assert.deepEqual(f.push(Buffer.from('\r\n\r\n')).map((e) => e.kind), ['ping']);
  assert.deepEqual(f.push(Buffer.from('\r\n' + msg(1))).map((e) => e.kind), ['message']);
});

test('RFC 3261 §18.3 a missing Content-Length on a stream means an empty body', () => {
  const f = new StreamFramer();
  const evs = f.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n' + msg(2)));
  assert.deepEqual(evs.map((e) => e.kind), ['message', 'message']);
});

test('RFC 4475 §3.3.9 conflicting Content-Length is fatal and nothing after it is read', () => {
  const f = new StreamFramer();
  const evs = f.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\nxx' + msg(2)));
  assert.equal(evs.length, 1);
  assert.ok(evs[0]?.kind === 'error' && evs[0].error.fatal);
  assert.deepEqual(f.push(Buffer.from(msg(3))), []);
});

test('limits: headers that never end and oversized bodies are fatal', () => {
  const f = new StreamFramer({ ...DEFAULT_LIMITS, maxHeaderBytes: 100 });
  const evs = f.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\n' + 'X: y\r\n'.repeat(30)));
  assert.ok(evs[0]?.kind === 'error' && evs[0].error.fatal);
  const g = new StreamFramer({ ...DEFAULT_LIMITS, maxBodyBytes: 10 });
  const ev2 = g.push(Buffer.from('MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 11\r\n\r\n'));
  assert.ok(ev2[0]?.kind === 'error' && ev2[0].error.fatal && ev2[0].error.status === 413);
});
