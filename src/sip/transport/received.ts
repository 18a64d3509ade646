/**
 * The transport layer's two uses of the top Via: stamping a received request and routing
 * the response back.
 *
 * RFC 3261 §18.2.1: when the top Via's sent-by host is a name, or an address other than the
 * packet's source, add `received=<source address>`.
 * RFC 3581 §4: an `rport` without a value is filled with the source port, and `received` is
 * then added even when the address matches.
 * RFC 3261 §18.2.2 + RFC 3581 §4: where the response goes (responseDestination).
 * RFC 5118 §4.5: the received address is written without brackets, as RFC 3261's ABNF has it.
 *
 * The Via text is edited in place rather than re-serialized, so the rest of the header stays
 * byte-exact (design.md convention 5: proxies and the history store keep headers as sent).
 * Only the first via-parm is scanned: that is all §18.2 looks at, and it keeps this
 * independent of the full Via grammar in message/headers/via.ts.
 */
import { isIP } from 'node:net';
import type { SipRequest } from '../message/message.js';
import { isReliable, type Destination, type TransportName } from './types.js';
import { transportTokenAt } from '../message/headers/wire.js';

/**
 * One canonical spelling per IP address, for comparisons and table keys: RFC 5952 for IPv6,
 * and IPv4-mapped IPv6 (from a dual-stack socket) as plain IPv4. undefined for non-addresses.
 */
export function canonicalIp(addr: string): string | undefined {
  // Requests come mostly from the peer the last one came from: one remembered answer.
  if (addr === lastCanonical.addr) return lastCanonical.ip;
  const ip = canonicalIpOf(addr);
  lastCanonical = { addr, ip };
  return ip;
}

let lastCanonical: { addr: string; ip: string | undefined } = { addr: '', ip: undefined };

