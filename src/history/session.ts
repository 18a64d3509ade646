/**
 * One recorded IM session, from the accepted REFER to the end of the session.
 *
 * Seed 1.1.2-3..6: 2xx (202) to the REFER, INVITE the Conference-factory-URI, NOTIFY the
 * IM Client of the INVITE's progress (RFC 3515 §2.4.4 sipfrag) unless Refer-Sub: false.
 * Seed 1.2.1: store Allow and Contact of every response (provisional and final); on the
 * 200 start the session timer with the Session-Expires received (RFC 4028 §7.2).
 * Seed 1.3 on 200: store Allow, the IM Session Identity (Contact) and all SIP headers;
 * SUBSCRIBE to the conference event package (RFC 4575, RFC 6665) at the IM Session
 * Identity; hand the SDP answer to the user plane.
 * RFC 4028 §7.3: a 422 is followed by a retry with the Min-SE it asks for.
 * RFC 4975 §5.4: when the MSRP session fails (connection reset, framing lost) and is not
 * re-created, the SIP session is ended with BYE; the history records why.
 */
import type { Logger } from 'pino';
import type { SipRequest, SipResponse } from '../sip/message/message.js';
import type { Dialog } from '../sip/dialog/dialog.js';
import type { IncomingRequest } from '../sip/ua/incoming.js';
import type { UserAgent } from '../sip/ua/user-agent.js';
import { acceptRefer, type ReferNotifier } from '../sip/events/refer-notifier.js';
import { subscribe, type Subscription } from '../sip/events/subscriber.js';
import { SessionTimer } from '../sip/session-timer/session-timer.js';
import { handle422, negotiate, retryRequestAfter422, sessionTimerRequestHeaders, type Attempt } from '../sip/session-timer/uac.js';
import type { SessionTimerConfig } from '../sip/session-timer/config.js';
import { formatUri, type SipUri } from '../sip/message/headers/uri.js';
import { getParamUnquoted } from '../sip/message/headers/scan.js';
import { parseMultipart, partMediaType } from '../sip/message/headers/multipart.js';
import type { HistoryRecord, HistoryState, HistoryStore, StoredHeader } from '../store/types.js';
import type { Clock } from '../sip/clock.js';
import { parseConferenceInfo } from '../conference/conference-info.js';
import { buildCpim, newImdnMessageId } from '../cpim/serialize.js';
import { Roster } from '../conference/roster.js';
import { buildFactoryInvite, IM_ACCEPT_CONTACT } from './originate.js';
import type { HistoryTypeParam } from './history-type.js';
import type { ImUser, ReferTarget } from './refer.js';
import type { UserPlane } from './user-plane.js';

export interface SessionDeps {
  ua: UserAgent;
  store: HistoryStore;
  userPlane: UserPlane;
  clock: Clock;
  log: Logger;
  allow: readonly string[];
  supported: readonly string[];
  timerConfig: SessionTimerConfig;
  referExpires: number;
  conferenceExpires: number;
  /** How long the factory INVITE may go without a final response before we CANCEL it. */
  inviteTimeoutMs: number;
  /** Our Contact URI for the INVITE. */
  contactUri: string;
  /** The instance id stamped on each history (config instance.id). */
  instanceId?: string;
  ended(session: HistorySession): void;
}

export interface SessionRequest {
  /** For a playback session: the stored history to play into the new session. */
  playback?: HistoryRecord;
  refer: IncomingRequest;
  initiator: SipUri;
  factoryUri: string;
  imUsers: ImUser[];
  history: HistoryTypeParam;
  target: ReferTarget;
}

export type SessionPhase = 'inviting' | 'active' | 'ending' | 'ended';

const headersOf = (msg: { headers: readonly { name: string; value: string }[] }): StoredHeader[] =>
  msg.headers.map((h) => ({ name: h.name, value: h.value }));

