/**
 * URIs in SIP: SIP/SIPS URIs (RFC 3261 §19.1.1, ABNF §25.1, hosts as corrected by
 * RFC 5954 §4.1), tel URIs (RFC 3966 §3, basic), and any other absoluteURI (RFC 3261 §25.1,
 * RFC 4475 §3.3.2-§3.3.4), plus URI comparison (RFC 3261 §19.1.4, RFC 5954 §3).
 *
 * Components are kept in their escaped form: unescaping is the caller's explicit step
 * (unescape()), so an escape is never decoded twice (RFC 4475 §3.1.1.3: "value%41" is not
 * "valueA").
 */
import { hostEndOf, hostKey, hostTypeOf, portValue, scanHostTyped, scanPortEnd, type HostType } from './host.js';
import {
  C_HNV_UNRES, C_PARAM_UNRES, C_PASSWORD, C_RESERVED, C_UNRESERVED, C_USER_UNRES, CHAR, hexValue, isAlnum, isHex,
} from './chars.js';
import { charAt, equalsIgnoreCase, fail, formatParams, type Param } from './scan.js';

export type { Param } from './scan.js';
export type { HostType } from './host.js';

export interface SipUri {
  scheme: 'sip' | 'sips';
  user?: string;
  password?: string;
  /** As written; an IPv6 reference keeps its brackets. */
  host: string;
  hostType: HostType;
  port?: number;
  params: Param[];
  /** The `?name=value&...` part, values still escaped. */
  headers: Param[];
}

export interface TelUri {
  scheme: 'tel';
  number: string;
  params: Param[];
}

export interface AbsoluteUri {
  /** Lower-cased. */
  scheme: string;
  opaque: string;
}

export type Uri = SipUri | TelUri | AbsoluteUri;

export function isSipUri(u: Uri): u is SipUri {
  return 'host' in u;
}

export function isTelUri(u: Uri): u is TelUri {
  return 'number' in u;
}

/** Parses a whole URI (a Request-URI, or the text between < and >); surrounding LWS is ignored, inner LWS is not. */
export function parseUri(s: string): Uri {
  let start = 0;
  let end = s.length;
  while (start < end && isWsp(s.charCodeAt(start))) start++;
  while (end > start && isWsp(s.charCodeAt(end - 1))) end--;
  return parseUriRange(s, start, end);
}

function isWsp(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Parses the URI occupying exactly s[start, end); error offsets are indexes into s. */
export function parseUriRange(s: string, start: number, end: number): Uri {
  let i = start;
  const first = s.charCodeAt(i) | 0x20;
  if (i >= end || first < 0x61 || first > 0x7a) fail(`expected URI scheme, found ${charAt(s, i)}`, i);
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === 0x2b || c === 0x2d || c === 0x2e || isAlnum(c)) i++;
    else break;
  }
  if (i >= end || s.charCodeAt(i) !== 0x3a) fail(`expected ":" after URI scheme, found ${charAt(s, i)}`, i);
  const n = i - start;
  // Scheme chars are alphanumerics, "+", "-" and ".": "| 0x20" folds only letters' case among them.
  const c0 = s.charCodeAt(start) | 0x20;
  const c1 = s.charCodeAt(start + 1) | 0x20;
  const c2 = s.charCodeAt(start + 2) | 0x20;
  if (c0 === 0x73 && c1 === 0x69 && c2 === 0x70) {
    if (n === 3) return parseSip(s, 'sip', i + 1, end);
    if (n === 4 && (s.charCodeAt(start + 3) | 0x20) === 0x73) return parseSip(s, 'sips', i + 1, end);
  }
  if (n === 3 && c0 === 0x74 && c1 === 0x65 && c2 === 0x6c) return parseTel(s, i + 1, end);
  // absoluteURI: opaque-part / hier-part are both runs of uric (reserved / unreserved /
  // escaped); "[" and "]" are admitted for RFC 3986 IP literals.
  const o = i + 1;
  if (o >= end) fail('empty URI after scheme', o);
  const stop = scanUriChars(s, o, end, C_RESERVED | C_UNRESERVED | C_PARAM_UNRES);
  if (stop !== end) fail(`invalid character ${charAt(s, stop)} in URI`, stop);
  return { scheme: s.slice(start, i).toLowerCase(), opaque: s.slice(o, end) };
}

/** Returns the end of the run of chars in `flags` or valid %HH escapes (throws on a bad escape). */
function scanUriChars(s: string, i: number, end: number, flags: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      if (i + 2 >= end || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) fail('invalid %-escape', i);
      i += 3;
    } else if (c < 128 && (CHAR[c]! & flags) !== 0) {
      i++;
    } else {
      break;
    }
  }
  return i;
}

