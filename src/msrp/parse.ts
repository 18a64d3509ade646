/**
 * MSRP framing and parsing over a byte stream (RFC 4975 §5.1, §7.1, §9).
 *
 * An MSRP body carries no length: a chunk ends at CRLF "-------" transaction-id flag CRLF
 * (§7.1: "If a body is present, the end-line MUST be preceded by a CRLF that is not part of
 * the body"; the sender guarantees the end-line is not in the body). So the parser learns the
 * transaction id from the start line and then looks for exactly that end-line, which makes a
 * body containing end-lines of other transactions harmless. Bytes may arrive split anywhere,
 * several frames may arrive in one read (pipelining), and nothing is rescanned: body bytes
 * that cannot begin an end-line are moved out of the input buffer as soon as they are seen,
 * so memory and time stay linear whatever the read pattern.
 *
 * Errors come in two kinds (MsrpParseError.fatal). Once the start line is known a broken
 * frame can still be skipped to its end-line: it is reported as 'invalid' (the connection
 * answers 400, or 413 for a body over the limit) and parsing goes on. Without a start line
 * (not "MSRP <tid> ...") or with an end-line for another transaction where a header was
 * expected, the stream cannot be resynchronised: 'fatal', and the connection must close.
 *
 * Liberal in what it accepts, where the RFC's own examples or common peers need it: any
 * amount of SP/HTAB after a header colon; CRLFs between frames; a blank line followed
 * directly by the end-line (an empty body whose CRLF doubles as the blank line's).
 */
import { MsrpParseError } from './errors.js';
import { ByteQueue, CR, EMPTY, LF, isAlpha, isFlag, isTokenChar, utf8Text } from './bytes.js';
import { isIdent, type ContinuationFlag, type MsrpHeader, type MsrpMessage } from './message.js';

export interface MsrpParseLimits {
  /** Start line plus header lines of one frame; more is answered 400 and skipped. */
  maxHeaderBytes: number;
  /** Header fields in one frame. */
  maxHeaders: number;
  /** Body of one chunk; a larger one is skipped to its end-line and answered 413. */
  maxChunkBodyBytes: number;
}

export const DEFAULT_MSRP_PARSE_LIMITS: MsrpParseLimits = {
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 64,
  maxChunkBodyBytes: 1024 * 1024,
};

/** What a frame that could be delimited but not understood still tells us, to answer it. */
export interface PartialFrame {
  transactionId: string;
  /** Set for requests (possibly an invalid method token). */
  method?: string;
  /** Set for responses. */
  code?: number;
  headers: MsrpHeader[];
}

export type MsrpStreamEvent =
  | { kind: 'message'; message: MsrpMessage }
  | { kind: 'invalid'; frame: PartialFrame; error: MsrpParseError }
  | { kind: 'fatal'; error: MsrpParseError };

const CRLF = Buffer.from('\r\n', 'latin1');
const PREFIX = 'MSRP ';
const HYPHENS = '-------';

type State = 'start' | 'headers' | 'body' | 'dead';

/** Bytes in, MSRP frames out. One instance per connection; not reusable after 'fatal'. */
export class MsrpStreamParser {
  private readonly limits: MsrpParseLimits;
  private readonly q = new ByteQueue();
  private state: State = 'start';
  /** Where the CRLF search resumes, relative to the queue's view. */
  private scan = 0;
  /** Stream offset of the queue's first byte (for error offsets). */
  private offset = 0;

  // The frame being read.
  private tid = '';
  private method: string | undefined;
  private code: number | undefined;
  private comment: string | undefined;
  private headers: MsrpHeader[] = [];
  private headBytes = 0;
  private error: MsrpParseError | undefined;
  private delim: Buffer = EMPTY;
  private bodyParts: Buffer[] = [];
  private bodyBytes = 0;
  private hasBody = false;
  /** The position is at the start of a line, so an end-line there needs no CRLF of its own. */
  private atLineStart = false;
  private discarding = false;

  constructor(limits: Partial<MsrpParseLimits> = {}) {
    this.limits = { ...DEFAULT_MSRP_PARSE_LIMITS, ...limits };
  }

