/**
 * What the four RFC 3261 §17 state machines share: the injected clock, the timer table for
 * their transport class, a way to hand messages to the transport (§18) and counters for
 * metrics. The TransactionLayer builds one context per transaction; the machines never see
 * the layer itself, which keeps each of them testable on its own.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { SipMessage, SipRequest, SipResponse } from '../message/message.js';
import type { Destination } from '../transport/types.js';
import { TransactionTransportError } from './errors.js';
import type { TimerDurations } from './timers.js';

/** Counters kept across all transactions of a layer (for metrics). */
export interface TransactionCounters {
  clientTransactionsCreated: number;
  serverTransactionsCreated: number;
  /** Requests (Timers A/E), responses (Timer G, answers to request retransmissions), ACKs resent. */
  retransmissionsSent: number;
  /** Request or response retransmissions that matched a transaction and were absorbed. */
  retransmissionsReceived: number;
  /** Timer B, F and H expiries, and the §9.1 64*T1 guard after a CANCEL. */
  timeouts: number;
  transportErrors: number;
  /** Responses that matched no client transaction (§17.1.3). */
  strayResponses: number;
  /** ACKs that matched no server transaction (the ACK for a 2xx, §17.2.3). */
  strayAcks: number;
  /** Requests answered 503 because maxServerTransactions was reached. */
  rejectedOverLimit: number;
  /** Messages dropped or answered 400 because a header the layer needs was unreadable. */
  malformed: number;
}

export function newCounters(): TransactionCounters {
  return {
    clientTransactionsCreated: 0,
    serverTransactionsCreated: 0,
    retransmissionsSent: 0,
    retransmissionsReceived: 0,
    timeouts: 0,
    transportErrors: 0,
    strayResponses: 0,
    strayAcks: 0,
    rejectedOverLimit: 0,
    malformed: 0,
  };
}

export interface TransactionContext {
  readonly clock: Clock;
  readonly timers: TimerDurations;
  readonly counters: TransactionCounters;
  /** Hand a message to the transport; rejects on a transport error (§18.4). */
  send(msg: SipMessage, dest: Destination): Promise<void>;
  /** Called once when the machine reaches Terminated, so the layer can forget it. */
  terminated(tx: object): void;
  /** RFC 6026 §7.1: an ACK matching an INVITE server transaction in Accepted goes to the TU. */
  ackToTu(ack: SipRequest, tx: object): void;
}

/**
 * Callbacks a client transaction reports to its TU with. They run synchronously inside
 * TransactionLayer.receive() or a timer, so they must not throw.
 */
export interface ClientTransactionHandlers {
  /** 1xx responses (§17.1.1.2, §17.1.2.2). */
  onProvisional?(res: SipResponse): void;
  /**
   * Final responses. For INVITE: the first non-2xx (its retransmissions are absorbed, the ACK
   * is already sent) and every 2xx, including those from other forks (RFC 6026 §7.2); the TU
   * builds the ACK for a 2xx (§13.2.2.4).
   */
  onFinal(res: SipResponse): void;
  /** Timer B or F fired, or no final response 64*T1 after a CANCEL (§9.1). */
  onTimeout?(): void;
  onTransportError?(err: TransactionTransportError): void;
  onTerminated?(): void;
}

/**
 * Callbacks a server transaction reports to its TU with; the TU sets them from onRequest.
 * Like the client ones they run inside receive() or a timer and must not throw.
 */
export interface ServerTransactionHandlers {
  /** Timer H fired: the ACK for a 3xx–6xx never came (§17.2.1). */
  onTimeout?(): void;
  /** A response could not be sent (§17.2.4). */
  onTransportError?(err: TransactionTransportError): void;
  onTerminated?(): void;
}

/**
 * Named one-shot timers for a machine: starting a name again replaces its previous timer,
 * so no stale expiry can reach a state that has moved on.
 */
export class TimerSet<Name extends string> {
  private readonly handles = new Map<Name, TimerHandle>();

  constructor(private readonly clock: Clock) {}

  start(name: Name, ms: number, fire: () => void): void {
    this.cancel(name);
    const handle = this.clock.setTimer(ms, () => {
      if (this.handles.get(name) !== handle) return;
      this.handles.delete(name);
      fire();
    });
    this.handles.set(name, handle);
  }

  cancel(...names: Name[]): void {
    for (const name of names) {
      this.handles.get(name)?.cancel();
      this.handles.delete(name);
    }
  }

  cancelAll(): void {
    for (const h of this.handles.values()) h.cancel();
    this.handles.clear();
  }

  has(name: Name): boolean {
    return this.handles.has(name);
  }
}

/**
 * Send and route a rejection to `onError` as a TransactionTransportError. The send is not
 * awaited by the machines: they stay synchronous and treat the failure as one more event.
 */
export function sendReporting(
  ctx: TransactionContext,
  msg: SipMessage,
  dest: Destination,
  onError: (err: TransactionTransportError) => void,
): void {
  let p: Promise<void>;
  try {
    p = ctx.send(msg, dest);
  } catch (e) {
    p = Promise.reject(e);
  }
  p.catch((e: unknown) => {
    ctx.counters.transportErrors++;
    onError(TransactionTransportError.from(e));
  });
}
