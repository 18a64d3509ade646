/**
 * Via (RFC 3261 §20.42, §18.2.1, ABNF §25.1) with rport (RFC 3581 §3) and the received
 * forms of RFC 5118 §4.5 (an IPv6 address with or without brackets).
 *
 * LWS is allowed around "/" in sent-protocol and around ":" in sent-by (SLASH and COLON
 * are SWS-wrapped in §25.1; RFC 4475 §3.1.1.1), and any transport token is accepted
 * (RFC 4475 §3.1.1.10).
 */
import {
  classifyHost, hostEndOf, hostTypeOf, isIPv4, isIPv6, isIPv6Reference, portValue, scanHostTyped, scanPortEnd, type HostType,
} from './host.js';
import {
  charAt, equalsIgnoreCase, fail, formatParams, mergeParams, P_BARE_IPV6, parseList, parseParams,
  isToken, scanToken, skipLws, type Param,
} from './scan.js';
import { C_ALPHA, C_DIGIT, C_TOKEN, CHAR } from './chars.js';

export interface Via {
  /** Upper-cased ("SIP"). */
  protocolName: string;
  protocolVersion: string;
  /** Upper-cased ("UDP", "TCP", "TLS", "SCTP", "WS", or any other token). */
  transport: string;
  /** As written; an IPv6 reference keeps its brackets. */
  host: string;
  hostType: HostType;
  port?: number;
  /** Every via-param in order, as written (branch, received and rport included). */
  params: Param[];
  branch?: string;
  received?: string;
  /** null: rport present without a value (a request asking for it, RFC 3581 §3). */
  rport?: number | null;
}

function expectToken(s: string, i: number, what: string): number {
  const e = scanToken(s, i);
  if (e === i) fail(`expected ${what}, found ${charAt(s, i)}`, i);
  return e;
}

function expectSlash(s: string, i: number): number {
  const j = skipLws(s, i);
  if (s.charCodeAt(j) !== 0x2f) fail(`expected "/" in sent-protocol, found ${charAt(s, j)}`, j);
  return skipLws(s, j + 1);
}

/** "SIP/2.0/" at i ("SIP" in any case), the sent-protocol prefix nearly every Via has. */
function isSip20Slash(s: string, i: number): boolean {
  return (
    (s.charCodeAt(i) | 0x20) === 0x73 && (s.charCodeAt(i + 1) | 0x20) === 0x69 && (s.charCodeAt(i + 2) | 0x20) === 0x70 &&
    s.charCodeAt(i + 3) === 0x2f && s.charCodeAt(i + 4) === 0x32 && s.charCodeAt(i + 5) === 0x2e &&
    s.charCodeAt(i + 6) === 0x30 && s.charCodeAt(i + 7) === 0x2f
  );
}

/** Upper-cased transport token s[i, end), without allocating for the usual ones. */
function transportName(s: string, i: number, end: number): string {
  const n = end - i;
  if (n === 3) {
    const a = s.charCodeAt(i) | 0x20;
    const b = s.charCodeAt(i + 1) | 0x20;
    const c = s.charCodeAt(i + 2) | 0x20;
    if (a === 0x75 && b === 0x64 && c === 0x70) return 'UDP';
    if (a === 0x74 && b === 0x63 && c === 0x70) return 'TCP';
    if (a === 0x74 && b === 0x6c && c === 0x73) return 'TLS';
  }
  return s.slice(i, end).toUpperCase();
}

function isTokenChar(c: number): boolean {
  return c < 128 && (CHAR[c]! & C_TOKEN) !== 0;
}

/**
 * The via-parm at i in its usual shape: "SIP/2.0/" transport, one SP, a name or IPv4 host,
 * an optional port, and parameters whose values are tokens, with no LWS inside. Returns
 * what scanVia returns, or -1 (having added nothing to `out`) for any other shape, which
 * scanViaGeneral then reads: the result is the same either way, this is only quicker.
 */