  /** Bytes held for frames not yet complete (input buffer and body read so far). */
  get buffered(): number {
    return this.q.length + (this.discarding ? 0 : this.bodyBytes);
  }

  /** A frame has started and is not complete (even one whose body is being discarded). */
  get inFrame(): boolean {
    return this.state === 'headers' || this.state === 'body' || (this.state === 'start' && this.q.length > 0);
  }

  push(chunk: Buffer): MsrpStreamEvent[] {
    if (this.state === 'dead') return [];
    this.q.append(chunk);
    const out: MsrpStreamEvent[] = [];
    for (;;) {
      const ev = this.step();
      if (ev === null) break;
      if (ev === undefined) continue;
      out.push(ev);
      if (ev.kind === 'fatal') {
        this.state = 'dead';
        this.q.clear();
        this.bodyParts = [];
        break;
      }
    }
    return out;
  }

  /** null: need more bytes; undefined: progress without an event. */
  private step(): MsrpStreamEvent | null | undefined {
    switch (this.state) {
      case 'start':
        return this.readStartLine();
      case 'headers':
        return this.readHeaderLine();
      case 'body':
        return this.readBody();
      case 'dead':
        return null;
    }
  }

  private consume(n: number): void {
    this.q.consume(n);
    this.offset += n;
    this.scan = 0;
  }

  private fatal(message: string, code: 'bad-start-line' | 'bad-transaction-id' | 'header-too-large' | 'end-line-mismatch', at = this.offset): MsrpStreamEvent {
    return { kind: 'fatal', error: new MsrpParseError(message, code, at, 400, true) };
  }

  private readStartLine(): MsrpStreamEvent | null | undefined {
    let view = this.q.view();
    // CRLFs between frames are skipped (bounded like a header, so a CRLF flood is cut off).
    let skip = 0;
    while (skip + 1 < view.length && view[skip] === CR && view[skip + 1] === LF) skip += 2;
    if (skip > 0) {
      this.headBytes += skip;
      if (this.headBytes > this.limits.maxHeaderBytes) return this.fatal('too many empty lines between frames', 'header-too-large');
      this.consume(skip);
      view = this.q.view();
    }
    if (view.length === 0 || (view.length === 1 && view[0] === CR)) return null;
    const n = Math.min(view.length, PREFIX.length);
    if (view.toString('latin1', 0, n) !== PREFIX.slice(0, n)) return this.fatal('not an MSRP frame (expected "MSRP ")', 'bad-start-line');
    const idx = view.indexOf(CRLF, this.scan);
    if (idx < 0) {
      if (view.length > this.limits.maxHeaderBytes) return this.fatal(`start line longer than ${this.limits.maxHeaderBytes} bytes`, 'header-too-large');
      this.scan = Math.max(0, view.length - 1);
      return null;
    }
    if (idx > this.limits.maxHeaderBytes) return this.fatal(`start line longer than ${this.limits.maxHeaderBytes} bytes`, 'header-too-large');
    const line = view.subarray(PREFIX.length, idx);
    const sp = line.indexOf(0x20);
    const tid = line.toString('latin1', 0, sp < 0 ? line.length : sp);
    if (sp < 0) return this.fatal('start line without method or status', 'bad-start-line');
    if (!isIdent(tid)) return this.fatal(`invalid transaction id ${JSON.stringify(tid.slice(0, 80))}`, 'bad-transaction-id');

    this.resetFrame();
    this.tid = tid;
    this.delim = Buffer.from('\r\n' + HYPHENS + tid, 'latin1');
    const rest = line.subarray(sp + 1);
    const restText = rest.toString('latin1');
    if (/^[0-9]{3}$/.test(restText) || /^[0-9]{3} /.test(restText)) {
      this.code = Number(restText.slice(0, 3));
      if (rest.length > 4) {
        const comment = utf8Text(rest.subarray(4));
        if (comment === undefined) this.fail('invalid characters in the response comment', 'bad-start-line');
        else this.comment = comment;
      }
    } else {
      this.method = restText;
      if (!/^[A-Z]+$/.test(restText)) this.fail(`invalid method ${JSON.stringify(restText.slice(0, 40))}`, 'bad-method');
    }
    this.headBytes = idx + 2;
    this.consume(idx + 2);
    this.state = 'headers';
    return undefined;
  }

