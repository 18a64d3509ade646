/**
 * The slow-loris bound of a stream connection: every byte resets the idle timer, so a
 * message (SIP, RFC 3261 §18.3) or frame (MSRP, RFC 4975 §7) started and not completed within
 * `limitMs`, measured from the last message boundary, is reported. One timer per connection,
 * armed while something is incomplete. Used by the SIP TCP/TLS connection and the MSRP one.
 */
import type { Clock, TimerHandle } from '../clock.js';

export class MessageDeadline {
  /** When the bytes now incomplete started (the last boundary), if any are. */
  private since: number | undefined;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly limitMs: number,
    /** The incomplete message has waited `limitMs`: close the connection. */
    private readonly expired: (limitMs: number) => void,
  ) {}

  /** After a read: `incomplete` whether bytes of an unfinished message are buffered, `boundary` whether a message completed in this read. */
  update(incomplete: boolean, boundary: boolean): void {
    if (!incomplete) this.since = undefined;
    else if (boundary || this.since === undefined) {
      this.since = this.clock.now();
      if (this.timer === undefined) this.arm(this.limitMs);
    }
  }

  cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.timer = this.clock.setTimer(ms, () => {
      this.timer = undefined;
      if (this.since === undefined) return;
      const waited = this.clock.now() - this.since;
      if (waited >= this.limitMs) this.expired(this.limitMs);
      else this.arm(this.limitMs - waited);
    });
  }
}
