/**
 * Stream framing for SIP over TCP/TLS: bytes in, whole messages out.
 *
 * RFC 3261 §18.3: on a stream the Content-Length header MUST be used to find the end of
 * each message (a missing one is taken as 0); §7.5: CRLFs before a start line are ignored.
 * RFC 5626 §3.5.1 / §4.4.1: a CRLFCRLF "ping" is answered with a CRLF "pong".
 * A framing error (bad or conflicting Content-Length, oversized headers or body) cannot be
 * resynchronised: the framer reports it as fatal and the connection must be closed
 * (RFC 4475 §3.1.2.3, §3.3.9).
 */
import { DEFAULT_LIMITS, MessageParseError, findHeadEnd, parseHead, type ParseLimits } from './parse.js';
import { EMPTY, type SipMessage } from './message.js';

export type FramerEvent =
  | { kind: 'message'; message: SipMessage }
  | { kind: 'error'; error: MessageParseError }
  | { kind: 'ping' };

export class StreamFramer {
  /** Received bytes not yet framed, as they arrived; joined only when a message can complete. */
  private parts: Buffer[] = [];
  private size = 0;
  private buf: Buffer = EMPTY;
  private pending: { message: SipMessage; bodyStart: number; length: number } | undefined;
  private dead = false;

  constructor(private readonly limits: ParseLimits = DEFAULT_LIMITS) {}

  /** Bytes waiting for the rest of a message. */
  get buffered(): number {
    return this.size;
  }

  /** Feed received bytes; returns the events they complete, in order. */
  push(chunk: Buffer): FramerEvent[] {
    if (this.dead) return [];
    this.parts.push(chunk);
    this.size += chunk.length;
    // While a body is incomplete, keep the chunks apart: joining them on every push would copy
    // O(n^2) bytes for a body sent a byte at a time (test/fuzz/regressions.test.ts).
    if (this.pending !== undefined && this.size < this.pending.bodyStart + this.pending.length) return [];
    this.buf = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    const out = this.drain();
    this.parts = this.buf.length === 0 ? [] : [this.buf];
    this.size = this.buf.length;
    return out;
  }

  private drain(): FramerEvent[] {
    const out: FramerEvent[] = [];
    for (;;) {
      const ev = this.next();
      if (ev === undefined) break;
      out.push(ev);
      if (ev.kind === 'error' && ev.error.fatal) {
        this.dead = true;
        this.buf = EMPTY;
        break;
      }
    }
    return out;
  }

  private next(): FramerEvent | undefined {
    if (this.pending === undefined) {
      // Leading CRLFs: a double CRLF on its own is a keep-alive ping.
      let i = 0;
      while (i < this.buf.length && (this.buf[i] === 13 || this.buf[i] === 10)) i++;
      if (i > 0) {
        const ping = i >= 4 && this.buf.subarray(0, 4).toString('latin1') === '\r\n\r\n';
        this.buf = this.buf.subarray(i);
        if (ping) return { kind: 'ping' };
      }
      if (this.buf.length === 0) return undefined;
      const found = findHeadEnd(this.buf, 0);
      if (found === undefined) {
        if (this.buf.length > this.limits.maxHeaderBytes) {
          return fatal(`headers longer than ${this.limits.maxHeaderBytes} bytes`);
        }
        return undefined;
      }
      if (found.headEnd > this.limits.maxHeaderBytes) return fatal(`headers longer than ${this.limits.maxHeaderBytes} bytes`);
      let parsed;
      try {
        parsed = parseHead(this.buf.toString('utf8', 0, found.headEnd), this.limits);
      } catch (e) {
        if (!(e instanceof MessageParseError)) throw e;
        // Without a trustworthy head we do not know where the body ends, so the stream
        // cannot be resynchronised: fatal (the transport answers 400 if it can, then closes).
        return { kind: 'error', error: new MessageParseError(e.message, e.offset, e.status, e.partial, true) };
      }
      const length = parsed.contentLength ?? 0;
      if (length > this.limits.maxBodyBytes) {
        return { kind: 'error', error: new MessageParseError(`body larger than ${this.limits.maxBodyBytes} bytes`, 0, 413, parsed.message, true) };
      }
      this.pending = { message: parsed.message, bodyStart: found.bodyStart, length };
    }
    const p = this.pending;
    if (this.buf.length < p.bodyStart + p.length) return undefined;
    p.message.body = p.length === 0 ? EMPTY : Buffer.from(this.buf.subarray(p.bodyStart, p.bodyStart + p.length));
    this.buf = this.buf.subarray(p.bodyStart + p.length);
    if (this.buf.length === 0) this.buf = EMPTY;
    this.pending = undefined;
    return { kind: 'message', message: p.message };
  }
}

function fatal(msg: string): FramerEvent {
  return { kind: 'error', error: new MessageParseError(msg, 0, 400, undefined, true) };
}
