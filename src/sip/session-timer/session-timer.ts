/**
 * The RFC 4028 session timer of one INVITE dialog (seed 1.2.1: started on the 200 to the
 * History Function's INVITE, run until BYE).
 *
 * - §10 as refresher: a refresh goes out once half the session interval has elapsed; §7.4: by
 *   UPDATE when the peer's Allow lists it (RFC 3311) and the config allows, else by re-INVITE
 *   with our unchanged SDP; the refresh carries Supported: timer, Session-Expires (refresher
 *   as negotiated, written from our side as its UAC) and Min-SE (the largest seen on the
 *   dialog). §7.2: its 2xx negotiates the timer again (the refresher may change, the timer may
 *   stop). §7.3: a 422 is followed with the Min-SE it names. RFC 3261 §14.1: a 491 is retried
 *   after 2.1-4 s (we own the Call-ID) or 0-2 s. RFC 3311 §5.1: a 405/501 to UPDATE falls back
 *   to re-INVITE. §10: a 408, 481 or any other final failure ends the session with BYE, and so
 *   does reaching the end of the interval without a successful refresh.
 * - §10 as non-refresher: BYE when no refresh arrived by the interval minus min(32 s, interval/3).
 * - §9 for refreshes the peer sends (handleRequest): 2xx with Session-Expires (and Require:
 *   timer when the peer supports it), or 422; RFC 3261 §14.2 / RFC 3311 §5.2: 491 to an offer
 *   while our re-INVITE is pending. Every 2xx to a refresh, sent or received, restarts the timer.
 *
 * States: inactive (no timer negotiated), waiting (we refresh next), refreshing (our refresh
 * is in flight), retrying (after a 491), watching (the peer refreshes next), ended.
 */
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import type { Dialog } from '../dialog/dialog.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { TIMER_OPTION_TAG, type SessionTimerConfig } from './config.js';
import { expiryDelayMs, refreshDelayMs, type Negotiated, type RefresherRole } from './negotiation.js';
import { handle422, negotiate, refreshRequestHeaders, type Attempt, type HeaderPair } from './uac.js';
import { answerSessionTimer } from './uas.js';

export type SessionTimerState = 'inactive' | 'waiting' | 'refreshing' | 'retrying' | 'watching' | 'ended';
export type RefreshMethodUsed = 'UPDATE' | 'INVITE';

/** What the timer needs from the UserAgent (UserAgent satisfies it). */
export interface SessionTimerUa {
  sendInDialog(
    dialog: Dialog,
    method: string,
    options?: { headers?: readonly HeaderPair[]; body?: Buffer | string; contentType?: string },
  ): Promise<SipResponse>;
  /** RFC 3261 §13.3.1.4: retransmit our 2xx to a re-INVITE until its ACK. */
  startInviteDialog(dialog: Dialog, req: SipRequest, res: SipResponse): void;
  localContact(req: SipRequest): string;
}

/** A received in-dialog request and the means to answer it (IncomingRequest satisfies it). */
export interface RefreshRequest {
  readonly request: SipRequest;
  respond(
    status: number,
    opts?: { reason?: string; headers?: readonly HeaderPair[]; body?: Buffer | string; contentType?: string },
  ): SipResponse;
}

export interface SessionExpiry {
  /**
   * no-refresh-received: we are not the refresher and nothing came in time (§10);
   * refresh-failed: our refresh got a final failure (status); refresh-timeout: the interval
   * ran out while our refresh was still unanswered or being retried.
   */
  reason: 'no-refresh-received' | 'refresh-failed' | 'refresh-timeout';
  status?: number;
  method?: RefreshMethodUsed;
}

export interface SessionTimerLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface SessionTimerOptions {
  ua: SessionTimerUa;
  dialog: Dialog;
  config: SessionTimerConfig;
  /** What the 2xx that set up the dialog settled (negotiate() / answerSessionTimer()); undefined: none yet. */
  negotiated: Negotiated | undefined;
  /** The dialog's Min-SE so far (after 422s to the initial INVITE); default config.minSE. */
  minSE?: number;
  clock?: Clock;
  /** Our current SDP: the offer of a re-INVITE refresh and the answer to the peer's. */
  sdp(): Buffer | string;
  /** Default application/sdp. */
  sdpContentType?: string;
  /** The methods the peer's Allow listed (seed 1.1.1-3 / 1.2.1 stores them). */
  peerAllow(): readonly string[];
  /** The session ended because of the timer; a BYE has been sent. */
  onExpired(expiry: SessionExpiry): void;
  /** A refresh succeeded (by = who sent it); `negotiated` is the timer from now on. */
  onRefreshed?(negotiated: Negotiated | undefined, by: RefresherRole): void;
  /** Option tags listed with 'timer' in the Supported header of our refreshes and 2xx. */
  supportedTags?: readonly string[];
  /** Added to every refresh request we send (e.g. Allow, seed 1.2.1-3). */
  extraHeaders?: readonly HeaderPair[];
  logger?: SessionTimerLogger;
  /** [0, 1) for the RFC 3261 §14.1 491 back-off; default Math.random. */
  random?: () => number;
}

