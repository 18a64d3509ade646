/**
 * RFC 4028 as the UAC of a session refresh request (pure, no timers):
 * §7.1 the headers of the initial INVITE (seed 1.2.1-5/6: Supported: timer, Session-Expires
 * with refresher=uac), §7.2 reading the 2xx, §7.3 the retry after a 422, §7.4 the headers of
 * a later refresh.
 */
import { SipRequest, type HeaderField, type SipResponse } from '../message/message.js';
import { formatMinSE, formatSessionExpires } from '../message/headers/session-expires.js';
import { TIMER_OPTION_TAG, type SessionTimerConfig } from './config.js';
import {
  atLeastFloor, readMinSE, readSessionExpires, refresherRole, refresherToken, type Negotiated, type RefresherRole,
} from './negotiation.js';

export type HeaderPair = readonly [string, string];

export interface SessionTimerRequestHeaders {
  /**
   * The option tag for Supported (§7.1: every request but ACK lists 'timer', whether or not a
   * timer is asked for). Returned apart so that the caller writes one Supported header with
   * all its option tags.
   */
  supported: typeof TIMER_OPTION_TAG;
  /** Session-Expires and Min-SE, as [name, value] pairs. */
  headers: HeaderPair[];
}

/**
 * §7.1 (seed 1.2.1-6): Session-Expires with the configured interval and refresher, and Min-SE
 * (MAY in §7.1; sent so that proxies and the focus know our floor). `override` carries the
 * values a 422 asked for (§7.3).
 */
export function sessionTimerRequestHeaders(
  config: SessionTimerConfig,
  override?: { sessionExpires: number; minSE: number },
): SessionTimerRequestHeaders {
  const sessionExpires = override?.sessionExpires ?? config.sessionExpires;
  const minSE = override?.minSE ?? config.minSE;
  const refresher = config.refresher === 'none' ? undefined : config.refresher;
  return {
    supported: TIMER_OPTION_TAG,
    headers: [
      ['session-expires', formatSessionExpires({ deltaSeconds: sessionExpires, refresher, params: [] })],
      ['min-se', formatMinSE(minSE)],
    ],
  };
}

/**
 * §7.4: Session-Expires and Min-SE of a refresh we send. The refresher token is written from
 * our side as the UAC of the refresh ('uac' when we keep refreshing); `undefined` leaves the
 * parameter out for the UAS to choose (a dialog that had no timer yet).
 */
export function refreshRequestHeaders(interval: number, refresher: RefresherRole | undefined, minSE: number): HeaderPair[] {
  const token = refresher === undefined ? undefined : refresherToken(refresher, true);
  return [
    ['session-expires', formatSessionExpires({ deltaSeconds: Math.max(interval, minSE), refresher: token, params: [] })],
    ['min-se', formatMinSE(minSE)],
  ];
}

/** The values of the last request we sent, and how many 422s it already followed. */
export interface Attempt {
  sessionExpires: number;
  minSE: number;
  /** 422 responses already followed for this request (0 for the first attempt). */
  retries: number;
}

/**
 * §7.3: after a 422 (Session Interval Too Small), the values to send again with: the
 * Session-Expires at least the 422's Min-SE (we take exactly that, the shortest the peer
 * accepts), and Min-SE the largest one seen for the dialog. Undefined when a retry makes no
 * sense: not a 422, no readable Min-SE, a Min-SE that asks for no more than we already sent
 * (retrying would loop), one above config.maxSessionExpires, or config.max422Retries reached.
 */
export function handle422(response: SipResponse, config: SessionTimerConfig, previous?: Attempt): Attempt | undefined {
  if (response.status !== 422) return undefined;
  const prev: Attempt = previous ?? { sessionExpires: config.sessionExpires, minSE: config.minSE, retries: 0 };
  if (prev.retries >= config.max422Retries) return undefined;
  const read = readMinSE(response);
  if (!read.ok || read.value === undefined) return undefined;
  const demanded = atLeastFloor(read.value);
  if (demanded <= prev.sessionExpires) return undefined;
  if (demanded > config.maxSessionExpires) return undefined;
  const minSE = Math.max(demanded, prev.minSE);
  return { sessionExpires: demanded, minSE, retries: prev.retries + 1 };
}

/**
 * The initial INVITE to send again after a 422 (§7.3, RFC 3261 §8.1.3.5): same Call-ID, From
 * tag, To, Request-URI and body, CSeq one higher, no Via (the transaction layer adds a new
 * one, hence a new branch), Session-Expires/Min-SE replaced. The refresher parameter and any
 * other Session-Expires parameters of the original are kept.
 */
export function retryRequestAfter422(original: SipRequest, retry: Attempt): SipRequest {
  const headers: HeaderField[] = [];
  const se = readSessionExpires(original);
  const seParams = se.ok && se.value !== undefined ? se.value.params : [];
  const refresher = se.ok ? se.value?.refresher : undefined;
  let wroteSe = false;
  let wroteMinSe = false;
  for (const h of original.headers) {
    switch (h.name) {
      case 'via':
        continue;
      case 'cseq':
        headers.push({ name: 'cseq', value: `${original.cseq().seq + 1} ${original.method}` });
        continue;
      case 'session-expires':
        if (!wroteSe) {
          headers.push({
            name: 'session-expires',
            value: formatSessionExpires({ deltaSeconds: retry.sessionExpires, refresher, params: seParams }),
          });
        }
        wroteSe = true;
        continue;
      case 'min-se':
        if (!wroteMinSe) headers.push({ name: 'min-se', value: formatMinSE(retry.minSE) });
        wroteMinSe = true;
        continue;
      default:
        headers.push({ name: h.name, value: h.value });
    }
  }
  if (!wroteSe) headers.push({ name: 'session-expires', value: formatSessionExpires({ deltaSeconds: retry.sessionExpires, params: [] }) });
  if (!wroteMinSe) headers.push({ name: 'min-se', value: formatMinSE(retry.minSE) });
  return new SipRequest(original.method, original.uri, headers, Buffer.from(original.body));
}

/**
 * §7.2: the session timer a 2xx to our INVITE/UPDATE settles, or undefined for none.
 *
 * - Session-Expires present: its value is the interval (values under the 90 s floor of §4 are
 *   raised to it rather than refreshing a misbehaving peer every few seconds) and the refresher
 *   parameter says who refreshes: 'uac' is us, 'uas' the peer. A missing parameter (the UAS
 *   MUST set it, §9) is read as us: refreshing ourselves keeps the session alive whatever the
 *   peer does.
 * - Session-Expires absent: "there is no session expiration" (§7.2), unless config.alwaysUse,
 *   in which case we refresh with the interval we asked for, which §7.2 allows a UAC to do
 *   for its own benefit when the UAS does not support the extension.
 * - A malformed Session-Expires is treated like an absent one.
 *
 * `sent` is the Session-Expires of the request this 2xx answers.
 */
export function negotiate(response: SipResponse, config: SessionTimerConfig, sent?: { sessionExpires: number }): Negotiated | undefined {
  if (response.status < 200 || response.status > 299) return undefined;
  const se = readSessionExpires(response);
  if (!se.ok || se.value === undefined) {
    if (!config.alwaysUse) return undefined;
    return { interval: atLeastFloor(sent?.sessionExpires ?? config.sessionExpires), refresher: 'local' };
  }
  const refresher = se.value.refresher === undefined ? 'local' : refresherRole(se.value.refresher, true);
  return { interval: atLeastFloor(se.value.deltaSeconds), refresher };
}
