/**
 * Header field names: compact forms and canonical spelling.
 *
 * RFC 3261 §7.3.3 (compact forms) and §20 (the header table); later RFCs add their own
 * compact letters: RFC 6665 §8.2.1 (o = Event, u = Allow-Events), RFC 3515 §2.1
 * (r = Refer-To), RFC 3892 (b = Referred-By), RFC 3841 §10 (a = Accept-Contact,
 * j = Reject-Contact, d = Request-Disposition), RFC 4028 §4 (x = Session-Expires),
 * RFC 4474 (y = Identity, n = Identity-Info).
 * Header names are case-insensitive (§7.3.1); we key them by their lower-cased long form.
 */

const COMPACT: Readonly<Record<string, string>> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

/** Spellings that the default Title-Case rule gets wrong, as the RFCs write them. */
const SPECIAL: Readonly<Record<string, string>> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'min-se': 'Min-SE',
  'mime-version': 'MIME-Version',
  'p-asserted-identity': 'P-Asserted-Identity',
  'p-preferred-identity': 'P-Preferred-Identity',
  'rack': 'RAck',
  'rseq': 'RSeq',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
  'refer-sub': 'Refer-Sub',
};

/** Lower-cased long form of a header name as read off the wire. */
export function normalizeHeaderName(name: string): string {
  // Accessors ask for the same few names on every message: an exact-spelling hit skips the
  // lower-casing. Only spellings that normalize from the known table are kept, so the map
  // stays bounded whatever names callers (or peers) use.
  const hit = SPELLINGS.get(name);
  if (hit !== undefined) return hit;
  const lower = name.toLowerCase();
  if (lower.length === 1) return COMPACT[lower] ?? lower;
  return lower;
}

/**
 * Header names the parser recognizes without slicing or lower-casing them: the spellings
 * senders actually use (canonical, all-lower, all-upper; compact letters in either case)
 * of the names below, found by (length, first char) and confirmed by string equality. Any
 * other spelling takes the generic path (slice, token check, lower-case), so this table only
 * decides speed, never the result.
 */
const KNOWN_LONG = [
  'via', 'from', 'to', 'call-id', 'cseq', 'contact', 'max-forwards', 'content-type', 'content-length',
  'record-route', 'route', 'expires', 'min-expires', 'allow', 'supported', 'require', 'proxy-require',
  'unsupported', 'user-agent', 'server', 'subject', 'date', 'timestamp', 'organization', 'priority',
  'accept', 'accept-encoding', 'accept-language', 'content-encoding', 'content-language',
  'content-disposition', 'mime-version', 'authorization', 'proxy-authorization', 'www-authenticate',
  'proxy-authenticate', 'authentication-info', 'warning', 'retry-after', 'reply-to', 'in-reply-to',
  'alert-info', 'call-info', 'error-info', 'event', 'allow-events', 'subscription-state',
  'refer-to', 'referred-by', 'refer-sub', 'accept-contact', 'reject-contact', 'request-disposition',
  'session-expires', 'min-se', 'rack', 'rseq', 'path', 'service-route', 'p-asserted-identity',
  'p-preferred-identity', 'privacy', 'reason', 'identity', 'identity-info', 'history-info',
  'replaces', 'join', 'target-dialog', 'sip-etag', 'sip-if-match',
];

const MAX_KNOWN = 32;
/** Slot length * 128 + first char -> [spelling, normalized name, spelling, name, ...]. */
const BY_SHAPE: (string[] | undefined)[] = new Array<string[] | undefined>(MAX_KNOWN * 128).fill(undefined);
/** Exact spellings (the same ones) -> normalized name, for normalizeHeaderName. */
const SPELLINGS = new Map<string, string>();

/** The same lists as BY_SHAPE with each spelling as bytes, for knownHeaderNameBytes. */
const BY_SHAPE_BYTES: (Uint8Array[] | undefined)[] = new Array<Uint8Array[] | undefined>(MAX_KNOWN * 128).fill(undefined);

function addSpelling(spelling: string, name: string): void {
  if (SPELLINGS.has(spelling)) return;
  SPELLINGS.set(spelling, name);
  const slot = spelling.length * 128 + spelling.charCodeAt(0);
  const list = BY_SHAPE[slot] ?? (BY_SHAPE[slot] = []);
  list.push(spelling, name);
  (BY_SHAPE_BYTES[slot] ?? (BY_SHAPE_BYTES[slot] = [])).push(Buffer.from(spelling, 'latin1'));
}

