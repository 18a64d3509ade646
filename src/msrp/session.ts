/**
 * One MSRP session (RFC 4975 §5, §7; RFC 4976 relays; RFC 6135 connection setup).
 *
 * - Addressing (§5.2, RFC 4976 §5): our path is our relays (a=path order) then our own URI,
 *   whose session-id (≥ 80 random bits, §14.1) keys the endpoint's session table. We send
 *   with To-Path = our relays nearest-first, then the peer's a=path, and From-Path = our
 *   URI; each relay pops itself off the To-Path and pushes itself onto the From-Path, so a
 *   request from the peer arrives with exactly that same list as its From-Path.
 * - Incoming requests (§7.3): the From-Path must equal that list (URIs compared per §6.1),
 *   else 481; a request for a session bound to another connection gets 506 (§10).
 * - Connection setup (§5.4, RFC 6135 §4): the active side connects to the first URI of its
 *   To-Path (a relay, or the peer) and immediately sends a SEND — bodiless here — so the
 *   passive side can bind the connection to the session; the passive side binds on the
 *   first valid request. Requests that arrive before the peer's path is known (the SIP
 *   answer may lag the TCP connection) are held, bounded, for limits.bindTimeoutMs.
 * - SEND (§7.1.1, §7.3.1): chunks are reassembled per Message-ID; every chunk is answered
 *   per Failure-Report; with Success-Report: yes a REPORT "Status: 000 200" covering the
 *   whole message follows once it is complete (§7.1.2). REPORTs are never answered.
 * - Sending: a body is cut into chunks of limits.maxChunkSize with Byte-Ranges, up to
 *   limits.sendWindow transactions in flight; a negative response stops the message.
 */
import type { Fingerprint } from '../sdp/fingerprint.js';
import { EventEmitter } from 'node:events';
import type { MsrpUri } from '../sdp/msrp-uri.js';
import { parseMsrpUri, msrpUriEquals } from '../sdp/msrp-uri.js';
import { weConnect, type MsrpSetup } from '../sdp/msrp-offer.js';
import type { TimerHandle } from '../sip/clock.js';
import type { MsrpConnection, TransactionResult } from './connection.js';
import { MsrpParseError, MsrpSendError } from './errors.js';
import { newMessageId } from './ids.js';
import { debugOn } from './config.js';
import {
  acceptsType, byteRangeOf, getHeader, messageIdOf, parsePath, statusOf, successReportOf,
  type ByteRange, type MsrpRequest,
} from './message.js';
import { Reassembler } from './reassembly.js';
import { buildReport } from './serialize.js';
import { bindingSend, sendChunked } from './transfer.js';
import type { MsrpSessionEvents, MsrpSessionState, ReceivedMessage, ReceivedReport, SendOptions, SendResult, SessionHost } from './session-types.js';

export type { MsrpSessionEvents, MsrpSessionState, ReceivedMessage, ReceivedReport, SendOptions, SendResult, SessionHost } from './session-types.js';

const EMPTY = Buffer.alloc(0);

export class MsrpSession extends EventEmitter<MsrpSessionEvents> {
  /**
   * Where complete messages must be kept before they are acknowledged: when set, the 200 to
   * the chunk that completes a message (and its Success-Report) waits for the returned
   * promise; a rejection is answered 403 so the sender knows the message was not kept.
   * The 'message' event still fires after the sink has taken the message.
   */
  sink: ((m: ReceivedMessage) => Promise<void>) | undefined;
  /**
   * The peer's SDP a=fingerprint values (RFC 4975 §14.1, RFC 8122): over TLS its certificate
   * must match one of them (checked by the endpoint, src/msrp/tls.ts). Set before start().
   */
  peerFingerprints: readonly Fingerprint[] = [];
  readonly localUri: string;
  readonly localUriParsed: MsrpUri;
  /** Relays then our URI: the a=path list (RFC 4975 §8.2). */
  readonly localPathUris: readonly string[];
  /** The a=path attribute value: localPathUris joined by spaces. */
  readonly localPath: string;
  private stateValue: MsrpSessionState = 'new';
  private peer: string[] | undefined;
  /** To-Path we send with, and the From-Path we expect (the same list, see the header comment). */
  private route: { text: string[]; uris: MsrpUri[] } | undefined;
  private conn: MsrpConnection | undefined;
  private readonly reassembler: Reassembler;
  private deferred: { conn: MsrpConnection; req: MsrpRequest }[] = [];
  private bindTimer: TimerHandle | undefined;
  private expiryTimer: TimerHandle | undefined;

