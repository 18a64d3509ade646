// MSRP framing, parsing and serialization (RFC 4975 §5.1, §7.1, §7.2, §9; RFC 4976 AUTH).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MsrpParseError } from '../../src/msrp/errors.js';
import { getHeader, type MsrpMessage } from '../../src/msrp/message.js';
import { MsrpStreamParser, parseMsrpMessage, type MsrpStreamEvent } from '../../src/msrp/parse.js';
import { buildReport, buildRequest, buildResponse, serializeMsrp } from '../../src/msrp/serialize.js';
import {
  ALL_EXAMPLES, AUTH_OK, AUTH_RELAY, CHUNK_1, CHUNK_2, CHUNK_ABORT, OK_BASIC, REPORT_POSITIVE, SEND_BASIC, SEND_OVERVIEW, crlf,
} from './fixtures.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

function messages(events: MsrpStreamEvent[]): MsrpMessage[] {
  return events.map((e) => {
    assert.equal(e.kind, 'message', e.kind === 'message' ? '' : e.error.message);
    return (e as { message: MsrpMessage }).message;
  });
}

/** A stable, comparable view of events (Buffers as strings). */
function summary(events: MsrpStreamEvent[]): unknown[] {
  return events.map((e) => {
    if (e.kind !== 'message') return { kind: e.kind, code: e.error.code, status: e.error.status };
    const m = e.message;
    return m.kind === 'request' ? { ...m, body: m.body?.toString('latin1') } : m;
  });
}

test('RFC 4975 §9: the §4 and §11 examples parse (start line, headers in order, body, end-line flag)', () => {
  const send = parseMsrpMessage(b(SEND_OVERVIEW));
  assert.equal(send.kind, 'request');
  assert.equal(send.transactionId, 'a786hjs2');
  assert.equal(send.kind === 'request' && send.method, 'SEND');
  assert.equal(send.continuation, '$');
  assert.deepEqual(send.headers.map((h) => h.name), ['To-Path', 'From-Path', 'Message-ID', 'Byte-Range', 'Content-Type']);
  assert.equal(send.kind === 'request' && send.body?.toString(), 'Hey Bob, are you there?');

  const ok = parseMsrpMessage(b(OK_BASIC));
  assert.equal(ok.kind, 'response');
  assert.equal(ok.kind === 'response' && ok.code, 200);
  assert.equal(ok.kind === 'response' && ok.comment, 'OK');
  assert.equal(getHeader(ok, 'from-path'), 'msrp://bob.example.com:8888/9di4eae923wzd;tcp');

  const report = parseMsrpMessage(b(REPORT_POSITIVE));
  assert.equal(report.kind === 'request' && report.method, 'REPORT');
  assert.equal(report.kind === 'request' && report.body, undefined);
  assert.equal(getHeader(report, 'Status'), '000 200 OK');
});

test('RFC 4975 §9 / RFC 4976: every example round-trips byte-exact (serialize(parse(x)) === x, parse(serialize(m)) deep-equals m)', () => {
  for (const [name, text] of Object.entries(ALL_EXAMPLES)) {
    const m = parseMsrpMessage(b(text));
    assert.equal(serializeMsrp(m).toString('utf8'), text, name);
    assert.deepEqual(parseMsrpMessage(serializeMsrp(m)), m, name);
  }
});

test('RFC 4976 §5: AUTH (unknown to RFC 4975, any 1*UPALPHA method) and the 200 with Use-Path and Expires parse', () => {
  const auth = parseMsrpMessage(b(AUTH_RELAY));
  assert.equal(auth.kind === 'request' && auth.method, 'AUTH');
  const ok = parseMsrpMessage(b(AUTH_OK));
  assert.equal(getHeader(ok, 'Use-Path'), 'msrps://relay.example.com:9000/jui787s2f;tcp');
  assert.equal(getHeader(ok, 'Expires'), '900');
});

test('RFC 4975 §7.1: all three continuation flags ($ complete, + more, # aborted)', () => {
  assert.equal(parseMsrpMessage(b(CHUNK_1)).continuation, '+');
  assert.equal(parseMsrpMessage(b(CHUNK_2)).continuation, '$');
  assert.equal(parseMsrpMessage(b(CHUNK_ABORT)).continuation, '#');
});

const STREAM = [SEND_OVERVIEW, CHUNK_1, OK_BASIC, CHUNK_2, REPORT_POSITIVE, CHUNK_ABORT, AUTH_RELAY, SEND_BASIC].join('');

