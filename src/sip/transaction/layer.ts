/**
 * The RFC 3261 §17 transaction layer: owns the four state machines, matches what the
 * transport delivers to them (§17.1.3, §17.2.3) and is the TU's way to send requests and
 * responses.
 *
 * - Incoming requests that match no transaction create a server transaction (§17.2.1,
 *   §17.2.2) and go to the TU with it; ACKs that match none (the ACK for a 2xx, §17.2.3)
 *   go to the TU without one. Over maxServerTransactions, new requests get 503 with
 *   Retry-After (§21.5.4) and no state is kept; so do new requests from a source IP address
 *   that already holds maxServerTransactionsPerSource (one flooding peer cannot fill the
 *   table for everyone; the 503 is stateless, §8.2.6 / §21.5.4).
 * - sendRequest inserts the top Via with a fresh z9hG4bK branch (§8.1.1.7) when the request
 *   has none, and starts the client transaction; sendCancel applies §9.1.
 * - Responses go where §18.2.2 and RFC 3581 say (response-address.ts).
 * - Terminated transactions are dropped from the indexes at once (§17.1.1.2, §17.2.1:
 *   "destroyed immediately"), so memory is bounded by the limits.
 */
import { systemClock, type Clock } from '../clock.js';
import { ParseError } from '../message/errors.js';
import { MissingHeaderError, type SipMessage, type SipRequest, type SipResponse } from '../message/message.js';
import { parseDatagram } from '../message/parse.js';
import { serialize } from '../message/serialize.js';
import type { Destination, Transport } from '../transport/types.js';
import { buildCancel, createResponse } from './build.js';
import { ClientInviteTransaction } from './client-invite.js';
import { ClientNonInviteTransaction } from './client-non-invite.js';
import {
  newCounters,
  TimerQueues,
  type ClientTransactionHandlers,
  type SendFailureListener,
  type TransactionContext,
  type TransactionCounters,
} from './context.js';
import { TransactionLimitError, TransactionTransportError, TransactionUsageError } from './errors.js';
import { clientMatchKey, matchesCancelled, matchesServerTransaction, serverMatchKey } from './matching.js';
import { responseDestination } from './response-address.js';
import { ServerInviteTransaction, type ServerInviteOptions } from './server-invite.js';
import { ServerNonInviteTransaction } from './server-non-invite.js';
import { resolveTimerConfig, timerDurations, type TimerConfig } from './timers.js';
import { formatVia, isRfc3261Branch, newBranch, topVia, type ViaSentBy } from './via.js';

export type ClientTransaction = ClientInviteTransaction | ClientNonInviteTransaction;
export type ServerTransaction = ServerInviteTransaction | ServerNonInviteTransaction;

export interface TransactionLayerOptions {
  transport: Transport;
  /** Defaults to systemClock; tests pass a FakeClock. */
  clock?: Clock;
  timers?: Partial<TimerConfig>;
  /** The sent-by to put in the Via this layer inserts for a request sent to `dest`. */
  via(dest: Destination): ViaSentBy;
  /**
   * A new request with its server transaction, or an ACK matching none (tx undefined: the
   * ACK for a 2xx, §13.3.1.4), or an ACK matching an INVITE transaction in Accepted
   * (RFC 6026 §7.1, tx is that transaction; do not respond to an ACK).
   */
  onRequest(req: SipRequest, tx: ServerTransaction | undefined): void;
  /** A response matching no client transaction (§17.1.3), e.g. a 2xx retransmitted after Timer M. */
  onStrayResponse?(res: SipResponse): void;
  /** A message dropped (or answered 400) because a header the layer needs is unreadable. */
  onMalformed?(msg: SipMessage, err: unknown): void;
  /** Server transactions kept at most (default 10000); beyond, new requests get 503. */
  maxServerTransactions?: number;
  /** Server transactions one source IP address may hold (default: maxServerTransactions); beyond, its new requests get 503. */
  maxServerTransactionsPerSource?: number;
  /** Client transactions at most (default 10000); beyond, sendRequest throws TransactionLimitError. */
  maxClientTransactions?: number;
  /** Retry-After of the over-limit 503, in seconds (default 5). */
  retryAfterSeconds?: number;
  /** §17.2.1: 100 Trying goes out if the TU has not answered an INVITE in this many ms (default 200). */
  tryingDelay?: number;
}

