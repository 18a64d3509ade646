/**
 * Public surface of the RFC 3261 §17 transaction layer (with RFC 6026): what the dialog
 * layer and the user agent import.
 */
export {
  TransactionLayer,
  type ClientTransaction,
  type SendRequestOptions,
  type ServerTransaction,
  type TransactionLayerOptions,
  type TransactionStats,
} from './layer.js';
export { ClientInviteTransaction, type ClientInviteState } from './client-invite.js';
export { ClientNonInviteTransaction, type ClientNonInviteState } from './client-non-invite.js';
export { ServerInviteTransaction, type ServerInviteState } from './server-invite.js';
export { ServerNonInviteTransaction, type ServerNonInviteState } from './server-non-invite.js';
export type { ClientTransactionHandlers, ServerTransactionHandlers, TransactionCounters } from './context.js';
export { TransactionLimitError, TransactionTransportError, TransactionUsageError } from './errors.js';
export { DEFAULT_TIMERS, resolveTimerConfig, timerDurations, type TimerConfig, type TimerDurations } from './timers.js';
export { buildCancel, buildNon2xxAck, createResponse, reasonPhrase } from './build.js';
export { responseDestination } from './response-address.js';
export { MAGIC_COOKIE, isRfc3261Branch, newBranch, type ViaSentBy } from './via.js';