test('RFC 4975 §5.1: pipelined frames in one read come out in order', () => {
  const p = new MsrpStreamParser();
  const ms = messages(p.push(b(STREAM)));
  assert.deepEqual(ms.map((m) => m.transactionId), ['a786hjs2', '7443kd', 'd93kswow', '8553le', 'dkei38sd', '9663mf', '49fh', 'd93kswow']);
  assert.equal(p.buffered, 0);
});

test('RFC 4975 §7.1: a multi-frame stream split at every byte offset (and fed byte by byte) gives the same frames', () => {
  const bytes = b(STREAM);
  const whole = summary(new MsrpStreamParser().push(bytes));
  for (let i = 0; i <= bytes.length; i++) {
    const p = new MsrpStreamParser();
    const evs = [...p.push(bytes.subarray(0, i)), ...p.push(bytes.subarray(i))];
    assert.deepEqual(summary(evs), whole, `split at ${i}`);
  }
  for (let i = 0; i < bytes.length; i += 37) {
    for (let j = i; j <= bytes.length; j += 53) {
      const p = new MsrpStreamParser();
      const evs = [...p.push(bytes.subarray(0, i)), ...p.push(bytes.subarray(i, j)), ...p.push(bytes.subarray(j))];
      assert.deepEqual(summary(evs), whole, `split at ${i} and ${j}`);
    }
  }
  const p = new MsrpStreamParser();
  const evs: MsrpStreamEvent[] = [];
  for (const byte of bytes) evs.push(...p.push(Buffer.from([byte])));
  assert.deepEqual(summary(evs), whole);
});

test('RFC 4975 §7.1: a body holding end-lines of other transactions, a near-miss of its own, and a bad flag is kept whole', () => {
  const body = [
    'line one',
    '-------other$', // another transaction's end-line, on its own line
    '-------abcd1$', // our id as a prefix of a longer one
    '-------abcd%', // our id, but "%" is no continuation flag
    '-------abcd$ trailing', // our id and flag, but not followed by CRLF
    'MSRP abcd 200 OK', // looks like a response start line
    '-------abc$', // a prefix of our id
    '',
  ].join('\r\n');
  const frame = crlf([
    'MSRP abcd SEND',
    'To-Path: msrp://b.example.com:8888/s1;tcp',
    'From-Path: msrp://a.example.com:7777/s2;tcp',
    'Message-ID: m1234',
    'Content-Type: text/plain',
    '',
  ]) + body + '\r\n-------abcd+\r\n';
  const whole = messages(new MsrpStreamParser().push(b(frame)));
  assert.equal(whole.length, 1);
  assert.equal(whole[0]!.kind === 'request' && whole[0]!.body?.toString(), body);
  assert.equal(whole[0]!.continuation, '+');
  // and split everywhere, including inside each fake end-line
  for (let i = 0; i <= frame.length; i++) {
    const p = new MsrpStreamParser();
    const ms = messages([...p.push(b(frame.slice(0, i))), ...p.push(b(frame.slice(i)))]);
    assert.equal(ms.length, 1, `split at ${i}`);
    assert.equal(ms[0]!.kind === 'request' && ms[0]!.body?.toString(), body, `split at ${i}`);
  }
});

test('RFC 4975 §7.1: the serializer refuses a body containing its own end-line; buildRequest picks another transaction id', () => {
  const req = buildRequest({
    method: 'SEND', toPath: ['msrp://b:1/x;tcp'], fromPath: ['msrp://a:1/y;tcp'], contentType: 'text/plain',
    body: b('evil -------tid12345$ body'), transactionId: 'tid12345',
  });
  assert.throws(() => serializeMsrp(req), /end-line/);
  const auto = buildRequest({ method: 'SEND', toPath: ['msrp://b:1/x;tcp'], fromPath: ['msrp://a:1/y;tcp'], contentType: 'text/plain', body: b('hello') });
  assert.match(auto.transactionId, /^[A-Za-z0-9]{16}$/);
});

test('RFC 4975 §9: a binary body with every octet value, CR and LF alone, survives framing', () => {
  const body = Buffer.alloc(4096);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7919) & 0xff;
  const req = buildRequest({ method: 'SEND', toPath: ['msrp://b:1/x;tcp'], fromPath: ['msrp://a:1/y;tcp'], contentType: 'application/octet-stream', body });
  const wire = serializeMsrp(req);
  const p = new MsrpStreamParser();
  const out: MsrpStreamEvent[] = [];
  for (let i = 0; i < wire.length; i += 333) out.push(...p.push(wire.subarray(i, i + 333)));
  const [m] = messages(out);
  assert.ok(m?.kind === 'request' && m.body?.equals(body));
});