const USER = C_UNRESERVED | C_USER_UNRES;
const PASSWORD = C_UNRESERVED | C_PASSWORD;
const PARAMCHAR = C_UNRESERVED | C_PARAM_UNRES;
const HNVCHAR = C_UNRESERVED | C_HNV_UNRES;

function parseSip(s: string, scheme: 'sip' | 'sips', i: number, end: number): SipUri {
  // The usual URI has a user without escapes or password, or no user at all: one pass over
  // the user chars finds which. A "%" or ":" before the end of that run needs the general
  // reading below.
  let j = i;
  while (j < end) {
    const c = s.charCodeAt(j);
    if (c < 128 && (CHAR[c]! & USER) !== 0) j++;
    else break;
  }
  const stop = j < end ? s.charCodeAt(j) : -1;
  if (stop === 0x25 || stop === 0x3a) return parseSipUserinfo(s, scheme, i, end);
  let user: string | undefined;
  let hostStart = i;
  if (stop === 0x40) {
    if (j === i) fail('empty user in SIP URI', i);
    user = s.slice(i, j);
    hostStart = j + 1;
  }
  return parseSipHostport(s, scheme, user, undefined, hostStart, end);
}

function parseSipUserinfo(s: string, scheme: 'sip' | 'sips', i: number, end: number): SipUri {
  // '@' is legal nowhere in a SIP URI but after userinfo, and userinfo may hold ';', '?',
  // '/' and ',' (RFC 4475 §3.1.1.2, §3.1.1.9): so the longest run of userinfo chars decides.
  let j = i;
  while (j < end) {
    const c = s.charCodeAt(j);
    if (c === 0x25 || c === 0x3a || (c < 128 && (CHAR[c]! & USER) !== 0)) j++;
    else break;
  }
  let user: string | undefined;
  let password: string | undefined;
  let hostStart = i;
  if (j < end && s.charCodeAt(j) === 0x40) {
    let colon = i;
    while (colon < j && s.charCodeAt(colon) !== 0x3a) colon++;
    if (colon === i) fail('empty user in SIP URI', i);
    const userEnd = scanUriChars(s, i, colon, USER);
    if (userEnd !== colon) fail(`invalid character ${charAt(s, userEnd)} in user`, userEnd);
    user = s.slice(i, colon);
    if (colon < j) {
      const pwEnd = scanUriChars(s, colon + 1, j, PASSWORD);
      if (pwEnd !== j) fail(`invalid character ${charAt(s, pwEnd)} in password`, pwEnd);
      password = s.slice(colon + 1, j);
    }
    hostStart = j + 1;
  }
  return parseSipHostport(s, scheme, user, password, hostStart, end);
}

/** hostport, uri-parameters and headers of a SIP URI, from hostStart to end. */
function parseSipHostport(
  s: string,
  scheme: 'sip' | 'sips',
  user: string | undefined,
  password: string | undefined,
  hostStart: number,
  end: number,
): SipUri {
  const typed = scanHostTyped(s, hostStart, end);
  const hostEnd = hostEndOf(typed);
  let j = hostEnd;
  let port = -1;
  if (j < end && s.charCodeAt(j) === 0x3a) {
    const portEnd = scanPortEnd(s, j + 1, end);
    port = portValue(s, j + 1, portEnd);
    j = portEnd;
  }
  const uri = sipUri(scheme, user, s.slice(hostStart, hostEnd), hostTypeOf(typed), port, []);
  if (password !== undefined) uri.password = password;
  while (j < end && s.charCodeAt(j) === 0x3b) {
    const nameEnd = scanUriChars(s, j + 1, end, PARAMCHAR);
    if (nameEnd === j + 1) fail(`expected uri-parameter name, found ${charAt(s, nameEnd)}`, nameEnd);
    const name = s.slice(j + 1, nameEnd);
    j = nameEnd;
    if (j < end && s.charCodeAt(j) === 0x3d) {
      const valueEnd = scanUriChars(s, j + 1, end, PARAMCHAR);
      if (valueEnd === j + 1) fail(`empty value of uri-parameter ${name}`, valueEnd);
      uri.params.push({ name, value: s.slice(j + 1, valueEnd) });
      j = valueEnd;
    } else {
      uri.params.push({ name, value: null });
    }
  }
  if (j < end && s.charCodeAt(j) === 0x3f) {
    do {
      const nameEnd = scanUriChars(s, j + 1, end, HNVCHAR);
      if (nameEnd === j + 1) fail(`expected header name, found ${charAt(s, nameEnd)}`, nameEnd);
      if (nameEnd >= end || s.charCodeAt(nameEnd) !== 0x3d) fail('expected "=" in URI header', nameEnd);
      const valueEnd = scanUriChars(s, nameEnd + 1, end, HNVCHAR);
      uri.headers.push({ name: s.slice(j + 1, nameEnd), value: s.slice(nameEnd + 1, valueEnd) });
      j = valueEnd;
    } while (j < end && s.charCodeAt(j) === 0x26);
  }
  if (j !== end) fail(`invalid character ${charAt(s, j)} in SIP URI`, j);
  return uri;
}

