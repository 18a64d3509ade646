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
 * lazily by the accessors in message.ts. A small datagram is read in one pass over its
 * bytes (parseHeadInPlace) and keeps them for those accessors (message.ts WireText); every
 * other input, and any head that pass does not take, goes through findHeadEnd + parseHead,
 * which stay the reference: both paths give the same message and the same errors.
 */
import { ParseError } from './errors.js';
import { knownHeaderName, knownHeaderNameBytes, normalizeHeaderName } from './names.js';
import { EMPTY, SipRequest, SipResponse, type HeaderField, type SipMessage, type WireText } from './message.js';

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

export interface ParsedHead {
  message: SipMessage;
  /** Content-Length if present (validated, single-valued), else undefined. */
  contentLength: number | undefined;
}

/**
 * Parse the start line and header lines (the text before the empty line).
 * Throws MessageParseError.
 *
 * Each line is read in place: a name spelled as senders usually spell it is recognized
 * (names.ts) without slicing it, and the value is sliced once. A line that is folded
 * (§7.3.1), has an unusual name spelling, or no colon goes through parseLineGeneric, the
 * reference behaviour (joins folds, trims, checks the token, reports errors).
 */
export function parseHead(head: string, limits: ParseLimits = DEFAULT_LIMITS): ParsedHead {
  const n = head.length;
  let eol = head.indexOf('\n');
  if (eol < 0) eol = n;
  const message = parseStartLine(head.charCodeAt(eol - 1) === CR ? head.slice(0, eol - 1) : head.slice(0, eol));
  const headers: HeaderField[] = message.headers;
  let pos = eol + 1;
  while (pos < n) {
    const lineStart = pos;
    let end = head.indexOf('\n', pos);
    if (end < 0) end = n;
    const next = end + 1 < n ? head.charCodeAt(end + 1) : 0;
    const lineEnd = end > pos && head.charCodeAt(end - 1) === CR ? end - 1 : end;
    pos = end + 1;
    if (next === SP || next === HT) {
      pos = parseLineGeneric(head, lineStart, message, limits);
      continue;
    }
    if (lineEnd === lineStart) continue;
    const colon = head.indexOf(':', lineStart);
    const name = colon > lineStart && colon < lineEnd ? knownHeaderName(head, lineStart, colon) : undefined;
    if (name === undefined) {
      pos = parseLineGeneric(head, lineStart, message, limits);
      continue;
    }
    // The value without surrounding whitespace. Only SP/HT are skipped here; any other
    // character String.prototype.trim would remove (VT, FF, NBSP...) at either edge sends
    // the value through trim() so the result is exactly the generic one.
    let vs = colon + 1;
    let ve = lineEnd;
    while (vs < ve && (head.charCodeAt(vs) === SP || head.charCodeAt(vs) === HT)) vs++;
    while (ve > vs && (head.charCodeAt(ve - 1) === SP || head.charCodeAt(ve - 1) === HT)) ve--;
    let value: string;
    if (vs === ve) value = '';
    else if (isPlainEdge(head.charCodeAt(vs)) && isPlainEdge(head.charCodeAt(ve - 1))) value = head.slice(vs, ve);
    else value = head.slice(colon + 1, lineEnd).trim();
    headers.push({ name, value });
    if (headers.length > limits.maxHeaders) {
      throw new MessageParseError(`more than ${limits.maxHeaders} header fields`, pos, 400, message, true);
    }
  }
  return { message, contentLength: contentLengthOf(message) };
}

interface HeadInPlace extends ParsedHead {
  bodyStart: number;
}

/** Token chars by byte value (none above 127). */
const TOKEN_BYTE = new Uint8Array(256);
TOKEN_BYTE.set(TOKEN);

/**
 * findHeadEnd and parseHead in one pass over the bytes of a datagram from start, for heads
 * whose header lines are all of the usual form (a token name, optional SP/HT, ":" and a
 * value; no folding) and whose UTF-8 decoding has one char per byte (ASCII, or invalid
 * bytes each read as one U+FFFD): the same message, the same body offset. The per-character
 * checks read bytes, which V8 does several times faster than a string's chars, and the
 * fields are kept as offsets into the head text (WireText) until someone reads msg.headers.
 * Returns undefined, having thrown nothing, for any other head: the caller then takes the
 * general path, which also produces every header-line error.
 */
