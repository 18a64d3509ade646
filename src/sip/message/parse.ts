/**
 * SIP message parser: bytes -> SipRequest | SipResponse. Pure: no I/O, no clock.
 *
 * RFC 3261 §7.1 (Request-Line), §7.2 (Status-Line), §7.3.1 (header fields, folding),
 * §7.4.1 and §18.3 (framing by Content-Length; on datagrams a missing Content-Length means
 * "to the end of the datagram" and octets past it are ignored), §7.5 (leading CRLFs before
 * the start line are ignored on streams), §25.1 (ABNF). RFC 4475 shaped the liberal
 * choices: runs of SP in the Request-Line and trailing SP after the version are accepted
 * (§3.1.2.9, §3.1.2.10); everything structural is strict.
 *
 * Only the start line and the header *lines* are parsed here; header values are parsed
 * lazily by the accessors in message.ts.
 */
import { ParseError } from './errors.js';
import { normalizeHeaderName } from './names.js';
import { EMPTY, SipRequest, SipResponse, type HeaderField, type SipMessage } from './message.js';

export interface ParseLimits {
  /** Largest start line + headers, in bytes. */
  maxHeaderBytes: number;
  /** Most header fields in one message. */
  maxHeaders: number;
  /** Largest body, in bytes. */
  maxBodyBytes: number;
}

export const DEFAULT_LIMITS: ParseLimits = {
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 256,
  maxBodyBytes: 256 * 1024,
};

/**
 * A message that could not be parsed. `partial` holds what was understood when the start
 * line and header lines were fine but framing was not (e.g. a bad Content-Length), so a UAS
 * can still answer 400 (RFC 3261 §8.2, RFC 4475 §3.1.2.2/3).
 */
export class MessageParseError extends ParseError {
  constructor(
    message: string,
    offset: number,
    status: number,
    readonly partial?: SipMessage,
    /** On a stream, the connection cannot be resynchronised and must be closed. */
    readonly fatal = false,
  ) {
    super(message, offset, status);
  }
}

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;

/** Offset of the first octet after any leading CR/LF (RFC 3261 §7.5). */
export function skipLeadingCrlf(buf: Buffer, from = 0): number {
  let i = from;
  while (i < buf.length && (buf[i] === CR || buf[i] === LF)) i++;
  return i;
}

/**
 * Find the empty line ending the headers, starting at `from`. Returns the offset of the
 * line break that starts it and the offset of the body, or undefined when not present.
 * Accepts CRLFCRLF and, liberally, LFLF / CRLFLF.
 */
export function findHeadEnd(buf: Buffer, from: number): { headEnd: number; bodyStart: number } | undefined {
  let i = buf.indexOf(LF, from);
  while (i >= 0) {
    const next = i + 1;
    if (next < buf.length && buf[next] === LF) return { headEnd: i > from && buf[i - 1] === CR ? i - 1 : i, bodyStart: next + 1 };
    if (next + 1 < buf.length && buf[next] === CR && buf[next + 1] === LF) {
      return { headEnd: i > from && buf[i - 1] === CR ? i - 1 : i, bodyStart: next + 2 };
    }
    i = buf.indexOf(LF, next);
  }
  return undefined;
}

