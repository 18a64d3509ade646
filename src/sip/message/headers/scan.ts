/**
 * Shared lexical scanner for SIP header values: RFC 3261 §25.1 basic rules (LWS/SWS,
 * token, quoted-string, quoted-pair, escaped) and §25.1 generic-param lists
 * (`*( SEMI generic-param )`, gen-value = token / host / quoted-string).
 *
 * Every scanner takes (string, index) and returns an index, so a header parser walks its
 * input once with charCodeAt and allocates only the substrings it keeps: no regular
 * expressions, hence no backtracking on hostile input.
 */
import { ParseError } from '../errors.js';
import { C_TOKEN, CHAR } from './chars.js';
import { isIPv6, isIPv6Reference } from './host.js';

/** One `name[=value]` parameter, name and value kept as written (quoted values keep their quotes). */
export interface Param {
  name: string;
  value: string | null;
}

export function fail(message: string, offset: number, status = 400): never {
  throw new ParseError(message, offset, status);
}

/** Describes the character at `i` for an error message. */
export function charAt(s: string, i: number): string {
  return i < s.length ? JSON.stringify(s[i]) : 'end of value';
}

/**
 * Skips LWS/SWS. The message parser has already unfolded lines, but a CRLF followed by
 * whitespace is still accepted here so a caller that forgot to unfold is not punished.
 */
export function skipLws(s: string, i: number): number {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x09) i++;
    else if (c === 0x0d && s.charCodeAt(i + 1) === 0x0a && (s.charCodeAt(i + 2) === 0x20 || s.charCodeAt(i + 2) === 0x09)) i += 3;
    else break;
  }
  return i;
}

/** Returns the end of the run of chars in `flags` starting at i (== i when there is none). */
export function scanClass(s: string, i: number, flags: number, end = s.length): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (CHAR[c]! & flags) === 0) break;
    i++;
  }
  return i;
}

export function scanToken(s: string, i: number): number {
  return scanClass(s, i, C_TOKEN);
}

export function isToken(s: string): boolean {
  return s.length > 0 && scanToken(s, 0) === s.length;
}

/**
 * Scans a quoted-string whose opening DQUOTE is at i and returns the index after the
 * closing one. qdtext = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII; quoted-pair =
 * "\" (%x00-09 / %x0B-0C / %x0E-7F).
 */
export function scanQuoted(s: string, i: number): number {
  const n = s.length;
  let j = i + 1;
  while (j < n) {
    const c = s.charCodeAt(j);
    if (c === 0x22) return j + 1;
    if (c === 0x5c) {
      const q = s.charCodeAt(j + 1);
      if (Number.isNaN(q) || q === 0x0a || q === 0x0d || q > 0x7f) fail('invalid quoted-pair', j);
      j += 2;
    } else if (c >= 0x20 ? c !== 0x7f : c === 0x09) {
      j++;
    } else if (c === 0x0d && s.charCodeAt(j + 1) === 0x0a && (s.charCodeAt(j + 2) === 0x20 || s.charCodeAt(j + 2) === 0x09)) {
      j += 3;
    } else {
      fail('control character in quoted-string', j);
    }
  }
  return fail('unterminated quoted-string', i);
}

/** Contents of the quoted-string s[start, end) (quotes included in the range), quoted-pairs resolved. */
export function unquoteRange(s: string, start: number, end: number): string {
  const inner = s.slice(start + 1, end - 1);
  if (inner.indexOf('\\') < 0) return inner;
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i]!;
    if (ch === '\\' && i + 1 < inner.length) {
      i++;
      out += inner[i]!;
    } else {
      out += ch;
    }
  }
  return out;
}

/** Removes the quotes of a quoted-string value (as kept in Param.value); other values are returned as is. */
export function unquote(value: string): string {
  return value.length >= 2 && value.charCodeAt(0) === 0x22 && value.charCodeAt(value.length - 1) === 0x22
    ? unquoteRange(value, 0, value.length)
    : value;
}

/**
 * Makes a quoted-string of any text. CR and LF cannot be carried by a quoted-pair, so they
 * become spaces rather than letting a caller's value split the header line.
 */
export function quote(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0d || c === 0x0a) out += ' ';
    else if (c === 0x22 || c === 0x5c || (c < 0x20 && c !== 0x09) || c === 0x7f) out += '\\' + text[i]!;
    else out += text[i]!;
  }
  return out + '"';
}

/** ASCII case-insensitive equality, without allocating lower-cased copies. */
export function equalsIgnoreCase(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y && ((x | 0x20) !== (y | 0x20) || (x | 0x20) < 0x61 || (x | 0x20) > 0x7a)) return false;
  }
  return true;
}

/** Value of the first parameter named `name` (case-insensitive): null when it has no value, undefined when absent. */
export function getParam(params: readonly Param[], name: string): string | null | undefined {
  for (const p of params) if (equalsIgnoreCase(p.name, name)) return p.value;
  return undefined;
}

/** Like getParam, with a quoted-string value unquoted. */
export function getParamUnquoted(params: readonly Param[], name: string): string | null | undefined {
  const v = getParam(params, name);
  return v == null ? v : unquote(v);
}

export function hasParam(params: readonly Param[], name: string): boolean {
  return getParam(params, name) !== undefined;
}

