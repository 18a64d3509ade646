/**
 * Small pieces of RFC 6665 shared by the subscriber and the notifier: reading Expires /
 * Min-Expires / Retry-After (RFC 3261 §20.19, §20.23, §20.33), the Event header of a
 * received request (§8.2.1), and the dialog a NOTIFY creates (§4.4.1).
 */
import { Dialog } from '../dialog/dialog.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { formatNameAddr, parseNameAddrList } from '../message/headers/name-addr.js';
import { createResponse } from '../transaction/build.js';
import type { TransportLogger } from '../transport/config.js';
import { parseDeltaSeconds } from '../message/headers/cseq.js';
import { parseEvent, type EventHeader } from '../message/headers/event.js';

/** A delta-seconds header (Expires, Min-Expires, Retry-After's leading number), or undefined when absent or bad. */
export function deltaSecondsHeader(msg: SipRequest | SipResponse, name: string): number | undefined {
  const v = msg.get(name);
  if (v === undefined) return undefined;
  // Retry-After may carry a comment and parameters after the number (RFC 3261 §20.33).
  const lead = name.toLowerCase() === 'retry-after' ? (/^\s*(\d+)/.exec(v)?.[1] ?? '') : v;
  try {
    return parseDeltaSeconds(lead, 'clamp');
  } catch {
    return undefined;
  }
}

/** The request's Event header parsed, `undefined` when absent, `null` when it does not parse. */
export function eventOf(req: SipRequest): EventHeader | undefined | null {
  const v = req.get('event');
  if (v === undefined) return undefined;
  try {
    return parseEvent(v);
  } catch {
    return null;
  }
}

/**
 * Run an application callback; a throw is logged, never let loose inside a protocol step
 * (design.md convention 4: nothing throws past the transport, nor into a stray rejection).
 */
export function safely(log: TransportLogger, what: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    log.error({ err: String(e) }, `${what} handler threw`);
  }
}

export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/**
 * The subscriber's dialog when a NOTIFY arrives before the 2xx (RFC 6665 §4.4.1): remote tag
 * and target from the NOTIFY, route set = its Record-Route in order (RFC 3261 §12.1.1, as for
 * any request that creates a dialog). Built through Dialog.asUac with a stand-in 2xx whose
 * Record-Route is reversed, since asUac reverses a response's.
 */
export function dialogFromNotify(subscribe: SipRequest, notify: SipRequest): Dialog {
  const tag = notify.fromTag();
  if (tag === undefined) throw new Error('NOTIFY without a From tag');
  const stand = createResponse(subscribe, 200, 'OK', tag);
  const contact = notify.get('contact');
  if (contact !== undefined) stand.append('contact', contact);
  const routes: string[] = [];
  for (const v of notify.getAll('record-route')) for (const na of parseNameAddrList(v)) routes.push(formatNameAddr(na));
  for (const r of routes.reverse()) stand.append('record-route', r);
  return Dialog.asUac(subscribe, stand);
}