export class HistorySession {
  phase: SessionPhase = 'inviting';
  record!: HistoryRecord;
  dialog: Dialog | undefined;
  private notifier: ReferNotifier | undefined;
  private subscription: Subscription | undefined;
  private timer: SessionTimer | undefined;
  private offer = '';
  private serverAllow: string[] = [];
  private readonly roster = new Roster();
  private startedAt: number | undefined;
  private inviting: AbortController | undefined;
  private stopReason: string | undefined;
  private settled: Promise<void> = Promise.resolve();
  private log: Logger;

  constructor(
    private readonly deps: SessionDeps,
    private readonly req: SessionRequest,
  ) {
    this.log = deps.log;
  }

  /** A summary for the live-sessions view (API, viewer). */
  live(): { historyId: string; name: string; owner: string; state: HistoryState; conferenceUri?: string; startedAt?: number } {
    const r = this.record as HistoryRecord | undefined;
    return {
      historyId: r?.id ?? '',
      name: r?.name ?? '',
      owner: r?.owner ?? '',
      state: this.phase === 'inviting' ? 'inviting' : this.phase === 'active' ? 'active' : 'ended',
      ...(this.dialog !== undefined ? { conferenceUri: this.dialog.remoteTarget } : {}),
      ...(this.startedAt !== undefined ? { startedAt: this.startedAt } : {}),
    };
  }

  /** Accept the REFER (seed 1.1.2-3/4) and start the INVITE (1.1.2-5); resolves when the INVITE is answered. */
  async start(): Promise<void> {
    const { refer, initiator, target } = this.req;
    const { deps } = this;
    const now = Date.now();
    this.record = await deps.store.createHistory({
      name:
        this.req.playback !== undefined
          ? `playback of ${this.req.playback.name}`
          : (this.req.history.filename ?? `session-${new Date(now).toISOString()}`),
      type: this.req.history.type,
      owner: formatUri({ ...initiator, params: [], headers: [], port: undefined }),
      conferenceFactory: this.req.factoryUri,
      imUsers: this.req.imUsers.map((u) => u.uri),
      referCallId: refer.request.callId(),
      clientAllow: target.clientAllow,
      clientContact: target.clientContact,
      referHeaders: headersOf(refer.request),
      createdAt: now,
      ...(deps.instanceId !== undefined ? { instance: deps.instanceId } : {}),
    });
    this.log = deps.log.child({ historyId: this.record.id, referCallId: refer.request.callId() });
    const accepted = acceptRefer(deps.ua, refer, {
      expires: deps.referExpires,
      clock: deps.clock,
      headers: [['allow', deps.allow.join(', ')]],
      onTerminated: (reason) => this.log.debug({ reason }, 'REFER subscription ended'),
    });
    this.notifier = accepted.notifier;
    this.log.info({ name: this.record.name, factory: this.req.factoryUri, users: this.req.imUsers.length, referSub: accepted.referSub }, 'REFER accepted');
    await this.invite();
  }

  /** End the session from our side (shutdown, operator): CANCEL or BYE, then close everything. */
  async stop(reason: string): Promise<void> {
    if (this.phase === 'ended' || this.phase === 'ending') return;
    if (this.phase === 'inviting') {
      // RFC 3261 §9.1: CANCEL the INVITE; invite() finishes the session when it ends.
      this.stopReason = reason;
      this.inviting?.abort();
      await this.settled;
      return;
    }
    const d = this.dialog;
    this.phase = 'ending';
    if (d !== undefined && d.state !== 'terminated') {
      try {
        await this.deps.ua.sendInDialog(d, 'BYE');
      } catch (e) {
        this.log.warn({ err: String(e) }, 'BYE failed');
      }
    }
    await this.finish('ended', reason);
  }

