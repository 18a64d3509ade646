/**
 * Message/CPIM parsing (RFC 3862), with the IMDN headers of RFC 5438 §6 read out.
 *
 * Structure (RFC 3862 §2): the message headers, a blank line, the encapsulated MIME
 * object's headers (RFC 2045/5322 style: case-insensitive names, folding allowed), a blank
 * line, then the content. The content is never scanned or decoded: it is a view of the
 * input bytes from the second blank line to the end (binary-safe; MSRP, RFC 4975,
 * already delimits the body, so a Content-Length in the MIME headers is not used to cut it).
 *
 * Message headers (RFC 3862 §3): one per line, never folded, UTF-8, names case-sensitive
 * ("cc" is not "Cc"), order kept. Every header is returned with its namespace resolved
 * (§3.4): an unprefixed name is in urn:ietf:params:cpim-headers: unless an earlier
 * `NS: <uri>` without a prefix changed the default; `p.Name` is in the URI an earlier
 * `NS: p <uri>` bound to p, or in no known namespace (ns: null) when p was never declared
 * (kept, not refused: a recorder should not lose a message over an extension header).
 * An unprefixed NS header is always the CPIM one, so a default-namespace change cannot
 * hide later NS declarations. Unknown headers are kept with their decoded value.
 *
 * Read out: From (at most once), To, cc, DateTime (at most once, RFC 3339-valid), Subject
 * (with ;lang=), Require, and the IMDN headers in urn:ietf:params:imdn: Message-ID (a
 * Token, once), Disposition-Notification, Original-To (once), IMDN-Record-Route, IMDN-Route.
 * The IMDN datetime is the CPIM DateTime header (RFC 5438 §6 adds no header of its own
 * for it). From and To are not demanded here: which headers are mandatory is for the
 * application (RFC 3862 §6), so callers check `from` / `to` as their protocol asks (RFC 4975
 * for MSRP).
 *
 * Line ends: CRLF, with a bare LF tolerated in the two header blocks.
 * Limits: total size, bytes and lines per header block.
 */
import { parseRfc3339 } from './datetime.js';
import { CpimError } from './errors.js';
import { equalsIgnoreCase } from '../sip/message/headers/scan.js';
import {
  CPIM_HEADERS_NS, decodeEscapes, hasControl, isCpimName, isCpimToken, isCpimUri, isLanguageTag, parseAddress, scanHeaderLine,
  type CpimAddress, type CpimParam,
} from './headers.js';

export const IMDN_NS = 'urn:ietf:params:imdn';
export const CPIM_CONTENT_TYPE = 'message/cpim';

export interface CpimHeader {
  /** Namespace URI of the name (RFC 3862 §3.4); null when its prefix was never declared. */
  ns: string | null;
  /** The prefix as written, when there was one. */
  prefix?: string;
  name: string;
  params: CpimParam[];
  /** The value with §2.3 escapes decoded. */
  value: string;
  /** The value as written. */
  raw: string;
}

export interface CpimSubject {
  value: string;
  lang?: string;
}

export interface CpimDateTime {
  /** As written. */
  value: string;
  epochMs: number;
}

export interface CpimHeaderName {
  ns: string | null;
  name: string;
}

export interface MimeHeader {
  name: string;
  value: string;
}

/** The notification requests of the RFC 5438 §6 Disposition-Notification header. */
export type DispositionRequest = 'positive-delivery' | 'negative-delivery' | 'processing' | 'display';

export interface ImdnHeaders {
  messageId?: string;
  /** Known requests, lower-cased, each once, in the order first written. */
  dispositionNotification: DispositionRequest[];
  /** Extension requests (RFC 5438 allows a Token), lower-cased. */
  otherDispositions: string[];
  originalTo?: CpimAddress;
  recordRoute: CpimAddress[];
  route: CpimAddress[];
}

export interface CpimMessage {
  /** Every message header, in order, NS headers included. */
  headers: CpimHeader[];
  from?: CpimAddress;
  to: CpimAddress[];
  cc: CpimAddress[];
  dateTime?: CpimDateTime;
  subjects: CpimSubject[];
  require: CpimHeaderName[];
  imdn: ImdnHeaders;
  /** The encapsulated MIME object's headers, unfolded, in order. */
  mimeHeaders: MimeHeader[];
  contentType?: string;
  /** The content bytes: a view of the input, not a copy. */
  content: Buffer;
}

export interface CpimParseOptions {
  /** Maximum body size, default 16 MiB. */
  maxBytes?: number;
  /** Maximum bytes in each of the two header blocks, default 64 KiB. */
  maxHeaderBytes?: number;
  /** Maximum lines in each of the two header blocks, default 256. */
  maxHeaders?: number;
}