export interface SendRequestOptions {
  /** Always insert a new top Via (a proxy forwarding a request that already has Vias). */
  newVia?: boolean;
}

export interface TransactionStats extends TransactionCounters {
  activeClientTransactions: number;
  activeServerTransactions: number;
}

export class TransactionLayer {
  private readonly transport: Transport;
  private readonly clock: Clock;
  private readonly counters = newCounters();
  private readonly reliableCtx: TransactionContext;
  private readonly unreliableCtx: TransactionContext;
  private readonly clients = new Map<string, ClientTransaction>();
  /**
   * Server transactions by matching key: one transaction, or the few that share a key (an
   * INVITE and its CANCEL; RFC 2543 requests), in creation order. Most keys have one, so
   * that one is stored as it is rather than in an array of its own.
   */
  private readonly servers = new Map<string, ServerTransaction | ServerTransaction[]>();
  private serverCount = 0;
  /** Live server transactions per source IP address, and each transaction's source. */
  private readonly perSource = new Map<string, number>();
  private readonly sourceOf = new Map<ServerTransaction, string>();
  private readonly maxServer: number;
  private readonly maxPerSource: number;
  /** Count per source only when that cap is below the overall one (else it can never bite): two Map updates per transaction saved. */
  private readonly trackSources: boolean;
  private readonly maxClient: number;
  private readonly retryAfter: number;
  private readonly tryingDelay: number;
  /** The last response sendResponse serialized, and its bytes (sentBytes). */
  private lastSentRes: SipResponse | undefined;
  private lastSentBytes: Buffer | undefined;
  /** Shared by every INVITE server transaction (one object, not one per transaction). */
  private readonly inviteOptions: ServerInviteOptions;

  constructor(private readonly options: TransactionLayerOptions) {
    this.transport = options.transport;
    this.clock = options.clock ?? systemClock;
    this.maxServer = positiveInt(options.maxServerTransactions ?? 10_000, 'maxServerTransactions');
    this.maxPerSource = positiveInt(options.maxServerTransactionsPerSource ?? this.maxServer, 'maxServerTransactionsPerSource');
    this.trackSources = this.maxPerSource < this.maxServer;
    this.maxClient = positiveInt(options.maxClientTransactions ?? 10_000, 'maxClientTransactions');
    this.retryAfter = positiveInt(options.retryAfterSeconds ?? 5, 'retryAfterSeconds');
    this.tryingDelay = options.tryingDelay ?? 200;
    if (!Number.isFinite(this.tryingDelay) || this.tryingDelay < 0) throw new RangeError(`tryingDelay must be >= 0 ms, got ${this.tryingDelay}`);
    this.inviteOptions = Object.freeze({ tryingDelay: this.tryingDelay });
    const config = resolveTimerConfig(options.timers);
    const base = {
      clock: this.clock,
      timerQueues: new TimerQueues(this.clock),
      counters: this.counters,
      send: (msg: SipMessage, dest: Destination) => this.transport.send(msg, dest),
      sendResponse: (res: SipResponse, dest: Destination, onError: SendFailureListener): Buffer => {
        if (this.transport.sendBytes === undefined) {
          this.sendMessageReporting(res, dest, onError);
          return serialize(res);
        }
        const bytes = serialize(res);
        this.sendBytesReporting(bytes, dest, onError);
        this.lastSentRes = res;
        this.lastSentBytes = bytes;
        return bytes;
      },
      resendResponse: (bytes: Buffer, dest: Destination, onError: SendFailureListener): void => {
        if (this.transport.sendBytes !== undefined) return this.sendBytesReporting(bytes, dest, onError);
        // A Transport without the bytes path (test doubles): hand it the message again.
        let res: SipMessage;
        try {
          res = parseDatagram(bytes);
        } catch (e) {
          this.counters.transportErrors++;
          queueMicrotask(() => onError.sendFailed(TransactionTransportError.from(e)));
          return;
        }
        this.sendMessageReporting(res, dest, onError);
      },
      terminated: (tx: object) => this.forget(tx),
      ackToTu: (ack: SipRequest, tx: object) => {
        if (tx instanceof ServerInviteTransaction) this.options.onRequest(ack, tx);
      },
    };
    this.reliableCtx = { ...base, timers: timerDurations(config, true) };
    this.unreliableCtx = { ...base, timers: timerDurations(config, false) };
  }

