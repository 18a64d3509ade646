/**
 * SIP over TLS: RFC 3261 §26.2.1 (TLS for hop-by-hop security; Via "SIP/2.0/TLS"),
 * §26.3.1 (a client checks the server's certificate against the domain it wanted), §18
 * (connection handling: the TCP machinery of tcp.ts / tcp-connection.ts, unchanged:
 * framing, reuse, responses on the request's connection per §18.2.2, limits), RFC 5922 §7
 * (which identity the server certificate must carry: tls-identity.ts), RFC 5630 §3 (sips:
 * means TLS on every hop; resolve.ts sends sips: and transport=tls here).
 *
 * This module is only the StreamUpgrade that tcp.ts runs between accepting/connecting a TCP
 * socket and framing SIP on it:
 * - inbound: the handshake as server, our cert/key; with requestClientCert (mutual TLS) the
 *   client must present a certificate that chains to the configured CA, else it is refused
 *   with the reason logged. Sockets are injected into a non-listening tls.Server (Node's
 *   documented 'connection' injection), so Node does the handshake and the chain check.
 * - outbound: tls.connect over the connected socket, SNI set for a DNS name (RFC 6066 §3:
 *   not for IP literals), the chain checked against `ca` (rejectUnauthorized), then
 *   RFC 5922 §7.2 against Destination.serverName (the host of the URI resolved), else the
 *   address. A failure rejects the send: §8.1.3.1 makes it a 503 for the transaction user.
 * - both: handshakes not done within limits.tlsHandshakeTimeoutMs (Clock) fail; sockets
 *   still handshaking count against maxConnections (tcp.ts).
 * - an open connection is reused for a request only when it was verified for the same
 *   serverName (an inbound one, or one verified for another name, is not).
 * - verifyServer: false turns the server checks off for a lab; it is logged as a warning at
 *   start and again for every connection that would have failed.
 *
 * MSRP over TLS (src/msrp/tls.ts) uses the same upgrade with two differences: a client
 * certificate is asked for but not required (clientCert 'request': it is checked against the
 * session's a=fingerprint once a request names the session), and an outbound connection may
 * be checked against SDP fingerprints instead of CA + name (RFC 4975 §14.1, RFC 8122).
 */
import tls from 'node:tls';
import type { Socket } from 'node:net';
import { isIP } from 'node:net';
import type { Destination, TransportEvents } from './types.js';
import { TransportError, type ListenSpec, type TlsOptions, type TransportContext, type TransportLogger } from './config.js';
import type { Clock } from '../clock.js';
import { fingerprintMismatch, type Fingerprint } from '../../sdp/fingerprint.js';
import { TcpTransport, type StreamUpgrade } from './tcp.js';
import type { TcpConnection } from './tcp-connection.js';
import { canonicalIp } from './received.js';
import { hostport } from './stateless.js';
import { identityMismatch } from './tls-identity.js';

interface PendingInbound {
  resolve(s: Socket): void;
  /** `secure`: the TLS socket over raw, destroyed instead of raw (destroying raw inside a TLS callback crashes Node 20). */
  fail(reason: string, secure?: tls.TLSSocket): void;
}

function tupleKey(a: { remoteAddress?: string | undefined; remotePort?: number | undefined; localPort?: number | undefined }): string {
  return `${canonicalIp(a.remoteAddress ?? '') ?? a.remoteAddress ?? ''}|${a.remotePort ?? 0}|${a.localPort ?? 0}`;
}

function normalName(name: string): string {
  return canonicalIp(name) ?? name.toLowerCase().replace(/\.$/, '');
}

/** What the upgrade needs from its user (TransportContext fits; MSRP builds one). */
export interface TlsContext {
  clock: Clock;
  logger: TransportLogger;
  limits: { tlsHandshakeTimeoutMs: number };
}

export interface TlsUpgradeMode {
  /** none: no client certificate asked; request: asked, checked later by the caller; require: must chain to `ca`. */
  clientCert: 'none' | 'request' | 'require';
  /** For the logs: which protocol runs over the connection. */
  protocol: 'SIP' | 'MSRP';
}

