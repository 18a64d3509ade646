/**
 * The notifier side of the REFER implicit subscription (RFC 3515 §2.4.4–§2.4.7, §3 flows),
 * with RFC 4488 Refer-Sub: false (no subscription) and the RFC 6665 §4.2 notifier rules.
 *
 * - acceptRefer answers the REFER with 202 (RFC 3515 §2.4.2; 200 is configurable, RFC 7647
 *   §5) carrying our Contact, creates and registers the dialog (RFC 3515 §2.4.1, RFC 3261
 *   §12.1.1) and starts the notifier. When the REFER carries `Refer-Sub: false` the 2xx echoes
 *   it and neither subscription nor dialog is created (RFC 4488 §4).
 * - The first NOTIFY goes out at once with `SIP/2.0 100 Trying` (RFC 3515 §2.4.4). Each NOTIFY
 *   carries `Event: refer;id=<REFER CSeq>` (§2.4.6: the id is needed from the second REFER in
 *   a dialog on and MAY be present for the first; we always send it so matching never
 *   depends on how many REFERs the dialog saw), `Subscription-State: active;expires=<left>`
 *   for a provisional state and `terminated;reason=noresource` with the final one (§2.4.7,
 *   RFC 6665 §4.1.3: the watched resource — the referenced request — is gone), and a
 *   `message/sipfrag;version=2.0` body (RFC 3420, sipfrag.ts).
 * - One NOTIFY transaction at a time (RFC 6665 §4.2.2 rate control); states produced while one
 *   is outstanding collapse into the latest, so the last state is always the one delivered.
 * - The subscription expires after `expires` seconds (RFC 3515 §2.4.4 leaves the duration to
 *   the notifier): a final NOTIFY `terminated;reason=timeout` (RFC 6665 §4.2.2).
 * - A SUBSCRIBE in the dialog for `Event: refer` refreshes it: 200 with Expires and an
 *   immediate NOTIFY of the current state (RFC 6665 §4.2.1.2); `Expires: 0` unsubscribes:
 *   200, then the final NOTIFY `terminated;reason=timeout` (RFC 6665 §4.2.1.4 asks for a
 *   final NOTIFY; "timeout" is what pjsip and Kamailio send there, and tells the subscriber it
 *   MAY subscribe again, §4.1.3).
 * - A NOTIFY answered with a non-2xx ends the subscription without another NOTIFY: 481 MUST,
 *   a timeout SHOULD (RFC 6665 §4.2.2); for other failures RFC 3265 §3.2.2 did the same and
 *   RFC 6665 allows it.
 * - When the subscription ends, a dialog the REFER created ends with it unless a later REFER
 *   in it still has a subscription (RFC 6665 §4.4.1, RFC 5057: the dialog lives while a usage
 *   does); a dialog the REFER arrived in (INVITE, ...) is left to its owner.
 */
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { Dialog } from '../dialog/dialog.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { formatEvent, type EventHeader } from '../message/headers/event.js';
import { reasonPhrase } from '../message/reasons.js';
import { silentLogger, type TransportLogger } from '../transport/config.js';
import type { IncomingRequest } from '../ua/incoming.js';
import type { UserAgent } from '../ua/user-agent.js';
import { deltaSecondsHeader, eventOf, isSuccess, safely } from './common.js';
import { SIPFRAG_CONTENT_TYPE, sipfrag } from './sipfrag.js';

export type ReferNotifierState = 'active' | 'terminating' | 'terminated';

/** Why the subscription ended: a Subscription-State reason we sent, or what ended it. */
export type ReferTerminationReason =
  | 'noresource' // the final sipfrag was delivered
  | 'timeout' // it expired
  | 'unsubscribed' // the subscriber sent SUBSCRIBE Expires: 0
  | 'deactivated' | 'rejected' | 'giveup' // terminate(...) by the application
  | 'notify-failed' // a NOTIFY got a non-2xx (481, 408, ...): no further NOTIFY
  | 'dialog-ended' // the dialog went away underneath us
  | 'closed'; // close(): local teardown, nothing sent

