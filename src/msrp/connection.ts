/**
 * One TCP connection carrying MSRP (RFC 4975 §5.4, §7; RFC 6135 connection reuse).
 *
 * - Framing by end-line with MsrpStreamParser; a frame that can be delimited but not
 *   understood is answered 400 (413 for a chunk over the size limit), a stream that cannot
 *   be framed any more is closed (§7.3 leaves no other way to find the next frame).
 * - Responses (§7.2) follow Failure-Report (§7.1.1): "no" means no response at all,
 *   "partial" only negative ones; REPORT requests are never answered (§7.1.2).
 * - Our own requests are transactions matched by transaction id; one with no response after
 *   limits.transactionTimeoutMs has failed with 408 (§7.1.1), driven by the Clock. A SEND
 *   with Failure-Report "partial" counts as delivered once written, but a late error
 *   response is still reported (hooks.onLateFailure) until the timeout.
 * - Several sessions may share the connection (§5.4, RFC 6135 §4): the endpoint records
 *   which are bound to it. A connection that carries none is closed after
 *   limits.unboundIdleTimeoutMs without traffic; one that carries sessions stays open for
 *   as long as they last, however quiet (an IM session may be silent for hours).
 */
import type { Socket } from 'node:net';
import type { TimerHandle } from '../sip/clock.js';
import { debugOn, type MsrpContext } from './config.js';
import { MessageDeadline } from '../sip/transport/message-deadline.js';
import { MsrpSendError } from './errors.js';
import { failureReportOf, type FailureReport, type MsrpRequest, type MsrpResponse } from './message.js';
import { MsrpStreamParser, type PartialFrame } from './parse.js';
import { buildResponse, reasonPhrase, serializeMsrp } from './serialize.js';

/** What an answer to our request means for us: all responses, failures only, or nothing (§7.1.1). */
export type ResponseExpectation = 'all' | 'failures' | 'none';

export interface TransactionResult {
  code: number;
  comment?: string;
  response?: MsrpResponse;
  /** No response came in time (code is then 408). */
  timedOut?: boolean;
}

export interface MsrpConnectionHooks {
  /** A well-formed request; the handler answers it with conn.respond() (or not, per §7.1.2). */
  onRequest(conn: MsrpConnection, req: MsrpRequest): void;
  /** A negative response to a request sent with expectation 'failures'. */
  onLateFailure(conn: MsrpConnection, req: MsrpRequest, res: MsrpResponse): void;
  onClose(conn: MsrpConnection, reason: string): void;
}

/** §7.1.1, §7.1.2: whether a request gets a response with this code. */
export function shouldRespond(method: string | undefined, failureReport: FailureReport, code: number): boolean {
  if (method === 'REPORT') return false;
  if (failureReport === 'no') return false;
  if (failureReport === 'partial') return code < 200 || code >= 300;
  return true;
}

interface Pending {
  req: MsrpRequest;
  expect: 'all' | 'failures';
  timer: TimerHandle;
  resolve(r: TransactionResult): void;
  reject(e: Error): void;
}

let nextId = 1;

/** A connection whose unread responses reach this many times maxPendingWriteBytes is closed. */
const RESPONSE_QUEUE_HARD_LIMIT = 4;

