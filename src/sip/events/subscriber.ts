/**
 * The subscriber side of RFC 6665 (§4.1), as the History Function uses it to follow the
 * conference event package (RFC 4575) at the IM Session Identity.
 *
 * States are the §4.1.2 diagram's: init -> notify-wait -> pending/active -> terminated.
 * - SUBSCRIBE with Event, Accept, Expires (§4.1.2.1). Timer N (64*T1) starts when a
 *   SUBSCRIBE is sent, the initial one (§4.1.2.4) and every refresh (§4.1.2.2); no NOTIFY
 *   before it fires ends the subscription.
 * - The dialog comes from the 2xx, or from a NOTIFY that beats it (§4.1.2.4, §4.4.1: route set
 *   and remote target from the NOTIFY). Such a NOTIFY is matched by Call-ID, To tag = our
 *   From tag, and Event incl. id (§4.4.1, §8.2.1). This package installs one subscription
 *   (§5.4.9): a 2xx or NOTIFY from another fork finds no dialog and gets 481 from the UA.
 * - Every NOTIFY is answered: 200, 489 for an Event that is not ours (§4.1.3), 400 for a
 *   missing/bad Event or Subscription-State, 481 once the subscription is gone (UA).
 * - Subscription-State (§4.1.3): `expires` is authoritative and reschedules the refresh;
 *   `terminated` ends the dialog and, by reason, subscribes again now, later, or never
 *   (retryPlan in subscription-policy.ts). Re-subscriptions in a row are bounded.
 * - Refresh at refreshDelayMs(granted), granted = the 2xx Expires or a NOTIFY's expires,
 *   whichever came last. A refresh failure that ends the subscription (§4.1.2.2, +408) ends
 *   it; any other leaves it valid until it expires, with one more refresh half way there.
 *   423 Interval Too Brief is retried with Min-Expires (§4.1.2.1, RFC 3261 §21.4.17).
 * - Local failures (refused, Timer N, refresh failed, expired) end it for good: whether to
 *   start a new subscription is the application's call.
 * - unsubscribe(): SUBSCRIBE Expires: 0 in the dialog (§4.1.2.3) and wait, at most Timer N,
 *   for the final NOTIFY.
 * Every timer goes through the injected Clock.
 */
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { Dialog } from '../dialog/dialog.js';
import { SipResponse, type SipRequest } from '../message/message.js';
import { formatEvent, parseEvent, sameEvent, type EventHeader } from '../message/headers/event.js';
import { parseSubscriptionState, type SubscriptionState } from '../message/headers/subscription-state.js';
import { createResponse } from '../transaction/build.js';
import { silentLogger, type TransportLogger } from '../transport/config.js';
import type { Destination } from '../transport/types.js';
import type { IncomingRequest } from '../ua/incoming.js';
import type { UserAgent } from '../ua/user-agent.js';
import { deltaSecondsHeader, dialogFromNotify, eventOf, isSuccess, safely } from './common.js';
import { refreshDelayMs, refreshFailureEnds, retryPlan } from './subscription-policy.js';

export type SubscriberState = 'init' | 'notify-wait' | 'pending' | 'active' | 'terminated';

/**
 * Why a subscription ended for good: a Subscription-State reason from the notifier
 * (RFC 6665 §4.1.3), or what happened here.
 */
export type SubscriberTerminationReason =
  | 'deactivated' | 'probation' | 'rejected' | 'timeout' | 'giveup' | 'noresource' | 'invariant'
  | 'terminated' // a terminated NOTIFY without a reason
  | 'refused' // non-2xx final response to the initial SUBSCRIBE
  | 'timer-n' // no NOTIFY within 64*T1 of a SUBSCRIBE (§4.1.2.4, §4.1.2.2)
  | 'refresh-failed' // a refresh got a response that ends the subscription (§4.1.2.2)
  | 'expired' // not refreshed in time
  | 'unsubscribed' // unsubscribe() completed
  | (string & {}); // an unknown reason token from the notifier

