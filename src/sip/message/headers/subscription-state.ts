/**
 * Subscription-State (RFC 6665 §8.2.3, ABNF §8.4; semantics §4.1.3):
 *   substate-value *( SEMI subexp-params ), subexp-params = ("reason" EQUAL token)
 *   / ("expires" EQUAL delta-seconds) / ("retry-after" EQUAL delta-seconds) / generic-param.
 * State and reason are tokens compared case-insensitively, so they are kept lower-cased.
 */
import { parseUint32 } from './cseq.js';
import {
  charAt, equalsIgnoreCase, expectEnd, fail, formatParams, isToken, mergeParams, parseParams,
  scanToken, skipLws, type Param,
} from './scan.js';

export type SubscriptionStateValue = 'active' | 'pending' | 'terminated' | (string & {});

export interface SubscriptionState {
  state: SubscriptionStateValue;
  reason?: string;
  expires?: number;
  retryAfter?: number;
  /** Every parameter as written, the three above included. */
  params: Param[];
}

// The subexp-params with their own syntax; the index is also the order their checks run in.
const REASON = 0;
const EXPIRES = 1;
const RETRY_AFTER = 2;
const KNOWN = ['reason', 'expires', 'retry-after'];

function knownParam(name: string): number {
  // The exact spelling first: a cheaper comparison than the case-insensitive one.
  switch (name.length) {
    case 6:
      return name === 'reason' || equalsIgnoreCase(name, 'reason') ? REASON : -1;
    case 7:
      return name === 'expires' || equalsIgnoreCase(name, 'expires') ? EXPIRES : -1;
    case 11:
      return name === 'retry-after' || equalsIgnoreCase(name, 'retry-after') ? RETRY_AFTER : -1;
    default:
      return -1;
  }
}

function deltaParam(v: string | null, name: string, offset: number): number {
  if (v === null) return fail(`${name} needs a value`, offset);
  return parseUint32(v);
}

export function parseSubscriptionState(s: string): SubscriptionState {
  const i = skipLws(s, 0);
  const e = scanToken(s, i);
  if (e === i) fail(`expected subscription state, found ${charAt(s, i)}`, i);
  const params: Param[] = [];
  expectEnd(s, parseParams(s, e, params));
  // One pass over the parameters finds the first of each known one and any duplicate;
  // the checks then run in the order of KNOWN.
  let reason: Param | undefined;
  let expires: Param | undefined;
  let retryAfter: Param | undefined;
  let duplicates = 0;
  for (let k = 0; k < params.length; k++) {
    const p = params[k]!;
    const known = knownParam(p.name);
    if (known === REASON) {
      if (reason === undefined) reason = p;
      else duplicates |= 1 << REASON;
    } else if (known === EXPIRES) {
      if (expires === undefined) expires = p;
      else duplicates |= 1 << EXPIRES;
    } else if (known === RETRY_AFTER) {
      if (retryAfter === undefined) retryAfter = p;
      else duplicates |= 1 << RETRY_AFTER;
    }
  }
  if (duplicates !== 0) {
    for (let k = 0; k < KNOWN.length; k++) if (duplicates & (1 << k)) fail(`duplicate ${KNOWN[k]!} parameter`, e);
  }
  const out: SubscriptionState = { state: s.slice(i, e).toLowerCase(), params };
  if (reason !== undefined) {
    const v = reason.value;
    if (v === null || !isToken(v)) fail('reason must be a token', e);
    out.reason = v.toLowerCase();
  }
  if (expires !== undefined) out.expires = deltaParam(expires.value, 'expires', e);
  if (retryAfter !== undefined) out.retryAfter = deltaParam(retryAfter.value, 'retry-after', e);
  return out;
}

export function formatSubscriptionState(v: SubscriptionState): string {
  return v.state + formatParams(mergeParams(v.params, [
    ['reason', v.reason],
    ['expires', v.expires === undefined ? undefined : String(v.expires)],
    ['retry-after', v.retryAfter === undefined ? undefined : String(v.retryAfter)],
  ]));
}
