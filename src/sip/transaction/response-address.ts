/**
 * Where a server transaction sends its responses: RFC 3261 §18.2.2 (reliable transports
 * reuse the request's connection, else connect to received/sent-by; maddr; unreliable
 * transports answer the source address, i.e. the received parameter of §18.2.1) and
 * RFC 3581 §4 (with rport in the Via, the response goes to the source port too).
 */
import type { SipRequest } from '../message/message.js';
import type { Destination, TransportName } from '../transport/types.js';
import { TransactionUsageError } from './errors.js';
import { defaultPort, topVia } from './via.js';

export function responseDestination(req: SipRequest): Destination {
  const via = topVia(req);
  if (via === undefined) throw new TransactionUsageError('request has no Via: nowhere to send the response');
  const src = req.source;
  const transport = src?.transport ?? knownTransport(via.transport);
  const sentByPort = via.port ?? defaultPort(transport);

  if (transport !== 'UDP') {
    // The connection the request came on, if still open; otherwise received + sent-by port
    // (never the remote port: that is the client's ephemeral end of the old connection).
    const dest: Destination = { transport, address: via.received ?? src?.remoteAddress ?? via.host, port: sentByPort };
    if (src?.connectionId !== undefined) dest.connectionId = src.connectionId;
    return dest;
  }
  if (via.maddr !== undefined) return { transport, address: via.maddr, port: sentByPort };
  const address = src?.remoteAddress ?? via.received ?? via.host;
  let port = sentByPort;
  if (via.rport !== false) {
    if (src !== undefined) port = src.remotePort;
    else if (typeof via.rport === 'number') port = via.rport;
  }
  return { transport, address, port };
}

function knownTransport(t: string): TransportName {
  if (t === 'UDP' || t === 'TCP' || t === 'TLS') return t;
  throw new TransactionUsageError(`cannot answer over Via transport ${t}`);
}