test('RFC 4975 §9: a blank line followed directly by the end-line is an empty body; header colon spacing is liberal', () => {
  const m = parseMsrpMessage(b('MSRP r1abc REPORT\r\nTo-Path: msrp://a:1/x;tcp\r\nFrom-Path:msrp://b:1/y;tcp\r\nStatus:\t000 200 OK\r\n\r\n-------r1abc$\r\n'));
  assert.equal(m.kind === 'request' && m.body?.length, 0);
  assert.equal(getHeader(m, 'From-Path'), 'msrp://b:1/y;tcp');
  assert.equal(getHeader(m, 'Status'), '000 200 OK');
});

test('RFC 4975 §7.2: buildResponse answers the previous hop (first From-Path URI) from the responder; §7.1.2 REPORT shape', () => {
  const req = parseMsrpMessage(b(crlf([
    'MSRP x1y2z3 SEND',
    'To-Path: msrp://relay.example.com:2855/r1;tcp msrp://bob.example.com:8888/s1;tcp',
    'From-Path: msrp://alice.example.com:7777/s2;tcp',
    'Message-ID: m1',
    '-------x1y2z3$',
  ])));
  const res = buildResponse(req, 481, undefined, 'msrp://bob.example.com:8888/s1;tcp');
  assert.equal(serializeMsrp(res).toString(), crlf([
    'MSRP x1y2z3 481 Session-does-not-exist',
    'To-Path: msrp://alice.example.com:7777/s2;tcp',
    'From-Path: msrp://bob.example.com:8888/s1;tcp',
    '-------x1y2z3$',
  ]));
  const report = buildReport({
    toPath: ['msrp://alicepc.example.com:7777/iau39soe2843z;tcp'], fromPath: ['msrp://bob.example.com:8888/9di4eae923wzd;tcp'],
    messageId: '12339sdqwer', byteRange: { start: 1, end: 106, total: 106 }, status: { namespace: 0, code: 200, comment: 'OK' },
  });
  assert.equal(serializeMsrp({ ...report, transactionId: 'dkei38sd' }).toString(), REPORT_POSITIVE);
});

test('RFC 4975 §9: a frame with a bad header line is delimited, reported invalid (400) and the next frame still parses', () => {
  const bad = 'MSRP bad1 SEND\r\nTo-Path: msrp://a:1/x;tcp\r\nFrom-Path: msrp://b:1/y;tcp\r\n no-name\r\n-------bad1$\r\n';
  const evs = new MsrpStreamParser().push(b(bad + SEND_OVERVIEW));
  assert.equal(evs[0]?.kind, 'invalid');
  assert.equal(evs[0]?.kind === 'invalid' && evs[0].error.status, 400);
  assert.equal(evs[0]?.kind === 'invalid' && evs[0].frame.transactionId, 'bad1');
  assert.equal(evs[1]?.kind, 'message');
});

test('RFC 4975 §9: invalid methods and response comments with control characters are invalid, not fatal', () => {
  const evs = new MsrpStreamParser().push(b('MSRP abc1 send\r\nTo-Path: msrp://a:1/x;tcp\r\nFrom-Path: msrp://b:1/y;tcp\r\n-------abc1$\r\n' + OK_BASIC));
  assert.deepEqual(evs.map((e) => e.kind), ['invalid', 'message']);
  assert.equal(evs[0]?.kind === 'invalid' && evs[0].error.code, 'bad-method');
});

test('RFC 4975 §9: a response with a body is invalid', () => {
  const evs = new MsrpStreamParser().push(b('MSRP abc1 200 OK\r\nTo-Path: msrp://a:1/x;tcp\r\nFrom-Path: msrp://b:1/y;tcp\r\n\r\nbody\r\n-------abc1$\r\n'));
  assert.equal(evs[0]?.kind === 'invalid' && evs[0].error.code, 'response-with-body');
});

test('RFC 4975 §7.3: garbage, a wrong protocol, a bad transaction id or a foreign end-line in the headers is fatal (framing lost)', () => {
  const cases: [string, string][] = [
    ['INVITE sip:bob@example.com SIP/2.0\r\n\r\n', 'bad-start-line'],
    ['msrp abcd SEND\r\n', 'bad-start-line'],
    ['MSRP SEND\r\n', 'bad-start-line'],
    ['MSRP ab_cd SEND\r\n', 'bad-transaction-id'],
    ['MSRP abcd SEND\r\nTo-Path: msrp://a:1/x;tcp\r\n-------wxyz$\r\n', 'end-line-mismatch'],
  ];
  for (const [input, code] of cases) {
    const p = new MsrpStreamParser();
    const evs = p.push(b(input));
    assert.equal(evs.length, 1, input);
    assert.equal(evs[0]?.kind, 'fatal', input);
    assert.equal(evs[0]?.kind === 'fatal' && evs[0].error.code, code, input);
    assert.deepEqual(p.push(b(SEND_OVERVIEW)), [], 'dead after fatal');
  }
});

