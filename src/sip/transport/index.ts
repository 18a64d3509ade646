/**
 * The transport layer as one object (RFC 3261 §18): UDP, TCP and TLS (§26.2.1, tls.ts)
 * listeners behind the Transport contract of types.ts, with send dispatched by
 * Destination.transport.
 *
 * Usage:
 *   const t = await createTransports({ udp: [{ address: '0.0.0.0', port: 5060 }],
 *     tcp: [{ address: '0.0.0.0', port: 5060 }] }, { message, parseError });
 *   await t.send(request, { transport: 'UDP', address: '192.0.2.1', port: 5060 });
 *   await t.send(response, responseDestination(request)!);   // §18.2.2
 *
 * TLS needs `tlsOptions` (cert/key, CA); without them sending to a 'TLS' destination
 * rejects with NO_TRANSPORT (never a fallback to cleartext, RFC 5630 §3.1.1).
 */
import type { SipMessage } from '../message/message.js';
import { isReliable, type Destination, type ListenAddress, type Transport, type TransportEvents, type TransportName } from './types.js';
import { TransportError, resolveContext, type TransportConfig } from './config.js';
import { UdpTransport } from './udp.js';
import { TcpTransport } from './tcp.js';
import { openTlsTransport } from './tls.js';

export { responseDestination, readTopVia, stampRequest, canonicalIp, type TopVia } from './received.js';
export { statelessErrorResponse } from './stateless.js';
export {
  DEFAULT_TRANSPORT_LIMITS,
  TransportError,
  resolveLimits,
  silentLogger,
  type ListenSpec,
  type TransportConfig,
  type TransportLimits,
  type TransportLimitsInput,
  type TransportLogger,
  type TlsOptions,
} from './config.js';
export { UdpTransport } from './udp.js';
export { TcpTransport } from './tcp.js';
export { openTlsTransport } from './tls.js';

export class SipTransports implements Transport {
  constructor(
    readonly udp: UdpTransport | undefined,
    readonly tcp: TcpTransport | undefined,
    /** tcp.ts's stream transport with the TLS upgrade (tls.ts). */
    readonly tls?: TcpTransport,
  ) {}

  get listening(): readonly ListenAddress[] {
    return [...(this.udp?.listening ?? []), ...(this.tcp?.listening ?? []), ...(this.tls?.listening ?? [])];
  }

  send(msg: SipMessage, dest: Destination): Promise<void> {
    switch (dest.transport) {
      case 'UDP':
        if (this.udp !== undefined) return this.udp.send(msg, dest);
        break;
      case 'TCP':
        if (this.tcp !== undefined) return this.tcp.send(msg, dest);
        break;
      case 'TLS':
        if (this.tls !== undefined) return this.tls.send(msg, dest);
        break;
    }
    return Promise.reject(new TransportError(`no ${dest.transport} transport configured`, 'NO_TRANSPORT'));
  }

  sendBytes(bytes: Buffer, dest: Destination, onError?: (err: Error) => void): void {
    if (dest.transport === 'UDP' && this.udp !== undefined) return this.udp.sendBytes(bytes, dest, onError);
    if (dest.transport === 'TCP' && this.tcp !== undefined) return this.tcp.sendBytes(bytes, dest, onError);
    if (dest.transport === 'TLS' && this.tls !== undefined) return this.tls.sendBytes(bytes, dest, onError);
    const err = new TransportError(`no ${dest.transport} transport configured`, 'NO_TRANSPORT');
    if (onError !== undefined) queueMicrotask(() => onError(err));
  }

  isReliable(t: TransportName): boolean {
    return isReliable(t);
  }

  async close(): Promise<void> {
    await Promise.all([this.udp?.close(), this.tcp?.close(), this.tls?.close()]);
  }
}

/** Bind every configured listener; if one fails, the others are closed before rejecting. */
export async function createTransports(config: TransportConfig, events: TransportEvents): Promise<SipTransports> {
  const ctx = resolveContext(config);
  const udp = config.udp !== undefined && config.udp.length > 0 ? await UdpTransport.open(config.udp, ctx, events) : undefined;
  let tcp: TcpTransport | undefined;
  let tls: TcpTransport | undefined;
  try {
    if (config.tcp !== undefined && config.tcp.length > 0) tcp = await TcpTransport.open(config.tcp, ctx, events);
    if (config.tls !== undefined && config.tls.length > 0 && config.tlsOptions === undefined) {
      throw new TransportError('TLS listeners need tlsOptions (certificate and key)', 'NO_TRANSPORT');
    }
    if (config.tlsOptions !== undefined) tls = await openTlsTransport(config.tls ?? [], config.tlsOptions, ctx, events);
  } catch (e) {
    await udp?.close();
    await tcp?.close();
    throw e;
  }
  return new SipTransports(udp, tcp, tls);
}