function canonicalIpOf(addr: string): string | undefined {
  const a = addr.startsWith('[') && addr.endsWith(']') ? addr.slice(1, -1) : addr;
  const kind = isIP(a);
  if (kind === 4) return a;
  if (kind !== 6) return undefined;
  let h: string;
  try {
    h = new URL(`http://[${a}]/`).hostname.slice(1, -1);
  } catch {
    // Zone ids (fe80::1%eth0) are valid for isIP but not in a URL; compare them as written.
    return a.toLowerCase();
  }
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
  if (m === null) return h;
  const hi = parseInt(m[1]!, 16);
  const lo = parseInt(m[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

interface ParamSpan {
  /** Lower-cased name. */
  name: string;
  /** undefined when the parameter has no `=value` (or an empty one). */
  value: string | undefined;
  /** Offsets in the header value of the parameter text without surrounding whitespace. */
  start: number;
  end: number;
}

export interface TopVia {
  /** Transport token of sent-protocol, upper-cased (UDP, TCP, TLS, ...). */
  transport: string;
  /** sent-by host, IPv6 without brackets. */
  host: string;
  port: number | undefined;
  received: string | undefined;
  /** A number once filled; true when present without a value. */
  rport: number | true | undefined;
  maddr: string | undefined;
}

interface Scan {
  via: TopVia;
  /** The first rport and the first received parameter of the first via-parm (what stamping edits). */
  rportParam: ParamSpan | undefined;
  receivedParam: ParamSpan | undefined;
  /** Offset just after the last non-space character of the first via-parm. */
  parmEnd: number;
}

const SENT_BY =
  /^\s*[^\s/]+\s*\/\s*[^\s/]+\s*\/\s*([^\s/;]+)\s+(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?:\s*:\s*(\d{1,5}))?\s*$/;

/** Index of the first `sep` in value[from, to) outside quoted strings, else `to`. */
function nextOutside(value: string, sep: number, from: number, to: number): number {
  let quoted = false;
  for (let i = from; i < to; i++) {
    const c = value.charCodeAt(i);
    if (quoted) {
      if (c === 0x5c) i++;
      else if (c === 0x22) quoted = false;
    } else if (c === 0x22) quoted = true;
    else if (c === sep) return i;
  }
  return to;
}

/** The via-parm parameters stamping and routing look at; the others are only checked. */
const KEPT = ['rport', 'received', 'maddr'] as const;
const KEPT_PARAMS: ReadonlySet<string> = new Set(KEPT);

/** ASCII whitespace as \s and String#trim see it: HT, LF, VT, FF, CR, SP. */
function isWs(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** [A-Za-z0-9._-], the host of SENT_BY's second alternative. */
function isHostChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x5f || c === 0x2d;
}

/** Whether b[s, e) is `name` in any case (name lower-case ASCII). */
function isNamed(b: Uint8Array, s: number, e: number, name: string): boolean {
  if (e - s !== name.length) return false;
  for (let i = 0; i < name.length; i++) if ((b[s + i]! | 0x20) !== name.charCodeAt(i)) return false;
  return true;
}

/** KEPT_PARAMS' member that b[s, e) names (any case), else undefined. */
function keptName(b: Uint8Array, s: number, e: number): string | undefined {
  for (let k = 0; k < KEPT.length; k++) if (isNamed(b, s, e, KEPT[k]!)) return KEPT[k];
  return undefined;
}

/** Skip whitespace in b[i, end). */
function skipWs(b: Uint8Array, i: number, end: number): number {
  while (i < end && isWs(b[i]!)) i++;
  return i;
}

/**
 * scanTopVia for the values nearly every peer sends, read from bytes: b[base + k] is the
 * char value[k] (the received datagram, or the value's ASCII encoding). One pass, no regular
 * expression, no slices but the kept values. It takes only ASCII with no quoted strings and
 * no IPv6 reference in the first via-parm, and returns null for anything else, which then
 * goes to slowScan (the reference, whose results this must equal: via-scan.test.ts).
 */
function fastScan(value: string, b: Uint8Array, base: number): Scan | undefined | null {
  const len = base + value.length;
  // The first via-parm ends at the first ",": no quotes or non-ASCII before it.
  let parmEnd = len;
  let firstEnd = -1;
  for (let i = base; i < len; i++) {
    const c = b[i]!;
    if (c === 0x2c) {
      parmEnd = i;
      break;
    }
    if (c === 0x22 || c === 0x5b || c >= 0x80) return null;
    if (c === 0x3b && firstEnd < 0) firstEnd = i;
  }
  if (firstEnd < 0) firstEnd = parmEnd;
  // SENT_BY on the first part: name / version / transport, whitespace, host, [: port].
  let i = skipWs(b, base, firstEnd);
  for (let part = 0; part < 2; part++) {
    const t = i;
    while (i < firstEnd && !isWs(b[i]!) && b[i] !== 0x2f) i++;
    if (i === t) return undefined;
    i = skipWs(b, i, firstEnd);
    if (i >= firstEnd || b[i] !== 0x2f) return undefined;
    i = skipWs(b, i + 1, firstEnd);
  }
  const ts = i;
  while (i < firstEnd && !isWs(b[i]!) && b[i] !== 0x2f) i++;
  const te = i;
  if (te === ts || i >= firstEnd || b[i] === 0x2f) return undefined;
  i = skipWs(b, i, firstEnd);
  const hs = i;
  while (i < firstEnd && isHostChar(b[i]!)) i++;
  const he = i;
  if (he === hs) return undefined;
  i = skipWs(b, i, firstEnd);
  let port: number | undefined;
  if (i < firstEnd && b[i] === 0x3a) {
    i = skipWs(b, i + 1, firstEnd);
    const ps = i;
    let p = 0;
    while (i < firstEnd && i - ps < 6) {
      const c = b[i]! - 0x30;
      if (c < 0 || c > 9) break;
      p = p * 10 + c;
      i++;
    }
    if (i === ps || i - ps > 5 || p > 65535) return undefined;
    port = p;
    i = skipWs(b, i, firstEnd);
  }
  if (i !== firstEnd) return undefined;
  const transport = transportTokenAt(b, base, value, ts, te);
  const host = value.slice(hs - base, he - base);

  let params: ParamSpan[] | undefined;
  // Where the first via-parm's text ends (trailing whitespace excluded).
  let lastEnd = firstEnd;
  while (lastEnd > base && isWs(b[lastEnd - 1]!)) lastEnd--;
  for (let s = firstEnd + 1; s <= parmEnd; ) {
    let e = s;
    while (e < parmEnd && b[e] !== 0x3b) e++;
    const ps = skipWs(b, s, e);
    let pe = e;
    while (pe > ps && isWs(b[pe - 1]!)) pe--;
    if (pe === ps) return undefined;
    lastEnd = pe;
    let eq = ps;
    while (eq < pe && b[eq] !== 0x3d) eq++;
    let ne = eq;
    while (ne > ps && isWs(b[ne - 1]!)) ne--;
    const name = keptName(b, ps, ne);
    if (name !== undefined) {
      let v: string | undefined;
      if (eq < pe) {
        const vs = skipWs(b, eq + 1, pe);
        v = vs === pe ? undefined : value.slice(vs - base, pe - base);
      }
      (params ??= []).push({ name, value: v, start: ps - base, end: pe - base });
    }
    s = e + 1;
  }
  return finishScan(transport, host, port, params ?? [], lastEnd - base);
}

/** The Scan from the parts of a first via-parm; undefined when its rport is malformed. */
function finishScan(transport: string, host: string, port: number | undefined, params: ParamSpan[], parmEnd: number): Scan | undefined {
  // The first parameter of each name counts.
  let rp: ParamSpan | undefined;
  let rc: ParamSpan | undefined;
  let md: ParamSpan | undefined;
  for (let k = 0; k < params.length; k++) {
    const p = params[k]!;
    if (p.name === 'rport') rp ??= p;
    else if (p.name === 'received') rc ??= p;
    else md ??= p;
  }
  let rport: number | true | undefined;
  if (rp !== undefined) {
    if (rp.value === undefined) rport = true;
    else if (/^\d{1,5}$/.test(rp.value) && Number(rp.value) <= 65535) rport = Number(rp.value);
    else return undefined;
  }
  const received = rc?.value;
  return {
    via: {
      transport,
      host,
      port,
      received: received?.startsWith('[') === true ? received.slice(1, -1) : received,
      rport,
      maddr: md?.value,
    },
    rportParam: rp,
    receivedParam: rc,
    parmEnd,
  };
}

/** The first via-parm of a Via value given as a string. */
function scanTopVia(value: string): Scan | undefined {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) >= 0x80) return slowScan(value);
  const fast = fastScan(value, Buffer.from(value, 'latin1'), 0);
  return fast !== null ? fast : slowScan(value);
}

/** The general scanner (quoted strings, IPv6 references, any character): the reference. */
function slowScan(value: string): Scan | undefined {
  // The first via-parm, and in it sent-protocol / sent-by: the text before its first ";".
  const parmEnd = nextOutside(value, 0x2c, 0, value.length);
  const firstEnd = nextOutside(value, 0x3b, 0, parmEnd);
  const firstText = value.slice(0, firstEnd);
  const m = SENT_BY.exec(firstText);
  if (m === null) return undefined;
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && port > 65535) return undefined;
  const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
  if (m[2]!.startsWith('[') && isIP(host) !== 6) return undefined;

  const params: ParamSpan[] = [];
  let lastEnd = firstText.trimEnd().length;
  for (let s = firstEnd + 1; s <= parmEnd; ) {
    const e = nextOutside(value, 0x3b, s, parmEnd);
    const text = value.slice(s, e);
    const trimmed = text.trim();
    if (trimmed.length === 0) return undefined;
    const lead = text.length - text.trimStart().length;
    lastEnd = s + lead + trimmed.length;
    const eq = trimmed.indexOf('=');
    const name = (eq < 0 ? trimmed : trimmed.slice(0, eq)).trim().toLowerCase();
    if (KEPT_PARAMS.has(name)) {
      const v = eq < 0 ? undefined : trimmed.slice(eq + 1).trim();
      params.push({ name, value: v === '' ? undefined : v, start: s + lead, end: lastEnd });
    }
    s = e + 1;
  }
  return finishScan(m[1]!.toUpperCase(), host, port, params, lastEnd);
}