  /**
   * The bytes a server transaction sent `res` as, when it is the last response sent (over a
   * transport that takes bytes); else undefined. A TU that must resend a 2xx itself
   * (§13.3.1.4) keeps these instead of the message.
   */
  sentBytes(res: SipResponse): Buffer | undefined {
    return this.lastSentRes === res ? this.lastSentBytes : undefined;
  }

  get stats(): TransactionStats {
    return { ...this.counters, activeClientTransactions: this.clients.size, activeServerTransactions: this.serverCount };
  }

  /**
   * Entry point for every message the transport delivers. Never throws for a bad message.
   * A request whose matching headers cannot be read, or which needs a response and has no
   * address to send one to (§18.2.2), is malformed (onMalformed; a 400 where one can be sent);
   * an ACK needs no response address, so it is matched (or goes up as a stray ACK) without one.
   */
  receive(msg: SipMessage): void {
    if (msg.isRequest()) this.receiveRequest(msg);
    else this.receiveResponse(msg);
  }

  /**
   * Start a client transaction (§17.1.1, §17.1.2) for `req`, which is modified in place: a
   * top Via with a new branch is inserted unless it already has one with a z9hG4bK branch.
   */
  sendRequest(
    req: SipRequest,
    dest: Destination,
    handlers: ClientTransactionHandlers,
    opts: SendRequestOptions = {},
  ): ClientTransaction {
    if (req.method === 'ACK') throw new TransactionUsageError('ACK has no client transaction: use sendAck (§17.1.1.3, §13.2.2.4)');
    if (this.clients.size >= this.maxClient) throw new TransactionLimitError('maxClientTransactions', this.maxClient);
    return this.startClient(req, dest, handlers, opts.newVia === true);
  }

  /**
   * §9.1: CANCEL the INVITE of `invite`, now if a provisional response has arrived, else on
   * the first one. False when a final response already ended the INVITE. The CANCEL's own
   * outcome (200 or 481) goes to `handlers`; the INVITE's 487 to the INVITE's handlers.
   */
  sendCancel(invite: ClientInviteTransaction, handlers: ClientTransactionHandlers): boolean {
    // Not held to maxClientTransactions: there is at most one per INVITE transaction.
    return invite.requestCancel(() => {
      this.startClient(buildCancel(invite.request), invite.destination, handlers, false);
    });
  }

  /**
   * Send the ACK for a 2xx (§13.2.2.4): it is not part of any transaction, so it goes
   * straight to the transport, with a fresh top Via if it has none.
   */
  sendAck(ack: SipRequest, dest: Destination): Promise<void> {
    if (ack.method !== 'ACK') throw new TransactionUsageError(`sendAck needs an ACK, got ${ack.method}`);
    this.ensureVia(ack, dest, false);
    return this.transport.send(ack, dest);
  }

  /** Send a response without a transaction, to where §18.2.2 says `req`'s responses go. */
  respondStateless(req: SipRequest, res: SipResponse): Promise<void> {
    return this.transport.send(res, responseDestination(req));
  }

  /** §9.2: the INVITE server transaction a CANCEL refers to, if still there. */
  findInviteForCancel(cancel: SipRequest): ServerInviteTransaction | undefined {
    const tx = this.findTransactionForCancel(cancel);
    return tx instanceof ServerInviteTransaction ? tx : undefined;
  }

  /** §9.2: the server transaction (INVITE or not) a CANCEL refers to, if still there. */
  findTransactionForCancel(cancel: SipRequest): ServerTransaction | undefined {
    let k;
    try {
      k = serverMatchKey(cancel);
    } catch {
      return undefined;
    }
    const found = listOf(this.servers.get(k.key)).filter((tx) => matchesCancelled(tx, cancel, k.rfc3261));
    return found.find((tx) => tx.method === 'INVITE') ?? found[0];
  }

