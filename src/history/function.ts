/**
 * THE IM History Function: takes REFERs (seed 1.1), runs the checks of 1.1.1 and 1.1.2 in
 * order, and starts one HistorySession per accepted REFER (1.1.2-3..6, 1.2, 1.3).
 *
 * Order of checks (each a final response to the REFER, RFC 3515 §2.4.2):
 *   1. resources (1.1.1-1b): at maxSessions -> 503 + Retry-After (RFC 3261 §21.5.4)
 *   2. P-Asserted-Identity from the trust domain (1.1.1-1a, RFC 3325) -> else 403
 *   3. Accept-Contact with +g.oma.sip-im (1.1.1-2, RFC 3841) -> else 403
 *   4. Refer-To: one, method absent or INVITE, a configured conference factory -> 400/403/416
 *   5. History Type parameter and filename (1.1.2-2) -> 400 with a Warning (RFC 3261 §20.43)
 *   6. IM users from the URI list (1.1.2-2) -> 400/415
 *   7. authorisation: initiation and adding policy (1.1.2-1) -> 403
 * Every response carries Server with the IM release version (UserAgent) and Allow (1.1.1).
 */
import type { Logger } from 'pino';
import type { HistoryConfig } from '../config.js';
import type { Clock } from '../sip/clock.js';
import type { Dialog } from '../sip/dialog/dialog.js';
import type { IncomingRequest } from '../sip/ua/incoming.js';
import type { UserAgent } from '../sip/ua/user-agent.js';
import { resolveSessionTimerConfig } from '../sip/session-timer/config.js';
import type { HistoryStore } from '../store/types.js';
import { HistoryTypeError, readHistoryType } from './history-type.js';
import { acceptsIm, aor, authenticatedOriginator, authorize, matchFactory, rejection, trustList, type PolicyConfig, type PolicyRejection } from './policy.js';
import { readRefer } from './refer.js';
import { HistorySession } from './session.js';
import type { UserPlane } from './user-plane.js';
import type { BlockList } from 'node:net';
import { uriTransport } from '../sip/ua/resolve.js';

/** What we do (Allow, seed 1.1.1 / 1.2.1-3): REFER in, INVITE/SUBSCRIBE out, in-dialog refreshes. */
export const HISTORY_METHODS = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REFER', 'NOTIFY', 'SUBSCRIBE', 'UPDATE', 'INFO'] as const;
/** Option tags we support: RFC 4028 timer, RFC 4488 norefersub, RFC 5366 recipient-list-invite. */
export const HISTORY_OPTION_TAGS = ['timer', 'norefersub'] as const;

/** The UAS profile (src/sip/message/validate.ts) the UserAgent checks requests against. */
export const HISTORY_PROFILE = {
  methods: [...HISTORY_METHODS],
  optionTags: [...HISTORY_OPTION_TAGS],
  contentTypes: {
    REFER: ['application/resource-lists+xml', 'multipart/mixed'],
    NOTIFY: ['application/conference-info+xml', 'message/sipfrag'],
    INVITE: ['application/sdp', 'multipart/mixed'],
    UPDATE: ['application/sdp'],
  },
};

/** What the History Function reports for metrics (src/api/metrics.ts implements it). */
export interface HistoryFunctionMetrics {
  referOutcome(outcome: string | number): void;
}

export interface HistoryFunctionOptions {
  metrics?: HistoryFunctionMetrics;
  ua: UserAgent;
  store: HistoryStore;
  userPlane: UserPlane;
  config: HistoryConfig;
  clock: Clock;
  logger: Logger;
  /** This instance's id (config instance.id), stamped on every history it records. */
  instanceId?: string;
  /**
   * The store is shared with other instances (PostgreSQL): closeAbandoned then closes only
   * this instance's histories. A store of its own (SQLite file) has no other writer, so
   * every open history in it was abandoned.
   */
  sharedStore?: boolean;
}

export class HistoryFunction {
  readonly sessions = new Set<HistorySession>();
  /** REFERs refused, by status, for metrics and tests. */
  readonly refused = new Map<number, number>();
  private readonly trusted: BlockList;
  private readonly policy: PolicyConfig;
  private closing = false;

  constructor(private readonly opts: HistoryFunctionOptions) {
    const c = opts.config;
    this.trusted = trustList(c.trustedPeers);
    this.policy = {
      trustedPeers: c.trustedPeers,
      trustedDomains: c.trustedDomains,
      allow: c.allow,
      deny: c.deny,
      maxImUsers: c.maxImUsers,
      conferenceFactories: c.conferenceFactories,
    };
  }

  /** The UserAgent's onRequest: out-of-dialog requests that passed the RFC 3261 §8.2 checks. */
  handleRequest(incoming: IncomingRequest): void {
    const m = incoming.request.method;
    if (m === 'REFER') return void this.onRefer(incoming).catch((e: unknown) => this.internalError(incoming, e));
    if (m === 'SUBSCRIBE') return void incoming.respond(489, { reason: 'Bad Event', headers: [['allow-events', 'refer']] });
    if (m === 'NOTIFY') return void incoming.respond(481, { reason: 'Subscription Does Not Exist' });
    // INVITE: the History Function sets sessions up itself; it does not take them.
    incoming.respond(403, { reason: 'Forbidden: the History Function only accepts REFER', headers: this.allowHeader() });
  }

  /** The UserAgent's onDialogTerminated. */
  dialogTerminated(dialog: Dialog, reason: string): void {
    for (const s of this.sessions) s.onDialogTerminated(dialog, reason);
  }