  /** The INVITE dialog ended (BYE either way, 481/408, session timer). */
  onDialogTerminated(dialog: Dialog, reason: string): void {
    // While stop() is ending the session it records its own reason.
    if (dialog !== this.dialog || this.phase === 'ending') return;
    // A session refresh answered 408/481 (or timed out) ended the dialog here (RFC 3261
    // §12.2.1.2) before the session timer could act: RFC 4028 §10 still sends the BYE, so the
    // focus and stateful proxies learn the session is over.
    if (/^(408|481) to (UPDATE|INVITE)$/.test(reason)) this.deps.ua.sendInDialog(dialog, 'BYE').catch(() => undefined);
    void this.finish('ended', reason);
  }

  private async invite(): Promise<void> {
    const { deps } = this;
    this.offer = await deps.userPlane.offer(this.record.id);
    const st = sessionTimerRequestHeaders(deps.timerConfig);
    const req = buildFactoryInvite((m, u, f, t) => deps.ua.createRequest(m, u, f, t), {
      factoryUri: this.req.factoryUri,
      historyParams: this.req.history.raw,
      initiator: this.req.initiator,
      imUsers: this.req.imUsers,
      sdpOffer: this.offer,
      allow: deps.allow,
      supported: deps.supported.includes(st.supported) ? deps.supported : [...deps.supported, st.supported],
      sessionTimerHeaders: st.headers,
      contactUri: deps.contactUri,
      referredBy: this.req.refer.request.get('referred-by'),
    });
    await deps.store.updateHistory(this.record.id, { sessionCallId: req.callId() });
    const attempt: Attempt = { sessionExpires: deps.timerConfig.sessionExpires, minSE: deps.timerConfig.minSE, retries: 0 };
    const ac = new AbortController();
    this.inviting = ac;
    // No final answer in time: CANCEL (§9.1), the INVITE then ends with 487.
    const guard = deps.clock.setTimer(deps.inviteTimeoutMs, () => {
      this.stopReason ??= `no final response within ${deps.inviteTimeoutMs / 1000} s`;
      ac.abort();
    });
    let release!: () => void;
    this.settled = new Promise((r) => (release = r));
    try {
      await this.inviteLoop(req, attempt, ac.signal);
    } finally {
      guard.cancel();
      this.inviting = undefined;
      release();
    }
  }

  private async inviteLoop(first: SipRequest, start: Attempt, signal: AbortSignal): Promise<void> {
    const { deps } = this;
    let req = first;
    let attempt = start;
    for (;;) {
      this.log.info({ callId: req.callId(), uri: req.uri }, 'INVITE to conference factory');
      const result = await deps.ua.invite(req, { onProvisional: (r) => void this.onResponse(r), signal });
      const res = result.response;
      const retry = res.status === 422 ? handle422(res, deps.timerConfig, attempt) : undefined;
      if (retry !== undefined) {
        await this.recordResponse(res);
        attempt = retry;
        req = retryRequestAfter422(req, retry);
        continue;
      }
      await this.onResponse(res);
      if (res.status >= 200 && res.status < 300 && result.dialog !== undefined) {
        await this.established(res, result.dialog, attempt);
        // A 2xx that crossed our CANCEL: the session exists, end it with BYE (§9.1).
        if (this.stopReason !== undefined) await this.stop(this.stopReason);
      } else await this.finish('failed', this.stopReason ?? `${res.status} ${res.reason}`);
      return;
    }
  }

  /** Seed 1.2.1: store Allow and Contact of each response; 1.1.2-6: tell the IM Client. */
  private async onResponse(res: SipResponse): Promise<void> {
    if (res.status === 100) return;
    this.notifier?.progress(res.status, res.reason);
    await this.recordResponse(res);
  }

  private async recordResponse(res: SipResponse): Promise<void> {
    const allow = res.tokens('allow');
    if (allow.length > 0) this.serverAllow = allow;
    const contact = res.getAll('contact')[0];
    await this.deps.store.addSipEvent(this.record.id, { at: Date.now(), direction: 'in', summary: `SIP/2.0 ${res.status} ${res.reason}`, headers: headersOf(res) });
    if (allow.length > 0 || contact !== undefined) {
      await this.deps.store.updateHistory(this.record.id, {
        ...(allow.length > 0 ? { serverAllow: allow } : {}),
        ...(contact !== undefined ? { conferenceUri: contact } : {}),
      });
    }
  }

