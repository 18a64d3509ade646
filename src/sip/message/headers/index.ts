/**
 * Structured SIP header values (RFC 3261 §25.1 and the extensions each module cites):
 * pure parsers and formatters over one unfolded header value.
 */
export {
  getParam, getParamUnquoted, hasParam, isToken, quote, unquote, type Param,
} from './scan.js';
export { isIPv4, isIPv6, isIPv6Reference, isHostname, type HostType } from './host.js';
export {
  formatUri, isSipUri, isTelUri, parseUri, unescape, uriEquals,
  type AbsoluteUri, type SipUri, type TelUri, type Uri,
} from './uri.js';
export {
  formatNameAddr, formatNameAddrList, getTag, parseContact, parseNameAddr, parseNameAddrList,
  type NameAddr,
} from './name-addr.js';
export { formatVia, formatViaList, parseVia, type Via } from './via.js';
export { formatCSeq, parseCSeq, parseDeltaSeconds, parseQValue, parseUint32, type CSeq } from './cseq.js';
export {
  featureValues, formatAcceptContact, formatAcValue, hasFeatureTag, parseAcceptContact, parseRejectContact,
  type AcValue,
} from './accept-contact.js';
export { parseReferTo, type ReferTo } from './refer-to.js';
export { formatEvent, parseEvent, sameEvent, type EventHeader } from './event.js';
export {
  formatSubscriptionState, parseSubscriptionState, type SubscriptionState, type SubscriptionStateValue,
} from './subscription-state.js';
export {
  formatMinSE, formatSessionExpires, parseMinSE, parseSessionExpires, type SessionExpires,
} from './session-expires.js';
export {
  formatAccept, formatContentType, mediaType, parseAccept, parseContentType,
  type AcceptRange, type ContentType,
} from './content-type.js';
export {
  formatMultipart, isValidBoundary, makeBoundary, parseMultipart,
  type MultipartHeader, type MultipartPart,
} from './multipart.js';
