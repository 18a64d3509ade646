/**
 * Header values read straight from the received bytes, for the shapes nearly every request
 * has: Via (RFC 3261 §20.42), From/To/Contact name-addr with a SIP URI (§20.10, §20.20,
 * §20.39, §19.1.1), CSeq (§20.16) and Content-Type (§20.15), grammar of §25.1.
 *
 * The string parsers (via.ts, name-addr.ts, uri.ts, cseq.ts, content-type.ts) stay the
 * reference: a reader here either returns exactly what its string parser returns for
 * text.slice(start, end), or undefined for any other shape (LWS inside the value, escapes,
 * IPv6, URI headers, lists, anything invalid...), and then the caller runs the string
 * parser, which also produces every error. The readers never throw.
 *
 * Why bytes: V8 reads a Uint8Array element several times faster than String#charCodeAt,
 * which dispatches on the string's representation at every call (and header values are
 * sliced strings), and these values are read on every request a UAS receives.
 *
 * Input: `text` is the received text decoded from `bytes` starting at `off`, one char per
 * byte, so text index k is byte off + k; every string a reader returns is a slice of text.
 * The readers take ASCII chars only (a byte above 127, which may stand for a U+FFFD in text,
 * always ends in undefined), so they never read a byte where text has another char.
 */
import type { CSeq } from './cseq.js';
import type { ContentType } from './content-type.js';
import type { NameAddr } from './name-addr.js';
import type { Param } from './scan.js';
import { sipUri, type SipUri } from './uri.js';
import { hostEndOf, hostTypeOf } from './host.js';
import { applyKnownParam, type Via } from './via.js';
import { C_ALPHA, C_DIGIT, C_PARAM_UNRES, C_TOKEN, C_UNRESERVED, C_USER_UNRES, CHAR } from './chars.js';

/** CHAR over every byte value (0 above 127), so a byte indexes it without a range check. */
const BYTE = new Uint16Array(256);
BYTE.set(CHAR);

const USER = C_UNRESERVED | C_USER_UNRES;
const PARAMCHAR = C_UNRESERVED | C_PARAM_UNRES;
const ALNUM = C_ALPHA | C_DIGIT;

function tokenEnd(b: Uint8Array, j: number, n: number): number {
  while (j < n && (BYTE[b[j]!]! & C_TOKEN) !== 0) j++;
  return j;
}

function isAlphaByte(c: number): boolean {
  return (BYTE[c]! & C_ALPHA) !== 0;
}

/** The end of a dotted-quad IPv4address (dec-octets, as isIPv4) at b[i...], or -1. */
function ipv4End(b: Uint8Array, i: number, n: number): number {
  for (let octet = 0; ; octet++) {
    const o = i;
    let v = 0;
    while (i < n && i - o < 3) {
      const c = b[i]!;
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
      i++;
    }
    if (i === o || v > 255 || (i - o > 1 && b[o] === 0x30)) return -1;
    if (octet === 3) return i;
    if (i >= n || b[i] !== 0x2e) return -1;
    i++;
  }
}

/**
 * A name or IPv4 host at b[i, ...n) as host.ts scanHostTyped reads it (the same packing of
 * end and type, for hostEndOf / hostTypeOf), or -1 for an IPv6 reference or anything
 * classifyHost would reject.
 */
function hostAt(b: Uint8Array, i: number, n: number): number {
  const c0 = b[i]!;
  if (c0 >= 0x30 && c0 <= 0x39) {
    const e = ipv4End(b, i, n);
    if (e > 0 && !(e < n && ((BYTE[b[e]!]! & ALNUM) !== 0 || b[e] === 0x2d || b[e] === 0x2e))) return e * 4 + 1;
  }
  // hostname: no empty label, no "-" at either end of a label, toplabel starting with ALPHA,
  // one trailing "." allowed.
  let labelStart = i;
  let lastLabelStart = i;
  let j = i;
  for (; j < n; j++) {
    const c = b[j]!;
    if ((BYTE[c]! & ALNUM) !== 0) continue;
    const prev = j > i ? b[j - 1]! : 0x2e;
    if (c === 0x2e) {
      if (prev === 0x2e || prev === 0x2d) return -1;
      lastLabelStart = labelStart;
      labelStart = j + 1;
    } else if (c === 0x2d) {
      if (prev === 0x2e) return -1;
    } else {
      break;
    }
  }
  if (j === i) return -1;
  const last = b[j - 1]!;
  const ok = last === 0x2e ? j - i > 1 && isAlphaByte(b[lastLabelStart]!) : last !== 0x2d && isAlphaByte(b[labelStart]!);
  return ok ? j * 4 : -1;
}

