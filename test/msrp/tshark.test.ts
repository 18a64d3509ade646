// Wireshark's MSRP dissector as an independent reader of our bytes (RFC 4975 §9): a loopback
// exchange (binding SEND, chunked message, Success-Report REPORT, both directions) is
// captured and dissected with no malformed packet. Skipped without tshark unless CI is set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { MsrpEndpoint } from '../../src/msrp/endpoint.js';
import type { ReceivedMessage, ReceivedReport } from '../../src/msrp/session.js';
import { missing, startCapture } from '../interop/peers.js';
import { next } from './helpers.js';

const skip = missing('tshark');

function tshark(file: string, port: number, filter: string, fields: string[]): string[] {
  const r = spawnSync('tshark', ['-r', file, '-d', `tcp.port==${port},msrp`, '-Y', filter, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  const out = r.stdout.trim();
  return out === '' ? [] : out.split('\n');
}

test('RFC 4975 §9: tshark dissects a captured MSRP exchange with no malformed packet', { skip, timeout: 60_000 }, async () => {
  // Wireshark's dissector reads only the first MSRP frame of a TCP segment: one write per
  // response here, so each 200 is a packet of its own (limits.coalesceResponses).
  const limits = { coalesceResponses: false };
  const a = await MsrpEndpoint.create({ listen: { address: '127.0.0.1', port: 0 }, limits });
  const b = await MsrpEndpoint.create({ listen: { address: '127.0.0.1', port: 0 }, limits });
  const port = b.port!;
  const cap = await startCapture([port], 40_000);
  try {
    const sa = a.createSession({ localUriHost: '127.0.0.1' });
    const sb = b.createSession({ localUriHost: '127.0.0.1' });
    sb.accept(sa.localPathUris);
    await sa.connect(sb.localPathUris);
    const got = next<ReceivedMessage>(sb, 'message');
    const report = next<ReceivedReport>(sa, 'report');
    await sa.send('text/plain', Buffer.from('Hello over MSRP'), { successReport: true });
    await got;
    await report;
    const big = next<ReceivedMessage>(sb, 'message');
    await sa.send('text/plain', Buffer.alloc(5000, 0x7a), { chunkSize: 2048 });
    await big;
    const back = next<ReceivedMessage>(sa, 'message');
    await sb.send('message/cpim', Buffer.from('From: <sip:b@example.com>\r\nTo: <sip:a@example.com>\r\n\r\nContent-Type: text/plain\r\n\r\nreply'));
    await back;
  } finally {
    await cap.stop();
    await a.close();
    await b.close();
  }
  const frames = tshark(cap.file, port, 'msrp', ['frame.number', '_ws.col.Info']);
  const malformed = tshark(cap.file, port, '_ws.malformed || _ws.expert.severity == "error"', ['frame.number', '_ws.col.Info']);
  assert.deepEqual(malformed, [], malformed.join('\n'));
  const lines = tshark(cap.file, port, 'msrp', ['msrp.request.line', 'msrp.response.line']).join('\n');
  // binding SEND + 1 + 3 chunks + reply = 6 SENDs, 6 responses, 1 REPORT
  assert.equal((lines.match(/ SEND/g) ?? []).length, 6, lines);
  assert.equal((lines.match(/ 200 OK/g) ?? []).length, 6, lines);
  assert.equal((lines.match(/ REPORT/g) ?? []).length, 1, lines);
  assert.ok(frames.length > 0);
});