  private async established(res: SipResponse, dialog: Dialog, attempt: Attempt): Promise<void> {
    const { deps } = this;
    this.dialog = dialog;
    this.phase = 'active';
    this.startedAt = Date.now();
    await deps.store.updateHistory(this.record.id, {
      state: 'active',
      startedAt: Date.now(),
      sessionHeaders: headersOf(res),
      conferenceUri: dialog.remoteTarget,
    });
    this.log.info({ conference: dialog.remoteTarget }, 'session established');
    deps.ua.setDialogHandler(dialog, (_d, incoming) => this.onInDialog(incoming));

    // Seed 1.2.1 (200): start the session timer with the Session-Expires received.
    const negotiated = negotiate(res, deps.timerConfig, { sessionExpires: attempt.sessionExpires });
    this.timer = new SessionTimer({
      ua: deps.ua,
      dialog,
      config: deps.timerConfig,
      negotiated,
      minSE: attempt.minSE,
      clock: deps.clock,
      sdp: () => this.offer,
      peerAllow: () => this.serverAllow,
      onExpired: (expiry) => {
        this.log.warn({ expiry }, 'session timer expired');
        void this.finish('ended', `session timer: ${JSON.stringify(expiry)}`);
      },
      extraHeaders: [['allow', deps.allow.join(', ')]],
    });

    try {
      await deps.userPlane.answer(this.record.id, sdpOf(res), (reason) => {
        // RFC 4975 §5.4: the MSRP session failed and is not re-created: end the SIP session.
        void this.stop(`MSRP session failed: ${reason}`);
      });
    } catch (e) {
      // An unusable answer, or an MSRP session that could not be set up (connect or binding SEND failed).
      this.log.warn({ err: String(e) }, 'user plane could not start: ending the session');
      await this.stop(`user plane failed: ${String(e)}`);
      return;
    }
    this.subscribeConference(dialog);
    if (this.req.playback !== undefined) void this.play(this.req.playback);
  }

  /**
   * Playback (issue 4): the stored messages go into the new session in their order, each as
   * message/cpim (RFC 3862) with its original sender and DateTime and a fresh imdn.Message-ID.
   */
  private async play(source: HistoryRecord): Promise<void> {
    const messages = await this.deps.store.messages(source.id);
    const to = this.dialog?.remoteTarget ?? this.req.factoryUri;
    let played = 0;
    for (const m of messages) {
      if (this.phase !== 'active') break;
      const body = buildCpim({
        from: { uri: m.sender },
        to: [{ uri: to }],
        dateTime: new Date(m.at),
        imdn: { messageId: newImdnMessageId() },
        contentType: m.contentType,
        body: m.body,
      });
      try {
        await this.deps.userPlane.send(this.record.id, 'message/cpim', body);
        played++;
      } catch (e) {
        this.log.warn({ err: String(e), played }, 'playback stopped');
        return;
      }
    }
    this.log.info({ played, source: source.id }, 'playback complete');
  }