/**
 * A SIP URI in its final shape (user and port only when present; port < 0: none), made at
 * once: properties added to an object literal afterwards go to a separate properties array,
 * and a dialog keeps three URIs for as long as it lasts. Also used by wire.ts.
 */
export function sipUri(scheme: 'sip' | 'sips', user: string | undefined, host: string, hostType: HostType, port: number, params: Param[]): SipUri {
  const headers: Param[] = [];
  if (user === undefined) {
    return port < 0 ? { scheme, host, hostType, params, headers } : { scheme, host, hostType, params, headers, port };
  }
  return port < 0 ? { scheme, host, hostType, params, headers, user } : { scheme, host, hostType, params, headers, user, port };
}

function parseTel(s: string, i: number, end: number): TelUri {
  let j = i;
  while (j < end && s.charCodeAt(j) !== 0x3b) j++;
  const number = s.slice(i, j);
  const global = number.charCodeAt(0) === 0x2b;
  let digits = 0;
  for (let k = global ? 1 : 0; k < number.length; k++) {
    const c = number.charCodeAt(k);
    // visual-separator = "-" / "." / "(" / ")"
    if (c === 0x2d || c === 0x2e || c === 0x28 || c === 0x29) continue;
    if (global ? c >= 0x30 && c <= 0x39 : isHex(c) || c === 0x2a || c === 0x23) digits++;
    else fail(`invalid character ${charAt(number, k)} in telephone number`, i + k);
  }
  if (digits === 0) fail('telephone number has no digits', i);
  const params: Param[] = [];
  while (j < end) {
    const nameEnd = scanTelPname(s, j + 1, end);
    if (nameEnd === j + 1) fail(`expected tel parameter name, found ${charAt(s, nameEnd)}`, nameEnd);
    const name = s.slice(j + 1, nameEnd);
    j = nameEnd;
    if (j < end && s.charCodeAt(j) === 0x3d) {
      const valueEnd = scanUriChars(s, j + 1, end, PARAMCHAR);
      if (valueEnd === j + 1) fail(`empty value of tel parameter ${name}`, valueEnd);
      params.push({ name, value: s.slice(j + 1, valueEnd) });
      j = valueEnd;
    } else {
      params.push({ name, value: null });
    }
    if (j < end && s.charCodeAt(j) !== 0x3b) fail(`invalid character ${charAt(s, j)} in tel URI`, j);
  }
  // RFC 3966 §5.1.5: a local number is meaningless without its phone-context.
  if (!global && !params.some((p) => equalsIgnoreCase(p.name, 'phone-context'))) {
    fail('local tel number without phone-context', i);
  }
  return { scheme: 'tel', number, params };
}

/** pname = 1*( alphanum / "-" ) */
function scanTelPname(s: string, i: number, end: number): number {
  while (i < end && (isAlnum(s.charCodeAt(i)) || s.charCodeAt(i) === 0x2d)) i++;
  return i;
}

/** Canonical text of a URI (lower-case scheme; components as held, i.e. still escaped). */
export function formatUri(u: Uri): string {
  if (isSipUri(u)) {
    let out = u.scheme + ':';
    if (u.user !== undefined) {
      out += u.user;
      if (u.password !== undefined) out += ':' + u.password;
      out += '@';
    }
    out += u.hostType === 'ipv6' && u.host.charCodeAt(0) !== 0x5b ? `[${u.host}]` : u.host;
    if (u.port !== undefined) out += ':' + u.port;
    out += formatParams(u.params);
    for (let k = 0; k < u.headers.length; k++) {
      const h = u.headers[k]!;
      out += (k === 0 ? '?' : '&') + h.name + '=' + (h.value ?? '');
    }
    return out;
  }
  if (isTelUri(u)) return 'tel:' + u.number + formatParams(u.params);
  return u.scheme.toLowerCase() + ':' + u.opaque;
}

/**
 * Decodes %HH escapes (octets, read as UTF-8; invalid sequences become U+FFFD). Use it on
 * one component at a time, after parsing, and only once.
 */
