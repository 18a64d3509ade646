/**
 * The line level of SDP (RFC 8866): splitting a body into `<type>=<value>` lines (§5: LF
 * or CRLF accepted, a bare CR refused) and the §9 grammar of each field's value. The
 * document structure (which line may follow which) is sdp.ts's business.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { SdpAttribute, SdpBandwidth, SdpConnection, SdpMedia, SdpOrigin, SdpTiming } from './sdp.js';

export class SdpError extends Error {
  override readonly name = 'SdpError';
  constructor(
    message: string,
    /** 1-based line number of the offending line (0 when not tied to a line). */
    readonly line = 0,
    /** Offset of that line's first character in the parsed text. */
    readonly offset = 0,
  ) {
    super(line > 0 ? `${message} (line ${line})` : message);
  }
}

const TOKEN = /^[A-Za-z0-9!#$%&'*+\-.^_`{|}~]+$/;
const DIGITS = /^[0-9]+$/;
const NON_WS = /^[\x21-\x7e\u0080-\uffff]+$/;
const TYPED_TIME = /^[0-9]+[dhms]?$/;
const FQDN = /^[A-Za-z0-9][A-Za-z0-9.-]*$/;

export function lineOf(text: string, offset: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Splits text into lines at LF (with an optional CR before it); a CR anywhere else is an error. */
export class LineParser {
  lineNo = 0;
  lineStart = 0;
  private pos = 0;
  constructor(private readonly text: string) {}

  next(): string | null {
    const t = this.text;
    if (this.pos >= t.length) return null;
    this.lineStart = this.pos;
    this.lineNo++;
    let end = t.indexOf('\n', this.pos);
    let after = end + 1;
    if (end < 0) end = after = t.length;
    if (end > this.pos && t.charCodeAt(end - 1) === 0x0d) end--;
    const line = t.slice(this.pos, end);
    this.pos = after;
    if (line.indexOf('\r') >= 0) throw this.error('bare CR in line');
    if (line.length === 0) {
      // Blank lines are tolerated only as trailing padding.
      for (let i = this.pos; i < t.length; i++) {
        const c = t.charCodeAt(i);
        if (c !== 0x0d && c !== 0x0a) throw this.error('blank line inside SDP');
      }
      this.pos = t.length;
      return null;
    }
    return line;
  }

  error(message: string): SdpError {
    return new SdpError(message, this.lineNo, this.lineStart);
  }
}

function words(value: string, p: LineParser, what: string, min: number, max = min): string[] {
  const w = value.split(' ').filter((x) => x.length > 0);
  if (w.length < min || w.length > max) throw p.error(`malformed ${what}`);
  return w;
}

function token(s: string, p: LineParser, what: string): string {
  if (!TOKEN.test(s)) throw p.error(`invalid ${what} ${JSON.stringify(s)}`);
  return s;
}

function digits(s: string, p: LineParser, what: string): string {
  if (!DIGITS.test(s)) throw p.error(`invalid ${what} ${JSON.stringify(s)}`);
  return s;
}

function smallInt(s: string, p: LineParser, what: string, max: number): number {
  if (!DIGITS.test(s) || s.length > 15 || Number(s) > max) throw p.error(`invalid ${what} ${JSON.stringify(s)}`);
  return Number(s);
}

/**
 * unicast-address for IN: an IP literal of the addrtype or an FQDN. A zone index ("%eth0")
 * means nothing to the peer; an all-digit "name" is a mistyped IPv4 address, not a host.
 */
function isAddress(addrType: string, a: string): boolean {
  if (a.indexOf('%') >= 0) return false;
  if (addrType === 'IP4') return isIPv4(a) || (FQDN.test(a) && !DIGITS.test(a.replace(/\./g, '')));
  if (addrType === 'IP6') return isIPv6(a) || (FQDN.test(a) && !DIGITS.test(a.replace(/\./g, '')));
  return NON_WS.test(a);
}

export function parseOrigin(value: string, p: LineParser): SdpOrigin {
  const [username, sessionId, sessionVersion, netType, addrType, address] = words(value, p, '"o=" line', 6);
  if (!NON_WS.test(username!)) throw p.error('invalid "o=" username');
  const o: SdpOrigin = {
    username: username!,
    sessionId: digits(sessionId!, p, 'sess-id'),
    sessionVersion: digits(sessionVersion!, p, 'sess-version'),
    netType: token(netType!, p, 'nettype'),
    addrType: token(addrType!, p, 'addrtype'),
    address: address!,
  };
  if (!(o.netType === 'IN' ? isAddress(o.addrType, o.address) : NON_WS.test(o.address))) {
    throw p.error(`invalid "o=" address ${JSON.stringify(o.address)}`);
  }
  return o;
}

export function parseConnection(value: string, p: LineParser): SdpConnection {
  const [netType, addrType, full] = words(value, p, '"c=" line', 3);
  const c: SdpConnection = { netType: token(netType!, p, 'nettype'), addrType: token(addrType!, p, 'addrtype'), address: full! };
  if (c.netType === 'IN' && (c.addrType === 'IP4' || c.addrType === 'IP6')) {
    const parts = full!.split('/');
    // IP4 multicast is addr/ttl[/count]; IP6 multicast has no TTL: addr[/count] (§5.7).
    if (parts.length > (c.addrType === 'IP4' ? 3 : 2)) throw p.error('malformed "c=" address');
    c.address = parts[0]!;
    if (c.addrType === 'IP4') {
      if (parts[1] !== undefined) c.ttl = smallInt(parts[1], p, 'TTL', 255);
      if (parts[2] !== undefined) c.count = smallInt(parts[2], p, 'address count', 65535);
    } else if (parts[1] !== undefined) {
      c.count = smallInt(parts[1], p, 'address count', 65535);
    }
  }
  if (!(c.netType === 'IN' ? isAddress(c.addrType, c.address) : NON_WS.test(c.address))) {
    throw p.error(`invalid "c=" address ${JSON.stringify(c.address)}`);
  }
  return c;
}

export function parseBandwidth(value: string, p: LineParser): SdpBandwidth {
  const colon = value.indexOf(':');
  if (colon < 0) throw p.error('malformed "b=" line');
  return { type: token(value.slice(0, colon), p, 'bwtype'), value: smallInt(value.slice(colon + 1), p, 'bandwidth', Number.MAX_SAFE_INTEGER) };
}

export function parseAttribute(value: string, p: LineParser): SdpAttribute {
  const colon = value.indexOf(':');
  if (colon < 0) return { name: token(value, p, 'attribute name'), value: null };
  return { name: token(value.slice(0, colon), p, 'attribute name'), value: value.slice(colon + 1) };
}

export function parseTiming(value: string, p: LineParser): SdpTiming {
  const [start, stop] = words(value, p, '"t=" line', 2);
  return { start: digits(start!, p, 'start time'), stop: digits(stop!, p, 'stop time'), repeats: [] };
}

/** repeat-field: interval, active duration and offsets, each a typed-time. */
export function parseRepeat(value: string, p: LineParser): string {
  const w = words(value, p, '"r=" line', 3, 1000);
  if (!w.every((x) => TYPED_TIME.test(x))) throw p.error('malformed "r=" line');
  return w.join(' ');
}

/** zone-adjustment pairs: a time and a signed typed-time offset. */
export function parseZone(value: string, p: LineParser): string {
  const w = words(value, p, '"z=" line', 2, 1000);
  if (w.length % 2 !== 0 || !w.every((x, k) => (k % 2 === 0 ? DIGITS.test(x) : TYPED_TIME.test(x.replace(/^-/, ''))))) {
    throw p.error('malformed "z=" line');
  }
  return w.join(' ');
}

export function parseMediaField(value: string, p: LineParser): SdpMedia {
  const w = words(value, p, '"m=" line', 4, 10000);
  const portParts = w[1]!.split('/');
  if (portParts.length > 2) throw p.error('malformed "m=" port');
  const [portText, portCount] = portParts;
  const m: SdpMedia = {
    media: token(w[0]!, p, 'media type'),
    port: smallInt(portText!, p, 'port', 65535),
    proto: w[2]!,
    formats: w.slice(3).map((f) => token(f, p, 'fmt')),
    connections: [],
    bandwidths: [],
    attributes: [],
  };
  if (portCount !== undefined) m.portCount = smallInt(portCount, p, 'port count', 65535);
  if (!m.proto.split('/').every((x) => TOKEN.test(x))) throw p.error(`invalid proto ${JSON.stringify(m.proto)}`);
  return m;
}