  constructor(
    readonly sessionId: string,
    localUri: string,
    private readonly relays: readonly string[],
    private readonly acceptTypes: readonly string[],
    private readonly host: SessionHost,
  ) {
    super();
    this.localUri = localUri;
    this.localUriParsed = parseMsrpUri(localUri);
    for (const r of relays) parseMsrpUri(r);
    this.localPathUris = [...relays, localUri];
    this.localPath = this.localPathUris.join(' ');
    this.reassembler = new Reassembler(host.ctx.limits.reassembly);
  }

  get state(): MsrpSessionState {
    return this.stateValue;
  }

  get peerPath(): readonly string[] | undefined {
    return this.peer;
  }

  get connection(): MsrpConnection | undefined {
    return this.conn;
  }

  /** Active side (RFC 6135): connect to the first hop and bind with a bodiless SEND. */
  async connect(peerPath: readonly string[]): Promise<void> {
    this.setPeer(peerPath, 'connecting');
    const firstHop = this.route!.uris[0]!;
    let conn: MsrpConnection;
    try {
      conn = await this.host.connect(firstHop, this.peerFingerprints);
    } catch (e) {
      this.close(`connect failed: ${(e as Error).message}`);
      throw e instanceof MsrpSendError ? e : new MsrpSendError(`connect to ${this.route!.text[0]} failed: ${(e as Error).message}`, 'connect-failed');
    }
    if (this.stateValue === 'closed') {
      if (conn.sessions.size === 0 && conn.direction === 'outbound') conn.close('session closed while connecting');
      throw new MsrpSendError('session closed while connecting', 'closed');
    }
    this.host.bind(this, conn);
    this.conn = conn;
    const bindSend = bindingSend(this.route!.text, [this.localUri]);
    let r: TransactionResult;
    try {
      r = await conn.send(bindSend, 'all');
    } catch (e) {
      this.close(`binding SEND failed: ${(e as Error).message}`);
      throw e;
    }
    if (r.code !== 200) {
      this.close(`binding SEND answered ${r.code}`);
      throw new MsrpSendError(`binding SEND answered ${r.code} ${r.comment ?? ''}`.trim(), r.timedOut ? 'timeout' : 'rejected', r.code);
    }
    if (this.stateValue !== 'connecting') return;
    this.open();
  }

  /** Passive side: wait for the peer's first request; resolves from opened(). */
  accept(peerPath: readonly string[]): void {
    this.setPeer(peerPath, 'waiting');
    const held = this.deferred;
    this.deferred = [];
    this.bindTimer?.cancel();
    for (const d of held) this.host.redeliver(d.conn, d.req);
  }

  /** Connects or waits as the a=setup roles say (RFC 6135, RFC 4145 §4.1). */
  async start(peerPath: readonly string[], ours: MsrpSetup, theirs: MsrpSetup): Promise<void> {
    if (weConnect(ours, theirs)) return this.connect(peerPath);
    this.accept(peerPath);
    return this.opened();
  }