function parseHeadInPlace(buf: Buffer, start: number, limits: ParseLimits): HeadInPlace | undefined {
  const n = buf.length;
  const names: string[] = [];
  // Text offsets (byte - start) of each value; see WireText.
  const spans: number[] = [];
  // Resolved once the head is decoded: [field, from, to, kind] with kind 0: the name is
  // normalizeHeaderName(text[from, to)); kind 1: the value is text[from, to).trim().
  let later: number[] | undefined;
  let headEnd = n;
  let bodyStart = n;
  let startLineEnd = -1;
  // The Content-Length field when there is exactly one (known to be one by its spelling),
  // -1 when none is, -2 otherwise.
  let contentLengthField = -1;
  let pos = start;
  while (pos < headEnd) {
    const lf = buf.indexOf(LF, pos);
    // The line's end as parseHead would see it in the head cut at the empty line.
    let end = lf < 0 ? headEnd : lf;
    if (lf >= 0) {
      // An empty line next (LF, or CR LF) ends the head: findHeadEnd's rule.
      const c = buf[lf + 1];
      const body = c === LF ? lf + 2 : c === CR && buf[lf + 2] === LF ? lf + 3 : -1;
      if (body >= 0) {
        bodyStart = body;
        headEnd = end = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
      } else if (startLineEnd >= 0 && (c === SP || c === HT)) {
        return undefined; // folded (§7.3.1)
      }
    }
    const lineEnd = end > pos && buf[end - 1] === CR ? end - 1 : end;
    const lineStart = pos;
    pos = end === lf ? lf + 1 : headEnd + 1;
    if (startLineEnd < 0) {
      startLineEnd = lineEnd;
      continue;
    }
    if (lineEnd === lineStart) continue;
    let k = lineStart;
    while (k < lineEnd && TOKEN_BYTE[buf[k]!] === 1) k++;
    const nameEnd = k;
    while (k < lineEnd && (buf[k] === SP || buf[k] === HT)) k++;
    if (nameEnd === lineStart || k === lineEnd || buf[k] !== 0x3a) return undefined;
    const name = knownHeaderNameBytes(buf, lineStart, nameEnd);
    if (name === undefined) (later ??= []).push(names.length, lineStart - start, nameEnd - start, 0);
    else if (name === 'content-length') contentLengthField = contentLengthField === -1 ? names.length : -2;
    names.push(name ?? '');
    // The value without surrounding whitespace: SP/HT are skipped here; any other character
    // trim() would remove at an edge sends the value through trim(), as parseHead does.
    let vs = k + 1;
    let ve = lineEnd;
    while (vs < ve && (buf[vs] === SP || buf[vs] === HT)) vs++;
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HT)) ve--;
    if (vs === ve || (isPlainEdge(buf[vs]!) && isPlainEdge(buf[ve - 1]!))) {
      spans.push(vs - start, ve - start);
    } else {
      (later ??= []).push(names.length - 1, k + 1 - start, lineEnd - start, 1);
      spans.push(-1, 0);
    }
    if (names.length > limits.maxHeaders) return undefined;
  }
  // (No encoding argument: Node's toString then goes straight to UTF-8.)
  const head = buf.toString(undefined, start, headEnd);
  // Text offsets must be byte offsets (multi-byte characters: the general path).
  if (head.length !== headEnd - start) return undefined;
  const message = requestLineInPlace(buf, start, startLineEnd, head) ?? parseStartLine(head.slice(0, startLineEnd - start));
  const literals: string[] = [];
  if (later !== undefined) {
    for (let i = 0; i < later.length; i += 4) {
      const field = later[i]!;
      const text = head.slice(later[i + 1]!, later[i + 2]!);
      if (later[i + 3] === 0) {
        names[field] = normalizeHeaderName(text);
      } else {
        spans[2 * field] = -1 - literals.length;
        literals.push(text.trim());
      }
    }
  }
  message.adoptWire({ bytes: buf, off: start, text: head, names, spans, literals, values: undefined });
  let contentLength: number | undefined;
  if (later === undefined && contentLengthField === -1) {
    contentLength = undefined;
  } else if (later === undefined && contentLengthField >= 0 && spans[2 * contentLengthField]! >= 0) {
    const from = start + spans[2 * contentLengthField]!;
    contentLength = decimalBytes(buf, from, start + spans[2 * contentLengthField + 1]!);
    if (contentLength < 0) contentLength = contentLengthOf(message);
  } else {
    contentLength = contentLengthOf(message);
  }
  return { message, contentLength, bodyStart };
}