  private startClient(req: SipRequest, dest: Destination, handlers: ClientTransactionHandlers, newVia: boolean): ClientTransaction {
    checkOutgoing(req);
    const branch = this.ensureVia(req, dest, newVia);
    const key = clientMatchKey(branch, req.method);
    if (this.clients.has(key)) throw new TransactionUsageError(`a ${req.method} client transaction with branch ${branch} exists`);
    const ctx = this.contextFor(dest);
    const tx =
      req.method === 'INVITE'
        ? new ClientInviteTransaction(ctx, req, dest, branch, handlers)
        : new ClientNonInviteTransaction(ctx, req, dest, branch, handlers);
    this.clients.set(key, tx);
    this.counters.clientTransactionsCreated++;
    tx.start();
    return tx;
  }

  /** The branch of req's top Via, after inserting a Via (§8.1.1.7) when needed. */
  private ensureVia(req: SipRequest, dest: Destination, always: boolean): string {
    const via = always ? undefined : topVia(req);
    if (via !== undefined) {
      if (!isRfc3261Branch(via.branch)) {
        throw new TransactionUsageError('the top Via has no z9hG4bK branch: remove it, or pass newVia');
      }
      return via.branch;
    }
    const sentBy = this.options.via(dest);
    const branch = newBranch();
    req.prepend('via', formatVia(sentBy, sentBy.transport ?? dest.transport, branch));
    return branch;
  }

  private receiveResponse(res: SipResponse): void {
    let key: string | undefined;
    try {
      const branch = topVia(res)?.branch;
      if (branch !== undefined) key = clientMatchKey(branch, res.cseq().method);
      // The INVITE client transaction builds its ACK from the To of a 300-699 (§17.1.1.3).
      if (!res.has('to')) throw new MissingHeaderError('to');
    } catch (e) {
      this.counters.malformed++;
      this.options.onMalformed?.(res, e);
      return;
    }
    const tx = key === undefined ? undefined : this.clients.get(key);
    if (tx === undefined) {
      this.counters.strayResponses++;
      this.options.onStrayResponse?.(res);
      return;
    }
    tx.receiveResponse(res);
  }

  private receiveRequest(req: SipRequest): void {
    let k;
    try {
      // Besides the matching fields, CSeq and Call-ID are read here once, so a request the
      // TU gets has them readable (§8.1.1: both are mandatory).
      req.cseq();
      req.callId();
      k = serverMatchKey(req);
    } catch (e) {
      this.rejectMalformed(req, e);
      return;
    }
    const entry = this.servers.get(k.key);
    const tx =
      entry === undefined
        ? undefined
        : Array.isArray(entry)
          ? entry.find((t) => matchesServerTransaction(t, req, k.rfc3261))
          : matchesServerTransaction(entry, req, k.rfc3261)
            ? entry
            : undefined;
    if (tx !== undefined) {
      if (req.method !== 'ACK') tx.receiveRetransmission();
      else if (tx instanceof ServerInviteTransaction) tx.receiveAck(req);
      return;
    }
    if (req.method === 'ACK') {
      this.counters.strayAcks++;
      this.options.onRequest(req, undefined);
      return;
    }
    // Where responses go (§18.2.2); an ACK, which gets none, never needs it.
    let dest: Destination;
    try {
      dest = responseDestination(req);
    } catch (e) {
      this.rejectMalformed(req, e);
      return;
    }
    const source = this.trackSources ? req.source?.remoteAddress : undefined;
    const fromSource = source === undefined ? 0 : (this.perSource.get(source) ?? 0);
    if (this.serverCount >= this.maxServer || fromSource >= this.maxPerSource) {
      this.counters.rejectedOverLimit++;
      const res = createResponse(req, 503);
      res.set('retry-after', String(this.retryAfter));
      this.sendStateless(res, dest);
      return;
    }
    const ctx = this.contextFor(dest);
    const created: ServerTransaction =
      req.method === 'INVITE'
        ? new ServerInviteTransaction(ctx, req, dest, k.key, this.inviteOptions)
        : new ServerNonInviteTransaction(ctx, req, dest, k.key);
    if (entry === undefined) this.servers.set(k.key, created);
    else if (Array.isArray(entry)) entry.push(created);
    else this.servers.set(k.key, [entry, created]);
    this.serverCount++;
    if (source !== undefined) {
      this.perSource.set(source, fromSource + 1);
      this.sourceOf.set(created, source);
    }
    this.counters.serverTransactionsCreated++;
    // The INVITE's 100 Trying (§17.2.1, 200 ms from its arrival) and the non-INVITE Timer F
    // guard (ours, not the RFC's) are armed once the TU has had the request: one answered
    // inside onRequest then leaves no cancelled entry in a timer queue.
    try {
      this.options.onRequest(req, created);
    } finally {
      created.start();
    }
  }