function scanViaUsual(s: string, i: number, out: Via[]): number {
  const n = s.length;
  if (!isSip20Slash(s, i)) return -1;
  const ts = i + 8;
  let j = ts;
  while (j < n && isTokenChar(s.charCodeAt(j))) j++;
  if (j === ts || s.charCodeAt(j) !== 0x20) return -1;
  const transport = transportName(s, ts, j);
  const hostStart = j + 1;
  const c0 = s.charCodeAt(hostStart);
  if (!(c0 < 128 && (CHAR[c0]! & (C_ALPHA | C_DIGIT)) !== 0)) return -1;
  const typed = scanHostTyped(s, hostStart);
  const hostEnd = hostEndOf(typed);
  const via: Via = {
    protocolName: 'SIP',
    protocolVersion: '2.0',
    transport,
    host: s.slice(hostStart, hostEnd),
    hostType: hostTypeOf(typed),
    params: [],
  };
  j = hostEnd;
  if (s.charCodeAt(j) === 0x3a) {
    const ps = j + 1;
    let port = 0;
    j = ps;
    for (; j < n; j++) {
      const c = s.charCodeAt(j);
      if (c < 0x30 || c > 0x39) break;
      port = port * 10 + (c - 0x30);
    }
    if (j === ps || j - ps > 5 || port > 65535) return -1;
    via.port = port;
  }
  const params = via.params;
  while (s.charCodeAt(j) === 0x3b) {
    const ns = j + 1;
    j = ns;
    while (j < n && isTokenChar(s.charCodeAt(j))) j++;
    if (j === ns) return -1;
    const name = s.slice(ns, j);
    if (s.charCodeAt(j) === 0x3d) {
      const vs = j + 1;
      j = vs;
      while (j < n && isTokenChar(s.charCodeAt(j))) j++;
      const c = s.charCodeAt(j);
      // Quoted, IPv6 or LWS-separated values: the general reading.
      if (j === vs || c === 0x22 || c === 0x3a || c === 0x5b || c === 0x5d) return -1;
      params.push({ name, value: s.slice(vs, j) });
    } else {
      params.push({ name, value: null });
    }
  }
  // LWS after a parameter (before "=", ";" or ",") is for the general reading too.
  if (j < n && s.charCodeAt(j) !== 0x2c) return -1;
  let seen = 0;
  for (let p = 0; p < params.length; p++) seen = applyKnownParam(via, params[p]!, seen, i, true);
  out.push(via);
  return j;
}

function scanVia(s: string, i: number, out: Via[]): number {
  const e = scanViaUsual(s, i, out);
  return e >= 0 ? e : scanViaGeneral(s, i, out);
}

function scanViaGeneral(s: string, i: number, out: Via[]): number {
  let protocolName: string;
  let protocolVersion: string;
  let j: number;
  if (isSip20Slash(s, i)) {
    protocolName = 'SIP';
    protocolVersion = '2.0';
    j = skipLws(s, i + 8);
  } else {
    const nameEnd = expectToken(s, i, 'protocol name');
    j = expectSlash(s, nameEnd);
    const versionEnd = expectToken(s, j, 'protocol version');
    protocolVersion = s.slice(j, versionEnd);
    j = expectSlash(s, versionEnd);
    protocolName = s.slice(i, nameEnd).toUpperCase();
  }
  const transportEnd = expectToken(s, j, 'transport');
  const transport = transportName(s, j, transportEnd);
  const hostStart = skipLws(s, transportEnd);
  if (hostStart === transportEnd) fail(`expected LWS before sent-by, found ${charAt(s, hostStart)}`, hostStart);
  const typed = scanHostTyped(s, hostStart);
  const hostEnd = hostEndOf(typed);
  const via: Via = {
    protocolName,
    protocolVersion,
    transport,
    host: s.slice(hostStart, hostEnd),
    hostType: hostTypeOf(typed),
    params: [],
  };
  j = hostEnd;
  const k = skipLws(s, j);
  if (s.charCodeAt(k) === 0x3a) {
    const portStart = skipLws(s, k + 1);
    const portEnd = scanPortEnd(s, portStart);
    via.port = portValue(s, portStart, portEnd);
    j = portEnd;
  }
  const end = parseParams(s, j, via.params, P_BARE_IPV6);
  let seen = 0;
  const params = via.params;
  for (let p = 0; p < params.length; p++) seen = applyKnownParam(via, params[p]!, seen, i);
  out.push(via);
  return end;
}