/** The first via-parm of a Via header value, or undefined when it is not well formed. */
export function readTopVia(value: string): TopVia | undefined {
  return scanTopVia(value)?.via;
}

/** The stamped top via-parm: its new value and what it reads as (scanTopVia of that value). */
interface Stamped {
  value: string;
  via: TopVia;
}

function stamp(value: string, scan: Scan | undefined, sourceAddress: string, sourcePort: number): Stamped | undefined {
  if (scan === undefined) return undefined;
  const canonical = canonicalIp(sourceAddress);
  const src = canonical ?? sourceAddress;
  const edits: { start: number; end: number; text: string }[] = [];
  const via = scan.via;
  const rp = scan.rportParam;
  let rport = via.rport;
  if (rp !== undefined && rp.value === undefined) {
    edits.push({ start: rp.start, end: rp.end, text: `${value.slice(rp.start, rp.start + 5)}=${sourcePort}` });
    rport = sourcePort;
  }
  // A sent-by spelled as the (canonical) source address needs no canonicalIp of its own.
  const sameHost = (canonical !== undefined && via.host === canonical) || canonicalIp(via.host) === src;
  const needReceived = rp !== undefined || !sameHost;
  let received = via.received;
  if (needReceived) {
    const rc = scan.receivedParam;
    if (rc === undefined) edits.push({ start: scan.parmEnd, end: scan.parmEnd, text: `;received=${src}` });
    else edits.push({ start: rc.start, end: rc.end, text: `${value.slice(rc.start, rc.start + 8)}=${src}` });
    received = src;
  }
  if (edits.length === 0) return { value, via };
  edits.sort((a, b) => b.start - a.start);
  let out = value;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return { value: out, via: { ...via, received, rport } };
}

