/**
 * Host syntax of RFC 3261 §25.1 (hostname, IPv4address, IPv6reference) as corrected by
 * RFC 5954 §4.1, which replaced the RFC 3261 IPv6 production (it admitted
 * `2001:db8:::192.0.2.1`, RFC 5118 §4.10) with the RFC 3986 one built on RFC 4291 §2.2
 * text forms, and IPv4address with dec-octets. RFC 5954 §3 also has IP literals compared
 * as binary values, hence ipv6Groups().
 */
import { ParseError } from '../errors.js';
import { hexValue, isAlnum, isAlpha, isHex } from './chars.js';

export type HostType = 'ipv4' | 'ipv6' | 'domain';

/** dec-octet "." dec-octet "." dec-octet "." dec-octet over s[start, end). */
export function isIPv4(s: string, start: number, end: number): boolean {
  let octets = 0;
  let i = start;
  while (octets < 4) {
    const o = i;
    let v = 0;
    while (i < end && i - o < 3) {
      const c = s.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
      i++;
    }
    const len = i - o;
    // RFC 5954's dec-octet has no leading zeros ("01" is not an octet).
    if (len === 0 || v > 255 || (len > 1 && s.charCodeAt(o) === 0x30)) return false;
    octets++;
    if (octets < 4) {
      if (i >= end || s.charCodeAt(i) !== 0x2e) return false;
      i++;
    }
  }
  return i === end;
}

/**
 * The eight 16-bit groups of the IPv6address s[start, end), or null when it is not one.
 * Splitting at the single allowed "::" and counting h16 groups (an IPv4 tail counts two)
 * rejects ":::" and every over- or under-long form in one linear pass.
 */
export function ipv6Groups(s: string, start: number, end: number): number[] | null {
  if (end - start < 2 || end - start > 45) return null;
  const head: number[] = [];
  const tail: number[] = [];
  let groups = head;
  let gap = false;
  let i = start;
  if (s.charCodeAt(i) === 0x3a) {
    if (s.charCodeAt(i + 1) !== 0x3a) return null;
    gap = true;
    groups = tail;
    i += 2;
    if (i === end) return [0, 0, 0, 0, 0, 0, 0, 0];
  }
  for (;;) {
    const g = i;
    let v = 0;
    while (i < end && i - g < 4 && isHex(s.charCodeAt(i))) {
      v = v * 16 + hexValue(s.charCodeAt(i));
      i++;
    }
    if (i < end && s.charCodeAt(i) === 0x2e) {
      // ls32 may be an IPv4address: only as the last piece.
      if (!isIPv4(s, g, end)) return null;
      const b = ipv4Bytes(s, g, end);
      groups.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
      i = end;
      break;
    }
    if (i === g) return null;
    groups.push(v);
    if (i === end) break;
    if (s.charCodeAt(i) !== 0x3a) return null;
    i++;
    if (i < end && s.charCodeAt(i) === 0x3a) {
      if (gap) return null;
      gap = true;
      groups = tail;
      i++;
      if (i === end) break;
    } else if (i === end) {
      return null;
    }
  }
  const count = head.length + tail.length;
  if (gap ? count > 7 : count !== 8) return null;
  const out = head.slice();
  for (let k = count; k < 8; k++) out.push(0);
  for (let k = 0; k < tail.length; k++) out[8 - tail.length + k] = tail[k]!;
  return out;
}

function ipv4Bytes(s: string, start: number, end: number): number[] {
  return s.slice(start, end).split('.').map(Number);
}

export function isIPv6(s: string, start: number, end: number): boolean {
  return ipv6Groups(s, start, end) !== null;
}

/** "[" IPv6address "]" over s[start, end). */
export function isIPv6Reference(s: string, start: number, end: number): boolean {
  return end - start > 2 && s.charCodeAt(start) === 0x5b && s.charCodeAt(end - 1) === 0x5d && isIPv6(s, start + 1, end - 1);
}

/**
 * hostname = *( domainlabel "." ) toplabel [ "." ]; labels of alphanum and inner "-",
 * the toplabel starting with ALPHA (which is what keeps "192.0.2.256" from passing as a name).
 */
export function isHostname(s: string, start: number, end: number): boolean {
  if (start >= end) return false;
  if (s.charCodeAt(end - 1) === 0x2e) end--;
  let labelStart = start;
  let prev = 0x2e;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (prev === 0x2e || prev === 0x2d) return false;
      labelStart = i + 1;
    } else if (c === 0x2d) {
      if (prev === 0x2e) return false;
    } else if (!isAlnum(c)) {
      return false;
    }
    prev = c;
  }
  return prev !== 0x2e && prev !== 0x2d && isAlpha(s.charCodeAt(labelStart));
}

function fail(message: string, offset: number): never {
  throw new ParseError(message, offset);
}

/** Classifies the host s[start, end), throwing ParseError when it is none of the three forms. */
export function classifyHost(s: string, start: number, end: number): HostType {
  if (s.charCodeAt(start) === 0x5b) {
    if (isIPv6Reference(s, start, end)) return 'ipv6';
    return fail('invalid IPv6 reference', start);
  }
  // An IPv4address starts with a digit; most hosts are names and skip the IPv4 test.
  const c = s.charCodeAt(start);
  if (c >= 0x30 && c <= 0x39 && isIPv4(s, start, end)) return 'ipv4';
  if (isHostname(s, start, end)) return 'domain';
  return fail(start === end ? 'missing host' : `invalid host ${JSON.stringify(s.slice(start, end))}`, start);
}

