/**
 * name-addr / addr-spec header values (RFC 3261 §20.10, §20.20, §20.39, ABNF §25.1):
 * From, To, Contact, Route, Record-Route, Reply-To, Refer-To (RFC 3515 §2.1) and the like.
 *
 * RFC 3261 §20.10: without "<" and ">", every ";" parameter after the URI is a header
 * parameter (RFC 4475 §3.3.12), and an addr-spec holding ",", ";" or "?" must be put in
 * the name-addr form, so a bare addr-spec with "?" is rejected (RFC 4475 §3.1.2.13).
 */
import {
  charAt, expectEnd, fail, formatParams, getParam, parseList, parseParams, quote,
  scanQuoted, scanToken, skipLws, unquoteRange, type Param,
} from './scan.js';
import { formatUri, parseUriRange, type Uri } from './uri.js';

export interface NameAddr {
  /** Unquoted, quoted-pairs resolved; a token display name has its tokens joined by one space. */
  displayName?: string;
  uri: Uri;
  /** Header parameters (tag, expires, q, ...), as written. */
  params: Param[];
}

/**
 * Parses one name-addr or addr-spec with its parameters, starting at i (after LWS).
 * Returns the index after it and its trailing LWS.
 */
export function scanNameAddr(s: string, i: number, out: NameAddr[]): number {
  let displayName: string | undefined;
  const c = s.charCodeAt(i);
  if (c === 0x22) {
    const q = scanQuoted(s, i);
    displayName = unquoteRange(s, i, q);
    i = skipLws(s, q);
    if (s.charCodeAt(i) !== 0x3c) fail(`expected "<" after display name, found ${charAt(s, i)}`, i);
  } else if (c !== 0x3c) {
    const t = scanToken(s, i);
    if (t === i) fail(`expected display name or URI, found ${charAt(s, i)}`, i);
    if (s.charCodeAt(t) === 0x3a) return scanAddrSpec(s, i, out);
    // display-name = *(token LWS): tokens separated by LWS, up to "<" (LWS before it optional).
    displayName = s.slice(i, t);
    i = t;
    for (;;) {
      const k = skipLws(s, i);
      if (s.charCodeAt(k) === 0x3c) {
        i = k;
        break;
      }
      const e = scanToken(s, k);
      if (k === i || e === k) fail(`expected "<" or a display-name token, found ${charAt(s, k)}`, k);
      displayName += ' ' + s.slice(k, e);
      i = e;
    }
  }
  // i is at "<"
  const gt = s.indexOf('>', i + 1);
  if (gt < 0) fail('unterminated "<"', i);
  const uri = parseUriRange(s, i + 1, gt);
  const params: Param[] = [];
  const end = parseParams(s, gt + 1, params);
  out.push(displayName === undefined ? { uri, params } : { displayName, uri, params });
  return end;
}

function scanAddrSpec(s: string, i: number, out: NameAddr[]): number {
  let e = i;
  for (; e < s.length; e++) {
    const c = s.charCodeAt(e);
    if (c === 0x3b || c === 0x2c || c === 0x20 || c === 0x09) break;
    if (c === 0x3f) fail('an addr-spec with "?" must be enclosed in "<" and ">"', e);
  }
  const uri = parseUriRange(s, i, e);
  const params: Param[] = [];
  const end = parseParams(s, e, params);
  out.push({ uri, params });
  return end;
}

/** Parses a single name-addr / addr-spec value (From, To, Refer-To, ...). */
export function parseNameAddr(s: string): NameAddr {
  const out: NameAddr[] = [];
  expectEnd(s, scanNameAddr(s, skipLws(s, 0), out));
  return out[0]!;
}

/** Parses a comma-separated list of name-addr / addr-spec values (Contact, Route, Record-Route, ...). */
export function parseNameAddrList(s: string): NameAddr[] {
  return parseList(s, scanNameAddr);
}

/** Contact (RFC 3261 §20.10): "*" or a list. */
export function parseContact(s: string): '*' | NameAddr[] {
  const i = skipLws(s, 0);
  if (s.charCodeAt(i) === 0x2a && skipLws(s, i + 1) === s.length) return '*';
  return parseNameAddrList(s);
}

/** Always the name-addr form: it is valid whatever the URI holds. */
export function formatNameAddr(na: NameAddr): string {
  const uri = '<' + formatUri(na.uri) + '>';
  const head = na.displayName === undefined ? uri : quote(na.displayName) + ' ' + uri;
  return head + formatParams(na.params);
}

export function formatNameAddrList(list: readonly NameAddr[]): string {
  return list.map(formatNameAddr).join(', ');
}

/** The tag parameter (RFC 3261 §19.3), if any. */
export function getTag(na: NameAddr): string | undefined {
  return getParam(na.params, 'tag') ?? undefined;
}
