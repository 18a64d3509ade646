/**
 * Non-INVITE client transaction: RFC 3261 §17.1.2 (figure 6). Timer E retransmits the
 * request on unreliable transports, doubling up to T2 in Trying and at T2 in Proceeding;
 * Timer F ends the transaction as a timeout; Timer K absorbs response retransmissions.
 * Transport errors are handled per §17.1.4.
 */
import type { SipRequest, SipResponse } from '../message/message.js';
import type { Destination } from '../transport/types.js';
import {
  sendReporting,
  TimerSet,
  type ClientTransactionHandlers,
  type TransactionContext,
} from './context.js';
import type { TransactionTransportError } from './errors.js';

export type ClientNonInviteState = 'trying' | 'proceeding' | 'completed' | 'terminated';

type Event =
  | { kind: '1xx'; res: SipResponse }
  | { kind: 'final'; res: SipResponse }
  | { kind: 'timerE' }
  | { kind: 'timerF' }
  | { kind: 'timerK' }
  | { kind: 'transportError'; err: TransactionTransportError };

type Transition = `${ClientNonInviteState}:${Event['kind']}`;
type TimerName = 'E' | 'F' | 'K';

const TIMER_EVENTS = { E: 'timerE', F: 'timerF', K: 'timerK' } as const satisfies Record<TimerName, Event['kind']>;

export class ClientNonInviteTransaction {
  private current: ClientNonInviteState = 'trying';
  private readonly timers: TimerSet<TimerName>;
  /** Current Timer E interval. */
  private intervalE = 0;

  constructor(
    private readonly ctx: TransactionContext,
    /** The request, with the top Via (and branch) already in place. */
    readonly request: SipRequest,
    readonly destination: Destination,
    /** Top Via branch: with the method, the transaction id of §17.1.3. */
    readonly branch: string,
    private readonly handlers: ClientTransactionHandlers,
  ) {
    this.timers = new TimerSet(ctx.timerQueues, this);
  }

  get method(): string {
    return this.request.method;
  }

  get state(): ClientNonInviteState {
    return this.current;
  }

  /** Enter Trying: send the request, start Timer E (unreliable transports only) and Timer F. */
  start(): void {
    this.transmit();
    const e = this.ctx.timers.E;
    if (e !== undefined) {
      this.intervalE = e;
      this.timers.start('E', e);
    }
    this.timers.start('F', this.ctx.timers.F);
  }

  receiveResponse(res: SipResponse): void {
    this.dispatch(res.status < 200 ? { kind: '1xx', res } : { kind: 'final', res });
  }

  /** TimerSet: one of this machine's timers expired. */
  timerFired(name: TimerName): void {
    this.dispatch({ kind: TIMER_EVENTS[name] });
  }

  private dispatch(ev: Event): void {
    const t: Transition = `${this.current}:${ev.kind}`;
    switch (t) {
      case 'trying:timerE':
      case 'proceeding:timerE': {
        this.ctx.counters.retransmissionsSent++;
        this.transmit();
        // §17.1.2.2: min(2*E, T2) in Trying; exactly T2 once a provisional has arrived.
        this.intervalE = this.current === 'trying' ? Math.min(2 * this.intervalE, this.ctx.timers.T2) : this.ctx.timers.T2;
        this.timers.start('E', this.intervalE);
        return;
      }
      case 'trying:timerF':
      case 'proceeding:timerF':
        this.ctx.counters.timeouts++;
        this.terminate(() => this.handlers.onTimeout?.());
        return;
      case 'trying:1xx':
      case 'proceeding:1xx':
        // Timer E keeps running: in Proceeding it still retransmits, now every T2.
        this.current = 'proceeding';
        if (ev.kind === '1xx') this.handlers.onProvisional?.(ev.res);
        return;
      case 'trying:final':
      case 'proceeding:final': {
        this.current = 'completed';
        this.timers.cancel('E', 'F');
        this.timers.start('K', this.ctx.timers.K);
        if (ev.kind === 'final') this.handlers.onFinal(ev.res);
        return;
      }
      case 'completed:1xx':
      case 'completed:final':
        // §17.1.2.2: Completed exists to buffer response retransmissions.
        this.ctx.counters.retransmissionsReceived++;
        return;
      case 'completed:timerK':
        this.terminate();
        return;
      case 'trying:transportError':
      case 'proceeding:transportError': {
        if (ev.kind !== 'transportError') return;
        const err = ev.err;
        this.terminate(() => this.handlers.onTransportError?.(err));
        return;
      }
      default:
        return;
    }
  }

  private transmit(): void {
    sendReporting(this.ctx, this.request, this.destination, (err) => this.dispatch({ kind: 'transportError', err }));
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
