/**
 * Session timer settings (RFC 4028) and their validation.
 *
 * §4: 1800 s is the RECOMMENDED Session-Expires; §4 and §5 put the floor of both
 * Session-Expires and Min-SE at 90 s; §7.1: Session-Expires MUST NOT be below the Min-SE we
 * send. The seed (1.2.1-6) asks for refresher=uac in the initial INVITE.
 */

/** §4, §5: no Session-Expires or Min-SE may be below this many seconds. */
export const ABSOLUTE_MIN_SE = 90;
/** The option tag of RFC 4028 (§3), for Supported and Require. */
export const TIMER_OPTION_TAG = 'timer';

export type RefreshMethod = 'auto' | 'UPDATE' | 'INVITE';

export interface SessionTimerConfig {
  /** Session interval we ask for, in seconds (§4: 1800 RECOMMENDED). */
  sessionExpires: number;
  /** The smallest interval we accept, in seconds (§5: at least 90). */
  minSE: number;
  /**
   * The refresher parameter of the initial INVITE (seed 1.2.1-6: 'uac'); 'none' leaves it
   * out so that the UAS chooses (§7.1 RECOMMENDS omitting it).
   */
  refresher: 'uac' | 'uas' | 'none';
  /**
   * How we refresh (§7.4): 'auto' uses UPDATE when the peer's Allow lists it (RFC 3311) and
   * re-INVITE otherwise; 'UPDATE' is the same with the intent stated; 'INVITE' always re-INVITEs.
   */
  method: RefreshMethod;
  /** The largest interval a 422's Min-SE may push us to before we give up (§7.3). */
  maxSessionExpires: number;
  /** How many 422 responses in a row we follow for one request (§7.3) before giving up. */
  max422Retries: number;
  /**
   * §7.2: a 2xx without Session-Expires means the peer neither supports nor wants a timer;
   * with alwaysUse we keep refreshing anyway (for our own benefit, as §7.2 allows), else
   * there is no session timer.
   */
  alwaysUse: boolean;
}

export const DEFAULT_SESSION_TIMER_CONFIG: Readonly<SessionTimerConfig> = Object.freeze({
  sessionExpires: 1800,
  minSE: ABSOLUTE_MIN_SE,
  refresher: 'uac',
  method: 'auto',
  maxSessionExpires: 7200,
  max422Retries: 2,
  alwaysUse: false,
});

export class SessionTimerConfigError extends Error {
  override readonly name = 'SessionTimerConfigError';
  constructor(
    message: string,
    /** The offending setting. */
    readonly field: keyof SessionTimerConfig,
  ) {
    super(message);
  }
}

/** Defaults filled in and every rule checked; throws SessionTimerConfigError. */
export function resolveSessionTimerConfig(partial: Partial<SessionTimerConfig> = {}): SessionTimerConfig {
  const c: SessionTimerConfig = { ...DEFAULT_SESSION_TIMER_CONFIG, ...dropUndefined(partial) };
  for (const f of ['sessionExpires', 'minSE', 'maxSessionExpires'] as const) {
    // delta-seconds is 1*DIGIT; the parser caps it at 2^32-1.
    if (!Number.isInteger(c[f]) || c[f] < 0 || c[f] > 0xffff_ffff) {
      throw new SessionTimerConfigError(`${f} must be a whole number of seconds, got ${String(c[f])}`, f);
    }
  }
  if (c.minSE < ABSOLUTE_MIN_SE) {
    throw new SessionTimerConfigError(`minSE must be at least ${ABSOLUTE_MIN_SE} s (RFC 4028 §5), got ${c.minSE}`, 'minSE');
  }
  if (c.sessionExpires < c.minSE) {
    throw new SessionTimerConfigError(
      `sessionExpires (${c.sessionExpires}) must not be below minSE (${c.minSE}) (RFC 4028 §7.1)`,
      'sessionExpires',
    );
  }
  if (c.maxSessionExpires < c.sessionExpires) {
    throw new SessionTimerConfigError(
      `maxSessionExpires (${c.maxSessionExpires}) must not be below sessionExpires (${c.sessionExpires})`,
      'maxSessionExpires',
    );
  }
  if (c.refresher !== 'uac' && c.refresher !== 'uas' && c.refresher !== 'none') {
    throw new SessionTimerConfigError(`refresher must be uac, uas or none, got ${String(c.refresher)}`, 'refresher');
  }
  if (c.method !== 'auto' && c.method !== 'UPDATE' && c.method !== 'INVITE') {
    throw new SessionTimerConfigError(`method must be auto, UPDATE or INVITE, got ${String(c.method)}`, 'method');
  }
  if (!Number.isInteger(c.max422Retries) || c.max422Retries < 0 || c.max422Retries > 10) {
    throw new SessionTimerConfigError(`max422Retries must be 0..10, got ${String(c.max422Retries)}`, 'max422Retries');
  }
  if (typeof c.alwaysUse !== 'boolean') {
    throw new SessionTimerConfigError('alwaysUse must be a boolean', 'alwaysUse');
  }
  return c;
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
