/**
 * What both sides of RFC 4028 share: the negotiated result, reading Session-Expires / Min-SE /
 * Supported off a message, the refresher token seen from one transaction, and the two §10
 * delays.
 *
 * The refresher parameter names the UAC or UAS *of the transaction that carries it* (§4, §7.4,
 * §9; pjsip reads it the same way), not of the dialog: after the focus refreshes with its own
 * UPDATE, "uac" in that UPDATE means the focus. Negotiated results are therefore kept as
 * local/remote and only turned into a token when a message is written or read.
 */
import type { SipRequest, SipResponse } from '../message/message.js';
import { parseMinSE, parseSessionExpires, type SessionExpires } from '../message/headers/session-expires.js';
import { ABSOLUTE_MIN_SE, TIMER_OPTION_TAG } from './config.js';

/** Who sends the refreshes: this UA or its peer. */
export type RefresherRole = 'local' | 'remote';

/** The session timer a dialog runs with, after a 2xx settled it. */
export interface Negotiated {
  /** Session interval in seconds. */
  interval: number;
  refresher: RefresherRole;
}

/** §10: the refresher sends its refresh once half the session interval has elapsed. */
export function refreshDelayMs(intervalSeconds: number): number {
  return (intervalSeconds * 1000) / 2;
}

/**
 * §10: the side that does not refresh sends BYE "slightly before the session expiration",
 * at the interval minus the minimum of 32 seconds and one third of the interval.
 */
export function expiryDelayMs(intervalSeconds: number): number {
  return (intervalSeconds - Math.min(32, intervalSeconds / 3)) * 1000;
}

/**
 * The refresher token for a message of a transaction in which this UA is the UAC (a request
 * we send, a response we receive) or the UAS (a request we receive, a response we send).
 */
export function refresherToken(role: RefresherRole, weAreUac: boolean): 'uac' | 'uas' {
  return (role === 'local') === weAreUac ? 'uac' : 'uas';
}

/** The inverse of refresherToken. */
export function refresherRole(token: 'uac' | 'uas', weAreUac: boolean): RefresherRole {
  return (token === 'uac') === weAreUac ? 'local' : 'remote';
}

/** Supported or Require lists 'timer' (§7.1: a UAC that supports the extension says so in Supported). */
export function supportsTimer(msg: SipRequest | SipResponse): boolean {
  return [...msg.tokens('supported'), ...msg.tokens('require')].some((t) => t.toLowerCase() === TIMER_OPTION_TAG);
}

export type HeaderRead<T> = { ok: true; value: T | undefined } | { ok: false; error: string };

/** Session-Expires (or its compact form x), absent -> value undefined, malformed -> ok false. */
export function readSessionExpires(msg: SipRequest | SipResponse): HeaderRead<SessionExpires> {
  const all = msg.getAll('session-expires');
  if (all.length === 0) return { ok: true, value: undefined };
  if (all.length > 1) return { ok: false, error: 'more than one Session-Expires' };
  try {
    return { ok: true, value: parseSessionExpires(all[0]!) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Min-SE in seconds; absent -> value undefined, malformed -> ok false. */
export function readMinSE(msg: SipRequest | SipResponse): HeaderRead<number> {
  const all = msg.getAll('min-se');
  if (all.length === 0) return { ok: true, value: undefined };
  if (all.length > 1) return { ok: false, error: 'more than one Min-SE' };
  try {
    return { ok: true, value: parseMinSE(all[0]!) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/** The 90-second floor of §4/§5 applied to a value a peer sent. */
export function atLeastFloor(seconds: number): number {
  return Math.max(seconds, ABSOLUTE_MIN_SE);
}