  /**
   * After a crash (kill -9, power loss) histories may still say 'inviting' or 'active' though
   * nothing carries them any more: close them with a reason at start-up. Returns how many.
   * With a shared store only this instance's own histories: the others' are live.
   */
  async closeAbandoned(reason = 'server restarted while the session was open'): Promise<number> {
    const { store, sharedStore, instanceId } = this.opts;
    if (sharedStore === true && instanceId === undefined) throw new Error('closeAbandoned on a shared store needs the instance id');
    const own = sharedStore === true ? { instance: instanceId } : {};
    const open = [...(await store.listHistories({ state: 'active', ...own })), ...(await store.listHistories({ state: 'inviting', ...own }))];
    const now = Date.now();
    for (const h of open) {
      await this.opts.store.updateHistory(h.id, { state: h.state === 'active' ? 'ended' : 'failed', endedAt: now, endReason: reason });
    }
    if (open.length > 0) this.opts.logger.warn({ count: open.length, ...own }, 'closed histories left open by an earlier run');
    return open.length;
  }

  /** Stop taking REFERs and end every session with BYE. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.sessions].map((s) => s.stop('shutdown')));
  }

  private async onRefer(incoming: IncomingRequest): Promise<void> {
    const req = incoming.request;
    const c = this.opts.config;
    const log = this.opts.logger.child({ callId: req.callId() });
    const refuse = (r: PolicyRejection): void => {
      this.refused.set(r.status, (this.refused.get(r.status) ?? 0) + 1);
      this.opts.metrics?.referOutcome(r.status);
      log.info({ status: r.status, reason: r.reason }, 'REFER refused');
      incoming.respond(r.status, { reason: r.reason, headers: [...r.headers, ...this.allowHeader()] });
    };

    if (this.closing) return refuse(rejection(503, 'Service Unavailable: shutting down', [['retry-after', String(c.retryAfterSeconds)]]));
    if (this.sessions.size >= c.maxSessions) {
      return refuse(rejection(503, 'Service Unavailable: session limit reached', [['retry-after', String(c.retryAfterSeconds)]]));
    }
    const initiator = authenticatedOriginator(req, this.trusted);
    if (initiator === undefined) return refuse(rejection(403, 'Forbidden: no trusted P-Asserted-Identity'));
    if (!acceptsIm(req)) return refuse(rejection(403, 'Forbidden: Accept-Contact lacks +g.oma.sip-im'));

    const target = readRefer(req, c.maxImUsers);
    if ('status' in target) return refuse(target);
    const factoryUri = target.factoryUri === undefined ? c.defaultConferenceFactory : matchFactory(target.factoryUri, c.conferenceFactories);
    if (factoryUri === undefined) return refuse(rejection(403, 'Forbidden: Refer-To is not a conference factory'));

    let history;
    try {
      history = readHistoryType(req.requestUri());
    } catch (e) {
      if (!(e instanceof HistoryTypeError)) throw e;
      return refuse(rejection(400, `Bad Request: ${e.message}`, [['warning', `399 ${this.warnAgent()} "${e.message.replace(/"/g, "'")}"`]]));
    }
    const denied = authorize(initiator, target.imUsers.map((u) => u.uri), this.policy);
    if (denied !== undefined) return refuse(denied);

    // Playback: the initiator must be able to see the history (same rule as read access).
    let playback;
    if (history.type === 'playback') {
      const visible = await this.opts.store.historiesVisibleTo(aor(initiator));
      playback = visible.filter((h) => h.name === history.filename && h.type === 'session').sort((a, b) => b.createdAt - a.createdAt)[0];
      if (playback === undefined) return refuse(rejection(404, `Not Found: no history "${history.filename}" visible to ${aor(initiator)}`));
    }

    const session = new HistorySession(
      {
        ua: this.opts.ua,
        store: this.opts.store,
        userPlane: this.opts.userPlane,
        clock: this.opts.clock,
        log: this.opts.logger,
        allow: HISTORY_METHODS,
        supported: ['timer', 'recipient-list-invite'],
        timerConfig: resolveSessionTimerConfig({ ...c.sessionTimer, refresher: 'uac' }),
        referExpires: c.referExpires,
        conferenceExpires: c.conferenceExpires,
        inviteTimeoutMs: c.inviteTimeout * 1000,
        contactUri: this.contactUri(factoryUri),
        ...(this.opts.instanceId !== undefined ? { instanceId: this.opts.instanceId } : {}),
        ended: (s) => this.sessions.delete(s),
      },
      { refer: incoming, initiator, factoryUri, imUsers: target.imUsers, history, target, ...(playback !== undefined ? { playback } : {}) },
    );
    this.sessions.add(session);
    this.opts.metrics?.referOutcome('accepted');
    await session.start();
  }

  private internalError(incoming: IncomingRequest, e: unknown): void {
    this.opts.logger.error({ err: e instanceof Error ? e.stack : String(e) }, 'REFER handling failed');
    if (!incoming.answered) incoming.respond(500, { reason: 'Server Internal Error' });
  }

  private allowHeader(): [string, string][] {
    return [['allow', HISTORY_METHODS.join(', ')]];
  }

  private warnAgent(): string {
    const l = this.opts.ua.contactFor('UDP');
    return l.replace(/^<sip:(?:[^@>]*@)?/, '').replace(/[;>].*$/, '');
  }

  /** Our Contact for the INVITE: on the transport the factory is reached over (RFC 3263 §4.1). */
  private contactUri(factoryUri: string): string {
    const c = this.opts.ua.contactFor(uriTransport(factoryUri).transport);
    return c.slice(1, c.indexOf('>'));
  }
}
