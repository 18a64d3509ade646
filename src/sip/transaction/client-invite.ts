/**
 * INVITE client transaction: RFC 3261 §17.1.1 (figure 5) as updated by RFC 6026 §7.2 and
 * §8.4 (the "Accepted" state and Timer M), with the ACK for 300–699 built here per
 * §17.1.1.3 and the CANCEL rules of §9.1 (not before a provisional response; give up on
 * the INVITE 64*T1 after the CANCEL).
 *
 * A 2xx does not end the transaction: other forks may answer too, and every 2xx must reach
 * the TU, which acknowledges each itself (§13.2.2.4). Accepted absorbs nothing and sends
 * nothing; it only keeps the branch matched until Timer M so those 2xx are not stray.
 */
import type { SipRequest, SipResponse } from '../message/message.js';
import type { Destination } from '../transport/types.js';
import { buildNon2xxAck } from './build.js';
import {
  sendReporting,
  TimerSet,
  type ClientTransactionHandlers,
  type TransactionContext,
} from './context.js';
import type { TransactionTransportError } from './errors.js';

export type ClientInviteState = 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

type Event =
  | { kind: '1xx'; res: SipResponse }
  | { kind: '2xx'; res: SipResponse }
  | { kind: '3xx-6xx'; res: SipResponse }
  | { kind: 'timerA' }
  | { kind: 'timerB' }
  | { kind: 'timerD' }
  | { kind: 'timerM' }
  | { kind: 'cancel'; send: () => void }
  | { kind: 'cancelGuard' }
  | { kind: 'transportError'; err: TransactionTransportError };

type Transition = `${ClientInviteState}:${Event['kind']}`;
type TimerName = 'A' | 'B' | 'D' | 'M' | 'cancelGuard';

const TIMER_EVENTS = { A: 'timerA', B: 'timerB', M: 'timerM', D: 'timerD', cancelGuard: 'cancelGuard' } as const satisfies Record<TimerName, Event['kind']>;

export class ClientInviteTransaction {
  readonly method = 'INVITE';
  private current: ClientInviteState = 'calling';
  private readonly timers: TimerSet<TimerName>;
  /** Current Timer A interval: doubles on every firing (§17.1.1.2), without a cap. */
  private intervalA = 0;
  /** §9.1: a CANCEL asked for in Calling waits for the first provisional response. */
  private pendingCancel: (() => void) | undefined;
  private cancelSent = false;
  private ackRequest: SipRequest | undefined;

  constructor(
    private readonly ctx: TransactionContext,
    /** The INVITE, with the top Via (and branch) already in place. */
    readonly request: SipRequest,
    readonly destination: Destination,
    /** Top Via branch: the transaction id of §17.1.3. */
    readonly branch: string,
    private readonly handlers: ClientTransactionHandlers,
  ) {
    this.timers = new TimerSet(ctx.timerQueues, this);
  }

  get state(): ClientInviteState {
    return this.current;
  }

  /** The ACK this transaction sent for a 300–699 response (§17.1.1.3), once there is one. */
  get ack(): SipRequest | undefined {
    return this.ackRequest;
  }

  /** Enter Calling: send the INVITE, start Timer A (unreliable transports only) and Timer B. */
  start(): void {
    this.transmit(this.request);
    const a = this.ctx.timers.A;
    if (a !== undefined) {
      this.intervalA = a;
      this.timers.start('A', a);
    }
    this.timers.start('B', this.ctx.timers.B);
  }

  /** A response matched to this transaction by the layer (§17.1.3). */
  receiveResponse(res: SipResponse): void {
    if (res.status < 200) this.dispatch({ kind: '1xx', res });
    else if (res.status < 300) this.dispatch({ kind: '2xx', res });
    else this.dispatch({ kind: '3xx-6xx', res });
  }

  /**
   * Ask for `send` (which sends the CANCEL) to run as soon as §9.1 allows: now in
   * Proceeding, on the first provisional response in Calling. False once a final response
   * has arrived: there is nothing left to cancel.
   */
  requestCancel(send: () => void): boolean {
    if (this.current !== 'calling' && this.current !== 'proceeding') return false;
    this.dispatch({ kind: 'cancel', send });
    return true;
  }