/** Parameter value must be present (m-parameter = m-attribute EQUAL m-value). */
export const P_REQUIRE_VALUE = 1;
/** Accept an IPv6address without brackets as a value (Via received, RFC 3261 §25.1 / RFC 5118 §4.5). */
export const P_BARE_IPV6 = 2;

/**
 * Parses `*( SEMI generic-param )` from i, appending to `out`. Returns the index of the
 * first character after the list and its trailing LWS, so the caller sees ',' or the end.
 */
export function parseParams(s: string, i: number, out: Param[], flags = 0): number {
  // Each char is read once: LWS is skipped only where the next char could start it.
  const n = s.length;
  for (;;) {
    let j = i;
    let c = s.charCodeAt(j);
    if (isLwsStart(c)) {
      j = skipLws(s, j);
      c = s.charCodeAt(j);
    }
    if (c !== 0x3b) return j;
    let k = j + 1;
    c = s.charCodeAt(k);
    if (isLwsStart(c)) {
      k = skipLws(s, k);
      c = s.charCodeAt(k);
    }
    let nameEnd = k;
    while (c < 128 && (CHAR[c]! & C_TOKEN) !== 0) c = s.charCodeAt(++nameEnd);
    if (nameEnd === k) fail(`expected parameter name, found ${charAt(s, k)}`, k);
    const name = s.slice(k, nameEnd);
    let m = nameEnd;
    if (isLwsStart(c)) {
      m = skipLws(s, m);
      c = s.charCodeAt(m);
    }
    if (c === 0x3d) {
      let v = m + 1;
      if (isLwsStart(s.charCodeAt(v))) v = skipLws(s, v);
      const vEnd = scanParamValue(s, v, flags);
      out.push({ name, value: s.slice(v, vEnd) });
      i = vEnd;
    } else {
      if (flags & P_REQUIRE_VALUE) fail(`parameter ${name} needs a value`, m);
      out.push({ name, value: null });
      i = nameEnd;
    }
    if (i >= n) return i;
  }
}

/** SP, HT or CR: where skipLws might move. */
function isLwsStart(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d;
}

/** gen-value = token / host / quoted-string; returns its end. */
function scanParamValue(s: string, i: number, flags: number): number {
  if (s.charCodeAt(i) === 0x22) return scanQuoted(s, i);
  let j = i;
  let hostish = false;
  for (; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c < 128 && (CHAR[c]! & C_TOKEN) !== 0) continue;
    if (c === 0x3a || c === 0x5b || c === 0x5d) hostish = true;
    else break;
  }
  if (j === i) fail(`expected parameter value, found ${charAt(s, i)}`, i);
  if (hostish) {
    const ok = s.charCodeAt(i) === 0x5b ? isIPv6Reference(s, i, j) : (flags & P_BARE_IPV6) !== 0 && isIPv6(s, i, j);
    if (!ok) fail('invalid parameter value', i);
  }
  return j;
}

export function formatParams(params: readonly Param[]): string {
  let out = '';
  for (const p of params) out += p.value === null ? `;${p.name}` : `;${p.name}=${p.value}`;
  return out;
}

/** Throws unless only LWS remains from i. */
export function expectEnd(s: string, i: number): void {
  const j = skipLws(s, i);
  if (j < s.length) fail(`unexpected ${charAt(s, j)}`, j);
}

/**
 * Parses a comma-separated list (`x *(COMMA x)`, COMMA = SWS "," SWS): `element` parses one
 * element starting at an index and returns the index after it and its trailing LWS.
 */
export function parseList<T>(s: string, element: (s: string, i: number, out: T[]) => number): T[] {
  const out: T[] = [];
  let i = 0;
  for (;;) {
    i = skipLws(s, element(s, skipLws(s, i), out));
    if (i >= s.length) return out;
    if (s.charCodeAt(i) !== 0x2c) fail(`expected "," or end, found ${charAt(s, i)}`, i);
    i++;
  }
}

/**
 * Sets the named parameters to the given values (replacing the first occurrence in place,
 * appending when absent; an undefined value leaves that parameter as it is), so formatters
 * can take typed fields (branch, expires, ...) as the truth without reordering the rest.
 */
export function mergeParams(params: readonly Param[], known: ReadonlyArray<readonly [string, string | null | undefined]>): Param[] {
  const out: Param[] = [];
  const done = known.map(([, value]) => value === undefined);
  for (const p of params) {
    const k = known.findIndex(([name]) => equalsIgnoreCase(name, p.name));
    const value = k < 0 ? undefined : known[k]![1];
    if (value === undefined) {
      out.push(p);
    } else if (!done[k]) {
      done[k] = true;
      out.push({ name: p.name, value });
    }
  }
  known.forEach(([name, value], k) => {
    if (!done[k] && value !== undefined) out.push({ name, value });
  });
  return out;
}

/** Throws when a parameter that must appear at most once appears twice. */
export function rejectDuplicates(params: readonly Param[], names: readonly string[], offset = 0): void {
  for (const name of names) {
    let seen = false;
    for (const p of params) {
      if (!equalsIgnoreCase(p.name, name)) continue;
      if (seen) fail(`duplicate ${name} parameter`, offset);
      seen = true;
    }
  }
}