export interface ReferNotifierOptions {
  /** Subscription duration in seconds; default 60. */
  expires?: number;
  /** Ceiling for what a refreshing SUBSCRIBE may ask; default 3600. */
  maxExpires?: number;
  /** Put `;id=<REFER CSeq>` on Event (RFC 3515 §2.4.6); default true. */
  includeId?: boolean;
  clock?: Clock;
  logger?: TransportLogger;
  onTerminated?(reason: ReferTerminationReason, detail: { status?: number }): void;
  /** Each NOTIFY's outcome, for logging (status 0: it could not be sent). */
  onNotifyResult?(info: { status: number; sipfrag: string; subscriptionState: string }): void;
}

interface Snapshot {
  status: number;
  reason: string;
  /** Subscription-State reason when this NOTIFY terminates the subscription. */
  terminal: string | undefined;
}

export class ReferNotifier {
  state: ReferNotifierState = 'active';
  readonly event: EventHeader;
  /** Resolves with the termination reason once the subscription has ended. */
  readonly done: Promise<ReferTerminationReason>;
  private current: { status: number; reason: string } = { status: 100, reason: 'Trying' };
  /** Subscription-State reason of the final NOTIFY, once one is due. */
  private terminalReason: string | undefined;
  private cause: ReferTerminationReason = 'noresource';
  private dirty = true;
  private inFlight = false;
  private expiresAt: number;
  private expiryTimer: TimerHandle | undefined;
  private readonly clock: Clock;
  private readonly log: TransportLogger;
  private readonly maxExpires: number;
  private resolveDone!: (r: ReferTerminationReason) => void;

  /**
   * Starts the subscription: the 100 Trying NOTIFY is sent at once. `release` runs once it
   * has ended (acceptRefer uses it to end a REFER-created dialog with its last usage).
   */
  constructor(
    private readonly ua: UserAgent,
    readonly dialog: Dialog,
    readonly refer: SipRequest,
    private readonly opts: ReferNotifierOptions & { release?(): void } = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
    this.maxExpires = opts.maxExpires ?? 3600;
    const id = opts.includeId === false ? undefined : String(refer.cseq().seq);
    this.event = { package: 'refer', templates: [], params: [], ...(id === undefined ? {} : { id }) };
    this.done = new Promise((r) => (this.resolveDone = r));
    const expires = Math.min(opts.expires ?? 60, this.maxExpires);
    this.expiresAt = this.clock.now() + expires * 1000;
    this.armExpiry(expires);
    this.pump();
  }

  /**
   * Report the referenced request's progress (RFC 3515 §2.4.5): a 1xx keeps the subscription
   * active, a final status ends it. Returns false once the subscription is ending or over.
   */
  progress(status: number, reason: string = reasonPhrase(status)): boolean {
    if (!Number.isInteger(status) || status < 100 || status > 699) throw new RangeError(`not a SIP status code: ${status}`);
    if (this.state !== 'active') return false;
    this.current = { status, reason };
    if (status >= 200) this.end('noresource', 'noresource');
    else {
      this.dirty = true;
      this.pump();
    }
    return true;
  }

  /** End the subscription with a final NOTIFY carrying the current sipfrag and `reason`. */
  terminate(reason: 'noresource' | 'deactivated' | 'rejected' | 'giveup' | 'timeout' = 'noresource'): void {
    this.end(reason, reason);
  }

  /** Stop without sending anything (shutdown); the dialog is released if we own it. */
  close(): void {
    this.finish('closed');
  }

  /**
   * Offer a request received inside the dialog. Takes (and answers) a SUBSCRIBE for this
   * subscription's Event and returns true; returns false for anything else. A SUBSCRIBE
   * without the id matches too when the notifier sends one: a subscriber that never saw
   * the id can still refresh the only refer subscription in its dialog.
   */
  handleRequest(incoming: IncomingRequest): boolean {
    const req = incoming.request;
    if (req.method !== 'SUBSCRIBE') return false;
    const ev = eventOf(req);
    if (ev == null || ev.package !== 'refer' || ev.templates.length > 0) return false;
    if (ev.id !== undefined && ev.id !== this.event.id) return false;
    if (this.state !== 'active') {
      incoming.respond(481, { reason: 'Subscription Does Not Exist' });
      return true;
    }
    const contact: [string, string][] = this.dialog.localContact === '' ? [] : [['contact', this.dialog.localContact]];
    const asked = req.has('expires') ? deltaSecondsHeader(req, 'expires') : (this.opts.expires ?? 60);
    if (asked === undefined) {
      incoming.respond(400, { reason: 'Bad Expires header' });
      return true;
    }
    if (asked === 0) {
      incoming.respond(200, { headers: [['expires', '0'], ...contact] });
      this.end('timeout', 'unsubscribed');
      return true;
    }
    const granted = Math.min(asked, this.maxExpires);
    incoming.respond(200, { headers: [['expires', String(granted)], ...contact] });
    this.expiresAt = this.clock.now() + granted * 1000;
    this.armExpiry(granted);
    this.dirty = true;
    this.pump();
    return true;
  }

