/**
 * Message/CPIM writing (RFC 3862 §2-§4), with RFC 5438 §6 IMDN headers.
 *
 * Output is byte-exact and canonical: CRLF line ends, one SP after each colon, header
 * order From, To, cc, NS declarations, imdn.Message-ID, DateTime, Subject,
 * imdn.Disposition-Notification, then the caller's extra headers (the order of the RFC 5438
 * examples; NS comes before any prefixed header, as §3.4 needs); a blank line; Content-Type
 * and the caller's MIME headers; a blank line; the content bytes unchanged.
 *
 * Values are escaped per §2.3 (controls as \uXXXX, "\" doubled); display names are written
 * as bare tokens only when they are plain ASCII words, else as a quoted String, so UTF-8
 * names survive any strict reader. Inputs that cannot be written faithfully (a URI with a
 * space, a header name with ".", a Message-ID that is not a Token, CR/LF in a MIME value)
 * are refused with CpimError 'invalid-input' rather than silently altered.
 */
import { randomBase64url } from '../random.js';
import { formatRfc3339, parseRfc3339 } from './datetime.js';
import { CpimError } from './errors.js';
import { encodeEscapes, formatAddress, hasControl, isCpimName, isCpimToken, isCpimUri, isLanguageTag, type CpimAddress } from './headers.js';
import { IMDN_NS, type CpimSubject, type DispositionRequest, type MimeHeader } from './parse.js';

export interface CpimExtraHeader {
  /** A prefix declared in `ns` (or the IMDN prefix when `imdn` is given). */
  prefix?: string;
  name: string;
  value: string;
}

export interface CpimBuildInput {
  from: CpimAddress;
  to: CpimAddress[];
  cc?: CpimAddress[];
  /** A Date (written in UTC with milliseconds) or an RFC 3339 string (checked, written as given). */
  dateTime: Date | string;
  /** One Subject, or several with their languages (RFC 3862 §4.5). */
  subject?: string | CpimSubject[];
  /** Namespace prefixes to declare: prefix -> URI. The IMDN one is added when `imdn` is given. */
  ns?: Record<string, string>;
  imdn?: {
    /** RFC 5438 §6: a Token, unique, with at least 32 bits of randomness (see newImdnMessageId). */
    messageId: string;
    dispositionNotification?: (DispositionRequest | string)[];
  };
  /** Further message headers, after the ones above, in order. */
  headers?: CpimExtraHeader[];
  contentType: string;
  /** Further MIME headers of the encapsulated object (Content-ID, Content-Disposition, ...). */
  mimeHeaders?: MimeHeader[];
  body: Uint8Array | string;
}

const MIME_NAME = /^[!-9;-~]+$/;

function invalid(why: string): CpimError {
  return new CpimError(why, 'invalid-input');
}

/** A fresh IMDN Message-ID: 128 random bits, base64url (every character a CPIM TOKENCHAR). */
export function newImdnMessageId(): string {
  return randomBase64url(16);
}

function headerLine(name: string, value: string): string {
  return `${name}: ${value}\r\n`;
}

function checkMimeValue(name: string, value: string): void {
  if (!MIME_NAME.test(name)) throw invalid(`invalid MIME header name ${JSON.stringify(name)}`);
  if (value.trim() === '' || hasControl(value)) throw invalid(`invalid value for MIME header ${name}`);
}

/** Writes a Message/CPIM body. Throws CpimError 'invalid-input'. */
export function buildCpim(input: CpimBuildInput): Buffer {
  let head = headerLine('From', formatAddress(input.from));
  for (const a of input.to) head += headerLine('To', formatAddress(a));
  for (const a of input.cc ?? []) head += headerLine('cc', formatAddress(a));

  const ns = new Map<string, string>(Object.entries(input.ns ?? {}));
  let imdnPrefix: string | undefined;
  if (input.imdn) {
    imdnPrefix = [...ns].find(([, uri]) => uri === IMDN_NS)?.[0];
    if (imdnPrefix === undefined) {
      if (ns.has('imdn')) throw invalid('prefix "imdn" is bound to another namespace');
      imdnPrefix = 'imdn';
      ns.set(imdnPrefix, IMDN_NS);
    }
  }
  for (const [prefix, uri] of ns) {
    if (!isCpimName(prefix)) throw invalid(`invalid namespace prefix ${JSON.stringify(prefix)}`);
    if (!isCpimUri(uri)) throw invalid(`invalid namespace URI ${JSON.stringify(uri)}`);
    head += headerLine('NS', `${prefix} <${uri}>`);
  }

  if (input.imdn) {
    const id = input.imdn.messageId;
    if (!/^[!#$%&'*+\-.^_`|~A-Za-z0-9]{1,256}$/.test(id)) throw invalid('imdn.Message-ID must be an ASCII Token of 1-256 characters');
    head += headerLine(`${imdnPrefix}.Message-ID`, id);
  }

  let dateTime: string;
  if (typeof input.dateTime === 'string') {
    if (parseRfc3339(input.dateTime) === undefined) throw invalid(`DateTime ${JSON.stringify(input.dateTime)} is not an RFC 3339 date-time`);
    dateTime = input.dateTime;
  } else {
    try {
      dateTime = formatRfc3339(input.dateTime);
    } catch (e) {
      throw new CpimError(`DateTime: ${e instanceof Error ? e.message : String(e)}`, 'invalid-input', undefined, { cause: e });
    }
  }
  head += headerLine('DateTime', dateTime);

  const subjects = typeof input.subject === 'string' ? [{ value: input.subject }] : input.subject ?? [];
  for (const s of subjects) {
    if (s.lang !== undefined && !isLanguageTag(s.lang)) throw invalid(`invalid Subject language ${JSON.stringify(s.lang)}`);
    head += s.lang !== undefined ? `Subject:;lang=${s.lang} ${encodeEscapes(s.value)}\r\n` : headerLine('Subject', encodeEscapes(s.value));
  }

  const requests = input.imdn?.dispositionNotification ?? [];
  if (requests.length > 0) {
    for (const r of requests) if (!isCpimToken(r) || !/^[\x21-\x7e]+$/.test(r)) throw invalid(`invalid disposition request ${JSON.stringify(r)}`);
    head += headerLine(`${imdnPrefix}.Disposition-Notification`, requests.join(', '));
  }

  for (const h of input.headers ?? []) {
    if (!isCpimName(h.name)) throw invalid(`invalid header name ${JSON.stringify(h.name)}`);
    if (h.prefix === undefined && h.name === 'NS') throw invalid('declare namespaces with `ns`, not as an extra header');
    if (h.prefix !== undefined && !ns.has(h.prefix)) throw invalid(`prefix ${JSON.stringify(h.prefix)} is not declared in ns`);
    head += headerLine(h.prefix !== undefined ? `${h.prefix}.${h.name}` : h.name, encodeEscapes(h.value));
  }

  checkMimeValue('Content-Type', input.contentType);
  head += '\r\n' + headerLine('Content-Type', input.contentType);
  for (const h of input.mimeHeaders ?? []) {
    if (h.name.toLowerCase() === 'content-type') throw invalid('Content-Type goes in `contentType`');
    checkMimeValue(h.name, h.value);
    head += headerLine(h.name, h.value);
  }
  head += '\r\n';
  const body = typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body;
  return Buffer.concat([Buffer.from(head, 'utf8'), body]);
}