  /**
   * Resolves when the session is bound to a connection; rejects if it closes first or, with
   * timeoutMs, when no peer has bound it by then (Clock-driven; the session stays as it is).
   */
  opened(timeoutMs?: number): Promise<void> {
    if (this.stateValue === 'open') return Promise.resolve();
    if (this.stateValue === 'closed') return Promise.reject(new MsrpSendError('session closed', 'closed'));
    return new Promise((resolve, reject) => {
      const timer = timeoutMs === undefined ? undefined : this.host.ctx.clock.setTimer(timeoutMs, () => {
        this.off('open', onOpen);
        this.off('closed', onClosed);
        reject(new MsrpSendError(`session not opened within ${timeoutMs} ms`, 'timeout'));
      });
      const onOpen = (): void => {
        timer?.cancel();
        this.off('closed', onClosed);
        resolve();
      };
      const onClosed = ({ reason }: { reason: string }): void => {
        timer?.cancel();
        this.off('open', onOpen);
        reject(new MsrpSendError(`session closed: ${reason}`, 'closed'));
      };
      this.once('open', onOpen);
      this.once('closed', onClosed);
    });
  }

  async send(contentType: string, body: Buffer, opts: SendOptions = {}): Promise<SendResult> {
    const conn = this.conn;
    if (this.stateValue !== 'open' || conn === undefined || !conn.isOpen) throw new MsrpSendError(`session is ${this.stateValue}`, 'not-open');
    const messageId = opts.messageId ?? newMessageId();
    const chunks = await sendChunked(conn, {
      toPath: this.route!.text,
      fromPath: [this.localUri],
      contentType,
      body,
      messageId,
      successReport: opts.successReport === true,
      failureReport: opts.failureReport ?? 'yes',
      chunkSize: opts.chunkSize ?? this.host.ctx.limits.maxChunkSize,
      window: this.host.ctx.limits.sendWindow,
    });
    if (debugOn(this.host.ctx.logger)) this.host.ctx.logger.debug({ sessionId: this.sessionId, messageId, chunks, bytes: body.length }, 'msrp message sent');
    return { messageId, chunks, bytes: body.length };
  }

