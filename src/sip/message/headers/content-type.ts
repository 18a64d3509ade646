/**
 * Content-Type (RFC 3261 §20.15, media-type ABNF §25.1, from RFC 2045 §5.1) and Accept
 * (RFC 3261 §20.1): `m-type SLASH m-subtype *(SEMI m-parameter)`, SLASH = SWS "/" SWS.
 * Type and subtype are case-insensitive (RFC 2045 §5.1) and kept lower-cased; parameter
 * values keep their quotes (use getParamUnquoted for e.g. boundary).
 */
import { parseQValue } from './cseq.js';
import {
  charAt, expectEnd, fail, formatParams, getParam, mergeParams, P_REQUIRE_VALUE, parseList, parseParams,
  skipLws, type Param,
} from './scan.js';
import { C_TOKEN, CHAR } from './chars.js';

export interface ContentType {
  type: string;
  subtype: string;
  params: Param[];
}

export interface AcceptRange extends ContentType {
  /** The q accept-param (RFC 3261 §20.1), when present. */
  q?: number;
}

/**
 * scanToken that also tells whether the token has an upper-case letter (so needs
 * lower-casing): returns end * 2 + (1 if it has one).
 */
function scanTokenCase(s: string, i: number): number {
  let upper = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (CHAR[c]! & C_TOKEN) === 0) break;
    if (c <= 0x5a && c >= 0x41) upper = 1;
  }
  return i * 2 + upper;
}

/** The token s[start, end) lower-cased, skipping the call when scanTokenCase saw no upper case. */
function lowerToken(s: string, start: number, scanned: number): string {
  const t = s.slice(start, scanned >> 1);
  return (scanned & 1) === 1 ? t.toLowerCase() : t;
}

/** Scans `type SLASH subtype` at i into `out`; returns the index after the subtype. */
function scanMediaType(s: string, i: number, out: { type: string; subtype: string }, wildcard: boolean): number {
  const typeScan = scanTokenCase(s, i);
  const t = typeScan >> 1;
  if (t === i) fail(`expected media type, found ${charAt(s, i)}`, i);
  let j = skipLws(s, t);
  if (s.charCodeAt(j) !== 0x2f) fail(`expected "/" in media type, found ${charAt(s, j)}`, j);
  j = skipLws(s, j + 1);
  const subtypeScan = scanTokenCase(s, j);
  const e = subtypeScan >> 1;
  if (e === j) fail(`expected media subtype, found ${charAt(s, j)}`, j);
  out.type = lowerToken(s, i, typeScan);
  out.subtype = lowerToken(s, j, subtypeScan);
  // media-range allows "*/*" and "type/*" only; a media-type allows neither.
  const starType = out.type === '*';
  const starSub = out.subtype === '*';
  if (wildcard ? starType && !starSub : starType || starSub) fail('invalid media type wildcard', i);
  return e;
}

export function parseContentType(s: string): ContentType {
  const ct: ContentType = { type: '', subtype: '', params: [] };
  const e = scanMediaType(s, skipLws(s, 0), ct, false);
  expectEnd(s, parseParams(s, e, ct.params, P_REQUIRE_VALUE));
  return ct;
}

/** "type/subtype", lower-cased. */
export function mediaType(ct: { type: string; subtype: string }): string {
  return ct.type + '/' + ct.subtype;
}

export function formatContentType(ct: ContentType): string {
  return ct.type + '/' + ct.subtype + formatParams(ct.params);
}

function scanAcceptRange(s: string, i: number, out: AcceptRange[]): number {
  const r: AcceptRange = { type: '', subtype: '', params: [] };
  const end = parseParams(s, scanMediaType(s, i, r, true), r.params);
  const q = getParam(r.params, 'q');
  if (q !== undefined) r.q = q === null ? fail('q needs a value', i) : parseQValue(q);
  out.push(r);
  return end;
}

/** Accept (RFC 3261 §20.1): possibly empty list of media ranges. */
export function parseAccept(s: string): AcceptRange[] {
  if (skipLws(s, 0) === s.length) return [];
  return parseList(s, scanAcceptRange);
}

/** The q field, when set, replaces (or adds) the q parameter. */
export function formatAccept(ranges: readonly AcceptRange[]): string {
  return ranges
    .map((r) => r.type + '/' + r.subtype + formatParams(mergeParams(r.params, [['q', r.q === undefined ? undefined : String(r.q)]])))
    .join(', ');
}