  /** TimerSet: one of this machine's timers expired. */
  timerFired(name: TimerName): void {
    this.dispatch({ kind: TIMER_EVENTS[name] });
  }

  private dispatch(ev: Event): void {
    const t: Transition = `${this.current}:${ev.kind}`;
    switch (t) {
      case 'calling:timerA': {
        this.ctx.counters.retransmissionsSent++;
        this.transmit(this.request);
        this.intervalA *= 2;
        this.timers.start('A', this.intervalA);
        return;
      }
      case 'calling:timerB':
      case 'proceeding:cancelGuard': {
        // §17.1.1.2: inform the TU of the timeout; no ACK is generated.
        this.ctx.counters.timeouts++;
        this.terminate(() => this.handlers.onTimeout?.());
        return;
      }
      case 'calling:1xx': {
        this.current = 'proceeding';
        // §17.1.1.2: no more retransmissions; Timer B only guards the Calling state.
        this.timers.cancel('A', 'B');
        const cancel = this.pendingCancel;
        this.pendingCancel = undefined;
        if (cancel !== undefined) this.sendCancel(cancel);
        if (ev.kind === '1xx') this.handlers.onProvisional?.(ev.res);
        return;
      }
      case 'proceeding:1xx':
        if (ev.kind === '1xx') this.handlers.onProvisional?.(ev.res);
        return;
      case 'calling:2xx':
      case 'proceeding:2xx': {
        this.current = 'accepted';
        this.pendingCancel = undefined;
        this.timers.cancel('A', 'B', 'cancelGuard');
        this.timers.start('M', this.ctx.timers.M);
        if (ev.kind === '2xx') this.handlers.onFinal(ev.res);
        return;
      }
      case 'accepted:2xx':
        // RFC 6026 §7.2: retransmissions and 2xx from other forks all go up; the TU ACKs each.
        if (ev.kind === '2xx') this.handlers.onFinal(ev.res);
        return;
      case 'calling:3xx-6xx':
      case 'proceeding:3xx-6xx': {
        if (ev.kind !== '3xx-6xx') return;
        const res = ev.res;
        this.current = 'completed';
        this.pendingCancel = undefined;
        this.timers.cancel('A', 'B', 'cancelGuard');
        this.ackRequest = buildNon2xxAck(this.request, res);
        this.transmit(this.ackRequest);
        this.timers.start('D', this.ctx.timers.D);
        this.handlers.onFinal(res);
        return;
      }
      case 'completed:3xx-6xx': {
        // §17.1.1.2: a retransmitted final response is answered with the same ACK, not passed up.
        this.ctx.counters.retransmissionsReceived++;
        if (this.ackRequest !== undefined) {
          this.ctx.counters.retransmissionsSent++;
          this.transmit(this.ackRequest);
        }
        return;
      }
      case 'completed:timerD':
      case 'accepted:timerM':
        this.terminate();
        return;
      case 'calling:transportError':
      case 'proceeding:transportError':
      case 'completed:transportError': {
        // §17.1.4: a transport failure is a failed transaction, reported like a 503 would be.
        if (ev.kind !== 'transportError') return;
        const err = ev.err;
        this.terminate(() => this.handlers.onTransportError?.(err));
        return;
      }
      case 'calling:cancel':
        if (ev.kind === 'cancel') this.pendingCancel ??= ev.send;
        return;
      case 'proceeding:cancel':
        if (ev.kind === 'cancel') this.sendCancel(ev.send);
        return;
      default:
        // Everything else is absorbed: late provisionals, a 2xx after a 3xx-6xx, stale timers.
        return;
    }
  }

  /** §9.1: once the CANCEL is out, wait at most 64*T1 for the INVITE's final response. */
  private sendCancel(send: () => void): void {
    if (this.cancelSent) return;
    this.cancelSent = true;
    this.timers.start('cancelGuard', this.ctx.timers.B);
    send();
  }

  private transmit(msg: SipRequest): void {
    sendReporting(this.ctx, msg, this.destination, (err) => this.dispatch({ kind: 'transportError', err }));
  }

  private terminate(inform?: () => void): void {
    this.current = 'terminated';
    this.pendingCancel = undefined;
    this.timers.cancelAll();
    this.ctx.terminated(this);
    try {
      inform?.();
    } finally {
      this.handlers.onTerminated?.();
    }
  }
}
