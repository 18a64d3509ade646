/**
 * The subscriber's decisions, pure (RFC 6665 §4.1.2.2, §4.1.3): when to refresh, which
 * refresh failures end a subscription, and when to subscribe again after a terminated NOTIFY.
 */

/**
 * Refresh at max(granted - 32 s, granted / 2). RFC 6665 leaves the moment open: 32 s is 64*T1,
 * the longest a non-INVITE transaction can take, so the refresh completes before the expiry;
 * halving keeps short subscriptions from refreshing back to back.
 */
export function refreshDelayMs(grantedSeconds: number): number {
  return Math.max(grantedSeconds - 32, grantedSeconds / 2) * 1000;
}

/** §4.1.2.2: refresh responses after which the subscription is gone (+408, RFC 3261 §12.2.1.2). */
const REFRESH_FATAL: ReadonlySet<number> = new Set([404, 405, 408, 410, 416, 480, 481, 482, 483, 484, 485, 489, 501, 604]);

export function refreshFailureEnds(status: number): boolean {
  return REFRESH_FATAL.has(status);
}

/**
 * RFC 6665 §4.1.3: how long to wait before subscribing again after a terminated NOTIFY,
 * in ms, or undefined for "do not".
 */
export function retryPlan(reason: string | undefined, retryAfter: number | undefined, defaultRetryAfter: number): number | undefined {
  switch (reason) {
    case 'deactivated': // SHOULD retry immediately
    case 'timeout': // MAY re-subscribe immediately
      return (retryAfter ?? 0) * 1000;
    case 'rejected':
    case 'noresource':
    case 'invariant':
      return undefined; // SHOULD NOT re-subscribe
    default:
      // probation, giveup: MAY retry later, not before retry-after; no/unknown reason: MAY
      // re-subscribe at any time, not before retry-after. We wait either way.
      return (retryAfter ?? defaultRetryAfter) * 1000;
  }
}
