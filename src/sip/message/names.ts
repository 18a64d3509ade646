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
  const lower = name.toLowerCase();
  if (lower.length === 1) return COMPACT[lower] ?? lower;
  return lower;
}

const canonicalCache = new Map<string, string>();

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
