/**
 * The MSRP media description in an SDP offer/answer exchange (RFC 3264).
 *
 * - RFC 4975 §8.1: `m=message <port> TCP/MSRP *`, `TCP/TLS/MSRP` when the session runs
 *   over TLS (an msrps URI); the accepted types live in attributes, so the fmt list is "*".
 * - RFC 4975 §8.2: `a=path` lists MSRP URIs separated by spaces, in order: a peer sends
 *   to the first, the last is the endpoint's own (relays, RFC 4976, come first).
 * - RFC 4975 §8.6: `a=accept-types` (required) and `a=accept-wrapped-types` (types allowed
 *   only inside a wrapper such as message/cpim), format-entry = "*" / type "/" subtype /
 *   type "/" "*"; `a=max-size` in octets. §8.9: the usual direction attributes.
 * - RFC 6135 (connection model) with RFC 4145 §4 (`a=setup`): active opens the TCP
 *   connection, passive listens, actpass lets the answerer choose; holdconn is not used
 *   by MSRP. RFC 4145 §4.1: an absent a=setup means "active" in an offer and "passive"
 *   in an answer, which is exactly RFC 4975's own model (the offerer connects), so a peer
 *   that predates RFC 6135 needs no special case.
 * - RFC 6714 (CEMA, connection reuse through middleboxes): `a=msrp-cema` is reported, not
 *   acted upon.
 * - RFC 4975 §14.1 with RFC 8122 §5 (fingerprint.ts): `a=fingerprint` (media level, else
 *   session level) names the certificate a TCP/TLS/MSRP peer will present.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { formatSdp, getAttributes, parseSdp, type Sdp, type SdpAttribute, type SdpConnection, type SdpLimits } from './sdp.js';
import { MsrpUriError, parseMsrpUri } from './msrp-uri.js';
import { FingerprintError, formatFingerprint, parseFingerprint, type Fingerprint } from './fingerprint.js';

export type MsrpSetup = 'active' | 'passive' | 'actpass';
export type MsrpTransport = 'TCP/MSRP' | 'TCP/TLS/MSRP';
export type MsrpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export type MsrpSdpErrorCode =
  | 'no-msrp-media'
  | 'missing-path'
  | 'invalid-path'
  | 'missing-accept-types'
  | 'invalid-accept-types'
  | 'invalid-setup'
  | 'setup-conflict'
  | 'invalid-max-size'
  | 'duplicate-attribute'
  | 'invalid-fingerprint'
  | 'invalid-option';

/** A session description that is valid SDP but not a usable MSRP offer or answer (answer 488). */
export class MsrpSdpError extends Error {
  override readonly name = 'MsrpSdpError';
  constructor(
    message: string,
    readonly code: MsrpSdpErrorCode,
    /** Index of the offending media description, when there is one. */
    readonly mediaIndex?: number,
  ) {
    super(message);
  }
}

export interface MsrpOfferOptions {
  /** Our address for `c=` and `o=`: IPv4, IPv6 (unbracketed) or a host name. */
  address: string;
  /** Address type for a host name (default IP4); IP literals decide it themselves. */
  addrType?: 'IP4' | 'IP6';
  port: number;
  /** Our MSRP URI (`msrp://host:port/session-id;tcp`), or relays first then ours (RFC 4976). */
  path: string | readonly string[];
  acceptTypes: readonly string[];
  /** ['*'] or explicit types; omitted from the SDP when empty. */
  acceptWrappedTypes?: readonly string[];
  setup: MsrpSetup;
  maxSize?: number;
  /** o= sess-id: digits (RFC 8866 §5.2 suggests an NTP timestamp). */
  sessionId: string | number;
  /** o= sess-version (default 0); increase it for every new offer in the session. */
  sessionVersion?: string | number;
  /** o= username (default "-"). */
  username?: string;
  /** s= (default "-"). */
  sessionName?: string;
  direction?: MsrpDirection;
  /** RFC 8122 a=fingerprint of the certificate we present over TLS (msrps). */
  fingerprint?: Fingerprint;
}