export interface SubscribeOptions {
  /** Request-URI of the initial SUBSCRIBE (the IM Session Identity, i.e. the focus Contact). */
  target: string;
  /** From and To as name-addr, without tags. */
  from: string;
  to: string;
  /** Event package, optionally with templates/params (`conference`, `conference;id=7`). */
  event: string;
  /** Accept header value; default none. */
  accept?: string;
  /** Duration to ask for, in seconds. */
  expires: number;
  /** Extra headers on every SUBSCRIBE (Accept-Contact, P-Asserted-Identity, ...). */
  headers?: readonly (readonly [string, string])[];
  /** Where to send the initial SUBSCRIBE instead of resolving the Request-URI. */
  destination?: Destination;
  clock?: Clock;
  /** T1 in ms for Timer N = 64*T1 (RFC 6665 §6); default 500. */
  t1?: number;
  /** Subscribe again when the notifier's reason allows it (§4.1.3); default true. */
  resubscribe?: boolean;
  /** Re-subscriptions in a row without reaching pending/active; default 5. */
  maxResubscribes?: number;
  /** Wait (s) before re-subscribing when probation/giveup/no reason comes without retry-after; default 30. */
  defaultRetryAfter?: number;
  logger?: TransportLogger;
}

export interface NotifyInfo {
  state: SubscriptionState;
  body: Buffer;
  contentType: string | undefined;
  request: SipRequest;
  /** First NOTIFY of this dialog: a re-subscription starts over (RFC 4575 full state). */
  first: boolean;
}

export interface SubscriptionHandlers {
  onNotify(info: NotifyInfo): void;
  /** The subscription is over for good (no further re-subscription will be tried). */
  onTerminated(reason: SubscriberTerminationReason, retryAfter?: number, detail?: { status?: number }): void;
  /** A new subscription is about to be attempted after `reason`, in `delayMs`. */
  onResubscribe?(reason: string, delayMs: number): void;
}

interface Attempt {
  req: SipRequest;
  unregister: () => void;
  min423: number;
}

export class Subscription {
  state: SubscriberState = 'init';
  dialog: Dialog | undefined;
  readonly event: EventHeader;
  /** Resolves with the reason once the subscription is over for good. */
  readonly done: Promise<SubscriberTerminationReason>;
  private readonly eventText: string;
  private readonly clock: Clock;
  private readonly log: TransportLogger;
  private requested: number;
  private attempt: Attempt | undefined;
  private firstNotify = true;
  private expiresAt: number | undefined;
  private expirySetByNotify = false;
  private refreshing = false;
  private unsubscribing = false;
  private unsubscribeSent = false;
  private resubscribes = 0;
  private timerN: TimerHandle | undefined;
  private refreshTimer: TimerHandle | undefined;
  private expiryTimer: TimerHandle | undefined;
  private retryTimer: TimerHandle | undefined;
  private resolveDone!: (r: SubscriberTerminationReason) => void;