  private armExpiry(seconds: number): void {
    this.expiryTimer?.cancel();
    this.expiryTimer = this.clock.setTimer(seconds * 1000, () => {
      this.log.info({ callId: this.dialog.id.callId }, 'refer subscription expired (RFC 6665 4.2.2)');
      this.end('timeout', 'timeout');
    });
  }

  private end(headerReason: string, cause: ReferTerminationReason): void {
    if (this.state !== 'active') return;
    this.state = 'terminating';
    this.terminalReason = headerReason;
    this.cause = cause;
    this.expiryTimer?.cancel();
    this.dirty = true;
    this.pump();
  }

  private pump(): void {
    if (this.inFlight || !this.dirty || this.state === 'terminated') return;
    if (this.dialog.state === 'terminated') return this.finish('dialog-ended');
    const snap: Snapshot = { ...this.current, terminal: this.terminalReason };
    this.dirty = false;
    this.inFlight = true;
    const left = Math.max(0, Math.ceil((this.expiresAt - this.clock.now()) / 1000));
    const subscriptionState = snap.terminal === undefined ? `active;expires=${left}` : `terminated;reason=${snap.terminal}`;
    const body = sipfrag(snap.status, snap.reason);
    const sent = this.ua.sendInDialog(this.dialog, 'NOTIFY', {
      headers: [['event', formatEvent(this.event)], ['subscription-state', subscriptionState]],
      body,
      contentType: SIPFRAG_CONTENT_TYPE,
    });
    sent.then(
      (res) => this.onNotifyResult(res, snap, body, subscriptionState),
      (e: unknown) => {
        this.log.warn({ callId: this.dialog.id.callId, err: String(e) }, 'NOTIFY not sent');
        this.onNotifyResult(undefined, snap, body, subscriptionState);
      },
    );
  }

  private onNotifyResult(res: SipResponse | undefined, snap: Snapshot, body: string, subscriptionState: string): void {
    this.inFlight = false;
    const status = res?.status ?? 0;
    safely(this.log, 'onNotifyResult', () => this.opts.onNotifyResult?.({ status, sipfrag: body, subscriptionState }));
    if (this.state === 'terminated') return;
    if (!isSuccess(status)) {
      this.log.warn({ callId: this.dialog.id.callId, status }, 'NOTIFY failed: refer subscription removed (RFC 6665 4.2.2)');
      return this.finish('notify-failed', status === 0 ? {} : { status });
    }
    if (snap.terminal !== undefined) return this.finish(this.cause);
    this.pump();
  }

  private finish(cause: ReferTerminationReason, detail: { status?: number } = {}): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.expiryTimer?.cancel();
    this.opts.release?.();
    this.log.debug({ callId: this.dialog.id.callId, cause }, 'refer subscription terminated');
    this.resolveDone(cause);
    safely(this.log, 'onTerminated', () => this.opts.onTerminated?.(cause, detail));
  }
}

export interface AcceptReferOptions extends ReferNotifierOptions {
  /** 202 (RFC 3515 §2.4.2, the default) or 200 (RFC 7647 §5). */
  status?: 200 | 202;
  /** Extra headers for the 2xx (Allow, Supported, ...). */
  headers?: readonly (readonly [string, string])[];
  /** Honour `Refer-Sub: false` (RFC 4488); default true. */
  honourReferSub?: boolean;
  /**
   * The REFER arrived inside this dialog (RFC 3515 §2.4.6). A dialog an earlier REFER created
   * is shared (it ends with its last subscription); any other is left to its owner, who
   * offers in-dialog SUBSCRIBEs to `notifier.handleRequest`.
   */
  dialog?: Dialog;
  /**
   * Requests in a dialog the REFER created that are not this subscription's SUBSCRIBE.
   * Default: SUBSCRIBE for another package 489 (RFC 6665 §4.2.1.1), for an unknown refer
   * id 481, anything else 405.
   */
  onOtherRequest?(dialog: Dialog, incoming: IncomingRequest): void;
}

