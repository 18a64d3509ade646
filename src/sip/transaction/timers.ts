/**
 * Transaction timer values: RFC 3261 §17.1.1.1 (T1), §17.1.2.2 (T2, T4), the timer table of
 * Appendix A (Timers A–K), and RFC 6026's Timers L and M (both 64*T1).
 *
 * Only T1, T2 and T4 are configurable; every other timer is derived from them, as the RFC
 * defines it, so a deployment that raises T1 on a high-latency link scales all of them at
 * once (§17.1.1.1: "T1 MAY be chosen larger, and this is RECOMMENDED if it is known in
 * advance ... that RTTs are large").
 */

export interface TimerConfig {
  /** RTT estimate; default 500 ms (§17.1.1.1). */
  T1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses; default 4 s. */
  T2: number;
  /** Maximum time a message can remain in the network; default 5 s. */
  T4: number;
}

export const DEFAULT_TIMERS: Readonly<TimerConfig> = Object.freeze({ T1: 500, T2: 4000, T4: 5000 });

/** Durations in milliseconds for one transport class (reliable or not). */
export interface TimerDurations {
  readonly T1: number;
  readonly T2: number;
  readonly T4: number;
  /** INVITE request retransmit, initial value; undefined when the transport is reliable. */
  readonly A: number | undefined;
  /** INVITE client transaction timeout. */
  readonly B: number;
  /** Wait for response retransmissions in the INVITE client's Completed state. */
  readonly D: number;
  /** Non-INVITE request retransmit, initial value; undefined when reliable. */
  readonly E: number | undefined;
  /** Non-INVITE client transaction timeout. */
  readonly F: number;
  /** INVITE final response retransmit, initial value; undefined when reliable. */
  readonly G: number | undefined;
  /** Wait for the ACK to a non-2xx final response. */
  readonly H: number;
  /** Wait for ACK retransmissions in the Confirmed state. */
  readonly I: number;
  /** Wait for non-INVITE request retransmissions in the server's Completed state. */
  readonly J: number;
  /** Wait for response retransmissions in the non-INVITE client's Completed state. */
  readonly K: number;
  /** RFC 6026: INVITE server transaction's Accepted state (2xx retransmissions, ACKs). */
  readonly L: number;
  /** RFC 6026: INVITE client transaction's Accepted state (2xx from other forks). */
  readonly M: number;
}

/** §17.1.1.2 asks Timer D to be "at least 32 seconds" on unreliable transports. */
const TIMER_D_UNRELIABLE = 32_000;

export function resolveTimerConfig(partial: Partial<TimerConfig> | undefined): TimerConfig {
  const c: TimerConfig = { ...DEFAULT_TIMERS, ...stripUndefined(partial ?? {}) };
  for (const k of ['T1', 'T2', 'T4'] as const) {
    if (!Number.isFinite(c[k]) || c[k] <= 0) throw new RangeError(`timer ${k} must be a positive number of ms, got ${c[k]}`);
  }
  if (c.T2 < c.T1) throw new RangeError(`T2 (${c.T2}) must not be smaller than T1 (${c.T1})`);
  return c;
}

/**
 * Derive the Appendix A table for one transport class. Timers that exist only to absorb
 * retransmissions collapse to zero on reliable transports, where nothing is retransmitted.
 */
export function timerDurations(c: TimerConfig, reliable: boolean): TimerDurations {
  const t64 = 64 * c.T1;
  return {
    T1: c.T1,
    T2: c.T2,
    T4: c.T4,
    A: reliable ? undefined : c.T1,
    B: t64,
    // The server may retransmit its final response for up to its Timer H (64*T1), so a
    // raised T1 stretches D past the 32 s floor rather than letting it fall short.
    D: reliable ? 0 : Math.max(TIMER_D_UNRELIABLE, t64),
    E: reliable ? undefined : c.T1,
    F: t64,
    // §17.2.1: Timer G is set only "if an unreliable transport is being used".
    G: reliable ? undefined : c.T1,
    H: t64,
    I: reliable ? 0 : c.T4,
    J: reliable ? 0 : t64,
    K: reliable ? 0 : c.T4,
    L: t64,
    M: t64,
  };
}

function stripUndefined(p: Partial<TimerConfig>): Partial<TimerConfig> {
  const out: Partial<TimerConfig> = {};
  for (const k of ['T1', 'T2', 'T4'] as const) {
    const v = p[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}
