/**
 * SIP events: RFC 6665 subscriber, the RFC 3515 REFER implicit subscription's notifier
 * (with RFC 4488 Refer-Sub), and RFC 3420 message/sipfrag.
 */
export { SIPFRAG_CONTENT_TYPE, parseSipfragStatus, sipfrag, type SipfragStatus } from './sipfrag.js';
export {
  ReferNotifier, acceptRefer, wantsNoReferSub,
  type AcceptReferOptions, type AcceptedRefer, type ReferNotifierOptions, type ReferNotifierState,
  type ReferTerminationReason,
} from './refer-notifier.js';
export {
  Subscription, subscribe,
  type NotifyInfo, type SubscribeOptions, type SubscriberState, type SubscriberTerminationReason,
  type SubscriptionHandlers,
} from './subscriber.js';
export { refreshDelayMs, refreshFailureEnds, retryPlan } from './subscription-policy.js';
export { dialogFromNotify } from './common.js';