/**
 * `*( SEMI generic-param )` without LWS, values tokens or (with allowQuoted) quoted-strings
 * without quoted-pairs, appended to out as parseParams would. Returns the index after the
 * list, or -1 for a shape left to parseParams.
 */
function paramsAt(
  b: Uint8Array, off: number, text: string, j: number, n: number, out: Param[], allowQuoted: boolean, requireValue: boolean,
): number {
  while (j < n && b[j] === 0x3b) {
    const ns = j + 1;
    j = tokenEnd(b, ns, n);
    if (j === ns) return -1;
    const name = text.slice(ns - off, j - off);
    if (j < n && b[j] === 0x3d) {
      const vs = j + 1;
      if (vs < n && b[vs] === 0x22) {
        if (!allowQuoted) return -1;
        j = quotedEnd(b, vs, n);
        if (j < 0) return -1;
      } else {
        j = tokenEnd(b, vs, n);
        // Empty, or a host-like value (IPv6 with ":" or "["): parseParams decides.
        if (j === vs || (j < n && (b[j] === 0x3a || b[j] === 0x5b || b[j] === 0x5d))) return -1;
      }
      out.push({ name, value: text.slice(vs - off, j - off) });
    } else {
      if (requireValue) return -1;
      out.push({ name, value: null });
    }
  }
  return j;
}

/** The index after the quoted-string whose opening DQUOTE is at b[i]: plain qdtext only, else -1. */
function quotedEnd(b: Uint8Array, i: number, n: number): number {
  for (let j = i + 1; j < n; j++) {
    const c = b[j]!;
    if (c === 0x22) return j + 1;
    if (c === 0x5c || c >= 0x7f || (c < 0x20 && c !== 0x09)) return -1;
  }
  return -1;
}

/** Where the last sipUriAt stopped (the index of its closing ">"). */
let uriEnd = 0;

/**
 * A sip: or sips: URI at b[i...] ending at the first ">" (before n), which is where
 * name-addr.ts ends it too: user without escapes or password, a name or IPv4 host,
 * optional port, uri-parameters without escapes, no headers; as uri.ts parseUriRange reads
 * b[i, that ">"). None of these chars is ">", so the first char the grammar does not take
 * must be it. Sets uriEnd to its index.
 *
 * addrSpec: the URI of an addr-spec (no "<" ">", §20.10) filling b[i, n) exactly, n being
 * where name-addr.ts ends it (the first ";", ",", "?", SP or HT): no uri-parameters then.
 */
function sipUriAt(b: Uint8Array, off: number, text: string, i: number, n: number, addrSpec: boolean): SipUri | undefined {
  if (n - i < 5 || (b[i]! | 0x20) !== 0x73 || (b[i + 1]! | 0x20) !== 0x69 || (b[i + 2]! | 0x20) !== 0x70) return undefined;
  let scheme: 'sip' | 'sips';
  let j: number;
  if (b[i + 3] === 0x3a) {
    scheme = 'sip';
    j = i + 4;
  } else if ((b[i + 3]! | 0x20) === 0x73 && b[i + 4] === 0x3a) {
    scheme = 'sips';
    j = i + 5;
  } else {
    return undefined;
  }
  const us = j;
  while (j < n && (BYTE[b[j]!]! & USER) !== 0) j++;
  const stop = j < n ? b[j]! : -1;
  // "%" (escapes) or ":" (password, or a port with no user) before the end of the run.
  if (stop === 0x25 || stop === 0x3a) return undefined;
  let user: string | undefined;
  let hs = us;
  if (stop === 0x40) {
    if (j === us) return undefined;
    user = text.slice(us - off, j - off);
    hs = j + 1;
  }
  const typed = hostAt(b, hs, n);
  if (typed < 0) return undefined;
  const he = hostEndOf(typed);
  const host = text.slice(hs - off, he - off);
  j = he;
  let port = -1;
  if (j < n && b[j] === 0x3a) {
    const ps = j + 1;
    port = 0;
    for (j = ps; j < n; j++) {
      const c = b[j]!;
      if (c < 0x30 || c > 0x39) break;
      port = port * 10 + (c - 0x30);
      if (port > 65535) return undefined;
    }
    if (j === ps) return undefined;
  }
  const params: Param[] = [];
  if (addrSpec) {
    if (j !== n) return undefined;
  } else {
    while (j < n && b[j] === 0x3b) {
      const ns = j + 1;
      j = ns;
      while (j < n && (BYTE[b[j]!]! & PARAMCHAR) !== 0) j++;
      if (j === ns || (j < n && b[j] === 0x25)) return undefined;
      const name = text.slice(ns - off, j - off);
      if (j < n && b[j] === 0x3d) {
        const vs = j + 1;
        j = vs;
        while (j < n && (BYTE[b[j]!]! & PARAMCHAR) !== 0) j++;
        if (j === vs || (j < n && b[j] === 0x25)) return undefined;
        params.push({ name, value: text.slice(vs - off, j - off) });
      } else {
        params.push({ name, value: null });
      }
    }
    if (j >= n || b[j] !== 0x3e) return undefined;
  }
  uriEnd = j;
  return sipUri(scheme, user, host, hostTypeOf(typed), port, params);
}