export function unescape(s: string): string {
  let i = s.indexOf('%');
  if (i < 0) return s;
  let out = s.slice(0, i);
  while (i < s.length) {
    if (isEscape(s, i)) {
      // A run of escapes is decoded together: one character may span several octets.
      const bytes: number[] = [];
      while (isEscape(s, i)) {
        bytes.push(hexValue(s.charCodeAt(i + 1)) * 16 + hexValue(s.charCodeAt(i + 2)));
        i += 3;
      }
      out += Buffer.from(bytes).toString('utf8');
    } else {
      let next = s.indexOf('%', i + 1);
      if (next < 0) next = s.length;
      out += s.slice(i, next);
      i = next;
    }
  }
  return out;
}

function isEscape(s: string, i: number): boolean {
  return s.charCodeAt(i) === 0x25 && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2));
}

/**
 * RFC 3261 §19.1.4: an escape of a character outside the reserved set equals the
 * character itself, so such escapes are decoded and the rest get upper-case hex.
 */
export function normalizeEscapes(s: string): string {
  if (s.indexOf('%') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length) {
      const v = hexValue(s.charCodeAt(i + 1)) * 16 + hexValue(s.charCodeAt(i + 2));
      out += v < 128 && (CHAR[v]! & C_UNRESERVED) !== 0 ? String.fromCharCode(v) : s.slice(i, i + 3).toUpperCase();
      i += 2;
    } else {
      out += s[i]!;
    }
  }
  return out;
}

function sameValue(a: string | null, b: string | null, caseSensitive: boolean): boolean {
  if (a === null || b === null) return a === b;
  const x = normalizeEscapes(a);
  const y = normalizeEscapes(b);
  return caseSensitive ? x === y : equalsIgnoreCase(x, y);
}

function findParam(params: readonly Param[], name: string): Param | undefined {
  const key = normalizeEscapes(name);
  return params.find((p) => equalsIgnoreCase(normalizeEscapes(p.name), key));
}

/**
 * Parameters that must appear in both URIs or neither: user, ttl, method and maddr by the
 * §19.1.4 rules, transport by its examples (`sip:bob@biloxi.com` vs `...;transport=udp`
 * "can resolve to different transports").
 */
const MUST_MATCH = ['user', 'ttl', 'method', 'maddr', 'transport'];

function sameUriParams(a: readonly Param[], b: readonly Param[]): boolean {
  for (const p of a) {
    const q = findParam(b, p.name);
    if (q ? !sameValue(p.value, q.value, false) : MUST_MATCH.some((n) => equalsIgnoreCase(n, p.name))) return false;
  }
  for (const q of b) {
    if (!findParam(a, q.name) && MUST_MATCH.some((n) => equalsIgnoreCase(n, q.name))) return false;
  }
  return true;
}

function headerKeys(headers: readonly Param[]): string[] {
  return headers.map((h) => normalizeEscapes(h.name).toLowerCase() + '=' + normalizeEscapes(h.value ?? '')).sort();
}

function telDigits(n: string): string {
  let out = '';
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    if (c !== 0x2d && c !== 0x2e && c !== 0x28 && c !== 0x29) out += n[i]!.toLowerCase();
  }
  return out;
}

/** URI equivalence: RFC 3261 §19.1.4 for sip/sips, RFC 3966 §4 for tel, exact text otherwise. */
export function uriEquals(a: Uri, b: Uri): boolean {
  if (a.scheme.toLowerCase() !== b.scheme.toLowerCase()) return false;
  if (isSipUri(a) && isSipUri(b)) {
    if ((a.user === undefined) !== (b.user === undefined) || (a.password === undefined) !== (b.password === undefined)) return false;
    if (a.user !== undefined && normalizeEscapes(a.user) !== normalizeEscapes(b.user!)) return false;
    if (a.password !== undefined && normalizeEscapes(a.password) !== normalizeEscapes(b.password!)) return false;
    if (a.hostType !== b.hostType || hostKey(a.host, a.hostType) !== hostKey(b.host, b.hostType)) return false;
    if (a.port !== b.port) return false;
    if (!sameUriParams(a.params, b.params)) return false;
    const ha = headerKeys(a.headers);
    const hb = headerKeys(b.headers);
    return ha.length === hb.length && ha.every((h, k) => h === hb[k]);
  }
  if (isTelUri(a) && isTelUri(b)) {
    if (telDigits(a.number) !== telDigits(b.number) || a.params.length !== b.params.length) return false;
    return a.params.every((p) => {
      const q = findParam(b.params, p.name);
      return q !== undefined && sameValue(p.value, q.value, false);
    });
  }
  return !isSipUri(a) && !isSipUri(b) && !isTelUri(a) && !isTelUri(b) && a.opaque === b.opaque;
}