function addKnown(key: string, name: string): void {
  // The usual spelling first: it is the one compared first.
  if (key.length > 1) addSpelling(canonicalHeaderName(key), name);
  addSpelling(key, name);
  addSpelling(key.toUpperCase(), name);
}

/**
 * The normalized name of the header name s[start, end) when it is one of the known
 * spellings, else undefined (the caller then takes the generic path).
 */
export function knownHeaderName(s: string, start: number, end: number): string | undefined {
  const len = end - start;
  if (len <= 0 || len >= MAX_KNOWN) return undefined;
  const c = s.charCodeAt(start);
  if (c >= 128) return undefined;
  const list = BY_SHAPE[len * 128 + c];
  if (list === undefined) return undefined;
  // One substring and string equality is cheaper in V8 than startsWith or a char loop.
  const name = s.substring(start, end);
  for (let k = 0; k < list.length; k += 2) if (name === list[k]) return list[k + 1];
  return undefined;
}

/** knownHeaderName for a name given as bytes b[start, end). */
export function knownHeaderNameBytes(b: Uint8Array, start: number, end: number): string | undefined {
  const len = end - start;
  if (len <= 0 || len >= MAX_KNOWN) return undefined;
  const c = b[start]!;
  if (c >= 128) return undefined;
  const slot = len * 128 + c;
  const list = BY_SHAPE_BYTES[slot];
  if (list === undefined) return undefined;
  for (let k = 0; k < list.length; k++) {
    const spelling = list[k]!;
    let i = 1;
    while (i < len && b[start + i] === spelling[i]) i++;
    if (i === len) return BY_SHAPE[slot]![2 * k + 1];
  }
  return undefined;
}

const canonicalCache = new Map<string, string>();

const lineStartCache = new Map<string, string>();

/** `Canonical-Name: `, the start of a header line on the wire (cached like the names). */
export function headerLineStart(lower: string): string {
  const hit = lineStartCache.get(lower);
  if (hit !== undefined) return hit;
  const out = canonicalHeaderName(lower) + ': ';
  if (lineStartCache.size < 1024) lineStartCache.set(lower, out);
  return out;
}

/** The spelling we put on the wire for a lower-cased long-form name. */
export function canonicalHeaderName(lower: string): string {
  const hit = canonicalCache.get(lower);
  if (hit !== undefined) return hit;
  const special = SPECIAL[lower];
  const out =
    special ??
    lower
      .split('-')
      .map((w) => (w.length === 0 ? w : w[0]!.toUpperCase() + w.slice(1)))
      .join('-');
  if (canonicalCache.size < 1024) canonicalCache.set(lower, out);
  return out;
}

/**
 * Headers that may appear at most once (RFC 3261 §7.3.1, Table 2-3): a request with two
 * of these is malformed (RFC 4475 §3.3.8 multi01).
 */
export const SINGLE_VALUED: ReadonlySet<string> = new Set([
  'call-id',
  'cseq',
  'from',
  'to',
  'max-forwards',
  'content-length',
  'content-type',
  'expires',
  'min-expires',
  'session-expires',
  'min-se',
  'event',
  'subscription-state',
  'refer-to',
  'refer-sub',
]);

/**
 * Headers whose grammar is a comma-separated list, so several lines may be combined
 * and one line may carry several values (RFC 3261 §7.3.1). Everything else is kept whole:
 * splitting e.g. a Date or WWW-Authenticate at commas would corrupt it.
 */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  'via',
  'route',
  'record-route',
  'contact',
  'allow',
  'supported',
  'require',
  'proxy-require',
  'unsupported',
  'accept',
  'accept-encoding',
  'accept-language',
  'accept-contact',
  'reject-contact',
  'allow-events',
  'content-encoding',
  'content-language',
  'in-reply-to',
  'p-asserted-identity',
  'path',
  'service-route',
  'warning',
  'error-info',
  'alert-info',
  'call-info',
]);

for (const name of KNOWN_LONG) addKnown(name, name);
for (const [letter, name] of Object.entries(COMPACT)) addKnown(letter, name);
