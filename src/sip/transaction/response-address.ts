/**
 * Where a server transaction sends its responses: RFC 3261 §18.2.2 and RFC 3581 §4, as the
 * transport layer computes it (src/sip/transport/received.ts); a request with no usable
 * Via has nowhere to be answered.
 */
import type { SipRequest } from '../message/message.js';
import type { Destination } from '../transport/types.js';
import { responseDestination as transportResponseDestination } from '../transport/received.js';
import { TransactionUsageError } from './errors.js';

export function responseDestination(req: SipRequest): Destination {
  const dest = transportResponseDestination(req);
  if (dest === undefined) throw new TransactionUsageError('request has no usable Via: nowhere to send the response');
  return dest;
}
