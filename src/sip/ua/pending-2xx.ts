/**
 * A UAS's 2xx to an INVITE waiting for its ACK, RFC 3261 §13.3.1.4: the TU (not the
 * transaction, which sits in Accepted and resends nothing, RFC 6026 §7.1) retransmits the
 * 2xx T1 after it was sent, then at intervals doubling up to T2, until the ACK arrives; when
 * none has come 64*T1 after the 2xx, the dialog is confirmed and ended with BYE (the
 * host's noAck).
 *
 * One timer does both: it runs on the per-duration FIFO queues (TimerSet of
 * transaction/context.ts), like the transactions' own, and its last interval is cut short so
 * that it fires exactly 64*T1 after the 2xx, where it gives up instead of resending. The ACK,
 * which nearly always comes, cancels an entry that leaves its queue within T1 instead of
 * one that lingers in the 32 s queue.
 */
import type { SipResponse } from '../message/message.js';
import { serialize } from '../message/serialize.js';
import { TimerSet, type TimerListener, type TimerQueues } from '../transaction/context.js';
import type { TimerConfig } from '../transaction/timers.js';
import type { Destination, Transport } from '../transport/types.js';
import type { Dialog } from '../dialog/dialog.js';

type TimerName = 'retransmit';

/** What a pending 2xx needs from its UA (one object per UA, not per call). */
export interface Pending2xxHost {
  readonly transport: Transport;
  readonly timers: TimerConfig;
  readonly queues: TimerQueues;
  /** 64*T1 passed without the ACK (the pending 2xx has stopped by then). */
  noAck(dialog: Dialog): void;
  /** A retransmission threw (a bug below): it is reported, and the schedule goes on. */
  resendFailed(dialog: Dialog, err: unknown): void;
}

export class Pending2xx implements TimerListener<TimerName> {
  /**
   * The 2xx, when its bytes were not given, until its first retransmission; then only its
   * bytes (when the transport takes bytes). An ACK usually comes within a round trip, and
   * under load that can outlive a young-generation GC or two: the bytes are a few hundred
   * bytes, the message with its header fields (and the request text they point into) more.
   */
  private res: SipResponse | undefined;
  private bytes: Buffer | undefined;
  private interval: number;
  /** Time since the 2xx was first sent, at the running timer's expiry. */
  private elapsed: number;
  private readonly timers: TimerSet<TimerName>;

  constructor(
    private readonly host: Pending2xxHost,
    readonly dialog: Dialog,
    res: SipResponse,
    /** Where the 2xx went (§18.2.2); undefined: nowhere to resend it. */
    private readonly dest: Destination | undefined,
    /** The bytes the 2xx was sent as, when known: then the message itself is not kept. */
    sent?: Buffer,
  ) {
    if (sent !== undefined && host.transport.sendBytes !== undefined) this.bytes = sent;
    else this.res = res;
    this.interval = host.timers.T1;
    this.elapsed = Math.min(this.interval, this.giveUpAfter);
    this.timers = new TimerSet(host.queues, this);
    this.timers.start('retransmit', this.elapsed);
  }

  private get giveUpAfter(): number {
    return 64 * this.host.timers.T1;
  }

  /** The ACK came (or the dialog ended, or a new 2xx replaces this one). */
  stop(): void {
    this.timers.cancelAll();
    this.res = undefined;
    this.bytes = undefined;
  }

  /** TimerSet: a retransmission is due, or (64*T1 after the 2xx) the ACK is overdue. */
  timerFired(): void {
    if (this.elapsed >= this.giveUpAfter) {
      this.stop();
      this.host.noAck(this.dialog);
      return;
    }
    // The next expiry is armed first: a resend that throws must not end the schedule (and
    // with it the BYE at 64*T1).
    this.interval = Math.min(this.interval * 2, this.host.timers.T2);
    const next = Math.min(this.interval, this.giveUpAfter - this.elapsed);
    this.elapsed += next;
    this.timers.start('retransmit', next);
    try {
      this.resend();
    } catch (err) {
      this.host.resendFailed(this.dialog, err);
    }
  }

  private resend(): void {
    const t = this.host.transport;
    if (this.dest === undefined) return;
    if (t.sendBytes !== undefined) {
      if (this.res !== undefined) {
        this.bytes = serialize(this.res);
        this.res = undefined;
      }
      if (this.bytes !== undefined) t.sendBytes(this.bytes, this.dest, () => undefined);
    } else if (this.res !== undefined) {
      void t.send(this.res, this.dest).catch(() => undefined);
    }
  }
}
