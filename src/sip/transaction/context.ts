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
  /** The layer's timer FIFOs (one per duration), for the machines' TimerSets. */
  readonly timerQueues: TimerQueues;
  readonly timers: TimerDurations;
  readonly counters: TransactionCounters;
  /** Hand a message to the transport; rejects on a transport error (§18.4). */
  send(msg: SipMessage, dest: Destination): Promise<void>;
  /**
   * Send a server transaction's response and return its serialized bytes, which the machine
   * keeps (instead of the message) to answer retransmissions with. A transport error goes
   * to onError.sendFailed asynchronously, counted in transportErrors.
   */
  sendResponse(res: SipResponse, dest: Destination, onError: SendFailureListener): Buffer;
  /** Send kept response bytes again (a retransmission), errors as for sendResponse. */
  resendResponse(bytes: Buffer, dest: Destination, onError: SendFailureListener): void;
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
 * Who hears of a response that could not be sent: the server transaction itself, so it
 * needs no closure of its own for that (it lingers 32 s after its final response).
 */
export interface SendFailureListener {
  sendFailed(err: TransactionTransportError): void;
}

/** What a machine's TimerSet reports expiries to: the machine itself (no closure per machine). */
export interface TimerListener<Name extends string> {
  timerFired(name: Name): void;
}

/** What a server transaction has until its TU sets handlers: nothing (shared, frozen). */
export const NO_HANDLERS: ServerTransactionHandlers = Object.freeze({});

interface TimerOwner {
  expired(e: TimerEntry): void;
}

interface TimerEntry {
  /** The owning set while the timer is live; undefined once it fired or was cancelled. */
  set: TimerOwner | undefined;
  name: string;
  /** Expiry, in clock.now() time. */
  at: number;
  queue: FixedDelayQueue;
}

/**
 * Every timer of one duration (Timers J, K, I, L, M, D, F, H, a given G/A/E step): entries
 * started later expire later, so they wait in a FIFO driven by a single clock timer armed for
 * the oldest live entry, instead of one Timeout, closure and map entry per transaction.
 * Cancelled entries are only marked and skipped when they reach the head.
 */
class FixedDelayQueue {
  private items: (TimerEntry | undefined)[] = [];
  private head = 0;
  private live = 0;
  private handle: TimerHandle | undefined;
  private running = false;

  constructor(
    private readonly clock: Clock,
    readonly ms: number,
  ) {}

  add(set: TimerOwner, name: string): TimerEntry {
    // Whole milliseconds (rounded up, so never early): a small integer is stored in the entry
    // itself, where a fractional one would be a separate heap number per timer.
    const e: TimerEntry = { set, name, at: Math.ceil(this.clock.now() + this.ms), queue: this };
    this.items.push(e);
    this.live++;
    if (this.handle === undefined && !this.running) this.arm(e.at);
    return e;
  }

  cancelled(): void {
    if (--this.live > 0) return;
    // Nothing live: drop the marked entries and the clock timer (FakeClock.pending stays exact).
    this.handle?.cancel();
    this.handle = undefined;
    this.items = [];
    this.head = 0;
  }

  private arm(at: number): void {
    this.handle = this.clock.setTimer(Math.max(0, at - this.clock.now()), () => this.run());
  }

  private run(): void {
    this.handle = undefined;
    this.running = true;
    try {
      while (this.head < this.items.length) {
        const e = this.items[this.head]!;
        if (e.set !== undefined && e.at > this.clock.now()) break;
        this.items[this.head++] = undefined;
        const set = e.set;
        if (set === undefined) continue;
        e.set = undefined;
        this.live--;
        set.expired(e);
      }
    } finally {
      this.running = false;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      } else {
        if (this.head >= 1024 && this.head * 2 >= this.items.length) {
          this.items = this.items.slice(this.head);
          this.head = 0;
        }
        if (this.live > 0) {
          let i = this.head;
          while (this.items[i]!.set === undefined) i++;
          this.arm(this.items[i]!.at);
        }
      }
    }
  }
}

/** The FIFO queues of one layer, one per duration, all on the layer's clock. */
export class TimerQueues {
  private readonly byMs = new Map<number, FixedDelayQueue>();

  constructor(readonly clock: Clock) {}

  queue(ms: number): FixedDelayQueue {
    const key = Math.max(0, ms);
    let q = this.byMs.get(key);
    if (q === undefined) {
      q = new FixedDelayQueue(this.clock, key);
      this.byMs.set(key, q);
    }
    return q;
  }
}

/**
 * Named one-shot timers for a machine: starting a name again replaces its previous timer,
 * so no stale expiry can reach a state that has moved on. Expiries are reported to the
 * listener given at construction (the machine).
 */
export class TimerSet<Name extends string> implements TimerOwner {
  /**
   * Live timers: the first in a field of its own, any others in `more`. A lingering
   * transaction (Timer J, K, I or L: 32 s at 64*T1) has exactly one, so it holds no array.
   */
  private first: TimerEntry | undefined;
  private more: TimerEntry[] | undefined;

  constructor(
    private readonly queues: TimerQueues,
    private readonly listener: TimerListener<Name>,
  ) {}

  start(name: Name, ms: number): void {
    this.cancelOne(name);
    const e = this.queues.queue(ms).add(this, name);
    if (this.first === undefined) this.first = e;
    else if (this.more === undefined) this.more = [e];
    else this.more.push(e);
  }

  cancel(a: Name, b?: Name, c?: Name): void {
    this.cancelOne(a);
    if (b !== undefined) this.cancelOne(b);
    if (c !== undefined) this.cancelOne(c);
  }

  cancelAll(): void {
    const first = this.first;
    const more = this.more;
    this.first = undefined;
    this.more = undefined;
    if (first !== undefined) release(first);
    if (more !== undefined) for (const e of more) release(e);
  }

  has(name: Name): boolean {
    return this.first?.name === name || (this.more?.some((e) => e.name === name) ?? false);
  }

  /** Called by the queue when `e` is due (e.set was already cleared). */
  expired(e: TimerEntry): void {
    this.remove(e);
    this.listener.timerFired(e.name as Name);
  }

  private cancelOne(name: Name): void {
    // A name is live at most once (start replaces it).
    const e = this.first?.name === name ? this.first : this.more?.find((x) => x.name === name);
    if (e === undefined) return;
    this.remove(e);
    release(e);
  }

  /** Take `e` out of the live list, keeping the first slot filled while others are live. */
  private remove(e: TimerEntry): void {
    const more = this.more;
    if (this.first === e) {
      this.first = more?.shift();
    } else if (more !== undefined) {
      const i = more.indexOf(e);
      if (i >= 0) more.splice(i, 1);
    }
    if (more !== undefined && more.length === 0) this.more = undefined;
  }
}

/** A live entry cancelled: its queue skips it when it reaches the head. */
function release(e: TimerEntry): void {
  e.set = undefined;
  e.queue.cancelled();
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