const TOKEN = buildTokenTable();
function buildTokenTable(): Uint8Array {
  const t = new Uint8Array(128);
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  for (const ch of "-.!%*_+`'~") t[ch.charCodeAt(0)] = 1;
  return t;
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

const VERSION_RE = /^SIP\/(\d{1,3})\.(\d{1,3})$/i;

export interface ParsedHead {
  message: SipMessage;
  /** Content-Length if present (validated, single-valued), else undefined. */
  contentLength: number | undefined;
}

/**
 * Parse the start line and header lines (the text before the empty line).
 * Throws MessageParseError.
 */
export function parseHead(head: string, limits: ParseLimits = DEFAULT_LIMITS): ParsedHead {
  let eol = head.indexOf('\n');
  if (eol < 0) eol = head.length;
  const startLine = head.charCodeAt(eol - 1) === CR ? head.slice(0, eol - 1) : head.slice(0, eol);
  const message = parseStartLine(startLine);

  const headers: HeaderField[] = message.headers;
  let pos = eol + 1;
  while (pos < head.length) {
    let end = head.indexOf('\n', pos);
    if (end < 0) end = head.length;
    let line = head.charCodeAt(end - 1) === CR ? head.slice(pos, end - 1) : head.slice(pos, end);
    pos = end + 1;
    // Folded continuation lines (§7.3.1): join them, the fold counting as one SP.
    while (pos < head.length) {
      const c = head.charCodeAt(pos);
      if (c !== SP && c !== HT) break;
      let e2 = head.indexOf('\n', pos);
      if (e2 < 0) e2 = head.length;
      const cont = head.charCodeAt(e2 - 1) === CR ? head.slice(pos, e2 - 1) : head.slice(pos, e2);
      line = line + ' ' + cont.trim();
      pos = e2 + 1;
    }
    if (line.length === 0) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MessageParseError(`header line without a name and colon: ${clip(line)}`, pos, 400, message);
    const rawName = line.slice(0, colon).trimEnd();
    if (!isToken(rawName)) throw new MessageParseError(`bad header name: ${clip(rawName)}`, pos, 400, message);
    headers.push({ name: normalizeHeaderName(rawName), value: line.slice(colon + 1).trim() });
    if (headers.length > limits.maxHeaders) {
      throw new MessageParseError(`more than ${limits.maxHeaders} header fields`, pos, 400, message, true);
    }
  }
  return { message, contentLength: contentLengthOf(message) };
}

function parseStartLine(line: string): SipMessage {
  if (line.length >= 4 && line.slice(0, 4).toUpperCase() === 'SIP/') {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (reason may be empty).
    const sp1 = line.indexOf(' ');
    if (sp1 < 0) throw new MessageParseError('status line without status code', 0, 400);
    const version = line.slice(0, sp1);
    if (!VERSION_RE.test(version)) throw new MessageParseError(`bad SIP version ${clip(version)}`, 0, 400);
    let sp2 = line.indexOf(' ', sp1 + 1);
    if (sp2 < 0) sp2 = line.length;
    const code = line.slice(sp1 + 1, sp2);
    if (!/^[1-6]\d\d$/.test(code)) throw new MessageParseError(`bad status code ${clip(code)}`, sp1 + 1, 400);
    const r = new SipResponse(Number(code), line.slice(sp2 + 1));
    r.version = version;
    return r;
  }
  // Request-Line = Method SP Request-URI SP SIP-Version; runs of SP tolerated (RFC 4475 §3.1.2.9/10).
  const parts = line.split(' ').filter((p) => p.length > 0);
  if (parts.length !== 3) throw new MessageParseError(`malformed request line: ${clip(line)}`, 0, 400);
  const [method, uri, version] = parts as [string, string, string];
  if (!isToken(method)) throw new MessageParseError(`bad method token ${clip(method)}`, 0, 400);
  const m = VERSION_RE.exec(version);
  if (m === null) throw new MessageParseError(`bad SIP version ${clip(version)}`, 0, 400);
  const req = new SipRequest(method, uri);
  req.version = version;
  return req;
}

function contentLengthOf(message: SipMessage): number | undefined {
  let value: number | undefined;
  for (const h of message.headers) {
    if (h.name !== 'content-length') continue;
    if (!/^\d{1,10}$/.test(h.value)) {
      throw new MessageParseError(`bad Content-Length ${clip(h.value)}`, 0, 400, message, true);
    }
    const n = Number(h.value);
    if (value !== undefined && n !== value) {
      throw new MessageParseError('conflicting Content-Length values', 0, 400, message, true);
    }
    value = n;
  }
  return value;
}

/**
 * Parse one datagram (UDP) as a whole message (RFC 3261 §18.3). Trailing octets past
 * Content-Length are ignored; a Content-Length larger than what arrived is an error.
 */
export function parseDatagram(buf: Buffer, limits: ParseLimits = DEFAULT_LIMITS): SipMessage {
  const start = skipLeadingCrlf(buf);
  if (start >= buf.length) throw new MessageParseError('empty message', start, 400);
  const found = findHeadEnd(buf, start);
  // A datagram without the empty line (RFC 4475 baddn, RFC 5118 §4.10 archive copies) is read
  // as all headers: the datagram boundary is the only framing UDP has.
  const headEnd = found?.headEnd ?? buf.length;
  const bodyStart = found?.bodyStart ?? buf.length;
  if (headEnd - start > limits.maxHeaderBytes) {
    throw new MessageParseError(`headers longer than ${limits.maxHeaderBytes} bytes`, start, 400);
  }
  const { message, contentLength } = parseHead(buf.toString('utf8', start, headEnd), limits);
  const available = buf.length - bodyStart;
  const len = contentLength ?? available;
  if (len > available) {
    throw new MessageParseError(`Content-Length ${len} exceeds the ${available} body bytes received`, bodyStart, 400, message);
  }
  if (len > limits.maxBodyBytes) {
    throw new MessageParseError(`body larger than ${limits.maxBodyBytes} bytes`, bodyStart, 413, message);
  }
  message.body = len === 0 ? EMPTY : Buffer.from(buf.subarray(bodyStart, bodyStart + len));
  return message;
}

/** Parse a message given as text (tests, fixtures). */
export function parseMessage(text: string | Buffer, limits?: ParseLimits): SipMessage {
  return parseDatagram(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, limits);
}

function clip(s: string): string {
  return JSON.stringify(s.length > 60 ? s.slice(0, 60) + '…' : s);
}