/**
 * One name-addr filling text[start, end): an optional display name, quoted (no
 * quoted-pairs) or tokens apart by spaces or tabs (joined by one space, as name-addr.ts
 * does), "<" SIP URI ">" and header parameters; or an addr-spec (a SIP URI without
 * uri-parameters: a ";" after it starts the header parameters) and header parameters. As name-addr.ts parseNameAddr, and as a
 * one-element parseContact / parseNameAddrList.
 */
export function wireNameAddr(bytes: Uint8Array, off: number, text: string, start: number, end: number): NameAddr | undefined {
  const n = end + off;
  let j = start + off;
  let displayName: string | undefined;
  if (j >= n) return undefined;
  if (bytes[j] === 0x22) {
    const q = quotedEnd(bytes, j, n);
    if (q < 0) return undefined;
    displayName = text.slice(j + 1 - off, q - 1 - off);
    j = q;
    while (j < n && (bytes[j] === 0x20 || bytes[j] === 0x09)) j++;
    if (j >= n || bytes[j] !== 0x3c) return undefined;
  } else if (bytes[j] !== 0x3c) {
    // display-name = *(token LWS) up to "<"; a first token ending at ":" is an addr-spec.
    let e = tokenEnd(bytes, j, n);
    if (e === j || e >= n) return undefined;
    if (bytes[e] === 0x3a) {
      // addr-spec: the URI up to the first ";" (",", "?", SP, HT: the string parser's
      // business), header parameters after it.
      let ue = e;
      while (ue < n && bytes[ue] !== 0x3b && bytes[ue] !== 0x2c && bytes[ue] !== 0x3f && bytes[ue] !== 0x20 && bytes[ue] !== 0x09) ue++;
      const uri = sipUriAt(bytes, off, text, j, ue, true);
      if (uri === undefined) return undefined;
      const params: Param[] = [];
      if (paramsAt(bytes, off, text, uriEnd, n, params, true, false) !== n) return undefined;
      return { uri, params };
    }
    displayName = text.slice(j - off, e - off);
    j = e;
    for (;;) {
      let k = j;
      while (k < n && (bytes[k] === 0x20 || bytes[k] === 0x09)) k++;
      if (k < n && bytes[k] === 0x3c) {
        j = k;
        break;
      }
      e = tokenEnd(bytes, k, n);
      if (k === j || e === k) return undefined;
      displayName += ' ' + text.slice(k - off, e - off);
      j = e;
    }
  }
  const uri = sipUriAt(bytes, off, text, j + 1, n, false);
  if (uri === undefined) return undefined;
  const params: Param[] = [];
  if (paramsAt(bytes, off, text, uriEnd + 1, n, params, true, false) !== n) return undefined;
  return displayName === undefined ? { uri, params } : { displayName, uri, params };
}

/**
 * One via-parm filling text[start, end): "SIP/2.0/" transport, one SP, a name or IPv4
 * host, optional port, token-valued parameters. As via.ts parseVia (one element).
 */