export class TlsUpgrade implements StreamUpgrade {
  readonly transport = 'TLS' as const;
  private readonly server: tls.Server;
  private readonly pending = new Map<string, PendingInbound>();
  /** Outbound connections by socket tuple -> the name their certificate was verified for. */
  private readonly verified = new Map<string, string>();
  private readonly verify: boolean;
  /** The DER certificate the peer presented, read during the handshake callbacks (Node may not keep it). */
  private readonly peerCerts = new WeakMap<Socket, Buffer | undefined>();

  private readonly mode: TlsUpgradeMode;

  constructor(
    private readonly opts: TlsOptions,
    private readonly ctx: TlsContext,
    mode?: TlsUpgradeMode,
  ) {
    this.mode = mode ?? { clientCert: opts.requestClientCert === true ? 'require' : 'none', protocol: 'SIP' };
    this.verify = opts.verifyServer !== false;
    const common = { cert: opts.cert, key: opts.key, minVersion: opts.minVersion ?? 'TLSv1.2' } as const;
    // createSecureContext throws here, at start, on a key that does not match the certificate.
    this.server = tls.createServer({
      ...common,
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
      requestCert: this.mode.clientCert !== 'none',
      // We check the client chain ourselves in 'secureConnection' so the reason can be logged
      // (Node's own rejection only resets the socket).
      rejectUnauthorized: false,
      handshakeTimeout: 0, // the Clock-driven timer below replaces Node's
    });
    this.server.on('secureConnection', (s) => this.onSecure(s));
    const keylog = opts.keylog;
    if (keylog !== undefined) this.server.on('keylog', (line: Buffer) => keylog(line));
    this.server.on('tlsClientError', (err, s) => this.pending.get(tupleKey(s))?.fail(err.message, s));
    if (!this.verify) {
      ctx.logger.warn(
        { transport: 'TLS', protocol: this.mode.protocol },
        'TLS server certificate verification is OFF (verifyServer: false): any peer can impersonate any server. Lab use only.',
      );
    }
  }

