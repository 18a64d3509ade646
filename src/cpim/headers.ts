/**
 * The line grammar of Message/CPIM message headers (RFC 3862 §3, collected in §3.6) and
 * the From/To/cc address form (§4.1-§4.3), shared by the parser and the serializer.
 *
 *   Header      = Header-name ":" *( ";" Parameter ) SP Header-value CRLF
 *   Header-name = [ Name-prefix "." ] Name          (Name = 1*NAMECHAR, no ".")
 *   Parameter   = Lang-param / Ext-param             (Param-value = Token / Number / String)
 *   Header-value = *HEADERCHAR                       (UCS without controls, or an Escape)
 *   address     = [ Formal-name ] "<" URI ">"        (Formal-name = 1*( Token SP ) / String)
 *
 * The escape mechanism (§2.3) is decoded in header values and quoted strings: \uXXXX,
 * \b \t \n \r \" \' \\. A backslash that starts no escape is kept as it is, since a bare
 * "\" is itself a HEADERCHAR. Decoding never yields a lone UTF-16 surrogate (U+FFFD
 * stands in), so a value is always storable as UTF-8.
 *
 * Leniency, where peers are known to differ and nothing is made ambiguous: the single SP
 * after the colon may be missing or repeated (values are trimmed of SP/HTAB), a tab inside
 * a value is accepted, and an unquoted display name may hold non-ASCII text. What is written
 * here is always the strict form.
 */
import { CpimError } from './errors.js';

/** The namespace of headers without a prefix (RFC 3862 §3.4; IANA "CPIM Headers" URN prefix). */
export const CPIM_HEADERS_NS = 'urn:ietf:params:cpim-headers:';

export interface CpimParam {
  name: string;
  /** Decoded value; null for a parameter written without "=". */
  value: string | null;
}

export interface CpimAddress {
  displayName?: string;
  uri: string;
}

/** One header line split into its parts; nothing is resolved or decoded yet but the parameters. */
export interface ScannedHeader {
  prefix?: string;
  name: string;
  params: CpimParam[];
  /** The value as written, trimmed of SP/HTAB, escapes not decoded. */
  raw: string;
}

