/**
 * RFC 4028 §9 as the UAS of a session refresh request (pure, no timers): what to answer to an
 * INVITE or UPDATE (initial or a refresh from the peer), and the timer the answer settles.
 *
 * §9 refresher table (request -> our 2xx):
 *   peer supports timer | refresher in request | refresher in 2xx
 *   no                  | none                 | uas (we refresh)
 *   yes                 | none                 | uas or uac (our choice)
 *   yes                 | uac                  | uac
 *   yes                 | uas                  | uas
 * Require: timer goes into the 2xx when refresher=uac (MUST: the peer has to learn it
 * refreshes) and when refresher=uas and the peer supports the extension (SHOULD).
 */
import type { SipRequest } from '../message/message.js';
import { formatMinSE, formatSessionExpires } from '../message/headers/session-expires.js';
import { TIMER_OPTION_TAG, type SessionTimerConfig } from './config.js';
import {
  atLeastFloor, readMinSE, readSessionExpires, refresherRole, refresherToken, supportsTimer, type Negotiated,
} from './negotiation.js';
import type { HeaderPair } from './uac.js';

export type SessionTimerAnswer =
  | {
      kind: 'accept';
      /** Session-Expires and (per §9) Require: timer, to add to the 2xx. */
      headers: HeaderPair[];
      /** The option tag for the 2xx's Supported header, merged by the caller with its own tags. */
      supported: typeof TIMER_OPTION_TAG;
      /** The timer our 2xx settles (undefined: none). */
      negotiated: Negotiated | undefined;
      /** The dialog's Min-SE after this request (§7.4: the largest seen on the dialog). */
      minSE: number;
    }
  | {
      kind: 'reject';
      /** 422 with Min-SE (§6, §9), or 400 for an unreadable Session-Expires / Min-SE. */
      status: 422 | 400;
      reason: string;
      headers: HeaderPair[];
    };

export interface UasContext {
  /** The dialog's current timer, for keeping the refresher when the request names none. */
  current?: Negotiated | undefined;
  /** The dialog's Min-SE so far. */
  minSE?: number;
}

/**
 * §9: the answer to an INVITE/UPDATE carrying (or not) Session-Expires.
 *
 * - Session-Expires below our minSE: 422 with our Min-SE (§9 MUST). The UAS MUST NOT raise the
 *   interval, so there is nothing else to do for a peer that lacks the extension either (as pjsip).
 * - Session-Expires at or above it: we keep the peer's interval (§9 allows reducing, we have no
 *   reason to) and its refresher, else the refresher of the dialog so far, else the peer when
 *   it supports the extension (it asked for a timer) and us when it does not (§9 MUST).
 * - No Session-Expires: §9 lets the UAS ask for a timer in the 2xx; the History Function wants
 *   one (seed 1.2.1: the session timer runs until BYE), so we answer with our sessionExpires
 *   (raised to the request's Min-SE) and keep the refresher of the dialog so far, else take it
 *   ourselves (MUST when the peer lacks the extension).
 */
export function answerSessionTimer(request: SipRequest, config: SessionTimerConfig, ctx: UasContext = {}): SessionTimerAnswer {
  const se = readSessionExpires(request);
  if (!se.ok) return { kind: 'reject', status: 400, reason: `Bad Session-Expires header: ${se.error}`, headers: [] };
  const reqMin = readMinSE(request);
  if (!reqMin.ok) return { kind: 'reject', status: 400, reason: `Bad Min-SE header: ${reqMin.error}`, headers: [] };
  const peerSupports = supportsTimer(request);
  const minSE = Math.max(ctx.minSE ?? config.minSE, config.minSE, atLeastFloor(reqMin.value ?? 0));
  let negotiated: Negotiated;
  if (se.value !== undefined) {
    if (se.value.deltaSeconds < config.minSE) {
      return {
        kind: 'reject',
        status: 422,
        reason: 'Session Interval Too Small',
        headers: [['min-se', formatMinSE(config.minSE)]],
      };
    }
    // Without the extension the peer cannot refresh on our say-so: the table's "N" rows.
    const refresher =
      !peerSupports ? 'local'
      : se.value.refresher !== undefined ? refresherRole(se.value.refresher, false)
      : (ctx.current?.refresher ?? 'remote');
    negotiated = { interval: se.value.deltaSeconds, refresher };
  } else {
    const refresher = !peerSupports ? 'local' : (ctx.current?.refresher ?? 'local');
    negotiated = { interval: Math.max(config.sessionExpires, minSE), refresher };
  }
  const token = refresherToken(negotiated.refresher, false);
  const headers: HeaderPair[] = [
    ['session-expires', formatSessionExpires({ deltaSeconds: negotiated.interval, refresher: token, params: [] })],
  ];
  if (token === 'uac' || peerSupports) headers.push(['require', TIMER_OPTION_TAG]);
  return { kind: 'accept', headers, supported: TIMER_OPTION_TAG, negotiated, minSE };
}