interface Line {
  text: string;
  offset: number;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const KNOWN_DISPOSITIONS: readonly string[] = ['positive-delivery', 'negative-delivery', 'processing', 'display'];
const MIME_NAME = /^[!-9;-~]+$/;
const NS_VALUE = /^([^\s<]*)[ \t]*<([^<>]*)>$/;

/** One header line as text: most are ASCII, read without a view and a decoder; else strict UTF-8 (throws). */
function lineText(buf: Buffer, pos: number, end: number): string {
  for (let i = pos; i < end; i++) if (buf[i]! >= 0x80) return UTF8.decode(buf.subarray(pos, end));
  return buf.toString('latin1', pos, end);
}

/** Reads header lines from `start` up to and including the blank line that ends the block. */
function readBlock(buf: Buffer, start: number, maxBytes: number, maxLines: number, which: string): { lines: Line[]; end: number } {
  const lines: Line[] = [];
  let pos = start;
  for (;;) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0 || nl - start > maxBytes + 1) {
      if (buf.length - start > maxBytes) throw new CpimError(`${which} longer than ${maxBytes} bytes`, 'header-too-long', pos);
      throw new CpimError(`${which} not ended by a blank line`, 'truncated', pos);
    }
    const end = nl > pos && buf[nl - 1] === 0x0d ? nl - 1 : nl;
    if (end === pos) return { lines, end: nl + 1 };
    if (lines.length >= maxLines) throw new CpimError(`more than ${maxLines} lines in the ${which}`, 'too-many-headers', pos);
    let text: string;
    try {
      text = lineText(buf, pos, end);
    } catch {
      throw new CpimError(`${which}: a line is not valid UTF-8`, 'encoding', pos);
    }
    lines.push({ text, offset: pos });
    pos = nl + 1;
  }
}

function parseMimeHeaders(lines: Line[]): MimeHeader[] {
  const out: MimeHeader[] = [];
  for (const { text, offset } of lines) {
    if (hasControl(text)) throw new CpimError('control character in a MIME header', 'invalid-mime-header', offset);
    const last = out[out.length - 1];
    if (text[0] === ' ' || text[0] === '\t') {
      // RFC 5322 §2.2.3: unfolding removes the line break only.
      if (!last) throw new CpimError('continuation line before any MIME header', 'invalid-mime-header', offset);
      last.value = (last.value + text).trim();
      continue;
    }
    const colon = text.indexOf(':');
    const name = colon < 0 ? '' : text.slice(0, colon).trimEnd();
    if (!MIME_NAME.test(name)) throw new CpimError(`invalid MIME header ${JSON.stringify(text.slice(0, 40))}`, 'invalid-mime-header', offset);
    out.push({ name, value: text.slice(colon + 1).trim() });
  }
  return out;
}

function emptyImdn(): ImdnHeaders {
  return { dispositionNotification: [], otherDispositions: [], recordRoute: [], route: [] };
}

/** Parses a Message/CPIM body. Throws CpimError. */
export function parseCpim(body: Uint8Array, options: CpimParseOptions = {}): CpimMessage {
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  const maxHeaderBytes = options.maxHeaderBytes ?? 64 * 1024;
  const maxHeaders = options.maxHeaders ?? 256;
  if (body.length > maxBytes) throw new CpimError(`CPIM body larger than ${maxBytes} bytes`, 'too-large');
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);

  const outer = readBlock(buf, 0, maxHeaderBytes, maxHeaders, 'message header block');
  const inner = readBlock(buf, outer.end, maxHeaderBytes, maxHeaders, 'MIME header block');
  const mimeHeaders = parseMimeHeaders(inner.lines);
  let contentType: MimeHeader | undefined;
  for (const h of mimeHeaders) {
    if (!equalsIgnoreCase(h.name, 'content-type')) continue;
    if (contentType !== undefined) throw new CpimError('more than one Content-Type in the MIME headers', 'duplicate-header', outer.end);
    contentType = h;
  }

  const msg: CpimMessage = {
    headers: [], to: [], cc: [], subjects: [], require: [], imdn: emptyImdn(), mimeHeaders, content: buf.subarray(inner.end),
  };
  if (contentType !== undefined) msg.contentType = contentType.value;

  const scope = new Map<string, string>();
  let defaultNs = CPIM_HEADERS_NS;
  for (const { text, offset } of outer.lines) {
    const s = scanHeaderLine(text, offset);
    let ns: string | null;
    if (s.prefix !== undefined) ns = scope.get(s.prefix) ?? null;
    else ns = s.name === 'NS' ? CPIM_HEADERS_NS : defaultNs;
    const h: CpimHeader = { ns, name: s.name, params: s.params, value: decodeEscapes(s.raw), raw: s.raw };
    if (s.prefix !== undefined) h.prefix = s.prefix;
    msg.headers.push(h);
    if (ns === CPIM_HEADERS_NS) {
      const declared = readCoreHeader(msg, h, offset, scope);
      if (declared !== undefined) defaultNs = declared;
    } else if (ns !== null && ns.toLowerCase() === IMDN_NS) {
      readImdnHeader(msg.imdn, h, offset);
    }
  }
  return msg;
}

