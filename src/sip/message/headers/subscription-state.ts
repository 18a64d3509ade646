/**
 * Subscription-State (RFC 6665 §8.2.3, ABNF §8.4; semantics §4.1.3):
 *   substate-value *( SEMI subexp-params ), subexp-params = ("reason" EQUAL token)
 *   / ("expires" EQUAL delta-seconds) / ("retry-after" EQUAL delta-seconds) / generic-param.
 * State and reason are tokens compared case-insensitively, so they are kept lower-cased.
 */
import { parseUint32 } from './cseq.js';
import {
  charAt, expectEnd, fail, formatParams, getParam, isToken, mergeParams, parseParams,
  rejectDuplicates, scanToken, skipLws, type Param,
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

function deltaParam(params: readonly Param[], name: string, offset: number): number | undefined {
  const v = getParam(params, name);
  if (v === undefined) return undefined;
  if (v === null) return fail(`${name} needs a value`, offset);
  return parseUint32(v);
}

export function parseSubscriptionState(s: string): SubscriptionState {
  const i = skipLws(s, 0);
  const e = scanToken(s, i);
  if (e === i) fail(`expected subscription state, found ${charAt(s, i)}`, i);
  const params: Param[] = [];
  expectEnd(s, parseParams(s, e, params));
  rejectDuplicates(params, ['reason', 'expires', 'retry-after'], e);
  const out: SubscriptionState = { state: s.slice(i, e).toLowerCase(), params };
  const reason = getParam(params, 'reason');
  if (reason !== undefined) {
    if (reason === null || !isToken(reason)) fail('reason must be a token', e);
    out.reason = reason.toLowerCase();
  }
  const expires = deltaParam(params, 'expires', e);
  if (expires !== undefined) out.expires = expires;
  const retryAfter = deltaParam(params, 'retry-after', e);
  if (retryAfter !== undefined) out.retryAfter = retryAfter;
  return out;
}

export function formatSubscriptionState(v: SubscriptionState): string {
  return v.state + formatParams(mergeParams(v.params, [
    ['reason', v.reason],
    ['expires', v.expires === undefined ? undefined : String(v.expires)],
    ['retry-after', v.retryAfter === undefined ? undefined : String(v.retryAfter)],
  ]));
}
