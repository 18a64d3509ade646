/**
 * MSRP URIs: RFC 4975 §9 syntax, §6.1 comparison.
 *
 *   MSRP-URI   = msrp-scheme "://" authority ["/" session-id] ";" transport *( ";" URI-parameter )
 *   msrp-scheme = "msrp" / "msrps"
 *   session-id = 1*( unreserved / "+" / "=" / "/" )
 *   transport  = "tcp" / 1*ALPHANUM
 *   URI-parameter = token ["=" token]
 *
 * authority is RFC 3986's [userinfo "@"] host [":" port]. The host is narrowed to the
 * forms MSRP endpoints and relays actually use: an IPv4 address, a bracketed IPv6
 * address, or a reg-name of unreserved characters and %-escapes (RFC 3986 also admits
 * sub-delims there, among them ";" which would make the transport separator ambiguous).
 *
 * Kept in the SDP module because a=path (RFC 4975 §8.2) is where these URIs first
 * arrive; the MSRP stack (To-Path / From-Path) builds on the same parser.
 */
import { isIPv4, isIPv6 } from 'node:net';

export class MsrpUriError extends Error {
  override readonly name = 'MsrpUriError';
  constructor(
    message: string,
    /** Offset into the parsed string. */
    readonly offset = 0,
  ) {
    super(message);
  }
}

export type MsrpScheme = 'msrp' | 'msrps';

export interface MsrpUriParam {
  name: string;
  value: string | null;
}

export interface MsrpUri {
  /** Lower-cased. */
  scheme: MsrpScheme;
  /** Kept for formatting; §6.1 ignores it when comparing. */
  userinfo?: string;
  /** As written; an IPv6 address keeps its brackets. */
  host: string;
  hostType: 'ipv4' | 'ipv6' | 'domain';
  port?: number;
  sessionId?: string;
  /** As written ("tcp"; RFC 7977 adds "ws"); compared without regard to case. */
  transport: string;
  params: MsrpUriParam[];
}

/** The IANA-registered MSRP port (RFC 4975), for a URI that names none. */
export const MSRP_DEFAULT_PORT = 2855;

/** A URI longer than this is refused before it is scanned. */
export const MSRP_URI_MAX_LENGTH = 2048;

const ALPHA_NUM = /^[A-Za-z0-9]+$/;
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

function isUnreserved(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

/** sub-delims of RFC 3986 §2.2. */
function isSubDelim(c: number): boolean {
  return c === 0x21 || c === 0x24 || (c >= 0x26 && c <= 0x2c) || c === 0x3b || c === 0x3d;
}

/** Returns the end of a run of chars accepted by `ok` or valid %HH escapes starting at i. */
function scan(s: string, i: number, ok: (c: number) => boolean): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      if (!isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) throw new MsrpUriError('invalid %-escape', i);
      i += 3;
    } else if (ok(c)) {
      i++;
    } else {
      break;
    }
  }
  return i;
}