/** decimal() over the bytes b[from, to). */
function decimalBytes(b: Uint8Array, from: number, to: number): number {
  const len = to - from;
  if (len === 0 || len > 10) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = b[i]!;
    if (!isDigit(c)) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

/**
 * The usual Request-Line, "Method SP Request-URI SP SIP/2.0" with single SPs, read from
 * the bytes b[start, to) (head is their text): parseStartLine's request, or
 * undefined for any other line (then parseStartLine reads it, errors included).
 */
function requestLineInPlace(b: Buffer, start: number, to: number, head: string): SipRequest | undefined {
  let j = start;
  while (j < to && TOKEN_BYTE[b[j]!] === 1) j++;
  const me = j;
  // (A Status-Line's "SIP/" stops the token at "/": never taken for a method.)
  if (me === start || me >= to || b[me] !== SP) return undefined;
  const us = me + 1;
  let ue = b.indexOf(SP, us);
  if (ue < 0 || ue > to) ue = to;
  const vs = ue + 1;
  if (
    ue === us || to - vs !== 7 || b[vs] !== 0x53 || b[vs + 1] !== 0x49 || b[vs + 2] !== 0x50 || b[vs + 3] !== 0x2f ||
    b[vs + 4] !== 0x32 || b[vs + 5] !== 0x2e || b[vs + 6] !== 0x30
  ) {
    return undefined;
  }
  const req = new SipRequest(head.slice(0, me - start), head.slice(us - start, ue - start));
  req.version = 'SIP/2.0';
  return req;
}

/** Printable ASCII other than SP: never removed by trim(). */
function isPlainEdge(c: number): boolean {
  return c > SP && c < 0x7f;
}

/**
 * One logical header line starting at pos, folded continuation lines joined (§7.3.1, the
 * fold counting as one SP), appended to message.headers. Returns the offset after it.
 */
function parseLineGeneric(head: string, pos: number, message: SipMessage, limits: ParseLimits, wire?: WireText): number {
  let end = head.indexOf('\n', pos);
  if (end < 0) end = head.length;
  let line = head.charCodeAt(end - 1) === CR ? head.slice(pos, end - 1) : head.slice(pos, end);
  pos = end + 1;
  while (pos < head.length) {
    const c = head.charCodeAt(pos);
    if (c !== SP && c !== HT) break;
    let e2 = head.indexOf('\n', pos);
    if (e2 < 0) e2 = head.length;
    const cont = head.charCodeAt(e2 - 1) === CR ? head.slice(pos, e2 - 1) : head.slice(pos, e2);
    line = line + ' ' + cont.trim();
    pos = e2 + 1;
  }
  if (line.length === 0) return pos;
  const colon = line.indexOf(':');
  if (colon <= 0) throw new MessageParseError(`header line without a name and colon: ${clip(line)}`, pos, 400, message);
  const rawName = line.slice(0, colon).trimEnd();
  if (!isToken(rawName)) throw new MessageParseError(`bad header name: ${clip(rawName)}`, pos, 400, message);
  const name = normalizeHeaderName(rawName);
  const value = line.slice(colon + 1).trim();
  let count: number;
  if (wire === undefined) {
    count = message.headers.push({ name, value });
  } else {
    count = wire.names.push(name);
    wire.spans.push(-1 - wire.literals.length, 0);
    wire.literals.push(value);
  }
  if (count > limits.maxHeaders) {
    throw new MessageParseError(`more than ${limits.maxHeaders} header fields`, pos, 400, message, true);
  }
  return pos;
}

/** SIP-Version as RFC 3261 §25.1 has it, "SIP" case-insensitive: SIP/1*3DIGIT.1*3DIGIT. */
function isSipVersion(v: string): boolean {
  const n = v.length;
  if (n < 7 || !isSipSlash(v)) return false;
  let i = 4;
  const major = i;
  while (i < n && i - major < 3 && isDigit(v.charCodeAt(i))) i++;
  if (i === major || i >= n || v.charCodeAt(i) !== 0x2e) return false;
  const minor = ++i;
  while (i < n && i - minor < 3 && isDigit(v.charCodeAt(i))) i++;
  return i > minor && i === n;
}

/** Starts with "SIP/", ASCII case-insensitive. */
function isSipSlash(s: string): boolean {
  return (
    s.length >= 4 && (s.charCodeAt(0) | 0x20) === 0x73 && (s.charCodeAt(1) | 0x20) === 0x69 &&
    (s.charCodeAt(2) | 0x20) === 0x70 && s.charCodeAt(3) === 0x2f
  );
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Whether the start line is a Status-Line: it begins with "SIP/" (any case). */
function isStatusLine(line: string): boolean {
  if (line.length < 4) return false;
  for (let k = 0; k < 4; k++) {
    // Upper-casing non-ASCII can yield ASCII ("ſ" -> "S"): keep the upper-casing test there.
    if (line.charCodeAt(k) >= 128) return line.slice(0, 4).toUpperCase() === 'SIP/';
  }
  return isSipSlash(line);
}

function parseStartLine(line: string): SipMessage {
  if (isStatusLine(line)) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (reason may be empty).
    const sp1 = line.indexOf(' ');
    if (sp1 < 0) throw new MessageParseError('status line without status code', 0, 400);
    const version = line.slice(0, sp1);
    if (!isSipVersion(version)) throw new MessageParseError(`bad SIP version ${clip(version)}`, 0, 400);
    let sp2 = line.indexOf(' ', sp1 + 1);
    if (sp2 < 0) sp2 = line.length;
    const c = line.charCodeAt(sp1 + 1);
    if (sp2 - sp1 !== 4 || c < 0x31 || c > 0x36 || !isDigit(line.charCodeAt(sp1 + 2)) || !isDigit(line.charCodeAt(sp1 + 3))) {
      throw new MessageParseError(`bad status code ${clip(line.slice(sp1 + 1, sp2))}`, sp1 + 1, 400);
    }
    const r = new SipResponse(Number(line.slice(sp1 + 1, sp2)), line.slice(sp2 + 1));
    r.version = version;
    return r;
  }
  // Request-Line = Method SP Request-URI SP SIP-Version; runs of SP tolerated (RFC 4475
  // §3.1.2.9/10), including before the method and after the version: exactly three
  // SP-separated words.
  const n = line.length;
  let i = skipSp(line, 0);
  const ms = i;
  i = skipWord(line, i);
  const me = i;
  i = skipSp(line, i);
  const us = i;
  i = skipWord(line, i);
  const ue = i;
  i = skipSp(line, i);
  const vs = i;
  i = skipWord(line, i);
  const ve = i;
  if (me === ms || ue === us || ve === vs || skipSp(line, i) !== n) {
    throw new MessageParseError(`malformed request line: ${clip(line)}`, 0, 400);
  }
  const method = line.slice(ms, me);
  if (!isToken(method)) throw new MessageParseError(`bad method token ${clip(method)}`, 0, 400);
  const version = line.slice(vs, ve);
  if (!isSipVersion(version)) throw new MessageParseError(`bad SIP version ${clip(version)}`, 0, 400);
  const req = new SipRequest(method, line.slice(us, ue));
  req.version = version;
  return req;
}

function skipSp(s: string, i: number): number {
  while (i < s.length && s.charCodeAt(i) === SP) i++;
  return i;
}

function skipWord(s: string, i: number): number {
  const sp = s.indexOf(' ', i);
  return sp < 0 ? s.length : sp;
}

function contentLengthOf(message: SipMessage): number | undefined {
  let value: number | undefined;
  for (const v of message.getAll('content-length')) {
    const n = decimal(v);
    if (n < 0) throw new MessageParseError(`bad Content-Length ${clip(v)}`, 0, 400, message, true);
    if (value !== undefined && n !== value) {
      throw new MessageParseError('conflicting Content-Length values', 0, 400, message, true);
    }
    value = n;
  }
  return value;
}

/** The value of 1*10DIGIT (leading zeros allowed), or -1 when v is not that. */
function decimal(v: string): number {
  const len = v.length;
  if (len === 0 || len > 10) return -1;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const c = v.charCodeAt(i);
    if (!isDigit(c)) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

/**
 * Parse one datagram (UDP) as a whole message (RFC 3261 §18.3). Trailing octets past
 * Content-Length are ignored; a Content-Length larger than what arrived is an error.
 *
 * The message may keep `buf` (its body can be a view into it, and its accessors read header
 * values from it), as a Buffer of its own per datagram allows: do not reuse buf afterwards.
 */
export function parseDatagram(buf: Buffer, limits: ParseLimits = DEFAULT_LIMITS): SipMessage {
  const start = skipLeadingCrlf(buf);
  if (start >= buf.length) throw new MessageParseError('empty message', start, 400);
  // A small datagram (in a small allocation: the message keeps it, see WireText) whose head
  // cannot exceed maxHeaderBytes: the one-pass reading, the body a view into the datagram.
  if (buf.length <= WIRE_MAX && buf.length - start <= limits.maxHeaderBytes && buf.buffer.byteLength <= SMALL_ALLOCATION) {
    const r = parseHeadInPlace(buf, start, limits);
    if (r !== undefined) return withBody(buf, r.message, r.contentLength, r.bodyStart, limits, true);
  }
  const found = findHeadEnd(buf, start);
  // A datagram without the empty line (RFC 4475 baddn, RFC 5118 §4.10 archive copies) is read
  // as all headers: the datagram boundary is the only framing UDP has.
  const headEnd = found?.headEnd ?? buf.length;
  const bodyStart = found?.bodyStart ?? buf.length;
  if (headEnd - start > limits.maxHeaderBytes) {
    throw new MessageParseError(`headers longer than ${limits.maxHeaderBytes} bytes`, start, 400);
  }
  const { message, contentLength } = parseHead(buf.toString('utf8', start, headEnd), limits);
  return withBody(buf, message, contentLength, bodyStart, limits, false);
}

/**
 * Datagrams up to this size (in an allocation of at most SMALL_ALLOCATION) are parsed with
 * parseHeadInPlace and kept by their message (WireText): SIP over UDP stays well under it
 * (RFC 3261 §18.1.1), and it bounds what a message holds on to.
 */
const WIRE_MAX = 4096;

/** Frames the body of a datagram (§18.3) into message; `kept`: the message holds buf already. */
function withBody(
  buf: Buffer, message: SipMessage, contentLength: number | undefined, bodyStart: number, limits: ParseLimits, kept: boolean,
): SipMessage {
  const available = buf.length - bodyStart;
  const len = contentLength ?? available;
  if (len > available) {
    throw new MessageParseError(`Content-Length ${len} exceeds the ${available} body bytes received`, bodyStart, 400, message);
  }
  if (len > limits.maxBodyBytes) {
    throw new MessageParseError(`body larger than ${limits.maxBodyBytes} bytes`, bodyStart, 413, message);
  }
  message.body = len === 0 ? EMPTY : kept ? buf.subarray(bodyStart, bodyStart + len) : datagramBody(buf, bodyStart, len);
  return message;
}

/** Memory a shared body may keep alive regardless of its own size: one Buffer pool slab. */
const SMALL_ALLOCATION = 8 * 1024;

/**
 * A datagram arrives in a Buffer of its own, so when the body is most of it the body can
 * be a view into it (no copy): the message then keeps the head bytes alive too, at most as
 * much again. When the body is the smaller part, or the datagram is a view into a larger
 * allocation than a pool slab, it is copied so a long-lived message does not pin the rest.
 */
function datagramBody(buf: Buffer, bodyStart: number, len: number): Buffer {
  if (buf.length <= 2 * len && buf.buffer.byteLength <= Math.max(2 * len, SMALL_ALLOCATION)) {
    return buf.subarray(bodyStart, bodyStart + len);
  }
  return Buffer.from(buf.subarray(bodyStart, bodyStart + len));
}

/** Parse a message given as text (tests, fixtures). */
export function parseMessage(text: string | Buffer, limits?: ParseLimits): SipMessage {
  return parseDatagram(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, limits);
}

function clip(s: string): string {
  return JSON.stringify(s.length > 60 ? s.slice(0, 60) + '…' : s);
}
