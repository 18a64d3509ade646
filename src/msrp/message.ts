/**
 * The MSRP message model (RFC 4975 §7, §9) and typed access to its header fields.
 *
 *   msrp-request  = req-start headers [content-stuff] end-line
 *   msrp-response = resp-start headers end-line
 *   req-start     = "MSRP" SP transact-id SP method CRLF
 *   resp-start    = "MSRP" SP transact-id SP status-code [SP comment] CRLF
 *   end-line      = "-------" transact-id continuation-flag CRLF
 *   continuation-flag = "+" / "$" / "#"
 *
 * Header fields stay as the text that arrived, in order (extension headers included), so a
 * recorder stores exactly what was on the wire; the accessors below parse a field only when
 * asked (design.md convention 5) and throw MsrpParseError with the status to answer (400).
 * Fields covered: To-Path / From-Path (§9, URIs per §6), Message-ID, Byte-Range (§7.1.1),
 * Success-Report / Failure-Report (§7.1.1), Status (§7.1.2), Content-Type, and RFC 4976's
 * Use-Path and Expires.
 */
import { MsrpUriError, parseMsrpUri, type MsrpUri } from '../sdp/msrp-uri.js';
import { MsrpParseError } from './errors.js';
import { equalsIgnoreCase } from '../sip/message/headers/scan.js';

/** "$" the chunk ends the message, "+" more chunks follow, "#" the message is aborted (§7.1). */
export type ContinuationFlag = '$' | '+' | '#';

export interface MsrpHeader {
  /** As written (case kept); names compare case-insensitively. */
  name: string;
  /** The text after ":" and the separating white space, as written. */
  value: string;
}

interface MsrpFrameBase {
  transactionId: string;
  headers: MsrpHeader[];
  continuation: ContinuationFlag;
}

export interface MsrpRequest extends MsrpFrameBase {
  kind: 'request';
  /** SEND, REPORT, AUTH (RFC 4976) or any other 1*UPALPHA method. */
  method: string;
  /** Absent for a bodiless request; an empty Buffer when content-stuff had no data. */
  body?: Buffer;
}

export interface MsrpResponse extends MsrpFrameBase {
  kind: 'response';
  code: number;
  comment?: string;
}

export type MsrpMessage = MsrpRequest | MsrpResponse;

/** Byte-Range: start "-" end "/" total; "*" stands for an end or total not known yet (§7.1.1). */
export interface ByteRange {
  /** 1-based index of the first octet of this chunk within the whole message. */
  start: number;
  end: number | '*';
  total: number | '*';
}

/** Status: namespace SP status-code [SP text-reason]; namespace "000" is RFC 4975's (§7.1.2). */
export interface MsrpStatus {
  namespace: number;
  code: number;
  comment?: string;
}

export type FailureReport = 'yes' | 'no' | 'partial';

const IDENT_CHAR = /^[A-Za-z0-9][A-Za-z0-9.\-+%=]*$/;
/** RFC 4975 §9: ident = ALPHANUM 3*31ident-char; see isIdent for the range we accept. */
export const IDENT_MIN = 4;
export const IDENT_MAX = 32;

/**
 * ident for Message-ID. We generate 4..32 characters as the grammar says, but accept
 * 1..64 from peers: a short or long id is harmless, and refusing it loses a message.
 */
export function isIdent(s: string, max = 64): boolean {
  return s.length >= 1 && s.length <= max && IDENT_CHAR.test(s);
}

// Header names compare case-insensitively without lower-casing copies: these run several
// times for every chunk received.
export function getHeader(msg: { headers: readonly MsrpHeader[] }, name: string): string | undefined {
  for (const h of msg.headers) if (equalsIgnoreCase(h.name, name)) return h.value;
  return undefined;
}

function bad(code: 'bad-header-value' | 'bad-byte-range' | 'bad-status' | 'bad-path' | 'missing-header', message: string): MsrpParseError {
  return new MsrpParseError(message, code);
}

function single(msg: { headers: readonly MsrpHeader[] }, name: string): string | undefined {
  let found: string | undefined;
  for (const h of msg.headers) {
    if (!equalsIgnoreCase(h.name, name)) continue;
    if (found !== undefined) throw bad('bad-header-value', `more than one ${name} header`);
    found = h.value;
  }
  return found;
}

export interface ParsedPath {
  readonly text: readonly string[];
  readonly uris: readonly MsrpUri[];
}

/**
 * Paths seen lately, parsed: every SEND of a session repeats the same To-Path and From-Path,
 * and each is read two or three times on the way in (endpoint routing, session checks). The
 * results are frozen and shared; the cache is emptied when it reaches PATH_CACHE_SIZE.
 */
const PATH_CACHE_SIZE = 4096;
const pathCache = new Map<string, ParsedPath>();

/** A path header value: MSRP URIs separated by single spaces (§9), each checked per §6. */
export function parsePath(value: string): ParsedPath {
  const hit = pathCache.get(value);
  if (hit !== undefined) return hit;
  const text = value.split(' ');
  const uris: MsrpUri[] = [];
  for (const t of text) {
    try {
      uris.push(Object.freeze(parseMsrpUri(t)));
    } catch (e) {
      const why = e instanceof MsrpUriError ? e.message : String(e);
      throw bad('bad-path', `invalid MSRP URI ${JSON.stringify(t.slice(0, 80))}: ${why}`);
    }
  }
  const parsed: ParsedPath = Object.freeze({ text: Object.freeze(text), uris: Object.freeze(uris) });
  if (pathCache.size >= PATH_CACHE_SIZE) pathCache.clear();
  pathCache.set(value, parsed);
  return parsed;
}