export interface MsrpMedia {
  /** Position of this m= line among all media descriptions (an answer keeps the offer's order). */
  index: number;
  /** 0 means the stream was rejected (RFC 3264 §6); the other fields may then be empty. */
  port: number;
  transport: MsrpTransport;
  /** URIs of a=path in their order; the peer is reached through the first. */
  path: string[];
  acceptTypes: string[];
  acceptWrappedTypes: string[];
  /** Effective role: the a=setup value, or the RFC 4145 §4.1 default when absent. */
  setup: MsrpSetup;
  setupExplicit: boolean;
  maxSize?: number;
  /** Media-level c= (the first), else the session-level one. */
  connection?: SdpConnection;
  direction: MsrpDirection;
  /** RFC 6714 a=msrp-cema present. */
  cema: boolean;
  /** RFC 8122 a=fingerprint values (media level, else session level); empty when none. */
  fingerprints: Fingerprint[];
}

const TOKEN = '[A-Za-z0-9!#$&^_.+\\-]+';
const FORMAT_ENTRY = new RegExp(`^(\\*|${TOKEN}/(\\*|${TOKEN})(;[^\\s;]+)*)$`);
const DIRECTIONS: readonly MsrpDirection[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

function isFormatList(types: readonly string[]): boolean {
  return types.length > 0 && types.every((t) => FORMAT_ENTRY.test(t));
}

function digitsOf(v: string | number, what: string): string {
  const s = String(v);
  if (!/^[0-9]{1,20}$/.test(s)) throw new MsrpSdpError(`${what} must be digits`, 'invalid-option');
  return s;
}

/**
 * Writes an SDP body with one MSRP media description. Used for our offer to the
 * conference factory; with setup 'active' or 'passive' it is just as good an answer.
 */
export function buildMsrpOffer(o: MsrpOfferOptions): string {
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new MsrpSdpError(`invalid port ${o.port}`, 'invalid-option');
  const ip6 = isIPv6(o.address);
  if (!ip6 && !isIPv4(o.address) && !/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(o.address)) {
    throw new MsrpSdpError(`invalid address ${JSON.stringify(o.address)}`, 'invalid-option');
  }
  const addrType = ip6 ? 'IP6' : isIPv4(o.address) ? 'IP4' : (o.addrType ?? 'IP4');
  const path = typeof o.path === 'string' ? [o.path] : [...o.path];
  if (path.length === 0) throw new MsrpSdpError('empty path', 'missing-path');
  const uris = path.map((p) => {
    try {
      return parseMsrpUri(p);
    } catch (e) {
      throw new MsrpSdpError(`invalid path URI ${JSON.stringify(p)}: ${(e as Error).message}`, 'invalid-path');
    }
  });
  // The m= port is what a COMEDIA or CEMA peer (RFC 6135, RFC 6714) or a media-aware
  // middlebox reads; keep it the listener our own URI names, so both routes meet.
  const own = uris[uris.length - 1]!;
  if (uris.length === 1 && own.port !== undefined && o.port !== 0 && own.port !== o.port) {
    throw new MsrpSdpError(`m= port ${o.port} differs from the path URI port ${own.port}`, 'invalid-option');
  }
  if (!isFormatList(o.acceptTypes)) throw new MsrpSdpError('accept-types must be a non-empty list of media types', 'invalid-accept-types');
  const wrapped = o.acceptWrappedTypes ?? [];
  if (wrapped.length > 0 && !isFormatList(wrapped)) throw new MsrpSdpError('invalid accept-wrapped-types', 'invalid-accept-types');
  if (o.maxSize !== undefined && (!Number.isSafeInteger(o.maxSize) || o.maxSize < 0)) {
    throw new MsrpSdpError(`invalid max-size ${o.maxSize}`, 'invalid-max-size');
  }
  if (!['active', 'passive', 'actpass'].includes(o.setup)) throw new MsrpSdpError(`invalid setup ${String(o.setup)}`, 'invalid-setup');

  const attributes: SdpAttribute[] = [
    { name: 'path', value: path.join(' ') },
    { name: 'accept-types', value: o.acceptTypes.join(' ') },
  ];
  if (wrapped.length > 0) attributes.push({ name: 'accept-wrapped-types', value: wrapped.join(' ') });
  attributes.push({ name: 'setup', value: o.setup });
  if (o.maxSize !== undefined) attributes.push({ name: 'max-size', value: String(o.maxSize) });
  if (o.fingerprint !== undefined) attributes.push({ name: 'fingerprint', value: formatFingerprint(o.fingerprint) });
  attributes.push({ name: o.direction ?? 'sendrecv', value: null });

  const sdp: Sdp = {
    version: 0,
    origin: {
      username: o.username ?? '-',
      sessionId: digitsOf(o.sessionId, 'sessionId'),
      sessionVersion: digitsOf(o.sessionVersion ?? 0, 'sessionVersion'),
      netType: 'IN',
      addrType,
      address: o.address,
    },
    sessionName: o.sessionName ?? '-',
    emails: [],
    phones: [],
    connection: { netType: 'IN', addrType, address: o.address },
    bandwidths: [],
    timing: [{ start: '0', stop: '0', repeats: [] }],
    attributes: [],
    media: [{
      media: 'message',
      port: o.port,
      proto: uris[0]!.scheme === 'msrps' ? 'TCP/TLS/MSRP' : 'TCP/MSRP',
      formats: ['*'],
      connections: [],
      bandwidths: [],
      attributes,
    }],
  };
  return formatSdp(sdp);
}

function single(attrs: readonly SdpAttribute[], name: string, index?: number): string | undefined {
  const found = getAttributes(attrs, name);
  if (found.length > 1) throw new MsrpSdpError(`more than one a=${name}`, 'duplicate-attribute', index);
  const v = found[0];
  return v === undefined ? undefined : (v.value ?? '');
}

function listOf(value: string): string[] {
  return value.split(' ').filter((x) => x.length > 0);
}

function parseSetup(value: string, index: number): MsrpSetup {
  const v = value.trim().toLowerCase();
  if (v === 'active' || v === 'passive' || v === 'actpass') return v;
  throw new MsrpSdpError(`a=setup:${value} is not usable for MSRP (RFC 6135)`, 'invalid-setup', index);
}

function direction(attrs: readonly SdpAttribute[]): MsrpDirection | undefined {
  let found: MsrpDirection | undefined;
  for (const a of attrs) {
    const d = DIRECTIONS.find((x) => x === a.name.toLowerCase());
    if (d && a.value === null) found = d;
  }
  return found;
}

/**
 * The MSRP media descriptions of a parsed SDP (m=message with TCP/MSRP or TCP/TLS/MSRP;
 * others, such as RFC 7977 WebSocket or RFC 8873 data-channel MSRP, are not ours and are
 * skipped). `role` says whether the SDP is an offer or an answer, which decides the
 * default of a missing a=setup.
 */
export function parseMsrpMedia(sdp: Sdp, role: 'offer' | 'answer' = 'answer'): MsrpMedia[] {
  const out: MsrpMedia[] = [];
  const sessionSetup = single(sdp.attributes, 'setup');
  sdp.media.forEach((m, index) => {
    const proto = m.proto.toUpperCase();
    if (m.media.toLowerCase() !== 'message' || (proto !== 'TCP/MSRP' && proto !== 'TCP/TLS/MSRP')) return;
    const rejected = m.port === 0;
    const pathValue = single(m.attributes, 'path', index);
    const path = pathValue === undefined ? [] : listOf(pathValue);
    if (path.length === 0 && !rejected) throw new MsrpSdpError('MSRP media without a=path (RFC 4975 §8.2)', 'missing-path', index);
    for (const p of path) {
      try {
        parseMsrpUri(p);
      } catch (e) {
        const why = e instanceof MsrpUriError ? e.message : String(e);
        throw new MsrpSdpError(`invalid a=path URI ${JSON.stringify(p)}: ${why}`, 'invalid-path', index);
      }
    }
    const acceptValue = single(m.attributes, 'accept-types', index);
    const acceptTypes = acceptValue === undefined ? [] : listOf(acceptValue);
    if (acceptTypes.length === 0 && !rejected) {
      throw new MsrpSdpError('MSRP media without a=accept-types (RFC 4975 §8.6)', 'missing-accept-types', index);
    }
    if (acceptTypes.length > 0 && !isFormatList(acceptTypes)) throw new MsrpSdpError('invalid a=accept-types', 'invalid-accept-types', index);
    const wrappedValue = single(m.attributes, 'accept-wrapped-types', index);
    const acceptWrappedTypes = wrappedValue === undefined ? [] : listOf(wrappedValue);
    if (acceptWrappedTypes.length > 0 && !isFormatList(acceptWrappedTypes)) {
      throw new MsrpSdpError('invalid a=accept-wrapped-types', 'invalid-accept-types', index);
    }
    const setupValue = single(m.attributes, 'setup', index) ?? sessionSetup;
    const media: MsrpMedia = {
      index,
      port: m.port,
      transport: proto,
      path,
      acceptTypes,
      acceptWrappedTypes,
      setup: setupValue === undefined ? (role === 'offer' ? 'active' : 'passive') : parseSetup(setupValue, index),
      setupExplicit: setupValue !== undefined,
      direction: direction(m.attributes) ?? direction(sdp.attributes) ?? 'sendrecv',
      cema: getAttributes(m.attributes, 'msrp-cema').length > 0,
      fingerprints: fingerprintsOf(m.attributes, index) ?? fingerprintsOf(sdp.attributes, index) ?? [],
    };
    if (role === 'answer' && media.setup === 'actpass' && !rejected) {
      throw new MsrpSdpError('an answer cannot say a=setup:actpass (RFC 4145 §4.1)', 'invalid-setup', index);
    }
    const maxSize = single(m.attributes, 'max-size', index);
    if (maxSize !== undefined) {
      if (!/^[0-9]{1,15}$/.test(maxSize.trim())) throw new MsrpSdpError(`invalid a=max-size:${maxSize}`, 'invalid-max-size', index);
      media.maxSize = Number(maxSize.trim());
    }
    const connection = m.connections[0] ?? sdp.connection;
    if (connection) media.connection = connection;
    out.push(media);
  });
  return out;
}

/** The a=fingerprint values at one level, undefined when there are none. */
function fingerprintsOf(attrs: readonly SdpAttribute[], index: number): Fingerprint[] | undefined {
  const found = getAttributes(attrs, 'fingerprint');
  if (found.length === 0) return undefined;
  return found.map((a) => {
    try {
      return parseFingerprint(a.value ?? '');
    } catch (e) {
      throw new MsrpSdpError(e instanceof FingerprintError ? e.message : String(e), 'invalid-fingerprint', index);
    }
  });
}

function firstMsrp(text: string, role: 'offer' | 'answer', limits?: SdpLimits): MsrpMedia {
  const media = parseMsrpMedia(parseSdp(text, limits), role)[0];
  if (!media) throw new MsrpSdpError(`no MSRP media description in the ${role}`, 'no-msrp-media');
  return media;
}

/** The first MSRP media description of an SDP answer (port 0: the focus rejected it). */
export function parseMsrpAnswer(text: string, limits?: SdpLimits): MsrpMedia {
  return firstMsrp(text, 'answer', limits);
}

/** The first MSRP media description of an SDP offer. */
export function parseMsrpOffer(text: string, limits?: SdpLimits): MsrpMedia {
  return firstMsrp(text, 'offer', limits);
}

/**
 * Our a=setup when answering an offer (RFC 4145 §4.1, RFC 6135): passive is answered
 * active and active passive; actpass leaves the choice to us and we take active, so the
 * connection goes out from the History Function, which works when the focus is reachable
 * and we may sit behind a NAT or firewall. A missing a=setup in the offer means active.
 */
export function answerSetup(offerSetup: MsrpSetup | undefined): 'active' | 'passive' {
  switch (offerSetup) {
    case 'actpass':
    case 'passive':
      return 'active';
    case 'active':
    case undefined:
      return 'passive';
  }
}

/**
 * Whether we open the TCP connection, given the a=setup we sent and the peer's (both
 * effective values, defaults applied). Throws MsrpSdpError('setup-conflict') when both
 * sides claim the same role or both left it open.
 */
export function weConnect(ourRole: MsrpSetup, theirSetup: MsrpSetup): boolean {
  if (ourRole === 'actpass' && theirSetup === 'actpass') throw new MsrpSdpError('both sides said actpass', 'setup-conflict');
  if (ourRole === 'actpass') return theirSetup === 'passive';
  if (theirSetup === 'actpass') return ourRole === 'active';
  if (ourRole === theirSetup) throw new MsrpSdpError(`both sides are ${ourRole}`, 'setup-conflict');
  return ourRole === 'active';
}
