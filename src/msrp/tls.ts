/**
 * MSRP over TLS: msrps: URIs (RFC 4975 §6, §15 — the TLS connection is made to the host and
 * port of the first hop), with the certificate checks of RFC 4975 §14.1:
 * - the peer's certificate chains to a configured CA and names the URI host (checked like a
 *   SIP domain, src/sip/transport/tls-identity.ts), or
 * - the session's SDP carried a=fingerprint (RFC 8122 §5, RFC 4572) and the certificate the
 *   peer presents matches it: the way self-signed certificates are trusted.
 * A mismatch refuses the connection (outbound) or the request (inbound: 403 and the
 * connection is closed), with the reason logged.
 *
 * The handshake itself is the SIP transport's TlsUpgrade (one TLS code path), in 'request'
 * client-certificate mode: an inbound connection is not tied to a session until its first
 * request names one, so the client's certificate is checked then (checkInbound).
 */
import type { Socket } from 'node:net';
import { TlsUpgrade } from '../sip/transport/tls.js';
import { certificateFingerprint, fingerprintMismatch, type Fingerprint } from '../sdp/fingerprint.js';
import type { MsrpContext } from './config.js';
import type { MsrpConnection } from './connection.js';

export interface MsrpTlsConfig {
  /** Our certificate (PEM; self-signed is fine when peers learn its a=fingerprint). */
  cert: string | Buffer;
  key: string | Buffer;
  /** Trust anchors for peers checked by CA (no a=fingerprint); absent: Node's built-in roots. */
  ca?: (string | Buffer)[];
  /** Where to accept msrps connections (port 0 = any); without it msrps is outbound only. */
  listen?: { address: string; port: number };
  /** false: accept any peer certificate when no a=fingerprint is given. Lab only, logged loudly. */
  verifyPeer?: boolean;
  /** TLS handshake time limit (default 10 s). */
  handshakeTimeoutMs?: number;
}

export class MsrpTls {
  readonly upgrade: TlsUpgrade;
  /** sha-256 fingerprint of our certificate, for our SDP (a=fingerprint). */
  readonly fingerprint: Fingerprint;
  /** The DER certificate each TLS connection's peer presented (undefined: none). */
  private readonly peerCerts = new WeakMap<MsrpConnection, Buffer | undefined>();

  constructor(
    readonly config: MsrpTlsConfig,
    private readonly ctx: MsrpContext,
  ) {
    this.fingerprint = certificateFingerprint(Buffer.from(config.cert));
    this.upgrade = new TlsUpgrade(
      { cert: config.cert, key: config.key, ...(config.ca !== undefined ? { ca: config.ca } : {}), verifyServer: config.verifyPeer !== false },
      { clock: ctx.clock, logger: ctx.logger, limits: { tlsHandshakeTimeoutMs: config.handshakeTimeoutMs ?? 10_000 } },
      { clientCert: 'request', protocol: 'MSRP' },
    );
  }

  /** Remember what the peer of a new TLS connection presented. */
  adopt(conn: MsrpConnection, socket: Socket): void {
    this.peerCerts.set(conn, this.upgrade.peerCertificate(socket));
  }

  isTls(conn: MsrpConnection): boolean {
    return this.peerCerts.has(conn);
  }

  /** The TLS connection for an msrps first hop, checked by fingerprint when given, else by CA and host. */
  async connect(raw: Socket, host: string, port: number, fingerprints: readonly Fingerprint[]): Promise<Socket> {
    return this.upgrade.connect(raw, { transport: 'TLS', address: host, port, serverName: host }, fingerprints);
  }

  /**
   * Whether a connection may carry a session whose peer is known by these fingerprints
   * (RFC 4975 §14.1); undefined when it may, else why not.
   */
  check(conn: MsrpConnection, fingerprints: readonly Fingerprint[] | undefined, sessionIsMsrps: boolean): string | undefined {
    if (!this.peerCerts.has(conn)) return sessionIsMsrps ? 'an msrps session over a connection without TLS' : undefined;
    if (fingerprints === undefined || fingerprints.length === 0) return undefined;
    return fingerprintMismatch(fingerprints, this.peerCerts.get(conn));
  }
}