/**
 * Returns the end of a host starting at i: an IPv6reference through its "]", otherwise the
 * run of alphanum / "-" / "." (validated afterwards by classifyHost).
 */
export function scanHost(s: string, i: number, end = s.length): number {
  if (s.charCodeAt(i) === 0x5b) {
    const close = s.indexOf(']', i);
    return close < 0 || close >= end ? fail('unterminated IPv6 reference', i) : close + 1;
  }
  let j = i;
  for (; j < end; j++) {
    const c = s.charCodeAt(j);
    if (c !== 0x2d && c !== 0x2e && !isAlnum(c)) break;
  }
  return j;
}

const HOST_TYPES: readonly HostType[] = ['domain', 'ipv4', 'ipv6'];

/**
 * The end of a dotted-quad IPv4address (isIPv4's dec-octets) starting at i, or -1.
 */
function scanIPv4End(s: string, i: number, end: number): number {
  for (let octet = 0; ; octet++) {
    const o = i;
    let v = 0;
    while (i < end && i - o < 3) {
      const c = s.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
      i++;
    }
    if (i === o || v > 255 || (i - o > 1 && s.charCodeAt(o) === 0x30)) return -1;
    if (octet === 3) return i;
    if (i >= end || s.charCodeAt(i) !== 0x2e) return -1;
    i++;
  }
}

const ALNUM = new Uint8Array(128);
for (let c = 0; c < 128; c++) if (isAlnum(c)) ALNUM[c] = 1;

/** alphanum / "-" / "." : the chars scanHost takes into a name or IPv4 host. */
function isHostChar(c: number): boolean {
  return c === 0x2d || c === 0x2e || isAlnum(c);
}

/**
 * scanHost and classifyHost in one pass over a name or IPv4 address: returns
 * end * 4 + (0 domain, 1 ipv4, 2 ipv6); decode with hostEndOf / hostTypeOf. An IPv4
 * address is read as such when it is the whole host; otherwise the hostname rules of
 * isHostname are checked as the chars go by, and anything they reject (and every IPv6
 * reference) is handed to classifyHost, so the errors are classifyHost's.
 */
export function scanHostTyped(s: string, i: number, end = s.length): number {
  const c0 = s.charCodeAt(i);
  if (c0 === 0x5b) {
    const e = scanHost(s, i, end);
    return e * 4 + HOST_TYPES.indexOf(classifyHost(s, i, e));
  }
  if (c0 >= 0x30 && c0 <= 0x39) {
    const e = scanIPv4End(s, i, end);
    if (e > 0 && !(e < end && isHostChar(s.charCodeAt(e)))) return e * 4 + 1;
  }
  let ok = true;
  let labelStart = i;
  // Start of the label before the latest ".", for a name with a trailing "." (FQDN form).
  let lastLabelStart = i;
  let j = i;
  for (; j < end; j++) {
    const c = s.charCodeAt(j);
    if (c < 128 && ALNUM[c] === 1) continue;
    // isHostname: no empty label, and no "-" at either end of a label.
    const prev = j > i ? s.charCodeAt(j - 1) : 0x2e;
    if (c === 0x2e) {
      if (prev === 0x2e || prev === 0x2d) ok = false;
      lastLabelStart = labelStart;
      labelStart = j + 1;
    } else if (c === 0x2d) {
      if (prev === 0x2e) ok = false;
    } else {
      break;
    }
  }
  if (j === i) return j * 4 + HOST_TYPES.indexOf(classifyHost(s, i, j));
  const last = s.charCodeAt(j - 1);
  // One trailing "." is allowed: then the name before it is judged (its last char was
  // checked when the "." went by).
  if (last === 0x2e) ok = ok && j - i > 1 && isAlpha(s.charCodeAt(lastLabelStart));
  else ok = ok && last !== 0x2d && isAlpha(s.charCodeAt(labelStart));
  return ok ? j * 4 : j * 4 + HOST_TYPES.indexOf(classifyHost(s, i, j));
}

export function hostEndOf(typed: number): number {
  return Math.floor(typed / 4);
}

export function hostTypeOf(typed: number): HostType {
  return HOST_TYPES[typed & 3]!;
}

/**
 * The end of port = 1*DIGIT in 0..65535 starting at i ('missing port' / 'port out of range');
 * portValue reads the digits it accepted.
 */
export function scanPortEnd(s: string, i: number, end = s.length): number {
  let v = 0;
  let j = i;
  while (j < end) {
    const c = s.charCodeAt(j);
    if (c < 0x30 || c > 0x39) break;
    v = v * 10 + (c - 0x30);
    if (v > 65535) fail('port out of range', i);
    j++;
  }
  if (j === i) fail('missing port', i);
  return j;
}

export function portValue(s: string, i: number, end: number): number {
  let v = 0;
  for (let j = i; j < end; j++) v = v * 10 + (s.charCodeAt(j) - 0x30);
  return v;
}

/** Canonical text of an IP host for comparison (RFC 5954 §3: binary equality), or the lower-cased name. */
export function hostKey(host: string, type: HostType): string {
  if (type === 'ipv6') {
    const g = ipv6Groups(host, 1, host.length - 1);
    if (g) return '[' + g.map((x) => x.toString(16)).join(':') + ']';
  }
  return host.toLowerCase();
}