/**
 * The Via value with received/rport stamped per §18.2.1 and RFC 3581, or undefined when
 * the top via-parm cannot be read (the request then gets 400).
 */
export function stampViaValue(value: string, sourceAddress: string, sourcePort: number): string | undefined {
  return stamp(value, scanTopVia(value), sourceAddress, sourcePort)?.value;
}

/**
 * The last value stamped and what it reads as. A received request is stamped and then
 * routed (responseDestination) in the same turn, so this spares the second scan of the
 * same text; it is keyed by the value itself, so any other value is scanned as before.
 */
let lastStamped: Stamped | undefined;

/**
 * Stamp the top Via of a received request (msg.source must be set). Returns false when the
 * request has no readable top Via. The header field is replaced in place so cached parses
 * are not consulted; call this before anything reads msg.via().
 */
export function stampRequest(req: SipRequest): boolean {
  const src = req.source;
  if (src === undefined) return false;
  const value = req.get('via');
  if (value === undefined) return false;
  // A received Via is read from the datagram's bytes where they still hold it.
  const at = req.wireOffset('via');
  const fast = at < 0 ? null : fastScan(value, req.wireBytes!, at);
  const scan = fast !== null ? fast : scanTopVia(value);
  const stamped = stamp(value, scan, src.remoteAddress, src.remotePort);
  if (stamped === undefined) return false;
  if (stamped.value !== value) req.replaceFirst('via', stamped.value);
  lastStamped = stamped;
  return true;
}

/** readTopVia, from the last stamp when it is of this very value. */
function topViaOf(value: string): TopVia | undefined {
  const last = lastStamped;
  return last !== undefined && last.value === value ? last.via : readTopVia(value);
}

/** Default port for a transport token when a sent-by or URI has none (§18.2.2, §19.1.2). */
export function defaultPort(t: string): number {
  return t === 'TLS' ? 5061 : 5060;
}

/**
 * Where a response to this received (and stamped) request goes, RFC 3261 §18.2.2:
 * reliable: the connection it came on while open, else received (or sent-by host) and the
 * sent-by port; unreliable: maddr if present, else received + rport (RFC 3581 §4) or the
 * sent-by port. For UDP, connectionId names the socket the request arrived on, so the
 * response leaves from the address and port the client sent to (RFC 3581 §4).
 */
export function responseDestination(req: SipRequest): Destination | undefined {
  const value = req.get('via');
  if (value === undefined) return undefined;
  const top = topViaOf(value);
  if (top === undefined) return undefined;
  const src = req.source;
  const t = src?.transport ?? transportName(top.transport);
  if (t === undefined) return undefined;
  const sentByPort = top.port ?? defaultPort(t);
  // Unstamped requests (built in tests, or before §18.2.1 ran) fall back to the packet source.
  const address = top.received ?? src?.remoteAddress ?? top.host;
  // Built whole: a property added later would go to a separate properties array (a
  // transaction keeps this object for Timer J or L, 32 s).
  const dest: Destination =
    src?.connectionId !== undefined
      ? { transport: t, address, port: sentByPort, connectionId: src.connectionId }
      : { transport: t, address, port: sentByPort };
  if (isReliable(t)) return dest;
  if (top.maddr !== undefined) return { transport: t, address: top.maddr, port: sentByPort };
  if (typeof top.rport === 'number') dest.port = top.rport;
  else if (top.rport === true && src !== undefined) dest.port = src.remotePort;
  return dest;
}

function transportName(t: string): TransportName | undefined {
  return t === 'UDP' || t === 'TCP' || t === 'TLS' ? t : undefined;
}
