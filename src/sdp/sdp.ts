/**
 * SDP session descriptions: RFC 8866 (which obsoletes RFC 4566), parsed into a plain
 * value and formatted back.
 *
 * - §5 fixes the line order (session: v o s i u e p c b t r z k a; media: m i c b k a)
 *   and says a description with an unknown type letter is to be ignored whole: here that
 *   is an SdpError, so a garbled or truncated body never half-parses.
 * - §5.7: a "c=" line at session level or in every media description (checked for media
 *   with a non-zero port; a rejected stream, RFC 3264 §6, carries no address worth using).
 * - §9 is the ABNF each field is checked against; text fields are byte-strings (no NUL,
 *   CR or LF). Numbers that SDP allows to be wider than 2^53 (sess-id, NTP times) stay
 *   strings so they round-trip exactly.
 *
 * Liberal where real peers differ harmlessly: LF or CRLF line ends, a missing final line
 * end, trailing blank lines, runs of spaces between the words of tokenised fields, an
 * empty "s=" (RFC 5118 §4.8's body has one). Output is always CRLF with single spaces.
 */
import {
  LineParser, lineOf, parseAttribute, parseBandwidth, parseConnection, parseMediaField, parseOrigin, parseRepeat, parseTiming,
  parseZone, SdpError,
} from './sdp-lines.js';

export { SdpError } from './sdp-lines.js';

export interface SdpAttribute {
  name: string;
  /** null for a property attribute (`a=sendrecv`), the text after ":" otherwise. */
  value: string | null;
}