  accept(raw: Socket): Promise<Socket> {
    const key = tupleKey(raw);
    const log = { transport: 'TLS', protocol: this.mode.protocol, remote: hostport(raw.remoteAddress ?? '', raw.remotePort ?? 0) };
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (): void => {
        done = true;
        timer.cancel();
        this.pending.delete(key);
        raw.off('close', onClose);
      };
      const timer = this.ctx.clock.setTimer(this.ctx.limits.tlsHandshakeTimeoutMs, () =>
        entry.fail(`handshake not finished within ${this.ctx.limits.tlsHandshakeTimeoutMs} ms`),
      );
      const entry: PendingInbound = {
        resolve: (s) => {
          if (done) return;
          finish();
          resolve(s);
        },
        fail: (reason, secure) => {
          if (done) return;
          finish();
          this.ctx.logger.warn({ ...log, reason }, 'TLS connection refused');
          if (secure !== undefined) setImmediate(() => secure.destroy());
          else raw.destroy();
          reject(new TransportError(`TLS from ${log.remote} refused: ${reason}`, 'TLS_HANDSHAKE'));
        },
      };
      const onClose = (): void => entry.fail('connection closed during the handshake');
      raw.once('close', onClose);
      this.pending.set(key, entry);
      this.server.emit('connection', raw);
    });
  }

  private onSecure(s: tls.TLSSocket): void {
    const entry = this.pending.get(tupleKey(s));
    if (entry === undefined) {
      s.destroy();
      return;
    }
    this.peerCerts.set(s, s.getPeerX509Certificate()?.raw);
    if (this.mode.clientCert === 'require' && !s.authorized) {
      const presented = Object.keys(s.getPeerCertificate()).length > 0;
      entry.fail(presented ? `client certificate not accepted: ${String(s.authorizationError)}` : 'no client certificate (mutual TLS required)', s);
      return;
    }
    entry.resolve(s);
  }

  /**
   * `fingerprints` (MSRP, from the peer's SDP): the server certificate must match one of them
   * (RFC 8122 §5) instead of chaining to `ca` and naming the server.
   */
  connect(raw: Socket, dest: Destination, fingerprints?: readonly Fingerprint[]): Promise<Socket> {
    const name = dest.serverName ?? dest.address;
    const pinned = fingerprints !== undefined && fingerprints.length > 0;
    const log = { transport: 'TLS', protocol: this.mode.protocol, remote: hostport(dest.address, dest.port), serverName: name, ...(pinned ? { check: 'a=fingerprint' } : {}) };
    return new Promise((resolve, reject) => {
      let done = false;
      const s = tls.connect({
        socket: raw,
        cert: this.opts.cert,
        key: this.opts.key,
        ...(this.opts.ca !== undefined ? { ca: this.opts.ca } : {}),
        ...(isIP(name) === 0 ? { servername: name } : {}),
        minVersion: this.opts.minVersion ?? 'TLSv1.2',
        rejectUnauthorized: this.verify && !pinned,
        checkServerIdentity: (_host, cert) => {
          if (pinned) return undefined;
          const why = identityMismatch(name, cert);
          return why === undefined ? undefined : Object.assign(new Error(why), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
        },
      });
      const fail = (reason: string): void => {
        if (done) return;
        done = true;
        timer.cancel();
        this.ctx.logger.warn({ ...log, reason }, 'TLS connection to server refused');
        s.destroy();
        setImmediate(() => raw.destroy());
        reject(new TransportError(`TLS to ${log.remote} (${name}) failed: ${reason}`, 'TLS_HANDSHAKE'));
      };
      const timer = this.ctx.clock.setTimer(this.ctx.limits.tlsHandshakeTimeoutMs, () =>
        fail(`handshake not finished within ${this.ctx.limits.tlsHandshakeTimeoutMs} ms`),
      );
      const keylog = this.opts.keylog;
      if (keylog !== undefined) s.on('keylog', (line: Buffer) => keylog(line));
      const onError = (err: Error): void => fail(err.message);
      const onClose = (): void => fail('connection closed during the handshake');
      s.once('error', onError);
      s.once('close', onClose);
      s.once('secureConnect', () => {
        if (done) return;
        done = true;
        timer.cancel();
        s.off('error', onError);
        s.off('close', onClose);
        // Until tcp.ts adopts the socket (a microtask later) an error must not go unhandled.
        s.on('error', () => undefined);
        const der = s.getPeerX509Certificate()?.raw;
        this.peerCerts.set(s, der);
        if (pinned) {
          const why = fingerprintMismatch(fingerprints, der);
          if (why !== undefined) {
            done = false;
            fail(why);
            return;
          }
        } else if (!s.authorized) {
          this.ctx.logger.warn(
            { ...log, reason: String(s.authorizationError) },
            'TLS server certificate NOT verified, connection used anyway (verifyServer: false)',
          );
        }
        const key = tupleKey(s);
        this.verified.set(key, normalName(name));
        s.once('close', () => this.verified.delete(key));
        resolve(s);
      });
    });
  }

  /** What the peer of a socket this upgrade resolved presented (DER), if anything. */
  peerCertificate(s: Socket): Buffer | undefined {
    return this.peerCerts.get(s);
  }

  canReuse(conn: TcpConnection, dest: Destination): boolean {
    if (dest.serverName === undefined) return true;
    const v = this.verified.get(tupleKey({ remoteAddress: conn.remoteAddress, remotePort: conn.remotePort, localPort: conn.localPort }));
    return v === normalName(dest.serverName);
  }
}

/** The TLS transport: tcp.ts's stream transport with the TLS upgrade plugged in. */
export function openTlsTransport(
  specs: readonly ListenSpec[],
  options: TlsOptions,
  ctx: TransportContext,
  events: TransportEvents,
): Promise<TcpTransport> {
  return TcpTransport.open(specs, ctx, events, new TlsUpgrade(options, ctx));
}
