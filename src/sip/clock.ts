/**
 * Injected time (design.md convention 2). Every SIP timer — RFC 3261 §17 Timers A–K,
 * RFC 6026 Timers L/M, RFC 4028 session expiry, RFC 6665 subscription expiry — is set
 * through a Clock, so tests drive time with FakeClock instead of sleeping.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since an arbitrary epoch (monotonic for systemClock). */
  now(): number;
  /** Call fn once after ms milliseconds. */
  setTimer(ms: number, fn: () => void): TimerHandle;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

interface Scheduled {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A manual clock for tests: time moves only when advance() is called. */
export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private queue: Scheduled[] = [];

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const s: Scheduled = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.queue.push(s);
    return {
      cancel: () => {
        s.cancelled = true;
      },
    };
  }

  /** Number of timers still pending. */
  get pending(): number {
    return this.queue.filter((s) => !s.cancelled).length;
  }

  /** Move time forward by ms, firing due timers in time order (timers set while firing included). */
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      let best: Scheduled | undefined;
      for (const s of this.queue) {
        if (s.cancelled || s.at > until) continue;
        if (best === undefined || s.at < best.at || (s.at === best.at && s.seq < best.seq)) best = s;
      }
      if (best === undefined) break;
      this.queue = this.queue.filter((s) => s !== best && !s.cancelled);
      this.t = best.at;
      best.fn();
    }
    this.t = until;
  }
}