export interface SdpOrigin {
  username: string;
  /** Digits; a string because 64-bit values (RFC 5118 §4.6) exceed 2^53. */
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

export interface SdpConnection {
  netType: string;
  addrType: string;
  /** The address without the multicast "/ttl/count" suffixes. */
  address: string;
  /** IP4 multicast TTL (RFC 8866 §5.7). */
  ttl?: number;
  /** Number of multicast addresses. */
  count?: number;
}

export interface SdpBandwidth {
  type: string;
  value: number;
}

export interface SdpTiming {
  start: string;
  stop: string;
  /** Raw "r=" values, checked against §9 repeat-field. */
  repeats: string[];
}

export interface SdpMedia {
  media: string;
  port: number;
  portCount?: number;
  proto: string;
  formats: string[];
  information?: string;
  connections: SdpConnection[];
  bandwidths: SdpBandwidth[];
  key?: string;
  attributes: SdpAttribute[];
}

export interface Sdp {
  version: 0;
  origin: SdpOrigin;
  sessionName: string;
  information?: string;
  uri?: string;
  emails: string[];
  phones: string[];
  connection?: SdpConnection;
  bandwidths: SdpBandwidth[];
  timing: SdpTiming[];
  /** Raw "z=" value; RFC 8866 ties it to the repeat times, it is written after all "t=". */
  zone?: string;
  key?: string;
  attributes: SdpAttribute[];
  media: SdpMedia[];
}

export interface SdpLimits {
  /** Maximum length of the text in UTF-16 code units (default 65536). */
  maxLength?: number;
  /** Maximum number of lines (default 1000). */
  maxLines?: number;
  /** Maximum number of media descriptions (default 64). */
  maxMedia?: number;
}

/** Rank of each session-level type letter in the §5 order ("r" shares "t"'s rank). */
const SESSION_RANK: Record<string, number> = { v: 0, o: 1, s: 2, i: 3, u: 4, e: 5, p: 6, c: 7, b: 8, t: 9, r: 9, z: 10, k: 11, a: 12 };
const MEDIA_RANK: Record<string, number> = { m: 0, i: 1, c: 2, b: 3, k: 4, a: 5 };
const REPEATABLE = new Set(['e', 'p', 'b', 't', 'r', 'a', 'c']);

export function parseSdp(text: string, limits: SdpLimits = {}): Sdp {
  const maxLength = limits.maxLength ?? 65536;
  const maxLines = limits.maxLines ?? 1000;
  const maxMedia = limits.maxMedia ?? 64;
  if (text.length > maxLength) throw new SdpError(`SDP longer than ${maxLength} characters`);
  const nul = text.indexOf('\0');
  if (nul >= 0) throw new SdpError('NUL character in SDP', lineOf(text, nul), nul);

  const p = new LineParser(text);
  const partial: Partial<Sdp> & Pick<Sdp, 'emails' | 'phones' | 'bandwidths' | 'timing' | 'attributes' | 'media'> = {
    emails: [], phones: [], bandwidths: [], timing: [], attributes: [], media: [],
  };
  let rank = -1;
  let prevType = '';
  let media: SdpMedia | undefined;
  let mediaLine = 0;
  let mediaOffset = 0;
  for (let line = p.next(); line !== null; line = p.next()) {
    if (p.lineNo > maxLines) throw p.error(`more than ${maxLines} lines`);
    if (line.length < 2 || line.charCodeAt(1) !== 0x3d) throw p.error('expected "<type>=<value>"');
    const type = line[0]!;
    const value = line.slice(2);
    if (p.lineNo === 1 && type !== 'v') throw p.error('SDP must start with "v="');
    if (type === 'm') {
      if (partial.timing.length === 0) throw p.error('"m=" before any "t="');
      if (media) checkMediaConnection(partial, media, mediaLine, mediaOffset);
      if (partial.media.length >= maxMedia) throw p.error(`more than ${maxMedia} media descriptions`);
      media = parseMediaField(value, p);
      mediaLine = p.lineNo;
      mediaOffset = p.lineStart;
      partial.media.push(media);
      rank = 0;
      prevType = 'm';
      continue;
    }
    const table = media ? MEDIA_RANK : SESSION_RANK;
    const r = table[type];
    if (r === undefined) {
      throw p.error(SESSION_RANK[type] !== undefined || type === 'm' ? `"${type}=" not allowed in a media description` : `unknown type letter "${type}"`);
    }
    if (r < rank || (r === rank && type === prevType && !REPEATABLE.has(type))) throw p.error(`"${type}=" out of order`);
    if (type === 'r' && prevType !== 't' && prevType !== 'r') throw p.error('"r=" must follow "t="');
    if (media) parseMediaLine(media, type, value, p);
    else parseSessionLine(partial, type, value, p);
    rank = r;
    prevType = type;
  }
  if (partial.version === undefined) throw new SdpError('empty SDP', 1, 0);
  if (partial.origin === undefined) throw new SdpError('missing "o=" line', 2, 0);
  if (partial.sessionName === undefined) throw new SdpError('missing "s=" line', 3, 0);
  if (partial.timing.length === 0) throw new SdpError('missing "t=" line', p.lineNo, p.lineStart);
  if (media) checkMediaConnection(partial, media, mediaLine, mediaOffset);
  return partial as Sdp;
}

function checkMediaConnection(sdp: Partial<Sdp>, m: SdpMedia, line: number, offset: number): void {
  if (m.port !== 0 && m.connections.length === 0 && sdp.connection === undefined) {
    throw new SdpError('media description without "c=" and no session-level "c=" (RFC 8866 §5.7)', line, offset);
  }
}

function parseSessionLine(s: Partial<Sdp> & Pick<Sdp, 'emails' | 'phones' | 'bandwidths' | 'timing' | 'attributes'>, type: string, value: string, p: LineParser): void {
  switch (type) {
    case 'v':
      if (value !== '0') throw p.error(`unsupported SDP version ${JSON.stringify(value)}`);
      s.version = 0;
      return;
    case 'o':
      s.origin = parseOrigin(value, p);
      return;
    case 's':
      s.sessionName = value;
      return;
    case 'i':
      s.information = value;
      return;
    case 'u':
      s.uri = value;
      return;
    case 'e':
      s.emails.push(value);
      return;
    case 'p':
      s.phones.push(value);
      return;
    case 'c':
      if (s.connection) throw p.error('more than one session-level "c="');
      s.connection = parseConnection(value, p);
      return;
    case 'b':
      s.bandwidths.push(parseBandwidth(value, p));
      return;
    case 't':
      s.timing.push(parseTiming(value, p));
      return;
    case 'r':
      s.timing[s.timing.length - 1]!.repeats.push(parseRepeat(value, p));
      return;
    case 'z':
      s.zone = parseZone(value, p);
      return;
    case 'k':
      s.key = value;
      return;
    default:
      s.attributes.push(parseAttribute(value, p));
  }
}

function parseMediaLine(m: SdpMedia, type: string, value: string, p: LineParser): void {
  switch (type) {
    case 'i':
      m.information = value;
      return;
    case 'c':
      m.connections.push(parseConnection(value, p));
      return;
    case 'b':
      m.bandwidths.push(parseBandwidth(value, p));
      return;
    case 'k':
      m.key = value;
      return;
    default:
      m.attributes.push(parseAttribute(value, p));
  }
}

function formatConnection(c: SdpConnection): string {
  let a = c.address;
  if (c.ttl !== undefined) a += '/' + c.ttl;
  if (c.count !== undefined) a += '/' + c.count;
  return `c=${c.netType} ${c.addrType} ${a}`;
}

function formatAttribute(a: SdpAttribute): string {
  return a.value === null ? `a=${a.name}` : `a=${a.name}:${a.value}`;
}

/**
 * Writes a description in the §5 order with CRLF line ends. A field holding CR, LF or NUL
 * throws SdpError rather than letting a value (a session name taken from user input, say)
 * smuggle extra lines into the body.
 */
export function formatSdp(sdp: Sdp): string {
  const lines: string[] = ['v=0'];
  const o = sdp.origin;
  lines.push(`o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`);
  lines.push(`s=${sdp.sessionName}`);
  if (sdp.information !== undefined) lines.push(`i=${sdp.information}`);
  if (sdp.uri !== undefined) lines.push(`u=${sdp.uri}`);
  for (const e of sdp.emails) lines.push(`e=${e}`);
  for (const ph of sdp.phones) lines.push(`p=${ph}`);
  if (sdp.connection) lines.push(formatConnection(sdp.connection));
  for (const b of sdp.bandwidths) lines.push(`b=${b.type}:${b.value}`);
  if (sdp.timing.length === 0) throw new SdpError('SDP needs at least one timing ("t=") entry');
  for (const t of sdp.timing) {
    lines.push(`t=${t.start} ${t.stop}`);
    for (const r of t.repeats) lines.push(`r=${r}`);
  }
  if (sdp.zone !== undefined) lines.push(`z=${sdp.zone}`);
  if (sdp.key !== undefined) lines.push(`k=${sdp.key}`);
  for (const a of sdp.attributes) lines.push(formatAttribute(a));
  for (const m of sdp.media) {
    const port = m.portCount !== undefined ? `${m.port}/${m.portCount}` : String(m.port);
    lines.push(`m=${m.media} ${port} ${m.proto} ${m.formats.join(' ')}`);
    if (m.information !== undefined) lines.push(`i=${m.information}`);
    for (const c of m.connections) lines.push(formatConnection(c));
    for (const b of m.bandwidths) lines.push(`b=${b.type}:${b.value}`);
    if (m.key !== undefined) lines.push(`k=${m.key}`);
    for (const a of m.attributes) lines.push(formatAttribute(a));
  }
  for (let i = 0; i < lines.length; i++) {
    if (/[\r\n\0]/.test(lines[i]!)) throw new SdpError('CR, LF or NUL inside an SDP field', i + 1);
  }
  return lines.join('\r\n') + '\r\n';
}

/**
 * The attributes named `name`. Matched without regard to case: no two registered
 * attribute names differ only in case, and some peers capitalise them.
 */
export function getAttributes(attrs: readonly SdpAttribute[], name: string): SdpAttribute[] {
  const key = name.toLowerCase();
  return attrs.filter((a) => a.name.toLowerCase() === key);
}