  private readHeaderLine(): MsrpStreamEvent | null | undefined {
    const view = this.q.view();
    const idx = view.indexOf(CRLF, this.scan);
    if (idx < 0) {
      if (this.headBytes + view.length > this.limits.maxHeaderBytes) return this.skipOversizedHead();
      this.scan = Math.max(0, view.length - 1);
      return null;
    }
    if (idx === 0) {
      // The blank line: content-stuff follows (§9).
      this.consume(2);
      this.headBytes += 2;
      if (this.code !== undefined) this.fail('a response carries no body', 'response-with-body');
      this.state = 'body';
      this.hasBody = true;
      this.atLineStart = true;
      this.discarding = this.error !== undefined;
      return undefined;
    }
    if (view[0] === 0x2d && view.toString('latin1', 0, Math.min(idx, HYPHENS.length)) === HYPHENS) {
      const core = HYPHENS + this.tid;
      if (idx === core.length + 1 && view.toString('latin1', 0, core.length) === core && isFlag(view[core.length])) {
        const flag = String.fromCharCode(view[core.length]!) as ContinuationFlag;
        this.consume(idx + 2);
        return this.finish(flag);
      }
      return this.fatal(`end-line ${JSON.stringify(view.toString('latin1', 0, Math.min(idx, 80)))} does not close transaction ${this.tid}`, 'end-line-mismatch');
    }
    this.headerLine(view, idx);
    this.headBytes += idx + 2;
    this.consume(idx + 2);
    if (this.headBytes > this.limits.maxHeaderBytes) return this.skipOversizedHead();
    return undefined;
  }

  /** The header field in line[0, end) (read in place: no view of the line is made). */
  private headerLine(line: Buffer, end: number): void {
    let i = 0;
    if (end === 0 || !isAlpha(line[0]!)) {
      this.fail('header line does not start with a name', 'bad-header');
      return;
    }
    while (i < end && isTokenChar(line[i]!)) i++;
    if (i >= end || line[i] !== 0x3a) {
      this.fail(`invalid header name ${JSON.stringify(line.toString('latin1', 0, Math.min(i + 1, 60, end)))}`, 'bad-header');
      return;
    }
    const name = line.toString('latin1', 0, i);
    i++;
    while (i < end && (line[i] === 0x20 || line[i] === 0x09)) i++;
    const value = utf8Text(line, i, end);
    if (value === undefined) {
      this.fail(`invalid characters in ${name}`, 'bad-header');
      return;
    }
    if (this.headers.length >= this.limits.maxHeaders) {
      this.fail(`more than ${this.limits.maxHeaders} header fields`, 'too-many-headers');
      return;
    }
    this.headers.push({ name, value });
  }

  /** The head is over the limit: remember the error and skip to this frame's end-line. */
  private skipOversizedHead(): undefined {
    this.fail(`header fields longer than ${this.limits.maxHeaderBytes} bytes`, 'header-too-large');
    this.state = 'body';
    this.discarding = true;
    this.atLineStart = true;
    return undefined;
  }