// via-params with their own syntax, each allowed once; the index is its bit in the seen-set.
const KNOWN = ['branch', 'received', 'rport', 'ttl', 'maddr'];

/** Index of the known via-param named `name` (any case) in KNOWN, else -1. */
function knownParam(name: string): number {
  switch (name.length) {
    case 6:
      return name === 'branch' || equalsIgnoreCase(name, 'branch') ? 0 : -1;
    case 8:
      return name === 'received' || equalsIgnoreCase(name, 'received') ? 1 : -1;
    case 5:
      return name === 'rport' || equalsIgnoreCase(name, 'rport') ? 2 : equalsIgnoreCase(name, 'maddr') ? 4 : -1;
    case 3:
      return equalsIgnoreCase(name, 'ttl') ? 3 : -1;
    default:
      return -1;
  }
}

/**
 * Validates and records one of the known via-params; returns the updated seen-set.
 * `tokenValue`: the caller scanned the value as a run of token chars. (Also used by wire.ts.)
 */
export function applyKnownParam(via: Via, p: Param, seen: number, offset: number, tokenValue = false): number {
  const k = knownParam(p.name);
  if (k < 0) return seen;
  if (seen & (1 << k)) fail(`duplicate ${KNOWN[k]!} parameter`, offset);
  const v = p.value;
  if (k === 0) {
    // via-branch = "branch" EQUAL token
    if (v === null || !(tokenValue || isToken(v))) fail('branch must be a token', offset);
    via.branch = v;
  } else if (k === 1) {
    if (v === null || !(isIPv4(v, 0, v.length) || isIPv6(v, 0, v.length) || isIPv6Reference(v, 0, v.length))) {
      fail('received must be an IP address', offset);
    }
    via.received = v;
  } else if (k === 2) {
    via.rport = v === null ? null : parsePortValue(v, offset);
  } else if (k === 3) {
    if (v === null || !/^[0-9]{1,3}$/.test(v) || Number(v) > 255) fail('ttl must be 0..255', offset);
  } else {
    if (v === null) fail('maddr needs a host', offset);
    classifyHost(v, 0, v.length);
  }
  return seen | (1 << k);
}

function parsePortValue(v: string, offset: number): number {
  const end = scanPortEnd(v, 0);
  if (end !== v.length) fail('rport must be a port number', offset);
  return portValue(v, 0, end);
}

/** Parses a Via header value: one or more comma-separated via-parms. */
export function parseVia(s: string): Via[] {
  return parseList(s, scanVia);
}

/**
 * Formats one via-parm. branch, received and rport are taken from the typed fields when
 * they are set (replacing or adding the parameter), so a Via can be built from the fields alone.
 */
export function formatVia(v: Via): string {
  const host = v.hostType === 'ipv6' && v.host.charCodeAt(0) !== 0x5b ? `[${v.host}]` : v.host;
  const params = mergeParams(v.params, [
    ['branch', v.branch],
    ['received', v.received],
    ['rport', v.rport == null ? v.rport : String(v.rport)],
  ]);
  return `${v.protocolName}/${v.protocolVersion}/${v.transport} ${host}${v.port === undefined ? '' : ':' + v.port}${formatParams(params)}`;
}

export function formatViaList(list: readonly Via[]): string {
  return list.map(formatVia).join(', ');
}
