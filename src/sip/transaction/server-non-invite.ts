/**
 * Non-INVITE server transaction: RFC 3261 §17.2.2 (figure 8), transport errors per §17.2.4.
 *
 * The RFC gives Trying and Proceeding no timer: a TU that never answers would keep the
 * transaction forever. Its client gave up at Timer F (64*T1, §17.1.2.2), after which no
 * response can be of use, so the layer ends the transaction then ("abandoned") and tells
 * the TU through onTimeout; this keeps memory bounded (design.md convention 8).
 */
import type { SipRequest, SipResponse } from '../message/message.js';
import type { Destination } from '../transport/types.js';
import {
  TimerSet,
  type ServerTransactionHandlers,
  type TransactionContext,
  NO_HANDLERS,
} from './context.js';
import { TransactionUsageError, type TransactionTransportError } from './errors.js';
import { isRfc3261Key } from './matching.js';

export type ServerNonInviteState = 'trying' | 'proceeding' | 'completed' | 'terminated';

type Event =
  | { kind: 'retransmission' }
  | { kind: '1xx'; res: SipResponse }
  | { kind: 'final'; res: SipResponse }
  | { kind: 'timerJ' }
  | { kind: 'abandoned' }
  | { kind: 'transportError'; err: TransactionTransportError };

type Transition = `${ServerNonInviteState}:${Event['kind']}`;
type TimerName = 'J' | 'abandoned';

const TIMER_EVENTS = { abandoned: 'abandoned', J: 'timerJ' } as const satisfies Record<TimerName, Event['kind']>;

export class ServerNonInviteTransaction {
  /**
   * The TU's callbacks; set them from onRequest by assigning a new object (the default is
   * one frozen empty object shared by all transactions).
   */
  handlers: ServerTransactionHandlers = NO_HANDLERS;
  readonly method: string;
  private current: ServerNonInviteState = 'trying';
  private readonly timers: TimerSet<TimerName>;
  /** The request until the final response; then only what matching needs is kept. */
  private req: SipRequest | undefined;
  private savedToTag: string | undefined;
  /**
   * The last response sent, serialized: what a request retransmission is answered with.
   * Kept as its memory, offset and length rather than as a Buffer view, which would add
   * about 100 bytes of heap to every transaction lingering for Timer J (32 s); a view is
   * made again for a resend.
   */
  private lastMemory: ArrayBufferLike | undefined;
  private lastOffset = 0;
  private lastLength = 0;

  constructor(
    private readonly ctx: TransactionContext,
    request: SipRequest,
    /** §18.2.2: where every response of this transaction goes. */
    readonly responseDestination: Destination,
    /** Matching key of the layer (§17.2.3), kept here so the layer can unregister it. */
    readonly key: string,
  ) {
    this.req = request;
    this.method = request.method;
    this.timers = new TimerSet(ctx.timerQueues, this);
  }

  /**
   * The request. Once the final response is sent the transaction keeps only its serialized
   * bytes, destination and matching key (a lingering transaction costs a few hundred bytes
   * for Timer J), so this then throws: the TU keeps the request it was given if it needs it.
   */
  get request(): SipRequest {
    if (this.req === undefined) throw new TransactionUsageError(`the ${this.method} request is released after the final response`);
    return this.req;
  }

  /** To tag of the request, for RFC 2543 matching (§17.2.3). */
  get requestToTag(): string | undefined {
    return this.req !== undefined ? this.req.toTag() : this.savedToTag;
  }

  get state(): ServerNonInviteState {
    return this.current;
  }

  /** The serialized last response (what a retransmitted request gets), if any. */
  get lastResponseBytes(): Buffer | undefined {
    return this.lastMemory === undefined ? undefined : Buffer.from(this.lastMemory, this.lastOffset, this.lastLength);
  }

  /**
   * Arm the guard against a TU that never answers. The layer calls this once the TU has had
   * the request (onRequest), so a request answered there has no timer to cancel; the guard
   * then runs Timer F from that moment, later than the request's arrival by the time the TU
   * took, which only delays when an unanswered transaction's memory is freed.
   */
  start(): void {
    if (this.current === 'trying' || this.current === 'proceeding') this.timers.start('abandoned', this.ctx.timers.F);
  }

  /** The TU's response; false when discarded (§17.2.2: any response after the final one). */
  respond(res: SipResponse): boolean {
    if (!Number.isInteger(res.status) || res.status < 100 || res.status > 699) {
      throw new RangeError(`response status ${res.status} out of 100-699`);
    }
    return this.dispatch(res.status < 200 ? { kind: '1xx', res } : { kind: 'final', res });
  }

  /** A retransmission of the request, matched by the layer (§17.2.3). */
  receiveRetransmission(): void {
    this.dispatch({ kind: 'retransmission' });
  }

  /** TimerSet: one of this machine's timers expired. */
  timerFired(name: TimerName): void {
    this.dispatch({ kind: TIMER_EVENTS[name] });
  }

  /** Runs one transition; false when the event was discarded in this state. */
  private dispatch(ev: Event): boolean {
    const t: Transition = `${this.current}:${ev.kind}`;
    switch (t) {
      case 'trying:retransmission':
        // §17.2.2: nothing to answer with yet.
        this.ctx.counters.retransmissionsReceived++;
        return true;
      case 'proceeding:retransmission':
      case 'completed:retransmission':
        this.ctx.counters.retransmissionsReceived++;
        if (this.lastMemory !== undefined) {
          this.ctx.counters.retransmissionsSent++;
          this.ctx.resendResponse(this.lastResponseBytes!, this.responseDestination, this);
        }
        return true;
      case 'trying:1xx':
      case 'proceeding:1xx':
        this.current = 'proceeding';
        if (ev.kind === '1xx') this.send(ev.res);
        return true;
      case 'trying:final':
      case 'proceeding:final':
        this.current = 'completed';
        this.timers.cancel('abandoned');
        this.timers.start('J', this.ctx.timers.J);
        if (ev.kind === 'final') this.send(ev.res);
        return true;
      case 'completed:timerJ':
        this.terminate();
        return true;
      case 'trying:abandoned':
      case 'proceeding:abandoned':
        this.ctx.counters.timeouts++;
        this.terminate(() => this.handlers.onTimeout?.());
        return true;
      case 'proceeding:transportError':
      case 'completed:transportError': {
        if (ev.kind !== 'transportError') return true;
        const err = ev.err;
        this.terminate(() => this.handlers.onTransportError?.(err));
        return true;
      }
      default:
        return false;
    }
  }

  /** The layer: a response of this transaction could not be sent (§17.2.4). */
  sendFailed(err: TransactionTransportError): void {
    this.dispatch({ kind: 'transportError', err });
  }

  private send(res: SipResponse): void {
    const bytes = this.ctx.sendResponse(res, this.responseDestination, this);
    this.lastMemory = bytes.buffer;
    this.lastOffset = bytes.byteOffset;
    this.lastLength = bytes.length;
    if (res.status >= 200) this.release();
  }

  /** After the final response only the bytes, destination and key are needed (§17.2.2). */
  private release(): void {
    const req = this.req;
    if (req === undefined) return;
    if (!isRfc3261Key(this.key)) {
      try {
        this.savedToTag = req.toTag();
      } catch {
        this.savedToTag = undefined;
      }
    }
    this.req = undefined;
  }

  private terminate(inform?: () => void): void {
    this.current = 'terminated';
    this.timers.cancelAll();
    this.ctx.terminated(this);
    try {
      inform?.();
    } finally {
      this.handlers.onTerminated?.();
    }
  }
}
