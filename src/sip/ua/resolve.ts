/**
 * Where to send a request: the next hop for a SIP URI.
 *
 * RFC 3263 §4.1-4.2 in its simplest form: the transport comes from the URI's `transport`
 * parameter (sips -> TLS, else UDP), the port from the URI (5060, 5061 for TLS), and a host
 * name is looked up as an A/AAAA record. NAPTR/SRV look-ups are not done: deployments
 * point the History Function at an outbound proxy or give numeric next hops (docs/architecture.md).
 * RFC 3261 §8.1.2: with an outbound proxy configured, every request goes there.
 * RFC 5630 §3.1.3 / RFC 3261 §26.2.1: sips: and transport=tls both go over TLS, and the TLS
 * destination carries the URI host as serverName for the certificate check (RFC 5922 §7).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isSipUri, parseUri } from '../message/headers/uri.js';
import { getParam } from '../message/headers/scan.js';
import type { Destination, TransportName } from '../transport/types.js';

export class UnresolvableTargetError extends Error {
  override readonly name = 'UnresolvableTargetError';
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** The transport and port a SIP URI names, without any DNS look-up. */
export function uriTransport(uriText: string): { transport: TransportName; host: string; port: number; domain: string } {
  const uri = parseUri(uriText);
  if (!isSipUri(uri)) throw new UnresolvableTargetError(`cannot route to a ${uri.scheme}: URI`);
  const tp = getParam(uri.params, 'transport')?.toLowerCase();
  const transport: TransportName = uri.scheme === 'sips' || tp === 'tls' ? 'TLS' : tp === 'tcp' ? 'TCP' : 'UDP';
  const maddr = getParam(uri.params, 'maddr');
  const host = stripBrackets(maddr ?? uri.host);
  return { transport, host, port: uri.port ?? (transport === 'TLS' ? 5061 : 5060), domain: stripBrackets(uri.host) };
}

export async function resolveUri(uriText: string, outboundProxy?: Destination): Promise<Destination> {
  if (outboundProxy !== undefined) return outboundProxy;
  const { transport, host, port, domain } = uriTransport(uriText);
  // RFC 5922 §7: over TLS the certificate must name the host of the URI, not the address it resolved to.
  const name = transport === 'TLS' ? { serverName: domain } : {};
  if (isIP(host) !== 0) return { transport, address: host, port, ...name };
  try {
    const { address } = await lookup(host);
    return { transport, address, port, ...name };
  } catch (e) {
    throw new UnresolvableTargetError(`cannot resolve ${host}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
