/**
 * Via (RFC 3261 §20.42, §18.2.1, ABNF §25.1) with rport (RFC 3581 §3) and the received
 * forms of RFC 5118 §4.5 (an IPv6 address with or without brackets).
 *
 * LWS is allowed around "/" in sent-protocol and around ":" in sent-by (SLASH and COLON
 * are SWS-wrapped in §25.1; RFC 4475 §3.1.1.1), and any transport token is accepted
 * (RFC 4475 §3.1.1.10).
 */
import { classifyHost, isIPv4, isIPv6, isIPv6Reference, scanHost, scanPort, type HostType } from './host.js';
import {
  charAt, equalsIgnoreCase, fail, formatParams, mergeParams, P_BARE_IPV6, parseList, parseParams,
  isToken, scanToken, skipLws, type Param,
} from './scan.js';

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

function scanVia(s: string, i: number, out: Via[]): number {
  const nameEnd = expectToken(s, i, 'protocol name');
  let j = expectSlash(s, nameEnd);
  const versionEnd = expectToken(s, j, 'protocol version');
  const protocolVersion = s.slice(j, versionEnd);
  j = expectSlash(s, versionEnd);
  const transportEnd = expectToken(s, j, 'transport');
  const transport = s.slice(j, transportEnd).toUpperCase();
  const hostStart = skipLws(s, transportEnd);
  if (hostStart === transportEnd) fail(`expected LWS before sent-by, found ${charAt(s, hostStart)}`, hostStart);
  const hostEnd = scanHost(s, hostStart);
  const via: Via = {
    protocolName: s.slice(i, nameEnd).toUpperCase(),
    protocolVersion,
    transport,
    host: s.slice(hostStart, hostEnd),
    hostType: classifyHost(s, hostStart, hostEnd),
    params: [],
  };
  j = hostEnd;
  const k = skipLws(s, j);
  if (s.charCodeAt(k) === 0x3a) {
    const [port, portEnd] = scanPort(s, skipLws(s, k + 1));
    via.port = port;
    j = portEnd;
  }
  const end = parseParams(s, j, via.params, P_BARE_IPV6);
  let seen = 0;
  for (const p of via.params) seen = applyKnownParam(via, p, seen, i);
  out.push(via);
  return end;
}

// via-params with their own syntax, each allowed once; the index is its bit in the seen-set.
const KNOWN = ['branch', 'received', 'rport', 'ttl', 'maddr'];

/** Validates and records one of the known via-params; returns the updated seen-set. */
function applyKnownParam(via: Via, p: Param, seen: number, offset: number): number {
  const k = KNOWN.findIndex((name) => equalsIgnoreCase(name, p.name));
  if (k < 0) return seen;
  if (seen & (1 << k)) fail(`duplicate ${KNOWN[k]!} parameter`, offset);
  const v = p.value;
  if (k === 0) {
    // via-branch = "branch" EQUAL token
    if (v === null || !isToken(v)) fail('branch must be a token', offset);
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
  const [port, end] = scanPort(v, 0);
  if (end !== v.length) fail('rport must be a port number', offset);
  return port;
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
