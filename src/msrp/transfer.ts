/**
 * Sending a message as SEND chunks (RFC 4975 §5.1, §7.1.1).
 *
 * Each chunk is its own transaction with a fresh transaction id and a numeric Byte-Range;
 * all but the last end in "+", the last in "$". Up to `window` transactions are in flight
 * at once, so a large message does not wait a round trip per chunk, while the bytes queued
 * stay bounded. Failure-Report decides what counts as done (§7.1.1): "yes" waits for every
 * 200; "partial" and "no" count a written chunk as sent. A negative response or a timeout
 * (408) stops the message: §10 "413" asks the sender to stop sending it.
 */
import type { MsrpConnection, ResponseExpectation } from './connection.js';
import { MsrpSendError } from './errors.js';
import { newMessageId } from './ids.js';
import { formatByteRange, type FailureReport, type MsrpHeader, type MsrpRequest } from './message.js';
import { chunkBody } from './reassembly.js';
import { buildRequest } from './serialize.js';

export interface ChunkedSend {
  toPath: readonly string[];
  fromPath: readonly string[];
  contentType: string;
  body: Buffer;
  messageId: string;
  successReport: boolean;
  failureReport: FailureReport;
  chunkSize: number;
  window: number;
}

export function expectationFor(fr: FailureReport): ResponseExpectation {
  return fr === 'yes' ? 'all' : fr === 'partial' ? 'failures' : 'none';
}

/**
 * The SEND an active endpoint issues as soon as its connection is up, with no body, so the
 * passive side can bind the connection to the session (RFC 4975 §5.4, RFC 6135 §4).
 */
export function bindingSend(toPath: readonly string[], fromPath: readonly string[]): MsrpRequest {
  return buildRequest({
    method: 'SEND',
    toPath,
    fromPath,
    headers: [{ name: 'Message-ID', value: newMessageId() }, { name: 'Byte-Range', value: '1-0/0' }],
  });
}

/** Sends all chunks; resolves with their number, rejects with MsrpSendError on the first failure. */
export function sendChunked(conn: MsrpConnection, m: ChunkedSend): Promise<number> {
  const headers: MsrpHeader[] = [{ name: 'Message-ID', value: m.messageId }];
  if (m.successReport) headers.push({ name: 'Success-Report', value: 'yes' });
  if (m.failureReport !== 'yes') headers.push({ name: 'Failure-Report', value: m.failureReport });
  const chunks = chunkBody(m.body, m.chunkSize);
  const window = Math.max(1, m.window);
  const expect = expectationFor(m.failureReport);
  return new Promise<number>((resolve, reject) => {
    let next = 0;
    let inFlight = 0;
    let done = 0;
    let stopped = false;
    const fail = (e: Error): void => {
      if (stopped) return;
      stopped = true;
      reject(e);
    };
    const pump = (): void => {
      while (!stopped && inFlight < window && next < chunks.length) {
        const c = chunks[next++]!;
        const range = formatByteRange(c.byteRange);
        const req = buildRequest({
          method: 'SEND', toPath: m.toPath, fromPath: m.fromPath, contentType: m.contentType, body: c.body, continuation: c.continuation,
          headers: [...headers, { name: 'Byte-Range', value: range }],
        });
        inFlight++;
        conn.send(req, expect).then((r) => {
          inFlight--;
          if (stopped) return;
          if (r.code < 200 || r.code >= 300) {
            fail(new MsrpSendError(`chunk ${range} answered ${r.code} ${r.comment ?? ''}`.trim(), r.timedOut ? 'timeout' : 'rejected', r.code));
          } else if (++done === chunks.length) {
            resolve(chunks.length);
          } else {
            pump();
          }
        }, fail);
      }
    };
    pump();
  });
}