  /** Seed 1.3-5: SUBSCRIBE to the conference event package at the IM Session Identity. */
  private subscribeConference(dialog: Dialog): void {
    const { deps } = this;
    const initiator = `<${formatUri({ ...this.req.initiator, params: [], headers: [] })}>`;
    this.subscription = subscribe(
      deps.ua,
      {
        target: dialog.remoteTarget,
        from: initiator,
        to: `<${dialog.remoteTarget}>`,
        event: 'conference',
        accept: 'application/conference-info+xml',
        expires: deps.conferenceExpires,
        clock: deps.clock,
        headers: [
          ['accept-contact', IM_ACCEPT_CONTACT],
          ['p-asserted-identity', initiator],
          ['allow', deps.allow.join(', ')],
          ['supported', deps.supported.join(', ')],
        ],
      },
      {
        onNotify: (info) => {
          const at = Date.now();
          const body = info.body.toString('utf8');
          void deps.store
            .addConferenceNotification(this.record.id, { at, contentType: info.contentType ?? '', body })
            .catch((e: unknown) => this.log.error({ err: String(e) }, 'storing conference notification failed'));
          if (info.first) this.roster.newSubscription();
          if (body.trim().length > 0) this.applyRoster(body, at);
        },
        onTerminated: (reason) => this.log.info({ reason }, 'conference subscription ended'),
      },
    );
  }

  /** RFC 4575: turn a conference-info document into join/leave/status events in the store. */
  private applyRoster(body: string, at: number): void {
    let changes;
    try {
      changes = this.roster.apply(parseConferenceInfo(body), at);
    } catch (e) {
      this.log.warn({ err: String(e) }, 'unusable conference-info document');
      return;
    }
    if ('resync' in changes) {
      // A lost partial notification: a fresh subscription brings the full state (RFC 4575 §4.6 / §5).
      this.log.info({ reason: changes.reason }, 'conference roster out of step: subscribing again');
      const d = this.dialog;
      this.subscription?.close();
      if (d !== undefined && this.phase === 'active') this.subscribeConference(d);
      return;
    }
    for (const c of changes) {
      void this.deps.store
        .addRosterEvent(this.record.id, {
          at: c.when ?? c.at,
          kind: c.kind,
          user: c.user,
          ...(c.displayName !== undefined ? { displayName: c.displayName } : {}),
          ...(c.endpoint !== undefined ? { endpoint: c.endpoint } : {}),
          ...(c.status !== undefined ? { status: c.status } : {}),
          ...((c.joiningMethod ?? c.disconnectionMethod) !== undefined ? { method: (c.joiningMethod ?? c.disconnectionMethod)! } : {}),
          ...(c.reason !== undefined ? { reason: c.reason } : {}),
        })
        .catch((e: unknown) => this.log.error({ err: String(e) }, 'storing a roster event failed'));
    }
  }

  private onInDialog(incoming: IncomingRequest): void {
    if (this.timer?.handleRequest(incoming) === true) return;
    const m = incoming.request.method;
    if (m === 'INVITE' || m === 'UPDATE') return void incoming.respond(488, { reason: 'Not Acceptable Here' });
    incoming.respond(m === 'INFO' || m === 'OPTIONS' ? 200 : 405, { headers: [['allow', this.deps.allow.join(', ')]] });
  }

  private async finish(state: 'ended' | 'failed', reason: string): Promise<void> {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    this.timer?.stop();
    const sub = this.subscription;
    if (sub !== undefined && sub.state !== 'terminated') {
      try {
        await sub.unsubscribe();
      } catch {
        sub.close();
      }
    }
    if (state === 'failed') this.notifier?.progress(503, 'Service Unavailable');
    try {
      await this.deps.userPlane.close(this.record.id);
      await this.deps.store.updateHistory(this.record.id, { state, endedAt: Date.now(), endReason: reason });
    } catch (e) {
      this.log.error({ err: String(e) }, 'closing the history failed');
    }
    this.log.info({ state, reason }, 'session over');
    this.deps.ended(this);
  }
}

/** The SDP of a 2xx: the body itself, or the application/sdp part of a multipart body. */
function sdpOf(res: SipResponse): Buffer {
  const ct = res.contentType();
  if (ct === undefined) return res.body;
  if (ct.type === 'multipart') {
    const boundary = getParamUnquoted(ct.params, 'boundary');
    if (boundary !== undefined && boundary !== null) {
      const part = parseMultipart(res.body, boundary).find((p) => partMediaType(p) === 'application/sdp');
      if (part !== undefined) return part.body;
    }
  }
  return res.body;
}
