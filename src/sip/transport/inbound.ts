/**
 * What every transport does with a received message before the layers above see it,
 * RFC 3261 §18.2.1 (requests: stamp received/rport, RFC 3581 §4) and §18.1.2 (responses go
 * up as they are). A message that cannot be accepted is answered with a stateless error
 * where a response can be built (§8.2, stateless.ts) and always reported as a parseError;
 * responses that fail are only reported (nobody to answer). Nothing here throws into the
 * socket handlers (design.md convention 4): exceptions from the layers above are logged.
 */
import { MessageParseError } from '../message/parse.js';
import type { MessageSource, SipMessage, SipRequest, SipResponse } from '../message/message.js';
import type { TransportEvents } from './types.js';
import { debugOn, type TransportLogger } from './config.js';
import { stampRequest } from './received.js';
import { hostport, statelessErrorResponse } from './stateless.js';

/** How a transport sends a stateless error back for a request it rejected. */
export type Reply = (res: SipResponse, req: SipRequest) => void;

export interface Inbound {
  events: TransportEvents;
  logger: TransportLogger;
}

function sourceFields(s: MessageSource): Record<string, unknown> {
  return { transport: s.transport, remote: hostport(s.remoteAddress, s.remotePort), connectionId: s.connectionId };
}

export function acceptMessage(ctx: Inbound, msg: SipMessage, source: MessageSource, reply: Reply): void {
  msg.source = source;
  if (msg.isRequest() && !stampRequest(msg)) {
    rejectMessage(ctx, new MessageParseError('missing or malformed top Via', 0, 400, msg), source, reply);
    return;
  }
  if (debugOn(ctx.logger)) {
    ctx.logger.debug(
      { ...sourceFields(source), callId: msg.get('call-id'), start: msg.isRequest() ? msg.method : msg.status },
      'sip message received',
    );
  }
  try {
    ctx.events.message(msg);
  } catch (e) {
    ctx.logger.error({ ...sourceFields(source), callId: msg.get('call-id'), err: e }, 'message handler threw');
  }
}

export function rejectMessage(ctx: Inbound, error: MessageParseError, source: MessageSource, reply: Reply): void {
  const partial = error.partial;
  ctx.logger.warn(
    { ...sourceFields(source), callId: partial?.get('call-id'), status: error.status, fatal: error.fatal, reason: error.message },
    'unparseable sip message',
  );
  if (partial?.isRequest() === true) {
    partial.source = source;
    // Best effort: a broken top Via still leaves the packet source to answer to.
    stampRequest(partial);
    const res = statelessErrorResponse(error, hostport(source.localAddress, source.localPort));
    if (res !== undefined) {
      try {
        reply(res, partial);
      } catch (e) {
        ctx.logger.error({ ...sourceFields(source), err: e }, 'stateless error response failed');
      }
    }
  }
  try {
    ctx.events.parseError(error, source);
  } catch (e) {
    ctx.logger.error({ ...sourceFields(source), err: e }, 'parseError handler threw');
  }
}
