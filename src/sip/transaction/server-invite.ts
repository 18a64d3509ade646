/**
 * INVITE server transaction: RFC 3261 §17.2.1 (figure 7) as updated by RFC 6026 §7.1 and
 * §8.7 (the "Accepted" state with Timer L; transport errors no longer end it), with the
 * automatic 100 Trying of §17.2.1 / §8.2.6.1.
 *
 * After a 2xx the transaction stays in Accepted for Timer L: INVITE retransmissions are
 * absorbed there (not mistaken for new requests), 2xx retransmissions from the TU pass
 * through, and a matching ACK goes up to the TU. Retransmitting the 2xx until the ACK comes
 * is the TU's job (§13.3.1.4), since that ACK is a transaction of its own.
 */
import type { SipMessage, SipRequest, SipResponse } from '../message/message.js';
import type { Destination } from '../transport/types.js';
import { createTrying } from './build.js';
import {
  TimerSet,
  type ServerTransactionHandlers,
  type TransactionContext,
  NO_HANDLERS,
} from './context.js';
import { TransactionUsageError, type TransactionTransportError } from './errors.js';
import { isRfc3261Key } from './matching.js';

export type ServerInviteState = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

type Event =
  | { kind: 'retransmission' }
  | { kind: 'ack'; ack: SipRequest }
  | { kind: '1xx'; res: SipResponse }
  | { kind: '2xx'; res: SipResponse }
  | { kind: '3xx-6xx'; res: SipResponse }
  | { kind: 'timer100' }
  | { kind: 'timerG' }
  | { kind: 'timerH' }
  | { kind: 'timerI' }
  | { kind: 'timerL' }
  | { kind: 'transportError'; err: TransactionTransportError };

type Transition = `${ServerInviteState}:${Event['kind']}`;
type TimerName = '100' | 'G' | 'H' | 'I' | 'L';

const TIMER_EVENTS = { '100': 'timer100', L: 'timerL', G: 'timerG', H: 'timerH', I: 'timerI' } as const satisfies Record<TimerName, Event['kind']>;

export interface ServerInviteOptions {
  /** §17.2.1: send 100 Trying if the TU has not answered within this many ms (default 200). */
  tryingDelay: number;
}

export class ServerInviteTransaction {
  readonly method = 'INVITE';
  /**
   * The TU's callbacks; set them from onRequest by assigning a new object (the default is
   * one frozen empty object shared by all transactions).
   */
  handlers: ServerTransactionHandlers = NO_HANDLERS;
  private current: ServerInviteState = 'proceeding';
  private readonly timers: TimerSet<TimerName>;
  private readonly receivedAt: number;
  private intervalG = 0;
  /** The request until the final response; then only what matching needs is kept. */
  private req: SipRequest | undefined;
  private savedToTag: string | undefined;
  /** The last response sent, serialized: what retransmissions (request or Timer G) resend. */
  private lastBytes: Buffer | undefined;
  private finalTag: string | undefined;

  constructor(
    private readonly ctx: TransactionContext,
    request: SipRequest,
    /** §18.2.2: where every response of this transaction goes. */
    readonly responseDestination: Destination,
    /** Matching key of the layer (§17.2.3), kept here so the layer can unregister it. */
    readonly key: string,
    private readonly options: ServerInviteOptions,
  ) {
    this.req = request;
    this.timers = new TimerSet(ctx.timerQueues, this);
    // Whole milliseconds: a small integer lives in the object, a fraction in a heap number.
    this.receivedAt = Math.floor(ctx.clock.now());
  }

  /**
   * The INVITE. Once a final response is sent the transaction keeps only that response's
   * bytes, its destination and the matching key (it may linger for Timer L or H), so this
   * then throws: the TU keeps the request it was given if it needs it.
   */
  get request(): SipRequest {
    if (this.req === undefined) throw new TransactionUsageError('the INVITE request is released after the final response');
    return this.req;
  }

  /** To tag of the request, for RFC 2543 matching (§17.2.3). */
  get requestToTag(): string | undefined {
    return this.req !== undefined ? this.req.toTag() : this.savedToTag;
  }

  get state(): ServerInviteState {
    return this.current;
  }

  /**
   * The most recent response sent, serialized: what a request retransmission is answered
   * with. None in Accepted, where retransmissions are absorbed (RFC 6026 §7.1).
   */
  get lastResponseBytes(): Buffer | undefined {
    return this.lastBytes;
  }

  /** To tag of the final response, for RFC 2543 ACK matching (§17.2.3). */
  get finalToTag(): string | undefined {
    return this.finalTag;
  }

  /**
   * The TU has seen the INVITE (the layer calls this once onRequest returns): unless it has
   * already answered, arm the 100 Trying for what is left of the 200 ms since the INVITE
   * arrived (§17.2.1). A TU that answers inside onRequest, as most do, thus leaves no
   * cancelled timer behind. The delay is whole milliseconds (the timer FIFOs are per
   * duration), counted from the arrival time rounded down to a whole millisecond; a TU that
   * returned within that millisecond gets the full delay.
   */
  start(): void {
    if (this.current !== 'proceeding' || this.lastBytes !== undefined) return;
    const elapsed = this.ctx.clock.now() - this.receivedAt;
    const delay = elapsed < 1 ? this.options.tryingDelay : Math.max(0, Math.round(this.options.tryingDelay - elapsed));
    this.timers.start('100', delay);
  }

  /**
   * The TU's response. Returns false when the state machine discards it: anything after a
   * 300–699, and anything but a 2xx after a 2xx (RFC 6026 §8.7, figure 5).
   */
  respond(res: SipResponse): boolean {
    if (!Number.isInteger(res.status) || res.status < 100 || res.status > 699) {
      throw new RangeError(`response status ${res.status} out of 100-699`);
    }
    if (res.status < 200) return this.dispatch({ kind: '1xx', res });
    if (res.status < 300) return this.dispatch({ kind: '2xx', res });
    return this.dispatch({ kind: '3xx-6xx', res });
  }