export function pathOf(msg: { headers: readonly MsrpHeader[] }, name: 'To-Path' | 'From-Path' | 'Use-Path'): ParsedPath {
  const v = single(msg, name);
  if (v === undefined) throw bad('missing-header', `missing ${name}`);
  return parsePath(v);
}

const DIGITS = /^[0-9]{1,15}$/;

export function parseByteRange(value: string): ByteRange {
  const dash = value.indexOf('-');
  const slash = value.indexOf('/', dash + 1);
  if (dash <= 0 || slash < 0) throw bad('bad-byte-range', `invalid Byte-Range ${JSON.stringify(value)}`);
  const s = value.slice(0, dash);
  const e = value.slice(dash + 1, slash);
  const t = value.slice(slash + 1);
  if (!DIGITS.test(s) || (e !== '*' && !DIGITS.test(e)) || (t !== '*' && !DIGITS.test(t))) {
    throw bad('bad-byte-range', `invalid Byte-Range ${JSON.stringify(value)}`);
  }
  const start = Number(s);
  const end = e === '*' ? '*' : Number(e);
  const total = t === '*' ? '*' : Number(t);
  // start counts from 1; "1-0/0" (an empty chunk) is the only way end may precede start.
  if (start < 1) throw bad('bad-byte-range', 'Byte-Range start must be at least 1');
  if (end !== '*' && end < start - 1) throw bad('bad-byte-range', `Byte-Range end ${end} before start ${start}`);
  if (total !== '*' && end !== '*' && end > total) throw bad('bad-byte-range', `Byte-Range end ${end} beyond total ${total}`);
  if (total !== '*' && start > total + 1) throw bad('bad-byte-range', `Byte-Range start ${start} beyond total ${total}`);
  return { start, end, total };
}

export function formatByteRange(r: ByteRange): string {
  return `${r.start}-${r.end}/${r.total}`;
}

export function parseStatus(value: string): MsrpStatus {
  const m = /^([0-9]{3}) ([0-9]{3})(?: (.*))?$/.exec(value);
  if (m === null) throw bad('bad-status', `invalid Status ${JSON.stringify(value.slice(0, 80))}`);
  const status: MsrpStatus = { namespace: Number(m[1]), code: Number(m[2]) };
  if (m[3] !== undefined) status.comment = m[3];
  return status;
}

export function formatStatus(s: MsrpStatus): string {
  const ns = String(s.namespace).padStart(3, '0');
  return `${ns} ${String(s.code).padStart(3, '0')}${s.comment === undefined ? '' : ' ' + s.comment}`;
}

export function messageIdOf(msg: { headers: readonly MsrpHeader[] }): string | undefined {
  const v = single(msg, 'Message-ID');
  if (v === undefined) return undefined;
  if (!isIdent(v)) throw bad('bad-header-value', `invalid Message-ID ${JSON.stringify(v.slice(0, 80))}`);
  return v;
}

export function byteRangeOf(msg: { headers: readonly MsrpHeader[] }): ByteRange | undefined {
  const v = single(msg, 'Byte-Range');
  return v === undefined ? undefined : parseByteRange(v);
}

/** Success-Report (§7.1.1): absent means "no". */
export function successReportOf(msg: { headers: readonly MsrpHeader[] }): boolean {
  const v = single(msg, 'Success-Report');
  if (v === undefined || v === 'no') return false;
  if (v === 'yes') return true;
  throw bad('bad-header-value', `invalid Success-Report ${JSON.stringify(v.slice(0, 80))}`);
}

/** Failure-Report (§7.1.1): absent means "yes". */
export function failureReportOf(msg: { headers: readonly MsrpHeader[] }): FailureReport {
  const v = single(msg, 'Failure-Report');
  if (v === undefined) return 'yes';
  if (v === 'yes' || v === 'no' || v === 'partial') return v;
  throw bad('bad-header-value', `invalid Failure-Report ${JSON.stringify(v.slice(0, 80))}`);
}

export function statusOf(msg: { headers: readonly MsrpHeader[] }): MsrpStatus | undefined {
  const v = single(msg, 'Status');
  return v === undefined ? undefined : parseStatus(v);
}

/** RFC 4976 §5 Expires (and Min-Expires / Max-Expires): delta-seconds. */
export function expiresOf(msg: { headers: readonly MsrpHeader[] }, name: 'Expires' | 'Min-Expires' | 'Max-Expires' = 'Expires'): number | undefined {
  const v = single(msg, name);
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,10}$/.test(v)) throw bad('bad-header-value', `invalid ${name} ${JSON.stringify(v.slice(0, 80))}`);
  return Number(v);
}

/** The media type of Content-Type without parameters, lower-cased (for accept-types checks). */
export function mediaTypeOf(contentType: string): string {
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/**
 * Whether a media type is allowed by an a=accept-types style list (RFC 4975 §8.6):
 * "*" admits anything, "type/*" a whole top-level type.
 */
export function acceptsType(accepted: readonly string[], contentType: string): boolean {
  const mt = mediaTypeOf(contentType);
  const slash = mt.indexOf('/');
  for (const a of accepted) {
    const x = mediaTypeOf(a);
    if (x === '*' || x === mt) return true;
    if (x.endsWith('/*') && slash > 0 && x.slice(0, -2) === mt.slice(0, slash)) return true;
  }
  return false;
}