const NAME = /^[!#$%&'*+\-^_`|~A-Za-z0-9]+$/;
const ASCII_TOKEN = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;
// TOKENCHAR = NAMECHAR / "."; code points above U+007F are accepted as well (UTF-8 display names).
const TOKEN = /^[!#$%&'*+\-.^_`|~A-Za-z0-9\u0080-\uFFFF]+$/;
// UCS-no-CTLs, with HTAB tolerated.
const CONTROL = /[\x00-\x08\x0A-\x1F\x7F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"\x00-\x1F\x7F]*$/;
const LANGUAGE_TAG = /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/;

export function isCpimName(s: string): boolean {
  return NAME.test(s);
}

export function isCpimToken(s: string): boolean {
  return TOKEN.test(s);
}

export function isLanguageTag(s: string): boolean {
  return LANGUAGE_TAG.test(s);
}

/** A URI as the angle-bracketed part of From/To/cc/NS carries it: a scheme, then no space, quote, angle bracket or control. */
export function isCpimUri(s: string): boolean {
  return s.length > 0 && URI.test(s);
}

export function hasControl(s: string): boolean {
  return CONTROL.test(s);
}

function isBlank(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/** Decodes the RFC 3862 §2.3 escape sequences. */
export function decodeEscapes(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const n = s[i + 1];
    const simple = n === 'b' ? '\b' : n === 't' ? '\t' : n === 'n' ? '\n' : n === 'r' ? '\r' : n === '"' || n === "'" || n === '\\' ? n : undefined;
    if (simple !== undefined) {
      out += simple;
      i += 2;
    } else if (n === 'u' && /^[0-9A-Fa-f]{4}$/.test(s.slice(i + 2, i + 6))) {
      out += String.fromCharCode(parseInt(s.slice(i + 2, i + 6), 16));
      i += 6;
    } else {
      out += c;
      i++;
    }
  }
  return out.replace(LONE_SURROGATE, '\uFFFD');
}

function hex4(c: string): string {
  return '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');
}

/** Escapes a header value (§2.3): controls as \uXXXX, and "\" doubled so it never reads as an escape. */
export function encodeEscapes(s: string): string {
  return s.replace(/[\x00-\x1F\x7F\\]/g, (c) => (c === '\\' ? '\\\\' : hex4(c)));
}

/** A String (§3.6) holding `s`. */
export function quoteString(s: string): string {
  return '"' + s.replace(/[\x00-\x1F\x7F\\"]/g, (c) => (c === '\\' || c === '"' ? '\\' + c : hex4(c))) + '"';
}

/** Reads a String starting at s[start] === '"'; returns the decoded text and the index after the closing quote. */
function readQuoted(s: string, start: number, offset: number, code: 'invalid-address' | 'invalid-parameter'): [string, number] {
  let i = start + 1;
  while (i < s.length) {
    const c = s[i];
    if (c === '\\') i += 2;
    else if (c === '"') return [decodeEscapes(s.slice(start + 1, i)), i + 1];
    else i++;
  }
  throw new CpimError('unterminated quoted string', code, offset);
}

/**
 * Splits one header line (without its line end) into name, parameters and raw value.
 * `offset` is the line's byte offset in the body, for errors.
 */
export function scanHeaderLine(line: string, offset: number): ScannedHeader {
  if (isBlank(line[0])) throw new CpimError('header line starts with white space (CPIM headers are never folded)', 'folded-header', offset);
  if (CONTROL.test(line)) throw new CpimError('control character in a header line', 'invalid-header', offset);
  const colon = line.indexOf(':');
  if (colon < 0) throw new CpimError(`header line without ":": ${JSON.stringify(line.slice(0, 40))}`, 'invalid-header', offset);
  const fullName = line.slice(0, colon);
  const dot = fullName.indexOf('.');
  const prefix = dot < 0 ? undefined : fullName.slice(0, dot);
  const name = dot < 0 ? fullName : fullName.slice(dot + 1);
  if ((prefix !== undefined && !NAME.test(prefix)) || !NAME.test(name)) {
    throw new CpimError(`invalid header name ${JSON.stringify(fullName.slice(0, 80))}`, 'invalid-header-name', offset);
  }
  const params: CpimParam[] = [];
  let i = colon + 1;
  while (line[i] === ';') {
    let j = i + 1;
    while (j < line.length && line[j] !== '=' && line[j] !== ';' && !isBlank(line[j])) j++;
    const pname = line.slice(i + 1, j);
    if (!NAME.test(pname)) throw new CpimError(`invalid parameter name ${JSON.stringify(pname)}`, 'invalid-parameter', offset);
    let value: string | null = null;
    if (line[j] === '=') {
      if (line[j + 1] === '"') {
        [value, j] = readQuoted(line, j + 1, offset, 'invalid-parameter');
      } else {
        const from = j + 1;
        j = from;
        while (j < line.length && line[j] !== ';' && !isBlank(line[j])) j++;
        value = line.slice(from, j);
        if (!TOKEN.test(value)) throw new CpimError(`invalid value for parameter ${pname}`, 'invalid-parameter', offset);
      }
    }
    params.push({ name: pname, value });
    i = j;
  }
  let end = line.length;
  while (i < end && isBlank(line[i])) i++;
  while (end > i && isBlank(line[end - 1])) end--;
  const scanned: ScannedHeader = { name, params, raw: line.slice(i, end) };
  if (prefix !== undefined) scanned.prefix = prefix;
  return scanned;
}

/** Reads `[ Formal-name ] "<" URI ">"` (RFC 3862 §4.1-§4.3; RFC 5438 §6 uses it too). */
export function parseAddress(raw: string, offset: number, what: string): CpimAddress {
  const bad = (why: string): CpimError => new CpimError(`${what}: ${why}`, 'invalid-address', offset);
  let displayName: string | undefined;
  let rest: string;
  if (raw.startsWith('"')) {
    const [text, after] = readQuoted(raw, 0, offset, 'invalid-address');
    displayName = text;
    rest = raw.slice(after).replace(/^[ \t]+/, '');
  } else {
    const lt = raw.indexOf('<');
    if (lt < 0) throw bad('no "<" URI ">"');
    const name = raw.slice(0, lt).trim();
    if (name.indexOf('"') >= 0) throw bad('stray quote in the display name');
    if (name !== '' && !name.split(/[ \t]+/).every((t) => TOKEN.test(t))) throw bad('display name is neither tokens nor a quoted string');
    if (name !== '') displayName = name;
    rest = raw.slice(lt);
  }
  if (!rest.startsWith('<') || !rest.endsWith('>') || rest.length < 3) throw bad('no "<" URI ">"');
  const uri = rest.slice(1, -1);
  if (!isCpimUri(uri)) throw bad(`invalid URI ${JSON.stringify(uri.slice(0, 80))}`);
  return displayName !== undefined ? { displayName, uri } : { uri };
}

/** Writes an address; the display name as bare tokens when it is plain ASCII words, else as a String. */
export function formatAddress(a: CpimAddress): string {
  if (!isCpimUri(a.uri)) throw new CpimError(`invalid URI ${JSON.stringify(a.uri.slice(0, 80))}`, 'invalid-input');
  if (a.displayName === undefined || a.displayName === '') return `<${a.uri}>`;
  const words = a.displayName.split(' ');
  const plain = words.every((w) => ASCII_TOKEN.test(w));
  return `${plain ? a.displayName : quoteString(a.displayName)} <${a.uri}>`;
}
