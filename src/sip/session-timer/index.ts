/** RFC 4028 session timers: configuration, the pure UAC/UAS negotiation, and the per-dialog timer. */
export {
  ABSOLUTE_MIN_SE, DEFAULT_SESSION_TIMER_CONFIG, SessionTimerConfigError, TIMER_OPTION_TAG, resolveSessionTimerConfig,
  type RefreshMethod, type SessionTimerConfig,
} from './config.js';
export {
  expiryDelayMs, readMinSE, readSessionExpires, refreshDelayMs, refresherRole, refresherToken, supportsTimer,
  type HeaderRead, type Negotiated, type RefresherRole,
} from './negotiation.js';
export {
  handle422, negotiate, refreshRequestHeaders, retryRequestAfter422, sessionTimerRequestHeaders,
  type Attempt, type HeaderPair, type SessionTimerRequestHeaders,
} from './uac.js';
export { answerSessionTimer, type SessionTimerAnswer, type UasContext } from './uas.js';
export {
  SessionTimer, type RefreshMethodUsed, type RefreshRequest, type SessionExpiry, type SessionTimerLogger,
  type SessionTimerOptions, type SessionTimerState, type SessionTimerUa,
} from './session-timer.js';