test('limits: oversized header section is answered 400 and skipped to its end-line; an endless start line is fatal', () => {
  const p = new MsrpStreamParser({ maxHeaderBytes: 256 });
  const big = `MSRP big1 SEND\r\nTo-Path: msrp://a:1/x;tcp\r\nFrom-Path: msrp://b:1/y;tcp\r\nX-Pad: ${'p'.repeat(1000)}\r\n-------big1$\r\n`;
  const evs = p.push(b(big + OK_BASIC));
  assert.deepEqual(evs.map((e) => e.kind), ['invalid', 'message']);
  assert.equal(evs[0]?.kind === 'invalid' && evs[0].error.code, 'header-too-large');
  const q = new MsrpStreamParser({ maxHeaderBytes: 256 });
  const fatal = q.push(b('MSRP ' + 'a'.repeat(300)));
  assert.equal(fatal[0]?.kind === 'fatal' && fatal[0].error.code, 'header-too-large');
});

test('limits: too many header fields is invalid (400)', () => {
  const lines = ['MSRP many1 SEND', 'To-Path: msrp://a:1/x;tcp', 'From-Path: msrp://b:1/y;tcp'];
  for (let i = 0; i < 10; i++) lines.push(`X-H${i}: v`);
  lines.push('-------many1$');
  const evs = new MsrpStreamParser({ maxHeaders: 5 }).push(b(crlf(lines)));
  assert.equal(evs[0]?.kind === 'invalid' && evs[0].error.code, 'too-many-headers');
});

test('limits: a chunk body over maxChunkBodyBytes is skipped with bounded memory and answered 413; the stream goes on', () => {
  const p = new MsrpStreamParser({ maxChunkBodyBytes: 1000 });
  const head = 'MSRP huge1 SEND\r\nTo-Path: msrp://a:1/x;tcp\r\nFrom-Path: msrp://b:1/y;tcp\r\nMessage-ID: m1\r\nContent-Type: text/plain\r\n\r\n';
  const evs: MsrpStreamEvent[] = [...p.push(b(head))];
  const block = Buffer.alloc(64 * 1024, 0x41);
  let peak = 0;
  for (let i = 0; i < 64; i++) {
    evs.push(...p.push(block));
    peak = Math.max(peak, p.buffered);
  }
  assert.equal(evs.length, 0);
  assert.ok(peak < 256 * 1024, `buffered ${peak} bytes while skipping a 4 MiB body`);
  evs.push(...p.push(b('\r\n-------huge1$\r\n' + OK_BASIC)));
  assert.deepEqual(evs.map((e) => e.kind), ['invalid', 'message']);
  assert.equal(evs[0]?.kind === 'invalid' && evs[0].error.status, 413);
});

test('hostile input: random bytes after a start line never hang and stay bounded; random junk is rejected at once', () => {
  let seed = 12345;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 16) & 0xff;
  const junk = Buffer.alloc(2 * 1024 * 1024);
  for (let i = 0; i < junk.length; i++) junk[i] = rnd();
  const p = new MsrpStreamParser({ maxChunkBodyBytes: 64 * 1024 });
  const started = Date.now();
  p.push(b('MSRP rnd1 SEND\r\nTo-Path: msrp://a:1/x;tcp\r\nFrom-Path: msrp://b:1/y;tcp\r\nContent-Type: a/b\r\n\r\n'));
  for (let i = 0; i < junk.length; i += 1500) p.push(junk.subarray(i, i + 1500));
  assert.ok(p.buffered < 128 * 1024);
  assert.ok(Date.now() - started < 5000);
  const q = new MsrpStreamParser();
  assert.equal(q.push(junk.subarray(0, 100))[0]?.kind, 'fatal');
  // CRLF floods between frames are cut off at the header limit.
  const r = new MsrpStreamParser({ maxHeaderBytes: 1024 });
  const evs = r.push(Buffer.from('\r\n'.repeat(2000)));
  assert.equal(evs[0]?.kind, 'fatal');
});

test('parseMsrpMessage: an incomplete frame or trailing bytes are typed errors', () => {
  assert.throws(() => parseMsrpMessage(b(SEND_OVERVIEW.slice(0, -3))), (e: unknown) => e instanceof MsrpParseError && e.code === 'incomplete');
  assert.throws(() => parseMsrpMessage(b(SEND_OVERVIEW + 'MSRP')), (e: unknown) => e instanceof MsrpParseError && e.code === 'trailing-bytes');
});