type Event =
  | { kind: 'arm'; negotiated: Negotiated | undefined }
  | { kind: 'due' }
  | { kind: 'answer'; token: number; method: RefreshMethodUsed; sent: Attempt; status: number; res: SipResponse | undefined }
  | { kind: 'retry' }
  | { kind: 'deadline' }
  | { kind: 'stop' };

type Transition = `${SessionTimerState}:${Event['kind']}`;

const silent: SessionTimerLogger = { debug: () => undefined, warn: () => undefined };

export class SessionTimer {
  private current: SessionTimerState = 'inactive';
  private timer: Negotiated | undefined;
  private dialogMinSE: number;
  private readonly clock: Clock;
  private readonly log: SessionTimerLogger;
  private due: TimerHandle | undefined;
  private deadline: TimerHandle | undefined;
  private retry: TimerHandle | undefined;
  private inFlight: { token: number; method: RefreshMethodUsed; attempt: Attempt } | undefined;
  private tokens = 0;
  private updateRefused = false;
  private refreshedAt: number;
  private refreshes = 0;

  constructor(private readonly opts: SessionTimerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silent;
    this.dialogMinSE = Math.max(opts.minSE ?? opts.config.minSE, opts.config.minSE);
    this.refreshedAt = this.clock.now();
    this.dispatch({ kind: 'arm', negotiated: opts.negotiated });
  }

  get state(): SessionTimerState {
    return this.current;
  }

  /** The timer in force (undefined: none). */
  get negotiated(): Negotiated | undefined {
    return this.timer;
  }

  /** The largest Min-SE seen on the dialog (§7.4). */
  get minSE(): number {
    return this.dialogMinSE;
  }

  /** Clock time (ms) at which the session expires without a refresh; undefined without a timer. */
  get expiresAt(): number | undefined {
    return this.timer === undefined ? undefined : this.refreshedAt + this.timer.interval * 1000;
  }

  /** Successful refreshes so far, ours and the peer's. */
  get refreshCount(): number {
    return this.refreshes;
  }

  /** Send a refresh now, whoever the refresher is (§7.4 lets either side refresh). False when one is already under way or the timer ended. */
  refreshNow(): boolean {
    return this.dispatch({ kind: 'due' });
  }

  /**
   * Call from the dialog's request handler: answers an INVITE or UPDATE (a refresh from the
   * peer, §9) and returns true; returns false for anything else, or once the timer has ended.
   * `answer` replaces sdp() as the body of our 2xx.
   */
  handleRequest(incoming: RefreshRequest, answer?: { body: Buffer | string; contentType?: string }): boolean {
    const req = incoming.request;
    if ((req.method !== 'INVITE' && req.method !== 'UPDATE') || this.current === 'ended') return false;
    const ourInviteInProgress = this.inFlight?.method === 'INVITE' && this.current !== 'retrying';
    if (ourInviteInProgress && (req.method === 'INVITE' || req.body.length > 0)) {
      // RFC 3261 §14.2, RFC 3311 §5.2: an offer crossing our pending re-INVITE.
      incoming.respond(491, { reason: 'Request Pending' });
      return true;
    }
    const a = answerSessionTimer(req, this.opts.config, { current: this.timer, minSE: this.dialogMinSE });
    if (a.kind === 'reject') {
      this.log.debug({ callId: this.opts.dialog.id.callId, status: a.status }, `refresh ${req.method} rejected: ${a.reason}`);
      incoming.respond(a.status, { reason: a.reason, headers: a.headers });
      return true;
    }
    const headers: HeaderPair[] = [
      ...a.headers,
      ['supported', this.supported(a.supported)],
      // §13.3.1.4 and RFC 3311 §5.2: a 2xx to a target-refresh request carries Contact.
      ['contact', this.opts.dialog.localContact !== '' ? this.opts.dialog.localContact : this.opts.ua.localContact(req)],
    ];
    const withBody = req.method === 'INVITE' || req.body.length > 0;
    const res = incoming.respond(200, {
      headers,
      ...(withBody
        ? { body: answer?.body ?? this.opts.sdp(), contentType: answer?.contentType ?? this.opts.sdpContentType ?? 'application/sdp' }
        : {}),
    });
    if (req.method === 'INVITE') this.opts.ua.startInviteDialog(this.opts.dialog, req, res);
    this.dialogMinSE = a.minSE;
    this.refreshes++;
    this.dispatch({ kind: 'arm', negotiated: a.negotiated });
    this.log.debug({ callId: this.opts.dialog.id.callId, interval: a.negotiated?.interval, refresher: a.negotiated?.refresher }, `peer refreshed the session with ${req.method} (RFC 4028 §9)`);
    this.opts.onRefreshed?.(a.negotiated, 'remote');
    return true;
  }

