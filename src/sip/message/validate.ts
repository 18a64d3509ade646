/**
 * UAS request checks: the response a UAS owes a request before the application sees it.
 *
 * RFC 3261 §8.2 in its order: a request that cannot be understood gets 400 (§8.2, §21.4.1);
 * an unsupported SIP version 505 (§8.2, §21.5.6); an unsupported Request-URI scheme 416
 * (§8.2.2.1); a method we do not implement 501, one we know but do not allow here 405 with
 * Allow (§8.2.1); unknown option tags in Require 420 with Unsupported (§8.2.2.3; not for ACK
 * or CANCEL); a body we cannot process 415 with Accept / Accept-Encoding (§8.2.3); and a
 * request whose response body the sender cannot accept 406 (§21.4.7).
 * RFC 4475 §3 is the conformance corpus for these verdicts (test/torture/).
 */
import { ParseError } from './errors.js';
import type { SipRequest, SipResponse } from './message.js';
import { MissingHeaderError } from './message.js';
import { SINGLE_VALUED } from './names.js';
import { parseAccept, mediaType } from './headers/content-type.js';
import { isSipUri } from './headers/uri.js';

export interface Rejection {
  status: number;
  reason: string;
  /** Headers the response must carry (Allow, Unsupported, Accept...). */
  headers: { name: string; value: string }[];
}

export interface UasProfile {
  /** Methods this UAS accepts (ACK and CANCEL are always understood). */
  methods: readonly string[];
  /** Option tags we support (for Require, §8.2.2.3). */
  optionTags: readonly string[];
  /** Body media types we can process, per method or '*' for all; absent = accept any. */
  contentTypes?: Readonly<Record<string, readonly string[]>>;
  /** Media type the success response to a method would carry (for Accept, §21.4.7). */
  responseBodyType?: Readonly<Record<string, string>>;
}

/** Methods defined by RFC 3261 and its extensions: unknown ones get 501, known ones 405. */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY',
  'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE',
]);

/** Headers a request may carry at most once; Content-Length is already the framer's (§18.3). */
const ONCE: ReadonlySet<string> = new Set([...SINGLE_VALUED].filter((n) => n !== 'content-length'));

/** §8.1.1: the header fields every request carries; without one it cannot be understood. */
const MANDATORY = ['via', 'from', 'to', 'call-id', 'cseq'] as const;

/**
 * The structured headers a UAS reads (and caches) on every request, by label: the first one
 * that does not parse makes the request a 400. A plain switch, not a table of closures,
 * since this runs on every request.
 */
const CHECKED = ['Via', 'From', 'To', 'CSeq', 'Contact'] as const;

function readChecked(r: SipRequest, label: (typeof CHECKED)[number]): void {
  switch (label) {
    case 'Via':
      r.via();
      return;
    case 'From':
      r.from();
      return;
    case 'To':
      r.to();
      return;
    case 'CSeq':
      r.cseq();
      return;
    case 'Contact':
      r.contact();
      return;
  }
}

/** 1*DIGIT (leading zeros allowed, RFC 4475 §3.1.1.1 "0068") of at most 255 (§20.22). */
function isMaxForwards(v: string): boolean {
  if (v.length === 0 || v.length > 10) return false;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return false;
    n = n * 10 + c;
  }
  return n <= 255;
}

function reject(status: number, reason: string, headers: Rejection['headers'] = []): Rejection {
  return { status, reason: safeReason(reason), headers };
}

/**
 * Reason phrases quote parser messages, which quote the input: keep them one printable
 * line of bounded length so a hostile request cannot shape our response (§25.1 Reason-Phrase).
 */
export function safeReason(s: string): string {
  const clean = s.replace(/[\x00-\x1f\x7f]/g, '?');
  return clean.length > 120 ? clean.slice(0, 119) + '…' : clean;
}

/**
 * The rejection a UAS must send for this request, or undefined when the application may
 * handle it. Never throws.
 */