  constructor(
    private readonly ua: UserAgent,
    private readonly opts: SubscribeOptions,
    private readonly handlers: SubscriptionHandlers,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
    this.event = parseEvent(opts.event);
    this.eventText = formatEvent(this.event);
    this.requested = opts.expires;
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  /** Seconds left of the granted duration, when known. */
  get remaining(): number | undefined {
    return this.expiresAt === undefined ? undefined : Math.max(0, (this.expiresAt - this.clock.now()) / 1000);
  }

  /** State read through a getter, so checks after an await are not narrowed away. */
  private get over(): boolean {
    return this.state === 'terminated';
  }

  /** Send the initial SUBSCRIBE (subscribe() calls it). */
  start(): void {
    if (this.state === 'init' && this.attempt === undefined) void this.sendInitial();
  }

  /** SUBSCRIBE Expires: 0, then wait (at most Timer N) for the final NOTIFY (§4.1.2.3). */
  unsubscribe(): Promise<void> {
    if (this.state === 'terminated') return Promise.resolve();
    this.unsubscribing = true;
    const over = this.done.then(() => undefined);
    if (this.state === 'init') this.finish('unsubscribed');
    else if (this.dialog !== undefined) void this.sendUnsubscribe();
    // In notify-wait without a dialog: sent as soon as the 2xx or a NOTIFY creates it;
    // Timer N (already running) bounds the wait.
    return over;
  }

  /** Local teardown: timers, dialog and handlers go; nothing is sent, onTerminated is not called. */
  close(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.teardown('closed');
    this.resolveDone('closed');
  }

  // ------------------------------------------------------------ initial SUBSCRIBE

  private async sendInitial(): Promise<void> {
    const req = this.ua.createRequest('SUBSCRIBE', this.opts.target, this.opts.from, this.opts.to);
    req.append('event', this.eventText);
    if (this.opts.accept !== undefined) req.append('accept', this.opts.accept);
    req.append('expires', String(this.requested));
    const attempt: Attempt = { req, unregister: () => undefined, min423: this.attempt?.min423 ?? 0 };
    attempt.unregister = this.ua.addOrphanHandler((inc) => this.onOrphan(attempt, inc));
    this.attempt = attempt;
    this.state = 'notify-wait';
    this.dialog = undefined;
    this.firstNotify = true;
    this.expiresAt = undefined;
    this.expirySetByNotify = false;
    this.startTimerN();
    let res: SipResponse;
    try {
      res = await this.ua.request(req, {
        ...(this.opts.headers === undefined ? {} : { headers: this.opts.headers }),
        ...(this.opts.destination === undefined ? {} : { destination: this.opts.destination }),
      });
    } catch (e) {
      this.log.warn({ err: String(e) }, 'SUBSCRIBE not sent');
      res = createResponse(req, 503, 'Service Unavailable');
    }
    if (this.attempt !== attempt || this.over) return; // superseded
    this.onInitialResponse(attempt, res);
  }

  private onInitialResponse(attempt: Attempt, res: SipResponse): void {
    const { req } = attempt;
    if (isSuccess(res.status)) {
      const granted = Math.min(deltaSecondsHeader(res, 'expires') ?? this.requested, this.requested);
      if (this.dialog === undefined) {
        if (res.toTag() === undefined) return this.finish('refused', undefined, { status: res.status });
        this.installDialog(Dialog.asUac(req, res));
      } else if (res.toTag() !== this.dialog.id.remoteTag) {
        // §4.4.1: a NOTIFY from another fork made the dialog first; this 2xx is ignored.
        this.log.debug({ callId: req.callId() }, '2xx to SUBSCRIBE from another fork ignored');
      }
      attempt.unregister();
      if (!this.expirySetByNotify) this.setExpiry(granted);
      if (this.unsubscribing && !this.unsubscribeSent) void this.sendUnsubscribe();
      return;
    }
    if (this.dialog !== undefined) {
      // A NOTIFY already set the subscription up; keep it, with the duration we asked for.
      attempt.unregister();
      if (this.expiresAt === undefined) this.setExpiry(this.requested);
      return;
    }
    const minExpires = deltaSecondsHeader(res, 'min-expires');
    if (res.status === 423 && minExpires !== undefined && minExpires > this.requested && attempt.min423 < 2) {
      attempt.unregister();
      this.timerN?.cancel();
      this.requested = minExpires;
      attempt.min423++;
      void this.sendInitial();
      return;
    }
    this.finish('refused', deltaSecondsHeader(res, 'retry-after'), { status: res.status });
  }

  private onOrphan(attempt: Attempt, inc: IncomingRequest): boolean {
    const r = inc.request;
    if (attempt !== this.attempt || r.method !== 'NOTIFY' || this.dialog !== undefined) return false;
    if (r.callId() !== attempt.req.callId() || r.toTag() !== attempt.req.fromTag()) return false;
    const state = this.checkNotify(inc);
    if (state === undefined) return true;
    if (state.state !== 'terminated') {
      // §4.4.1: no dialog for a NOTIFY that terminates; otherwise it creates one.
      if (r.contact() === '*' || r.contact().length === 0) {
        inc.respond(400, { reason: 'Missing Contact' });
        return true;
      }
      const dialog = dialogFromNotify(attempt.req, r);
      dialog.receiveRequest(r);
      this.installDialog(dialog);
    }
    this.onNotify(inc, state);
    if (this.unsubscribing && !this.unsubscribeSent && this.dialog !== undefined) void this.sendUnsubscribe();
    return true;
  }

  private installDialog(dialog: Dialog): void {
    this.dialog = dialog;
    this.ua.addDialog(dialog);
    this.ua.setDialogHandler(dialog, (d, inc) => this.onDialogRequest(d, inc));
  }

  // ------------------------------------------------------------ NOTIFY

  private onDialogRequest(dialog: Dialog, inc: IncomingRequest): void {
    if (dialog !== this.dialog) return void inc.respond(481, { reason: 'Subscription Does Not Exist' });
    if (inc.request.method !== 'NOTIFY') return void inc.respond(405);
    const state = this.checkNotify(inc);
    if (state !== undefined) this.onNotify(inc, state);
  }

  /** Event and Subscription-State of a NOTIFY, or undefined after answering it with an error. */
  private checkNotify(inc: IncomingRequest): SubscriptionState | undefined {
    const ev = eventOf(inc.request);
    if (ev == null) return void inc.respond(400, { reason: 'Missing or bad Event header' });
    if (!sameEvent(ev, this.event)) return void inc.respond(489, { headers: [['allow-events', this.event.package]] });
    const raw = inc.request.get('subscription-state');
    if (raw === undefined) return void inc.respond(400, { reason: 'Missing Subscription-State header' });
    try {
      return parseSubscriptionState(raw);
    } catch {
      return void inc.respond(400, { reason: 'Bad Subscription-State header' });
    }
  }

  private onNotify(inc: IncomingRequest, ss: SubscriptionState): void {
    inc.respond(200);
    this.timerN?.cancel();
    this.timerN = undefined;
    const first = this.firstNotify;
    this.firstNotify = false;
    const req = inc.request;
    safely(this.log, 'onNotify', () =>
      this.handlers.onNotify({ state: ss, body: req.body, contentType: req.get('content-type'), request: req, first }));
    if (this.state === 'terminated') return; // the handler closed us
    switch (ss.state) {
      case 'terminated':
        return this.onTerminatedNotify(ss);
      case 'pending':
        this.state = 'pending';
        break;
      default:
        // 'active', and (§4.1.3 extensibility) any state we do not know.
        this.state = 'active';
    }
    this.resubscribes = 0;
    if (ss.expires !== undefined) {
      this.expirySetByNotify = true;
      this.setExpiry(ss.expires);
    }
  }

  private onTerminatedNotify(ss: SubscriptionState): void {
    this.dropDialog('terminated NOTIFY');
    this.attempt?.unregister();
    this.attempt = undefined;
    const reason = ss.reason ?? 'terminated';
    if (this.unsubscribing) return this.finish('unsubscribed');
    const plan = retryPlan(ss.reason, ss.retryAfter, this.opts.defaultRetryAfter ?? 30);
    const max = this.opts.maxResubscribes ?? 5;
    if (plan === undefined || this.opts.resubscribe === false || this.resubscribes >= max) {
      return this.finish(reason, ss.retryAfter);
    }
    this.resubscribes++;
    this.state = 'init';
    this.log.info({ reason, delayMs: plan }, 'subscribing again (RFC 6665 4.1.3)');
    safely(this.log, 'onResubscribe', () => this.handlers.onResubscribe?.(reason, plan));
    if (plan === 0) void this.sendInitial();
    else this.retryTimer = this.clock.setTimer(plan, () => void this.sendInitial());
  }

  // ------------------------------------------------------------ refresh, expiry, unsubscribe

  private setExpiry(seconds: number): void {
    this.expiresAt = this.clock.now() + seconds * 1000;
    this.refreshTimer?.cancel();
    this.expiryTimer?.cancel();
    this.expiryTimer = this.clock.setTimer(seconds * 1000, () => this.onExpired());
    if (this.unsubscribing) return;
    this.refreshTimer = this.clock.setTimer(refreshDelayMs(seconds), () => void this.refresh(this.requested, 0));
  }

  private onExpired(): void {
    if (this.refreshing || this.state === 'terminated') return; // the refresh's answer decides
    if (this.unsubscribing) return this.finish('unsubscribed');
    this.log.warn({ callId: this.dialog?.id.callId }, 'subscription expired without a successful refresh');
    this.finish('expired');
  }

  private async refresh(expires: number, tries423: number): Promise<void> {
    const dialog = this.dialog;
    if (dialog === undefined || this.state === 'terminated' || this.unsubscribing) return;
    this.refreshing = true;
    this.startTimerN();
    const res = await this.sendSubscribe(dialog, expires);
    this.refreshing = false;
    if (dialog !== this.dialog || this.over) return;
    if (isSuccess(res.status)) {
      const granted = Math.min(deltaSecondsHeader(res, 'expires') ?? expires, expires);
      this.setExpiry(granted);
      if (this.unsubscribing && !this.unsubscribeSent) void this.sendUnsubscribe();
      return;
    }
    this.timerN?.cancel(); // a failed refresh brings no NOTIFY
    this.timerN = undefined;
    const minExpires = deltaSecondsHeader(res, 'min-expires');
    if (res.status === 423 && minExpires !== undefined && minExpires > expires && tries423 < 2) {
      this.requested = minExpires;
      return this.refresh(minExpires, tries423 + 1);
    }
    if (refreshFailureEnds(res.status)) return this.finish('refresh-failed', undefined, { status: res.status });
    // §4.1.2.2: still valid until it expires; one more try half way there.
    const left = this.expiresAt === undefined ? 0 : this.expiresAt - this.clock.now();
    if (left <= 0) return this.finish('expired', undefined, { status: res.status });
    this.refreshTimer?.cancel();
    this.refreshTimer = this.clock.setTimer(left / 2, () => void this.refresh(this.requested, 0));
  }

  private async sendUnsubscribe(): Promise<void> {
    const dialog = this.dialog;
    if (dialog === undefined || this.unsubscribeSent) return;
    this.unsubscribeSent = true;
    this.refreshTimer?.cancel();
    this.expiryTimer?.cancel();
    this.startTimerN();
    const res = await this.sendSubscribe(dialog, 0);
    if (this.state === 'terminated') return;
    if (!isSuccess(res.status)) this.finish('unsubscribed');
    // On 2xx the final NOTIFY (or Timer N) completes it.
  }

  private async sendSubscribe(dialog: Dialog, expires: number): Promise<SipResponse> {
    const headers: [string, string][] = [['event', this.eventText], ['expires', String(expires)]];
    if (this.opts.accept !== undefined) headers.push(['accept', this.opts.accept]);
    for (const [n, v] of this.opts.headers ?? []) headers.push([n, v]);
    try {
      return await this.ua.sendInDialog(dialog, 'SUBSCRIBE', { headers });
    } catch (e) {
      this.log.warn({ callId: dialog.id.callId, err: String(e) }, 'SUBSCRIBE not sent');
      return new SipResponse(503, 'Service Unavailable');
    }
  }

  private startTimerN(): void {
    this.timerN?.cancel();
    this.timerN = this.clock.setTimer(64 * (this.opts.t1 ?? 500), () => {
      this.timerN = undefined;
      if (this.state === 'terminated') return;
      if (this.unsubscribing) return this.finish('unsubscribed');
      this.log.warn({ callId: this.dialog?.id.callId ?? this.attempt?.req.callId() }, 'no NOTIFY within Timer N (RFC 6665 4.1.2.4)');
      this.finish('timer-n');
    });
  }

  // ------------------------------------------------------------ ending

  private finish(reason: SubscriberTerminationReason, retryAfter?: number, detail: { status?: number } = {}): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.teardown(reason);
    this.log.info({ reason, retryAfter }, 'subscription terminated');
    this.resolveDone(reason);
    safely(this.log, 'onTerminated', () => this.handlers.onTerminated(reason, retryAfter, detail));
  }

  private teardown(why: string): void {
    for (const t of [this.timerN, this.refreshTimer, this.expiryTimer, this.retryTimer]) t?.cancel();
    this.attempt?.unregister();
    this.dropDialog(why);
  }

  private dropDialog(why: string): void {
    this.refreshTimer?.cancel();
    this.expiryTimer?.cancel();
    const d = this.dialog;
    this.dialog = undefined;
    if (d !== undefined && d.state !== 'terminated') this.ua.terminateDialog(d, `subscription: ${why}`);
  }
}

/** Start a subscription (RFC 6665 §4.1.2.1). */
export function subscribe(ua: UserAgent, opts: SubscribeOptions, handlers: SubscriptionHandlers): Subscription {
  const s = new Subscription(ua, opts, handlers);
  s.start();
  return s;
}