  /** Cancel every timer (the dialog ended by BYE, or the application is done). */
  stop(): void {
    this.dispatch({ kind: 'stop' });
  }

  /** Runs one transition; false when the event is ignored in this state. */
  private dispatch(ev: Event): boolean {
    const t: Transition = `${this.current}:${ev.kind}`;
    switch (t) {
      case 'inactive:arm':
      case 'waiting:arm':
      case 'watching:arm':
      case 'refreshing:arm':
      case 'retrying:arm':
        if (ev.kind === 'arm') this.arm(ev.negotiated);
        return true;
      case 'inactive:due':
      case 'waiting:due':
      case 'watching:due':
        this.cancel('due');
        this.send(this.chooseMethod(), { sessionExpires: this.timer?.interval ?? this.opts.config.sessionExpires, minSE: this.dialogMinSE, retries: 0 });
        this.current = 'refreshing';
        return true;
      case 'refreshing:answer':
        if (ev.kind === 'answer') this.onAnswer(ev);
        return true;
      case 'inactive:answer':
      case 'waiting:answer':
      case 'watching:answer':
      case 'retrying:answer':
        // The peer's own refresh (or a restart) overtook ours: only its 2xx or a dead dialog matters.
        if (ev.kind === 'answer' && this.isCurrent(ev.token)) {
          this.inFlight = undefined;
          if (ev.status >= 200 && ev.status < 300 && ev.res !== undefined) this.succeeded(ev.res, ev.sent);
          else if (ev.status === 408 || ev.status === 481) this.end({ reason: 'refresh-failed', status: ev.status, method: ev.method });
        }
        return true;
      case 'retrying:retry': {
        const last = this.inFlight;
        if (last === undefined) return false;
        this.send(last.method, last.attempt);
        this.current = 'refreshing';
        return true;
      }
      case 'watching:deadline':
        this.end({ reason: 'no-refresh-received' });
        return true;
      case 'waiting:deadline':
      case 'refreshing:deadline':
      case 'retrying:deadline':
        this.end({ reason: 'refresh-timeout', ...(this.inFlight !== undefined ? { method: this.inFlight.method } : {}) });
        return true;
      case 'inactive:stop':
      case 'waiting:stop':
      case 'watching:stop':
      case 'refreshing:stop':
      case 'retrying:stop':
        this.cancel('due', 'deadline', 'retry');
        this.inFlight = undefined;
        this.current = 'ended';
        return true;
      default:
        return false;
    }
  }

  private onAnswer(ev: Extract<Event, { kind: 'answer' }>): void {
    if (!this.isCurrent(ev.token)) return;
    const { status, res, method, sent } = ev;
    if (status >= 200 && status < 300 && res !== undefined) {
      this.inFlight = undefined;
      this.succeeded(res, sent);
      return;
    }
    if (status === 422 && res !== undefined) {
      const next = handle422(res, this.opts.config, sent);
      if (next !== undefined) {
        this.dialogMinSE = Math.max(this.dialogMinSE, next.minSE);
        this.log.debug({ callId: this.opts.dialog.id.callId, sessionExpires: next.sessionExpires }, 'refresh got 422: retrying with its Min-SE (RFC 4028 §7.3)');
        this.send(method, { ...next, minSE: this.dialogMinSE });
        return;
      }
    } else if (status === 491) {
      // RFC 3261 §14.1: the owner of the Call-ID waits 2.1-4 s, the other side 0-2 s.
      const r = (this.opts.random ?? Math.random)();
      const ms = this.opts.dialog.role === 'uac' ? 2100 + Math.floor(r * 191) * 10 : Math.floor(r * 201) * 10;
      this.current = 'retrying';
      this.retry = this.clock.setTimer(ms, () => this.fire({ kind: 'retry' }));
      return;
    } else if ((status === 405 || status === 501) && method === 'UPDATE') {
      // The peer's Allow promised UPDATE; believe the response instead (RFC 3311 §5.1).
      this.updateRefused = true;
      this.send('INVITE', sent);
      return;
    }
    this.inFlight = undefined;
    this.end({ reason: 'refresh-failed', status, method });
  }