  /** A retransmission of the INVITE, matched by the layer (§17.2.3). */
  receiveRetransmission(): void {
    this.dispatch({ kind: 'retransmission' });
  }

  /** An ACK matched to this transaction by the layer (§17.2.3). */
  receiveAck(ack: SipRequest): void {
    this.dispatch({ kind: 'ack', ack });
  }

  /** TimerSet: one of this machine's timers expired. */
  timerFired(name: TimerName): void {
    this.dispatch({ kind: TIMER_EVENTS[name] });
  }

  /** Runs one transition; false when the event was discarded in this state. */
  private dispatch(ev: Event): boolean {
    const t: Transition = `${this.current}:${ev.kind}`;
    switch (t) {
      case 'proceeding:timer100':
        if (this.lastBytes === undefined) this.send(createTrying(this.request, this.ctx.clock.now() - this.receivedAt));
        return true;
      case 'proceeding:retransmission':
        this.ctx.counters.retransmissionsReceived++;
        // The client is already retransmitting: answer with the latest provisional now rather
        // than wait out the 200 ms; that is what the 100 is for (§17.2.1).
        if (this.lastBytes === undefined) {
          this.timers.cancel('100');
          this.send(createTrying(this.request, this.ctx.clock.now() - this.receivedAt));
        } else {
          this.resendLast();
        }
        return true;
      case 'proceeding:1xx':
        this.timers.cancel('100');
        if (ev.kind === '1xx') this.send(ev.res);
        return true;
      case 'proceeding:2xx':
        this.current = 'accepted';
        this.timers.cancel('100');
        this.timers.start('L', this.ctx.timers.L);
        if (ev.kind === '2xx') this.send(ev.res);
        return true;
      case 'accepted:2xx':
        // RFC 6026 §8.7: the TU's 2xx retransmissions (§13.3.1.4) go out through here.
        if (ev.kind === '2xx') this.send(ev.res);
        return true;
      case 'proceeding:3xx-6xx': {
        this.current = 'completed';
        this.timers.cancel('100');
        const g = this.ctx.timers.G;
        if (g !== undefined) {
          this.intervalG = g;
          this.timers.start('G', g);
        }
        this.timers.start('H', this.ctx.timers.H);
        if (ev.kind === '3xx-6xx') this.send(ev.res);
        return true;
      }
      case 'completed:retransmission':
        this.ctx.counters.retransmissionsReceived++;
        this.resendLast();
        return true;
      case 'completed:timerG':
        this.resendLast();
        this.intervalG = Math.min(2 * this.intervalG, this.ctx.timers.T2);
        this.timers.start('G', this.intervalG);
        return true;
      case 'completed:timerH':
        // §17.2.1: the ACK never came; the TU learns the transaction failed.
        this.ctx.counters.timeouts++;
        this.terminate(() => this.handlers.onTimeout?.());
        return true;
      case 'completed:ack':
        this.current = 'confirmed';
        this.timers.cancel('G', 'H');
        this.timers.start('I', this.ctx.timers.I);
        return true;
      case 'confirmed:ack':
      case 'confirmed:retransmission':
      case 'accepted:retransmission':
        // Absorbed: Confirmed soaks up ACK retransmissions, Accepted INVITE retransmissions
        // (RFC 6026 §7.1: they must not reach the TU as new requests).
        this.ctx.counters.retransmissionsReceived++;
        return true;
      case 'accepted:ack':
        if (ev.kind === 'ack') this.ctx.ackToTu(ev.ack, this);
        return true;
      case 'confirmed:timerI':
      case 'accepted:timerL':
        this.terminate();
        return true;
      case 'proceeding:transportError':
      case 'completed:transportError':
      case 'accepted:transportError':
        // RFC 6026 §7.1: tell the TU but keep the state; the timers will end the transaction.
        if (ev.kind === 'transportError') this.handlers.onTransportError?.(ev.err);
        return true;
      default:
        // Discarded: responses after a final (except 2xx in Accepted), an ACK before any
        // final response, stale timers.
        return false;
    }
  }

  private resendLast(): void {
    if (this.lastBytes === undefined) return;
    this.ctx.counters.retransmissionsSent++;
    this.ctx.resendResponse(this.lastBytes, this.responseDestination, this);
  }

  /** The layer: a response of this transaction could not be sent (§17.2.4). */
  sendFailed(err: TransactionTransportError): void {
    this.dispatch({ kind: 'transportError', err });
  }

  private send(res: SipResponse): void {
    const bytes = this.ctx.sendResponse(res, this.responseDestination, this);
    // RFC 6026 §7.1: Accepted absorbs INVITE retransmissions and resends nothing itself (the
    // TU retransmits its 2xx, §13.3.1.4), so a 2xx is not kept for Timer L's 32 s.
    this.lastBytes = res.status >= 200 && res.status < 300 ? undefined : bytes;
    if (res.status >= 200) this.release(res);
  }

  /**
   * After a final response only its bytes, the destination and the key are needed (Timer G
   * retransmissions, absorbing INVITE retransmissions, matching the ACK); RFC 2543 matching
   * also needs the request's and the response's To tags.
   */
  private release(res: SipResponse): void {
    if (!isRfc3261Key(this.key)) {
      this.finalTag = safeToTag(res);
      if (this.req !== undefined) this.savedToTag = safeToTag(this.req);
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

function safeToTag(msg: SipMessage): string | undefined {
  try {
    return msg.toTag();
  } catch {
    return undefined;
  }
}