export function parseMsrpUri(s: string): MsrpUri {
  if (s.length > MSRP_URI_MAX_LENGTH) throw new MsrpUriError(`MSRP URI longer than ${MSRP_URI_MAX_LENGTH} characters`);
  const sep = s.indexOf('://');
  const scheme = sep < 0 ? '' : s.slice(0, sep).toLowerCase();
  if (scheme !== 'msrp' && scheme !== 'msrps') throw new MsrpUriError('expected "msrp://" or "msrps://"', 0);
  const authStart = sep + 3;
  let i = authStart;

  let userinfo: string | undefined;
  const u = scan(s, i, (c) => isUnreserved(c) || isSubDelim(c) || c === 0x3a);
  if (s.charCodeAt(u) === 0x40) {
    userinfo = s.slice(i, u);
    i = u + 1;
  }

  const hostStart = i;
  let hostType: MsrpUri['hostType'];
  if (s.charCodeAt(i) === 0x5b) {
    const close = s.indexOf(']', i);
    const inner = close < 0 ? '' : s.slice(i + 1, close);
    if (!isIPv6(inner) || inner.indexOf('%') >= 0) throw new MsrpUriError('invalid IPv6 reference', i);
    hostType = 'ipv6';
    i = close + 1;
  } else {
    i = scan(s, i, isUnreserved);
    if (i === hostStart) throw new MsrpUriError('missing host', i);
    hostType = isIPv4(s.slice(hostStart, i)) ? 'ipv4' : 'domain';
  }
  const uri: MsrpUri = { scheme, host: s.slice(hostStart, i), hostType, transport: '', params: [] };
  if (userinfo !== undefined) uri.userinfo = userinfo;

  if (s.charCodeAt(i) === 0x3a) {
    const p = ++i;
    while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
    if (i === p || i - p > 5 || Number(s.slice(p, i)) > 65535) throw new MsrpUriError('invalid port', p);
    uri.port = Number(s.slice(p, i));
  }

  if (s.charCodeAt(i) === 0x2f) {
    const p = ++i;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (isUnreserved(c) || c === 0x2b || c === 0x3d || c === 0x2f) i++;
      else break;
    }
    if (i === p) throw new MsrpUriError('empty session-id', p);
    uri.sessionId = s.slice(p, i);
  }

  if (s.charCodeAt(i) !== 0x3b) {
    throw new MsrpUriError(i >= s.length ? 'missing ";transport"' : `invalid character ${JSON.stringify(s[i])}`, i);
  }
  const parts = s.slice(i + 1).split(';');
  const transport = parts[0]!;
  if (!ALPHA_NUM.test(transport)) throw new MsrpUriError('invalid transport', i + 1);
  uri.transport = transport;
  let at = i + 1 + transport.length;
  for (const part of parts.slice(1)) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? null : part.slice(eq + 1);
    if (!TOKEN.test(name) || (value !== null && !TOKEN.test(value))) throw new MsrpUriError('invalid URI parameter', at + 1);
    uri.params.push({ name, value });
    at += part.length + 1;
  }
  return uri;
}

export function formatMsrpUri(u: MsrpUri): string {
  let out = u.scheme + '://';
  if (u.userinfo !== undefined) out += u.userinfo + '@';
  out += u.hostType === 'ipv6' && !u.host.startsWith('[') ? `[${u.host}]` : u.host;
  if (u.port !== undefined) out += ':' + u.port;
  if (u.sessionId !== undefined) out += '/' + u.sessionId;
  out += ';' + u.transport;
  for (const p of u.params) out += ';' + p.name + (p.value === null ? '' : '=' + p.value);
  return out;
}

/** Decodes %-escapes of unreserved characters (RFC 3986 §6.2.2.2) and lower-cases the rest. */
function authorityKey(u: MsrpUri): string {
  if (u.hostType === 'ipv6') {
    // The WHATWG URL parser serialises an IPv6 literal canonically (RFC 5952 form).
    const inner = u.host.startsWith('[') ? u.host : `[${u.host}]`;
    return new URL(`http://${inner}/`).hostname;
  }
  if (u.hostType === 'ipv4') return u.host;
  return u.host
    .replace(/%([0-9A-Fa-f]{2})/g, (m, h: string) => {
      const c = parseInt(h, 16);
      return isUnreserved(c) ? String.fromCharCode(c) : m.toUpperCase();
    })
    .toLowerCase();
}

/**
 * RFC 4975 §6.1: schemes equal (case-insensitive); authority equal, userinfo ignored, IP
 * addresses compared as addresses and names case-insensitively after %-decoding; ports
 * equal, an explicit port never matching an absent one; session-ids equal
 * case-sensitively, present in both or neither; transports equal case-insensitively.
 * Other URI parameters take no part.
 */
export function msrpUriEquals(a: MsrpUri, b: MsrpUri): boolean {
  return (
    a.scheme === b.scheme &&
    a.hostType === b.hostType &&
    authorityKey(a) === authorityKey(b) &&
    a.port === b.port &&
    a.sessionId === b.sessionId &&
    a.transport.toLowerCase() === b.transport.toLowerCase()
  );
}