  private readBody(): MsrpStreamEvent | null | undefined {
    const view = this.q.view();
    const coreLen = this.delim.length - 2;
    if (this.atLineStart) {
      // An end-line right here (empty body after the blank line, or a skipped head).
      const have = Math.min(view.length, coreLen);
      if (view.subarray(0, have).equals(this.delim.subarray(2, 2 + have))) {
        if (view.length < coreLen + 3) return null;
        if (isFlag(view[coreLen]) && view[coreLen + 1] === CR && view[coreLen + 2] === LF) {
          const flag = String.fromCharCode(view[coreLen]!) as ContinuationFlag;
          this.consume(coreLen + 3);
          return this.finish(flag);
        }
      }
      this.atLineStart = false;
    }
    let from = this.scan;
    for (;;) {
      const idx = view.indexOf(this.delim, from);
      if (idx < 0) break;
      const need = idx + this.delim.length + 3;
      if (view.length < need) {
        // Maybe an end-line whose flag has not arrived: keep it, move the body before it out.
        this.takeBody(view, idx);
        return null;
      }
      const f = view[idx + this.delim.length];
      if (isFlag(f) && view[need - 2] === CR && view[need - 1] === LF) {
        this.takeBody(view, idx);
        this.consume(this.delim.length + 3);
        return this.finish(String.fromCharCode(f) as ContinuationFlag);
      }
      from = idx + 1;
    }
    // No end-line yet: everything except a possible partial delimiter at the end is body.
    this.takeBody(view, Math.max(0, view.length - (this.delim.length - 1)));
    return null;
  }

  /** Move view[0, n) into the body (or drop it when discarding) and consume it. */
  private takeBody(view: Buffer, n: number): void {
    if (n <= 0) return;
    if (!this.discarding && this.bodyBytes + n > this.limits.maxChunkBodyBytes) {
      this.fail(`chunk body larger than ${this.limits.maxChunkBodyBytes} bytes`, 'body-too-large', 413);
      this.discarding = true;
      this.bodyParts = [];
    }
    if (!this.discarding) this.bodyParts.push(Buffer.from(view.subarray(0, n)));
    this.bodyBytes += n;
    this.consume(n);
  }

  private fail(message: string, code: MsrpParseError['code'], status = 400): void {
    // The first fault decides the answer, except that an oversized body (413) wins: it tells
    // the sender to stop sending the message (§10 "413").
    if (this.error === undefined || (status === 413 && this.error.status !== 413)) {
      this.error = new MsrpParseError(message, code, this.offset, status, false);
    }
  }

  private finish(flag: ContinuationFlag): MsrpStreamEvent {
    const headers = this.headers;
    let ev: MsrpStreamEvent;
    if (this.error !== undefined) {
      const frame: PartialFrame = { transactionId: this.tid, headers };
      if (this.method !== undefined) frame.method = this.method;
      if (this.code !== undefined) frame.code = this.code;
      ev = { kind: 'invalid', frame, error: this.error };
    } else if (this.code !== undefined) {
      const message: MsrpMessage = { kind: 'response', transactionId: this.tid, code: this.code, headers, continuation: flag };
      if (this.comment !== undefined) message.comment = this.comment;
      ev = { kind: 'message', message };
    } else {
      const message: MsrpMessage = { kind: 'request', transactionId: this.tid, method: this.method ?? '', headers, continuation: flag };
      if (this.hasBody) message.body = this.bodyParts.length === 1 ? this.bodyParts[0]! : Buffer.concat(this.bodyParts, this.bodyBytes);
      ev = { kind: 'message', message };
    }
    this.resetFrame();
    this.state = 'start';
    return ev;
  }

  private resetFrame(): void {
    this.tid = '';
    this.method = undefined;
    this.code = undefined;
    this.comment = undefined;
    this.headers = [];
    this.headBytes = 0;
    this.error = undefined;
    this.delim = EMPTY;
    this.bodyParts = [];
    this.bodyBytes = 0;
    this.hasBody = false;
    this.atLineStart = false;
    this.discarding = false;
  }
}

/** Parses exactly one complete frame (tests, fixtures); throws MsrpParseError otherwise. */
export function parseMsrpMessage(buf: Buffer, limits: Partial<MsrpParseLimits> = {}): MsrpMessage {
  const p = new MsrpStreamParser(limits);
  const events = p.push(buf);
  const first = events[0];
  if (first === undefined) throw new MsrpParseError('incomplete MSRP frame', 'incomplete', buf.length);
  if (first.kind !== 'message') throw first.error;
  if (events.length > 1 || p.buffered > 0) throw new MsrpParseError('bytes after the end-line', 'trailing-bytes', buf.length - p.buffered);
  return first.message;
}
