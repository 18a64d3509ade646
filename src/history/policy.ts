/**
 * The History Function's admission policy for a REFER (seed 1.1.1 and 1.1.2-1).
 *
 * - 1.1.1-1a: P-Asserted-Identity must be present (RFC 3325 §9.1). It is believed only from
 *   a configured trusted peer (the RFC 3325 trust domain); from anyone else it is ignored,
 *   so the REFER is refused as if it had none.
 * - 1.1.1-1b: not enough resources -> 503 with Retry-After (RFC 3261 §21.5.4, §20.33).
 * - 1.1.1-2: Accept-Contact must carry the '+g.oma.sip-im' feature tag (RFC 3841 §10), else 403.
 * - 1.1.2-1: the Authenticated Originator's IM Address must be authorised by the IM
 *   Session initiation/adding policy, else 403. Ours: deny patterns first, then allow
 *   patterns, then the trusted domains; and at most maxImUsers IM users per session.
 * - Refer-To must name a configured conference factory: the History Function never
 *   INVITEs anything else (no amplification, issue 6).
 * RFC 3515 §2.4.2 lets a REFER be refused with any final response; 403 is ours for policy.
 */
import { BlockList, isIP } from 'node:net';
import type { SipRequest } from '../sip/message/message.js';
import { parseNameAddrList } from '../sip/message/headers/name-addr.js';
import { isSipUri, parseUri, uriEquals, formatUri, normalizeEscapes, type SipUri } from '../sip/message/headers/uri.js';
import { hasFeatureTag, parseAcceptContact } from '../sip/message/headers/accept-contact.js';

export const IM_FEATURE_TAG = '+g.oma.sip-im';

export interface PolicyConfig {
  /** Peers (IP addresses or CIDR blocks) whose P-Asserted-Identity is believed. */
  trustedPeers: readonly string[];
  /** Initiators of these domains are authorised unless denied. */
  trustedDomains: readonly string[];
  /** AOR patterns (`*` wildcard), e.g. `sip:*@example.net`, `sip:alice@example.org`. */
  allow: readonly string[];
  deny: readonly string[];
  maxImUsers: number;
  conferenceFactories: readonly string[];
}

export interface PolicyRejection {
  status: number;
  reason: string;
  headers: [string, string][];
}

export function rejection(status: number, reason: string, headers: [string, string][] = []): PolicyRejection {
  return { status, reason, headers };
}

/** A BlockList of the trusted peers; throws on an entry that is neither an IP nor a CIDR. */
export function trustList(peers: readonly string[]): BlockList {
  const list = new BlockList();
  for (const p of peers) {
    const [addr, bits] = p.split('/') as [string, string | undefined];
    const family = isIP(addr);
    if (family === 0) throw new Error(`trusted peer "${p}" is not an IP address or CIDR block`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return list;
}

function isTrusted(list: BlockList, address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return list.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The Authenticated Originator's IM Address: the first SIP/SIPS URI of P-Asserted-Identity,
 * when the request came from a trusted peer. Undefined otherwise.
 */
export function authenticatedOriginator(req: SipRequest, trusted: BlockList): SipUri | undefined {
  const src = req.source;
  if (src === undefined || !isTrusted(trusted, src.remoteAddress)) return undefined;
  const pai = req.joined('p-asserted-identity');
  if (pai === undefined) return undefined;
  try {
    for (const na of parseNameAddrList(pai)) if (isSipUri(na.uri)) return na.uri;
  } catch {
    return undefined;
  }
  return undefined;
}

/** Seed 1.1.1-2: does Accept-Contact carry the IM feature tag? */
export function acceptsIm(req: SipRequest): boolean {
  const ac = req.joined('accept-contact');
  if (ac === undefined) return false;
  try {
    return hasFeatureTag(parseAcceptContact(ac), IM_FEATURE_TAG);
  } catch {
    return false;
  }
}

/**
 * The AOR of a SIP URI: scheme, user and host, without port or parameters. The user part's
 * escapes are normalised (RFC 3261 §19.1.4: `mall%6Fry` is `mallory`), so a deny pattern
 * cannot be dodged by spelling a user with escapes.
 */
export function aor(u: SipUri): string {
  return `${u.scheme.toLowerCase()}:${u.user !== undefined ? `${normalizeEscapes(u.user)}@` : ''}${u.host.toLowerCase()}`;
}

function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$', 'i');
  return re.test(value);
}

/** Seed 1.1.2-1: IM Session initiation policy (who) and adding policy (how many). */
export function authorize(initiator: SipUri, imUsers: readonly string[], cfg: PolicyConfig): PolicyRejection | undefined {
  const who = aor(initiator);
  if (cfg.deny.some((p) => globMatch(p, who))) return rejection(403, 'Forbidden: initiator not authorised');
  const allowed =
    cfg.allow.some((p) => globMatch(p, who)) || cfg.trustedDomains.some((d) => d.toLowerCase() === initiator.host.toLowerCase());
  if (!allowed) return rejection(403, 'Forbidden: initiator not authorised');
  if (imUsers.length > cfg.maxImUsers) return rejection(403, `Forbidden: more than ${cfg.maxImUsers} IM users`);
  return undefined;
}

/** The configured conference factory a Refer-To target names, or undefined. */
export function matchFactory(target: string, factories: readonly string[]): string | undefined {
  let t;
  try {
    t = parseUri(target);
  } catch {
    return undefined;
  }
  if (!isSipUri(t)) return undefined;
  // Compare without the History Type parameters a client may have copied onto it.
  const bare: SipUri = { ...t, params: t.params.filter((p) => !['history', 'filename', 'method'].includes(p.name.toLowerCase())), headers: [] };
  for (const f of factories) {
    try {
      if (uriEquals(parseUri(f), bare)) return formatUri(parseUri(f));
    } catch {
      // a bad configured factory never matches; config validation reports it
    }
  }
  return undefined;
}