export function checkRequest(req: SipRequest, profile: UasProfile): Rejection | undefined {
  if (req.version.toUpperCase() !== 'SIP/2.0') return reject(505, 'Version Not Supported');

  for (let i = 0; i < MANDATORY.length; i++) {
    if (!req.has(MANDATORY[i]!)) return reject(400, `Missing ${MANDATORY[i]!} header`);
  }
  if (req.hasRepeated(ONCE)) {
    for (const name of ONCE) if (req.count(name) > 1) return reject(400, `Multiple ${name} headers`);
  }
  for (let i = 0; i < CHECKED.length; i++) {
    const label = CHECKED[i]!;
    try {
      readChecked(req, label);
    } catch (e) {
      if (e instanceof ParseError || e instanceof MissingHeaderError) return reject(400, `Bad ${label} header: ${errText(e)}`);
      throw e;
    }
  }
  const mf = req.get('max-forwards');
  if (mf !== undefined && !isMaxForwards(mf)) return reject(400, 'Bad Max-Forwards header');

  const cseq = req.cseq();
  if (cseq.method !== req.method) return reject(400, 'CSeq method does not match the request method');

  let uri;
  try {
    uri = req.requestUri();
  } catch (e) {
    return reject(400, `Bad Request-URI: ${errText(e)}`);
  }
  if (uri.scheme !== 'sip' && uri.scheme !== 'sips' && uri.scheme !== 'tel') {
    return reject(416, 'Unsupported URI Scheme');
  }
  if (isSipUri(uri) && uri.headers.length > 0) {
    // §19.1.1: headers are not allowed in a Request-URI; a proxy must never turn them into
    // real headers (RFC 4475 §3.1.2.11).
    return reject(400, 'Request-URI must not carry headers');
  }

  const method = req.method;
  if (method !== 'ACK' && method !== 'CANCEL' && !profile.methods.includes(method)) {
    const allow = [{ name: 'Allow', value: allowList(profile) }];
    return KNOWN_METHODS.has(method) ? reject(405, 'Method Not Allowed', allow) : reject(501, 'Not Implemented', allow);
  }

  if (method !== 'ACK' && method !== 'CANCEL' && req.has('require')) {
    const unsupported = req.tokens('require').filter((t) => !profile.optionTags.includes(t));
    if (unsupported.length > 0) return reject(420, 'Bad Extension', [{ name: 'Unsupported', value: unsupported.join(', ') }]);
  }

  if (method === 'REGISTER') {
    const to = req.to().uri;
    if (to.scheme !== 'sip' && to.scheme !== 'sips') return reject(400, 'To must be a SIP or SIPS address-of-record');
  }

  const allowed = profile.contentTypes?.[method] ?? profile.contentTypes?.['*'];
  if (req.body.length > 0 && allowed !== undefined) {
    let ct;
    try {
      ct = req.contentType();
    } catch (e) {
      return reject(400, `Bad Content-Type header: ${errText(e)}`);
    }
    if (ct === undefined || !allowed.includes(mediaType(ct))) {
      return reject(415, 'Unsupported Media Type', [{ name: 'Accept', value: allowed.join(', ') }]);
    }
    const enc = req.tokens('content-encoding').filter((e) => e.toLowerCase() !== 'identity');
    if (enc.length > 0) return reject(415, 'Unsupported Media Type', [{ name: 'Accept-Encoding', value: 'identity' }]);
  }

  const produced = profile.responseBodyType?.[method];
  const accept = req.get('accept');
  if (produced !== undefined && accept !== undefined && accept.trim().length > 0) {
    let ranges;
    try {
      ranges = parseAccept(req.joined('accept') ?? '');
    } catch (e) {
      return reject(400, `Bad Accept header: ${errText(e)}`);
    }
    const [type, subtype] = produced.split('/');
    const ok = ranges.some(
      (r) => (r.type === '*' || r.type === type) && (r.subtype === '*' || r.subtype === subtype),
    );
    if (!ok) return reject(406, 'Not Acceptable', [{ name: 'Accept', value: produced }]);
  }
  return undefined;
}

/**
 * Whether a received response is usable at all: RFC 3261 §17.1.3 matching needs Via,
 * CSeq, Call-ID, From and To to parse; anything else is discarded (RFC 4475 §3.1.2.5).
 */
export function isUsableResponse(res: SipResponse): boolean {
  if (!res.has('via')) return false;
  for (const name of ['from', 'to', 'call-id', 'cseq']) if (res.count(name) !== 1) return false;
  try {
    res.via();
    res.from();
    res.to();
    res.cseq();
    return true;
  } catch (e) {
    if (e instanceof ParseError || e instanceof MissingHeaderError) return false;
    throw e;
  }
}

function allowList(profile: UasProfile): string {
  const all = new Set(['ACK', 'CANCEL', ...profile.methods]);
  return [...all].join(', ');
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