  /** §8.2 / §21.4.1: answer 400 (or the ParseError's status) when there is a Via to answer to. */
  private rejectMalformed(req: SipRequest, err: unknown): void {
    this.counters.malformed++;
    this.options.onMalformed?.(req, err);
    if (req.method === 'ACK') return;
    try {
      const status = err instanceof ParseError ? err.status : 400;
      this.sendStateless(createResponse(req, status), responseDestination(req));
    } catch {
      // No readable Via: there is nowhere to send a response to.
    }
  }

  /** Fire and forget: nobody is waiting for the outcome of a stateless response. */
  private sendStateless(res: SipResponse, dest: Destination): void {
    const failed = (): void => {
      this.counters.transportErrors++;
    };
    try {
      this.transport.send(res, dest).catch(failed);
    } catch {
      failed();
    }
  }

  private sendBytesReporting(bytes: Buffer, dest: Destination, onError: SendFailureListener): void {
    this.transport.sendBytes!(bytes, dest, (e) => {
      this.counters.transportErrors++;
      onError.sendFailed(TransactionTransportError.from(e));
    });
  }

  private sendMessageReporting(msg: SipMessage, dest: Destination, onError: SendFailureListener): void {
    let p: Promise<void>;
    try {
      p = this.transport.send(msg, dest);
    } catch (e) {
      p = Promise.reject(e);
    }
    p.catch((e: unknown) => {
      this.counters.transportErrors++;
      onError.sendFailed(TransactionTransportError.from(e));
    });
  }

  private contextFor(dest: Destination): TransactionContext {
    return this.transport.isReliable(dest.transport) ? this.reliableCtx : this.unreliableCtx;
  }

  private forget(tx: object): void {
    if (tx instanceof ClientInviteTransaction || tx instanceof ClientNonInviteTransaction) {
      const key = clientMatchKey(tx.branch, tx.method);
      if (this.clients.get(key) === tx) this.clients.delete(key);
      return;
    }
    if (tx instanceof ServerInviteTransaction || tx instanceof ServerNonInviteTransaction) {
      const entry = this.servers.get(tx.key);
      const i = Array.isArray(entry) ? entry.indexOf(tx) : -1;
      if (entry === tx) this.servers.delete(tx.key);
      else if (Array.isArray(entry) && i >= 0) {
        entry.splice(i, 1);
        if (entry.length === 1) this.servers.set(tx.key, entry[0]!);
      } else return;
      this.serverCount--;
      const source = this.trackSources ? this.sourceOf.get(tx) : undefined;
      if (source !== undefined) {
        this.sourceOf.delete(tx);
        const n = (this.perSource.get(source) ?? 1) - 1;
        if (n > 0) this.perSource.set(source, n);
        else this.perSource.delete(source);
      }
    }
  }
}

function positiveInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

/**
 * §8.1.1: the header fields the transaction itself relies on. Responses are matched by the
 * CSeq method (§17.1.3), so it must be the request's (§8.1.1.5); the ACK and CANCEL the
 * layer builds copy From, To and Call-ID.
 */
function checkOutgoing(req: SipRequest): void {
  for (const name of ['from', 'to', 'call-id']) {
    if (!req.has(name)) throw new TransactionUsageError(`${req.method} without ${name}: cannot start a transaction`);
  }
  const cseq = req.cseq();
  if (cseq.method !== req.method) {
    throw new TransactionUsageError(`CSeq method ${cseq.method} differs from the request method ${req.method} (§8.1.1.5)`);
  }
}

function listOf(entry: ServerTransaction | ServerTransaction[] | undefined): ServerTransaction[] {
  return entry === undefined ? [] : Array.isArray(entry) ? entry : [entry];
}