export class MsrpConnection {
  readonly id = `MSRP-${nextId++}`;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Session ids bound to this connection (kept by the endpoint). */
  readonly sessions = new Set<string>();
  /** For an outbound connection, the reuse key of the first hop it was opened to. */
  reuseKey: string | undefined;
  /** Holds that keep the connection open without a session (an RFC 4976 AUTH binding). */
  pins = 0;
  private readonly parser: MsrpStreamParser;
  private readonly pending = new Map<string, Pending>();
  /** Responses written this tick wait in the socket (cork) until the next tick (limits.coalesceResponses). */
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
    this.holdIfBacklogged();
  };
  /** Reading is paused while the peer leaves our responses unread (holdIfBacklogged). */
  private held = false;
  /** Closes a held connection whose peer reads nothing for messageTimeoutMs. */
  private holdTimer: TimerHandle | undefined;

  private state: 'open' | 'closing' | 'closed' = 'open';
  private lastActivity: number;
  private idleTimer: TimerHandle | undefined;
  private lingerTimer: TimerHandle | undefined;
  private readonly deadline: MessageDeadline;
  private closeReason = 'closed by peer';

  constructor(
    private readonly socket: Socket,
    readonly direction: 'inbound' | 'outbound',
    private readonly ctx: MsrpContext,
    private readonly hooks: MsrpConnectionHooks,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = socket.localAddress ?? '';
    this.localPort = socket.localPort ?? 0;
    this.parser = new MsrpStreamParser(ctx.limits.parse);
    // Slow-loris bound: a frame started must complete in time.
    this.deadline = new MessageDeadline(ctx.clock, ctx.limits.messageTimeoutMs, (limit) => {
      if (this.state !== 'open') return;
      this.ctx.logger.warn({ ...this.logFields(), buffered: this.parser.buffered, limit }, 'msrp frame not completed in time');
      this.destroy(`frame not completed within ${limit} ms`);
    });
    this.lastActivity = ctx.clock.now();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => ctx.logger.debug({ ...this.logFields(), err }, 'msrp socket error'));
    socket.on('close', () => this.onClosed());
    this.armIdle(ctx.limits.unboundIdleTimeoutMs);
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Transactions of ours waiting for a response. */
  get pendingTransactions(): number {
    return this.pending.size;
  }

  logFields(): Record<string, unknown> {
    return { connectionId: this.id, remote: `${this.remoteAddress}:${this.remotePort}`, direction: this.direction };
  }

  /**
   * Sends a request. 'all': resolves with the response, or 408 after the transaction
   * timeout. 'failures' and 'none': resolves with 200 once written.
   */
  send(req: MsrpRequest, expect: ResponseExpectation): Promise<TransactionResult> {
    if (this.state !== 'open') return Promise.reject(new MsrpSendError(`connection ${this.id} is closed`, 'closed'));
    const bytes = serializeMsrp(req);
    if (this.socket.writableLength + bytes.length > this.ctx.limits.maxPendingWriteBytes) {
      return Promise.reject(new MsrpSendError(`connection ${this.id} send queue is full`, 'backpressure'));
    }
    if (this.pending.has(req.transactionId)) {
      return Promise.reject(new MsrpSendError(`transaction ${req.transactionId} already pending`, 'rejected'));
    }
    this.touch();
    return new Promise<TransactionResult>((resolve, reject) => {
      if (expect !== 'none') {
        const timer = this.ctx.clock.setTimer(this.ctx.limits.transactionTimeoutMs, () => this.onTimeout(req.transactionId));
        this.pending.set(req.transactionId, { req, expect, timer, resolve, reject });
      }
      this.socket.write(bytes, (err) => {
        if (err) {
          this.pending.get(req.transactionId)?.timer.cancel();
          this.pending.delete(req.transactionId);
          reject(new MsrpSendError(`write failed on ${this.id}: ${err.message}`, 'closed'));
          return;
        }
        this.touch();
        if (expect !== 'all') resolve({ code: 200 });
      });
    });
  }

  /** Answers a request per §7.2, unless Failure-Report or the method says not to. */
  respond(req: { transactionId: string; method?: string; headers: MsrpRequest['headers'] }, code: number, comment?: string, responder?: string): void {
    let fr: FailureReport = 'yes';
    try {
      fr = failureReportOf(req);
    } catch {
      // An unreadable Failure-Report counts as absent: the sender gets its error.
    }
    if (!shouldRespond(req.method, fr, code) || this.state !== 'open') return;
    let bytes: Buffer;
    try {
      bytes = serializeMsrp(buildResponse(req, code, comment ?? reasonPhrase(code), responder));
    } catch (e) {
      this.ctx.logger.debug({ ...this.logFields(), tid: req.transactionId, err: e }, 'cannot build msrp response');
      return;
    }
    const limit = this.ctx.limits.maxPendingWriteBytes;
    // Responses held back this tick (coalesceResponses) count in writableLength too: hand
    // them to the kernel first, so only bytes the peer has not read are judged below.
    if (this.corked && this.socket.writableLength + bytes.length > limit) this.uncork();
    if (this.socket.writableLength + bytes.length > RESPONSE_QUEUE_HARD_LIMIT * limit) {
      // Reading stopped at `limit` (below), and still the answers to what was read before
      // pile up: the peer reads nothing.
      this.destroy('peer does not read its responses');
      return;
    }
    this.touch();
    if (!this.corked && this.ctx.limits.coalesceResponses) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.socket.write(bytes);
    if (!this.corked) this.holdIfBacklogged();
    if (debugOn(this.ctx.logger)) this.ctx.logger.debug({ ...this.logFields(), tid: req.transactionId, code }, 'msrp response sent');
  }

  /**
   * Backpressure: while more than maxPendingWriteBytes of responses wait for the peer to
   * read them, we read no more of its requests (each would add a response); reading resumes
   * once the queue has drained. A peer with many requests in flight (one connection carrying
   * a thousand sessions) is slowed, not cut off.
   */
  private holdIfBacklogged(): void {
    if (this.held || this.state !== 'open' || this.socket.writableLength <= this.ctx.limits.maxPendingWriteBytes) return;
    // 'drain' comes only after a write was refused (the queue passed the socket's high-water
    // mark): below that, reading is not paused, as nothing would resume it.
    if (!this.socket.writableNeedDrain) return;
    this.held = true;
    this.socket.pause();
    this.ctx.logger.info({ ...this.logFields(), queued: this.socket.writableLength }, 'msrp peer is slow to read its responses: reading paused');
    // A peer that reads nothing for as long as a frame may take (messageTimeoutMs) is gone.
    const limit = this.ctx.limits.messageTimeoutMs;
    this.holdTimer = this.ctx.clock.setTimer(limit, () => this.destroy(`peer read none of its responses for ${limit} ms`));
    this.socket.once('drain', () => {
      this.holdTimer?.cancel();
      this.holdTimer = undefined;
      this.held = false;
      if (this.state === 'open') this.socket.resume();
    });
  }

  /** Orderly close: half-close after queued bytes, destroy after the linger time. */
  close(reason: string): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.closeReason = reason;
    this.ctx.logger.info({ ...this.logFields(), reason }, 'closing msrp connection');
    this.failPending(reason);
    this.socket.end();
    this.lingerTimer = this.ctx.clock.setTimer(this.ctx.limits.closeLingerMs, () => this.socket.destroy());
  }

  destroy(reason: string): void {
    if (this.state === 'closed') return;
    if (this.state === 'open') this.closeReason = reason;
    this.state = 'closing';
    this.ctx.logger.info({ ...this.logFields(), reason }, 'destroying msrp connection');
    this.failPending(reason);
    this.socket.destroy();
  }

  /** The endpoint calls this when the last session leaves, so the idle clock restarts. */
  touch(): void {
    this.lastActivity = this.ctx.clock.now();
  }

  private onData(chunk: Buffer): void {
    if (this.state !== 'open') return;
    this.touch();
    let boundary = false;
    for (const ev of this.parser.push(chunk)) {
      boundary = true;
      switch (ev.kind) {
        case 'message':
          if (ev.message.kind === 'response') this.onResponse(ev.message);
          else this.dispatch(ev.message);
          break;
        case 'invalid':
          this.onInvalid(ev.frame, ev.error.status, ev.error.message);
          break;
        case 'fatal':
          this.ctx.logger.warn({ ...this.logFields(), err: ev.error.message, offset: ev.error.offset }, 'msrp framing lost');
          this.destroy(`framing error: ${ev.error.message}`);
          return;
      }
      if (this.state !== 'open') return;
    }
    this.deadline.update(this.parser.inFrame, boundary);
  }

  private dispatch(req: MsrpRequest): void {
    if (debugOn(this.ctx.logger)) this.ctx.logger.debug({ ...this.logFields(), tid: req.transactionId, method: req.method }, 'msrp request received');
    try {
      this.hooks.onRequest(this, req);
    } catch (e) {
      this.ctx.logger.error({ ...this.logFields(), tid: req.transactionId, err: e }, 'msrp request handler threw');
    }
  }

  private onInvalid(frame: PartialFrame, status: number, why: string): void {
    this.ctx.logger.warn({ ...this.logFields(), tid: frame.transactionId, status, err: why }, 'invalid msrp frame');
    // Responses are never answered; a broken request gets the parser's status with the reason.
    if (frame.code === undefined) this.respond(frame, status, sanitize(why));
  }

  private onResponse(res: MsrpResponse): void {
    const p = this.pending.get(res.transactionId);
    if (p === undefined) {
      this.ctx.logger.debug({ ...this.logFields(), tid: res.transactionId, code: res.code }, 'msrp response for no pending transaction');
      return;
    }
    p.timer.cancel();
    this.pending.delete(res.transactionId);
    const result: TransactionResult = { code: res.code, response: res };
    if (res.comment !== undefined) result.comment = res.comment;
    if (p.expect === 'all') p.resolve(result);
    else if (res.code >= 300) this.hooks.onLateFailure(this, p.req, res);
  }

  private onTimeout(tid: string): void {
    const p = this.pending.get(tid);
    if (p === undefined) return;
    this.pending.delete(tid);
    this.ctx.logger.info({ ...this.logFields(), tid }, 'msrp transaction timed out');
    if (p.expect === 'all') p.resolve({ code: 408, comment: reasonPhrase(408), timedOut: true });
  }

  private failPending(reason: string): void {
    for (const p of this.pending.values()) {
      p.timer.cancel();
      if (p.expect === 'all') p.reject(new MsrpSendError(`connection ${this.id} closed: ${reason}`, 'closed'));
    }
    this.pending.clear();
  }

  /** One timer per connection, re-armed lazily; it only closes a connection no session uses. */
  private armIdle(ms: number): void {
    this.idleTimer = this.ctx.clock.setTimer(ms, () => {
      if (this.state !== 'open') return;
      const limit = this.ctx.limits.unboundIdleTimeoutMs;
      const quiet = this.ctx.clock.now() - this.lastActivity;
      const unused = this.sessions.size === 0 && this.pins === 0;
      if (unused && this.pending.size === 0 && quiet >= limit) this.close(`no session for ${limit} ms`);
      else this.armIdle(unused ? Math.max(1, limit - quiet) : limit);
    });
  }

  private onClosed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.idleTimer?.cancel();
    this.lingerTimer?.cancel();
    this.holdTimer?.cancel();
    this.deadline.cancel();
    this.failPending(this.closeReason);
    this.ctx.logger.debug({ ...this.logFields(), reason: this.closeReason }, 'msrp connection closed');
    this.hooks.onClose(this, this.closeReason);
  }
}

/** A reason for a comment: one printable line, at most 120 characters. */
function sanitize(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]+/g, ' ').slice(0, 120);
}