  /** Ends the session; the endpoint closes a connection we opened once no session uses it. */
  close(reason = 'closed locally'): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    this.bindTimer?.cancel();
    this.expiryTimer?.cancel();
    for (const d of this.deferred) d.conn.respond(d.req, 481, 'Session-does-not-exist', this.localUri);
    this.deferred = [];
    this.reassembler.clear();
    this.host.release(this);
    this.conn = undefined;
    this.host.ctx.logger.info({ sessionId: this.sessionId, reason }, 'msrp session closed');
    this.emit('closed', { reason });
  }

  /** A request whose To-Path names this session (the endpoint has checked the URI). */
  handleRequest(conn: MsrpConnection, req: MsrpRequest): void {
    if (this.stateValue === 'closed') {
      conn.respond(req, 481, 'Session-does-not-exist', this.localUri);
      return;
    }
    if (this.stateValue === 'new') {
      this.defer(conn, req);
      return;
    }
    let from;
    try {
      from = parsePath(getHeader(req, 'From-Path') ?? '');
    } catch (e) {
      conn.respond(req, 400, (e as Error).message.slice(0, 120), this.localUri);
      return;
    }
    const route = this.route!;
    if (from.uris.length !== route.uris.length || !from.uris.every((u, i) => msrpUriEquals(u, route.uris[i]!))) {
      this.host.ctx.logger.info({ sessionId: this.sessionId, fromPath: from.text.join(' ') }, 'msrp request from an unexpected From-Path');
      conn.respond(req, 481, 'From-Path does not match the session', this.localUri);
      return;
    }
    if (this.conn === undefined && this.stateValue === 'connecting') {
      // We are the active side and have not bound our own connection yet.
      conn.respond(req, 481, 'Session-does-not-exist', this.localUri);
      return;
    }
    if (this.conn === undefined) {
      this.host.bind(this, conn);
      this.conn = conn;
      this.open();
    } else if (this.conn !== conn) {
      conn.respond(req, 506, 'Session-already-bound', this.localUri);
      return;
    }
    switch (req.method) {
      case 'SEND':
        this.onSend(conn, req, from.text);
        return;
      case 'REPORT':
        this.onReport(req, from.text);
        return;
      default:
        conn.respond(req, 501, 'Request-method-not-understood', this.localUri);
    }
  }

  /** The endpoint's connection went away under us (§5.4: the session fails with it). */
  connectionLost(reason: string): void {
    this.conn = undefined;
    this.close(`connection lost: ${reason}`);
  }

  /** An error response to a SEND sent with Failure-Report: partial. */
  lateFailure(tid: string, code: number, comment?: string): void {
    this.raise(new MsrpSendError(`transaction ${tid} answered ${code} ${comment ?? ''}`.trim(), 'rejected', code));
  }

  private setPeer(peerPath: readonly string[], next: 'connecting' | 'waiting'): void {
    if (this.stateValue !== 'new') throw new MsrpSendError(`session is already ${this.stateValue}`, 'rejected');
    if (peerPath.length === 0) throw new MsrpParseError('empty peer path', 'bad-path');
    const peer = parsePath(peerPath.join(' '));
    const ours = [...this.relays].reverse();
    this.peer = [...peerPath];
    this.route = { text: [...ours, ...peer.text], uris: [...ours.map((r) => parseMsrpUri(r)), ...peer.uris] };
    this.stateValue = next;
  }

  private open(): void {
    this.stateValue = 'open';
    this.host.ctx.logger.info({ sessionId: this.sessionId, connectionId: this.conn?.id }, 'msrp session open');
    this.emit('open');
  }

  private defer(conn: MsrpConnection, req: MsrpRequest): void {
    const limits = this.host.ctx.limits;
    if (this.deferred.length >= limits.maxDeferredRequests) {
      conn.respond(req, 481, 'Session-does-not-exist', this.localUri);
      return;
    }
    this.deferred.push({ conn, req });
    this.bindTimer ??= this.host.ctx.clock.setTimer(limits.bindTimeoutMs, () => {
      this.bindTimer = undefined;
      for (const d of this.deferred) d.conn.respond(d.req, 481, 'Session-does-not-exist', this.localUri);
      this.deferred = [];
    });
  }

  private onSend(conn: MsrpConnection, req: MsrpRequest, fromPath: readonly string[]): void {
    let messageId: string | undefined;
    let byteRange: ByteRange | undefined;
    let successReport: boolean;
    try {
      messageId = messageIdOf(req);
      byteRange = byteRangeOf(req);
      successReport = successReportOf(req);
    } catch (e) {
      conn.respond(req, 400, (e as Error).message.slice(0, 120), this.localUri);
      return;
    }
    if (messageId === undefined) {
      conn.respond(req, 400, 'SEND without Message-ID', this.localUri);
      return;
    }
    const contentType = getHeader(req, 'Content-Type');
    const body = req.body ?? EMPTY;
    if (body.length > 0 && contentType === undefined) {
      conn.respond(req, 400, 'body without Content-Type', this.localUri);
      return;
    }
    if (contentType !== undefined && !acceptsType(this.acceptTypes, contentType)) {
      conn.respond(req, 415, 'MIME-not-understood', this.localUri);
      return;
    }
    const chunk = { messageId, continuation: req.continuation, body, headers: req.headers, ...(byteRange ? { byteRange } : {}), ...(contentType !== undefined ? { contentType } : {}) };
    const outcome = this.reassembler.add(chunk, this.host.ctx.clock.now());
    if (outcome.kind === 'rejected') {
      this.host.ctx.logger.info({ sessionId: this.sessionId, messageId, reason: outcome.reason }, 'msrp message refused');
      conn.respond(req, outcome.status, 'Stop-sending-message', this.localUri);
      return;
    }
    // With a sink, the chunk that completes a message is answered only once the sink has
    // taken the message (e.g. committed it to the store): a 200 then means "kept".
    const deferred = outcome.kind === 'complete' && this.sink !== undefined;
    if (!deferred) conn.respond(req, 200, 'OK', this.localUri);
    if (outcome.kind === 'aborted') {
      this.host.ctx.logger.info({ sessionId: this.sessionId, messageId, receivedBytes: outcome.receivedBytes }, 'msrp message aborted by sender');
      return;
    }
    if (outcome.kind === 'partial') {
      this.armExpiry();
      return;
    }
    const m = outcome.message;
    const toPath = (getHeader(req, 'To-Path') ?? '').split(' ');
    const received: ReceivedMessage = { sessionId: this.sessionId, messageId, fromPath: [...fromPath], toPath, body: m.body, chunks: m.chunks, headers: m.headers };
    if (m.contentType !== undefined) received.contentType = m.contentType;
    const sink = this.sink;
    if (deferred && sink !== undefined) {
      const bodiless = m.body.length === 0 && m.contentType === undefined;
      (bodiless ? Promise.resolve() : sink(received)).then(
        () => {
          conn.respond(req, 200, 'OK', this.localUri);
          this.completed(conn, fromPath, messageId, successReport, received, bodiless);
        },
        (e: unknown) => {
          // Not kept: the sender must not believe it was (RFC 4975 §10: 403, action not allowed now).
          this.host.ctx.logger.warn({ sessionId: this.sessionId, messageId, err: String(e) }, 'msrp message not kept');
          conn.respond(req, 403, 'Message-not-kept', this.localUri);
        },
      );
      return;
    }
    this.completed(conn, fromPath, messageId, successReport, received, m.body.length === 0 && m.contentType === undefined);
  }

  private completed(conn: MsrpConnection, fromPath: readonly string[], messageId: string, successReport: boolean, received: ReceivedMessage, bodiless: boolean): void {
    const m = received;
    if (successReport) {
      // §7.1.2: the REPORT retraces the SEND's From-Path; one report for the whole message.
      const report = buildReport({
        toPath: fromPath, fromPath: [this.localUri], messageId,
        byteRange: { start: 1, end: m.body.length, total: m.body.length }, status: { namespace: 0, code: 200, comment: 'OK' },
      });
      conn.send(report, 'none').catch((e: Error) => this.raise(e));
    }
    if (bodiless) return; // a bodiless SEND carries no message
    if (debugOn(this.host.ctx.logger)) this.host.ctx.logger.debug({ sessionId: this.sessionId, messageId, bytes: m.body.length, chunks: m.chunks }, 'msrp message received');
    this.emit('message', received);
  }

  private onReport(req: MsrpRequest, fromPath: readonly string[]): void {
    try {
      const messageId = messageIdOf(req);
      const status = statusOf(req);
      if (messageId === undefined || status === undefined) throw new MsrpParseError('REPORT without Message-ID or Status', 'missing-header');
      const report: ReceivedReport = { sessionId: this.sessionId, messageId, status, fromPath: [...fromPath], headers: req.headers };
      const br = byteRangeOf(req);
      if (br !== undefined) report.byteRange = br;
      this.emit('report', report);
    } catch (e) {
      // §7.1.2: no response to a REPORT, even a broken one.
      this.host.ctx.logger.info({ sessionId: this.sessionId, err: (e as Error).message }, 'invalid msrp REPORT ignored');
    }
  }

  private armExpiry(): void {
    if (this.expiryTimer !== undefined) return;
    const ms = this.host.ctx.limits.inProgressTimeoutMs;
    this.expiryTimer = this.host.ctx.clock.setTimer(ms, () => {
      this.expiryTimer = undefined;
      const gone = this.reassembler.expire(this.host.ctx.clock.now() - ms);
      if (gone.length > 0) this.host.ctx.logger.info({ sessionId: this.sessionId, messageIds: gone }, 'unfinished msrp messages expired');
      if (this.reassembler.inProgress > 0 && this.stateValue !== 'closed') this.armExpiry();
    });
  }

  /** 'error' only reaches listeners; without one it is logged, never thrown. */
  private raise(e: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
    else this.host.ctx.logger.warn({ sessionId: this.sessionId, err: e.message }, 'msrp session error');
  }
}