/**
 * Dialogs a REFER created, with the refer subscriptions using them (RFC 5057: the dialog lives
 * while one usage does). Later REFERs in such a dialog (RFC 3515 §2.4.6) join it.
 */
interface ReferDialogUsage {
  notifiers: Set<ReferNotifier>;
  onOther: ((dialog: Dialog, incoming: IncomingRequest) => void) | undefined;
}

const referDialogs = new WeakMap<Dialog, ReferDialogUsage>();

export interface AcceptedRefer {
  response: SipResponse;
  /** False when the REFER asked for no subscription and we agreed (RFC 4488 §4). */
  referSub: boolean;
  dialog?: Dialog;
  notifier?: ReferNotifier;
}

/** `Refer-Sub: false` on the REFER (RFC 4488 §3: the value is true / false, case-insensitive). */
export function wantsNoReferSub(refer: SipRequest): boolean {
  return refer.get('refer-sub')?.trim().toLowerCase() === 'false';
}

/**
 * Accept a REFER the application has decided to act on: send the 2xx, create and register
 * the dialog, start the implicit subscription. The application then reports the referenced
 * request's progress with `notifier.progress(status, reason)`.
 */
export function acceptRefer(ua: UserAgent, incoming: IncomingRequest, opts: AcceptReferOptions = {}): AcceptedRefer {
  const refer = incoming.request;
  if (refer.method !== 'REFER') throw new Error(`acceptRefer() needs a REFER, got ${refer.method}`);
  const noSub = (opts.honourReferSub ?? true) && wantsNoReferSub(refer);
  const headers: [string, string][] = [];
  if (opts.dialog === undefined) headers.push(['contact', ua.localContact(refer)]);
  if (noSub) headers.push(['refer-sub', 'false']);
  for (const [n, v] of opts.headers ?? []) headers.push([n, v]);
  const response = incoming.respond(opts.status ?? 202, { headers });
  if (noSub) return { response, referSub: false, ...(opts.dialog === undefined ? {} : { dialog: opts.dialog }) };

  let dialog = opts.dialog;
  let usage = dialog === undefined ? undefined : referDialogs.get(dialog);
  if (dialog === undefined) {
    dialog = Dialog.asUas(refer, response);
    ua.addDialog(dialog);
    usage = { notifiers: new Set(), onOther: opts.onOtherRequest };
    referDialogs.set(dialog, usage);
    const u = usage;
    ua.setDialogHandler(dialog, (d, inc) => {
      for (const n of u.notifiers) if (n.handleRequest(inc)) return;
      if (u.onOther !== undefined) return u.onOther(d, inc);
      rejectOther(inc);
    });
  }
  const d = dialog;
  const u = usage;
  const self: { n?: ReferNotifier } = {};
  const notifier = new ReferNotifier(ua, d, refer, {
    ...opts,
    release: () => {
      if (u === undefined) return; // a dialog someone else owns (INVITE, ...): theirs to end
      if (self.n !== undefined) u.notifiers.delete(self.n);
      if (u.notifiers.size === 0 && d.state !== 'terminated') ua.terminateDialog(d, 'last refer subscription ended');
    },
  });
  self.n = notifier;
  // The notifier may already be over (its first NOTIFY failed synchronously): only live ones join.
  if (u !== undefined && notifier.state !== 'terminated') u.notifiers.add(notifier);
  return { response, referSub: true, dialog, notifier };
}

function rejectOther(inc: IncomingRequest): void {
  const req = inc.request;
  if (req.method !== 'SUBSCRIBE') return void inc.respond(405);
  const ev = eventOf(req);
  if (ev == null) return void inc.respond(400, { reason: 'Missing or bad Event header' });
  if (ev.package !== 'refer') return void inc.respond(489, { headers: [['allow-events', 'refer']] });
  inc.respond(481, { reason: 'Subscription Does Not Exist' });
}