/** Interprets a header of the CPIM namespace; returns a new default namespace when it is `NS: <uri>`. */
function readCoreHeader(msg: CpimMessage, h: CpimHeader, offset: number, scope: Map<string, string>): string | undefined {
  const once = (present: unknown): void => {
    if (present !== undefined) throw new CpimError(`${h.name} header repeated`, 'duplicate-header', offset);
  };
  switch (h.name) {
    case 'From':
      once(msg.from);
      msg.from = parseAddress(h.raw, offset, 'From');
      break;
    case 'To':
      msg.to.push(parseAddress(h.raw, offset, 'To'));
      break;
    case 'cc':
      msg.cc.push(parseAddress(h.raw, offset, 'cc'));
      break;
    case 'DateTime': {
      once(msg.dateTime);
      const epochMs = parseRfc3339(h.value);
      if (epochMs === undefined) throw new CpimError(`DateTime ${JSON.stringify(h.value.slice(0, 40))} is not an RFC 3339 date-time`, 'invalid-date-time', offset);
      msg.dateTime = { value: h.value, epochMs };
      break;
    }
    case 'Subject': {
      const lang = h.params.find((p) => p.name === 'lang');
      const subject: CpimSubject = { value: h.value };
      if (lang) {
        if (lang.value === null || !isLanguageTag(lang.value)) throw new CpimError('Subject: invalid lang parameter', 'invalid-parameter', offset);
        subject.lang = lang.value;
      }
      msg.subjects.push(subject);
      break;
    }
    case 'NS': {
      const m = NS_VALUE.exec(h.raw);
      if (!m || (m[1] !== '' && !isCpimName(m[1]!)) || !isCpimUri(m[2]!)) {
        throw new CpimError(`invalid NS header ${JSON.stringify(h.raw.slice(0, 80))}`, 'invalid-ns', offset);
      }
      if (m[1] === '') return m[2]!;
      scope.set(m[1]!, m[2]!);
      break;
    }
    case 'Require':
      for (const item of h.raw.split(',')) {
        const full = item.trim();
        const dot = full.indexOf('.');
        const prefix = dot < 0 ? undefined : full.slice(0, dot);
        const name = dot < 0 ? full : full.slice(dot + 1);
        if (!isCpimName(name) || (prefix !== undefined && !isCpimName(prefix))) {
          throw new CpimError(`Require: invalid header name ${JSON.stringify(full.slice(0, 80))}`, 'invalid-require', offset);
        }
        msg.require.push({ ns: prefix === undefined ? CPIM_HEADERS_NS : scope.get(prefix) ?? null, name });
      }
      break;
  }
  return undefined;
}

function readImdnHeader(imdn: ImdnHeaders, h: CpimHeader, offset: number): void {
  const bad = (why: string): CpimError => new CpimError(`imdn.${h.name}: ${why}`, 'invalid-imdn-header', offset);
  switch (h.name) {
    case 'Message-ID':
      if (imdn.messageId !== undefined) throw new CpimError('imdn.Message-ID repeated', 'duplicate-header', offset);
      if (!isCpimToken(h.value) || h.value.length > 256) throw bad('not a Token of at most 256 characters');
      imdn.messageId = h.value;
      break;
    case 'Disposition-Notification':
      for (const item of h.value.split(',')) {
        // notify-req *( ";" disp-notify-params ): the parameters carry nothing this layer uses.
        const token = (item.split(';')[0] ?? '').trim().toLowerCase();
        if (token === '' && item.trim() === '') continue;
        if (!isCpimToken(token)) throw bad(`invalid request ${JSON.stringify(item.trim().slice(0, 40))}`);
        if (KNOWN_DISPOSITIONS.includes(token)) {
          if (!imdn.dispositionNotification.includes(token as DispositionRequest)) imdn.dispositionNotification.push(token as DispositionRequest);
        } else if (!imdn.otherDispositions.includes(token)) {
          imdn.otherDispositions.push(token);
        }
      }
      break;
    case 'Original-To':
      if (imdn.originalTo !== undefined) throw new CpimError('imdn.Original-To repeated', 'duplicate-header', offset);
      imdn.originalTo = parseAddress(h.raw, offset, 'imdn.Original-To');
      break;
    case 'IMDN-Record-Route':
      imdn.recordRoute.push(parseAddress(h.raw, offset, 'imdn.IMDN-Record-Route'));
      break;
    case 'IMDN-Route':
      imdn.route.push(parseAddress(h.raw, offset, 'imdn.IMDN-Route'));
      break;
  }
}

/** The headers named `name` in namespace `ns` (default: the CPIM namespace), in order. */
export function getCpimHeaders(msg: CpimMessage, name: string, ns: string = CPIM_HEADERS_NS): CpimHeader[] {
  return msg.headers.filter((h) => h.name === name && h.ns === ns);
}

/** The value of the first MIME header named `name` (case-insensitive). */
export function getMimeHeader(msg: CpimMessage, name: string): string | undefined {
  const lower = name.toLowerCase();
  return msg.mimeHeaders.find((h) => h.name.toLowerCase() === lower)?.value;
}