  private succeeded(res: SipResponse, sent: Attempt): void {
    const negotiated = negotiate(res, this.opts.config, sent);
    this.refreshes++;
    this.arm(negotiated);
    this.log.debug({ callId: this.opts.dialog.id.callId, interval: negotiated?.interval, refresher: negotiated?.refresher }, 'session refreshed (RFC 4028 §7.2)');
    this.opts.onRefreshed?.(negotiated, 'local');
  }

  /** (Re)start from a negotiation: refresh at half the interval, or expect one before §10's margin. */
  private arm(negotiated: Negotiated | undefined): void {
    this.cancel('due', 'deadline', 'retry');
    if (this.current === 'retrying') this.inFlight = undefined;
    this.timer = negotiated;
    this.refreshedAt = this.clock.now();
    if (negotiated === undefined) {
      this.current = 'inactive';
      return;
    }
    if (negotiated.refresher === 'local') {
      this.current = 'waiting';
      this.due = this.clock.setTimer(refreshDelayMs(negotiated.interval), () => this.fire({ kind: 'due' }));
      this.deadline = this.clock.setTimer(negotiated.interval * 1000, () => this.fire({ kind: 'deadline' }));
    } else {
      this.current = 'watching';
      this.deadline = this.clock.setTimer(expiryDelayMs(negotiated.interval), () => this.fire({ kind: 'deadline' }));
    }
  }

  /** A timer fired: a dialog that ended without stop() is left alone (no refresh, no BYE). */
  private fire(ev: Event): void {
    if (this.opts.dialog.state === 'terminated') this.dispatch({ kind: 'stop' });
    else this.dispatch(ev);
  }

  private send(method: RefreshMethodUsed, attempt: Attempt): void {
    const token = ++this.tokens;
    this.inFlight = { token, method, attempt };
    const headers: HeaderPair[] = [
      ['supported', this.supported(TIMER_OPTION_TAG)],
      ...refreshRequestHeaders(attempt.sessionExpires, this.requestRefresher(), attempt.minSE),
      ...(this.opts.extraHeaders ?? []),
    ];
    const options =
      method === 'INVITE' ? { headers, body: this.opts.sdp(), contentType: this.opts.sdpContentType ?? 'application/sdp' } : { headers };
    this.log.debug({ callId: this.opts.dialog.id.callId, method, sessionExpires: attempt.sessionExpires }, 'sending session refresh (RFC 4028 §7.4)');
    this.opts.ua.sendInDialog(this.opts.dialog, method, options).then(
      (res) => this.dispatch({ kind: 'answer', token, method, sent: attempt, status: res.status, res }),
      (err: unknown) => {
        this.log.warn({ callId: this.opts.dialog.id.callId, err: String(err) }, 'session refresh not sent');
        this.dispatch({ kind: 'answer', token, method, sent: attempt, status: 503, res: undefined });
      },
    );
  }

  private isCurrent(token: number): boolean {
    return this.inFlight?.token === token;
  }

  /** §7.4: UPDATE when the peer allows it (and never refused it), unless configured for re-INVITE. */
  private chooseMethod(): RefreshMethodUsed {
    if (this.opts.config.method === 'INVITE' || this.updateRefused) return 'INVITE';
    return this.opts.peerAllow().some((m) => m.toUpperCase() === 'UPDATE') ? 'UPDATE' : 'INVITE';
  }

  /** Who our refresh names as refresher: the negotiated one, else what the config asks for. */
  private requestRefresher(): RefresherRole | undefined {
    if (this.timer !== undefined) return this.timer.refresher;
    const r = this.opts.config.refresher;
    return r === 'none' ? undefined : r === 'uac' ? 'local' : 'remote';
  }

  private supported(tag: string): string {
    const tags = [tag, ...(this.opts.supportedTags ?? []).filter((t) => t.toLowerCase() !== tag)];
    return tags.join(', ');
  }

  /** §10: end the session with BYE and tell the application. */
  private end(expiry: SessionExpiry): void {
    this.cancel('due', 'deadline', 'retry');
    this.inFlight = undefined;
    this.current = 'ended';
    this.log.warn({ callId: this.opts.dialog.id.callId, ...expiry }, 'session timer ended the session with BYE (RFC 4028 §10)');
    // §10 sends the BYE after a 408 or 481 too, although the UA has already ended the dialog
    // locally: proxies that keep session state learn of the end from it.
    this.opts.ua.sendInDialog(this.opts.dialog, 'BYE').catch(() => undefined);
    this.opts.onExpired(expiry);
  }

  private cancel(...which: ('due' | 'deadline' | 'retry')[]): void {
    for (const w of which) {
      this[w]?.cancel();
      this[w] = undefined;
    }
  }
}