export function wireVia(bytes: Uint8Array, off: number, text: string, start: number, end: number): Via | undefined {
  const i = start + off;
  const n = end + off;
  if (
    n - i < 12 || (bytes[i]! | 0x20) !== 0x73 || (bytes[i + 1]! | 0x20) !== 0x69 || (bytes[i + 2]! | 0x20) !== 0x70 ||
    bytes[i + 3] !== 0x2f || bytes[i + 4] !== 0x32 || bytes[i + 5] !== 0x2e || bytes[i + 6] !== 0x30 || bytes[i + 7] !== 0x2f
  ) {
    return undefined;
  }
  const ts = i + 8;
  let j = tokenEnd(bytes, ts, n);
  if (j === ts || j >= n || bytes[j] !== 0x20) return undefined;
  const transport = transportTokenAt(bytes, off, text, ts, j);
  const hs = j + 1;
  const typed = hs < n ? hostAt(bytes, hs, n) : -1;
  if (typed < 0) return undefined;
  const he = hostEndOf(typed);
  const via: Via = {
    protocolName: 'SIP',
    protocolVersion: '2.0',
    transport,
    host: text.slice(hs - off, he - off),
    hostType: hostTypeOf(typed),
    params: [],
  };
  j = he;
  if (j < n && bytes[j] === 0x3a) {
    const ps = j + 1;
    let port = 0;
    for (j = ps; j < n; j++) {
      const c = bytes[j]!;
      if (c < 0x30 || c > 0x39) break;
      port = port * 10 + (c - 0x30);
      if (port > 65535) return undefined;
    }
    if (j === ps) return undefined;
    via.port = port;
  }
  const params = via.params;
  if (paramsAt(bytes, off, text, j, n, params, false, false) !== n) return undefined;
  try {
    let seen = 0;
    for (let p = 0; p < params.length; p++) seen = applyKnownParam(via, params[p]!, seen, 0, true);
  } catch {
    return undefined;
  }
  return via;
}

/**
 * The transport token b[i, end) upper-cased (text[i - off, end - off) is its text), without
 * allocating for UDP, TCP and TLS in any case. Also read by transport/received.ts.
 */
export function transportTokenAt(b: Uint8Array, off: number, text: string, i: number, end: number): string {
  if (end - i === 3) {
    const x = b[i]! | 0x20;
    const y = b[i + 1]! | 0x20;
    const z = b[i + 2]! | 0x20;
    if (x === 0x75 && y === 0x64 && z === 0x70) return 'UDP';
    if (x === 0x74 && y === 0x63 && z === 0x70) return 'TCP';
    if (x === 0x74 && y === 0x6c && z === 0x73) return 'TLS';
  }
  return text.slice(i - off, end - off).toUpperCase();
}

/** CSeq filling text[start, end) as "digits SP method". As cseq.ts parseCSeq. */
export function wireCSeq(bytes: Uint8Array, off: number, text: string, start: number, end: number): CSeq | undefined {
  const n = end + off;
  const ds = start + off;
  let j = ds;
  let seq = 0;
  for (; j < n; j++) {
    const c = bytes[j]!;
    if (c < 0x30 || c > 0x39) break;
    seq = seq * 10 + (c - 0x30);
    if (seq > 0xffffffff) return undefined;
  }
  if (j === ds || j >= n || bytes[j] !== 0x20) return undefined;
  const ms = j + 1;
  if (tokenEnd(bytes, ms, n) !== n || ms === n) return undefined;
  return { seq, method: text.slice(ms - off, end) };
}

/**
 * Content-Type filling text[start, end): type "/" subtype (no wildcard) and parameters with
 * values. As content-type.ts parseContentType.
 */
export function wireContentType(bytes: Uint8Array, off: number, text: string, start: number, end: number): ContentType | undefined {
  const n = end + off;
  const ts = start + off;
  const typeScan = tokenCaseEnd(bytes, ts, n);
  const te = typeScan >> 1;
  if (te === ts || te >= n || bytes[te] !== 0x2f) return undefined;
  const ss = te + 1;
  const subtypeScan = tokenCaseEnd(bytes, ss, n);
  const se = subtypeScan >> 1;
  if (se === ss) return undefined;
  // A wildcard is no media-type: parseContentType rejects it.
  if ((te - ts === 1 && bytes[ts] === 0x2a) || (se - ss === 1 && bytes[ss] === 0x2a)) return undefined;
  const type = lowerCased(text.slice(ts - off, te - off), typeScan);
  const subtype = lowerCased(text.slice(ss - off, se - off), subtypeScan);
  const ct: ContentType = { type, subtype, params: [] };
  return paramsAt(bytes, off, text, se, n, ct.params, true, true) === n ? ct : undefined;
}

/** tokenEnd, also telling whether the token has an upper-case letter: end * 2 + (1 if so). */
function tokenCaseEnd(b: Uint8Array, j: number, n: number): number {
  let upper = 0;
  for (; j < n; j++) {
    const c = b[j]!;
    if ((BYTE[c]! & C_TOKEN) === 0) break;
    if (c <= 0x5a && c >= 0x41) upper = 1;
  }
  return j * 2 + upper;
}

/** The token lower-cased, the call skipped when tokenCaseEnd saw no upper case. */
function lowerCased(token: string, scanned: number): string {
  return (scanned & 1) === 1 ? token.toLowerCase() : token;
}
