/**
 * The MSRP endpoint: listener, outbound connections and the session table
 * (RFC 4975 §5.4, §6, §7.3, §8.1; RFC 6135; RFC 4976 paths).
 *
 * - Listens on a configured address and port (0 = ephemeral; the chosen port is reported
 *   and written into the URIs of new sessions) and/or connects out: RFC 4975 §8.1 / RFC 6135
 *   — the active side connects to the first URI of its To-Path.
 * - Session table keyed by the session-id of our URI (§6: 80+ random bits, §14.1). An
 *   incoming request's To-Path must hold exactly one URI (§7.3; relays remove theirs), ours,
 *   compared with the session's URI per §6.1; otherwise, or with no such session: 481. The
 *   session then checks From-Path and the connection binding.
 * - Connection reuse (§5.4, RFC 6135 §4): a new active session to a first hop we already
 *   hold an open outbound connection to shares it. An outbound connection is closed when
 *   its last session ends; an inbound one is left to the peer or to the idle timer.
 * - msrps (TLS, RFC 4975 §14.1, §15) when `tls` is configured (tls.ts): a second listener
 *   for msrps, sessions created with `tls: true` get msrps URIs, an msrps first hop is
 *   reached over TLS checked by the session's peer a=fingerprint or else by CA and host, and
 *   a request for a session is refused (403, connection closed) when its connection fails
 *   that check or is not TLS for an msrps session. Without `tls`, msrps fails with a clear
 *   error rather than falling back to cleartext.
 */
import net from 'node:net';
import type { Server, Socket } from 'node:net';
import { MSRP_DEFAULT_PORT, formatMsrpUri, msrpUriEquals, type MsrpUri } from '../sdp/msrp-uri.js';
import type { Clock } from '../sip/clock.js';
import { resolveMsrpContext, type MsrpContext, type MsrpLimitsInput, type MsrpLogger } from './config.js';
import { MsrpConnection, type MsrpConnectionHooks } from './connection.js';
import { MsrpSendError } from './errors.js';
import { newSessionId } from './ids.js';
import { getHeader, parsePath, type MsrpRequest, type MsrpResponse } from './message.js';
import { MsrpSession, type SessionHost } from './session.js';
import { authenticateToRelay, type RelayBinding } from './relay-auth.js';
import { MsrpTls, type MsrpTlsConfig } from './tls.js';
import type { Fingerprint } from '../sdp/fingerprint.js';
import { PerAddressLimit } from '../sip/transport/per-address.js';

export interface MsrpEndpointConfig {
  /** Where to accept connections; port 0 picks a free one. Without it we only connect out. */
  listen?: { address: string; port: number };
  /** msrps: certificate, trust, and an optional TLS listener (tls.ts). */
  tls?: MsrpTlsConfig;
  limits?: MsrpLimitsInput;
  clock?: Clock;
  logger?: MsrpLogger;
}

export interface CreateSessionOptions {
  /** Host (name or IP address) written into our MSRP URI. */
  localUriHost: string;
  transport?: 'tcp';
  /** An msrps session (RFC 4975 §14.1): URI on the TLS listener; needs `tls` in the endpoint config. */
  tls?: boolean;
  /** Port in our URI; default the listener's, else 9 (RFC 4145 §4: an active-only endpoint). */
  port?: number;
  /** RFC 4976 relays in a=path order, in front of our own URI. */
  relays?: readonly string[];
  /** Our a=accept-types (RFC 4975 §8.6); other Content-Types get 415. Default ["*"]. */
  acceptTypes?: readonly string[];
}

/** The RFC 4145 §4 "discard" port written by an endpoint that does not listen. */
export const NO_LISTENER_PORT = 9;

function reuseKey(u: MsrpUri): string {
  return `${u.scheme}|${u.host.toLowerCase()}|${u.port ?? MSRP_DEFAULT_PORT}|${u.transport.toLowerCase()}`;
}

export class MsrpEndpoint implements SessionHost {
  readonly ctx: MsrpContext;
  private server: Server | undefined;
  private listenPort: number | undefined;
  private listenAddress: string | undefined;
  private readonly sessions = new Map<string, MsrpSession>();
  private readonly connections = new Set<MsrpConnection>();
  private readonly outbound = new Map<string, MsrpConnection>();
  private readonly connecting = new Map<string, Promise<MsrpConnection>>();
  /** Open inbound connections per remote IP address (limits.maxConnectionsPerIp). */
  private readonly inboundPerIp = new PerAddressLimit();
  private readonly hooks: MsrpConnectionHooks;
  private closed = false;
  private readonly tls: MsrpTls | undefined;
  private tlsServer: Server | undefined;
  private tlsListenPort: number | undefined;
  /** Accepted msrps sockets still in their TLS handshake: they count against maxConnections. */
  private handshaking = 0;

  private constructor(config: MsrpEndpointConfig) {
    this.ctx = resolveMsrpContext(config);
    if (config.tls !== undefined) this.tls = new MsrpTls(config.tls, this.ctx);
    this.hooks = {
      onRequest: (conn, req) => this.onRequest(conn, req),
      onLateFailure: (_conn, req, res) => this.onLateFailure(req, res),
      onClose: (conn, reason) => this.onConnectionClosed(conn, reason),
    };
  }

  static async create(config: MsrpEndpointConfig = {}): Promise<MsrpEndpoint> {
    const ep = new MsrpEndpoint(config);
    try {
      if (config.listen !== undefined) await ep.listen(config.listen.address, config.listen.port);
      if (config.tls?.listen !== undefined) await ep.listen(config.tls.listen.address, config.tls.listen.port, true);
    } catch (e) {
      await ep.close();
      throw e;
    }
    return ep;
  }

  /** The listening port (the one chosen when 0 was asked for), if listening. */
  get port(): number | undefined {
    return this.listenPort;
  }

  get address(): string | undefined {
    return this.listenAddress;
  }

  /** The msrps listening port, if listening for TLS. */
  get tlsPort(): number | undefined {
    return this.tlsListenPort;
  }

  /** The a=fingerprint (sha-256) of our TLS certificate, for SDP; undefined without TLS. */
  get fingerprint(): Fingerprint | undefined {
    return this.tls?.fingerprint;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  getSession(sessionId: string): MsrpSession | undefined {
    return this.sessions.get(sessionId);
  }

  createSession(opts: CreateSessionOptions): MsrpSession {
    if (this.closed) throw new MsrpSendError('endpoint is closed', 'closed');
    if (this.sessions.size >= this.ctx.limits.maxSessions) throw new MsrpSendError(`more than ${this.ctx.limits.maxSessions} sessions`, 'rejected');
    let sessionId = newSessionId();
    while (this.sessions.has(sessionId)) sessionId = newSessionId();
    if (opts.tls === true && this.tls === undefined) throw new MsrpSendError('an msrps session needs TLS configured on the endpoint', 'unsupported');
    const host = opts.localUriHost.includes(':') && !opts.localUriHost.startsWith('[') ? `[${opts.localUriHost}]` : opts.localUriHost;
    const uri = formatMsrpUri({
      scheme: opts.tls === true ? 'msrps' : 'msrp', host, hostType: host.startsWith('[') ? 'ipv6' : net.isIPv4(host) ? 'ipv4' : 'domain',
      port: opts.port ?? (opts.tls === true ? this.tlsListenPort : this.listenPort) ?? NO_LISTENER_PORT, sessionId, transport: opts.transport ?? 'tcp', params: [],
    });
    const session = new MsrpSession(sessionId, uri, opts.relays ?? [], opts.acceptTypes ?? ['*'], this);
    this.sessions.set(sessionId, session);
    this.ctx.logger.debug({ sessionId, uri }, 'msrp session created');
    return session;
  }

  /**
   * RFC 4976 §5: AUTH to a relay over the connection later sessions will reuse, learning
   * the Use-Path to put in front of our URI (CreateSessionOptions.relays). The connection
   * is kept open until release(). HTTP Digest (§5.1) is not implemented: a 401 rejects.
   */
  async authenticate(relayUri: string, opts: { localUriHost: string; expires?: number }): Promise<RelayBinding> {
    return authenticateToRelay(this, relayUri, opts, this.listenPort ?? NO_LISTENER_PORT);
  }

  /** Closes every session and connection, then the listener. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.sessions.values()]) s.close('endpoint closed');
    for (const c of [...this.connections]) c.destroy('endpoint closed');
    const servers = [this.server, this.tlsServer];
    this.server = undefined;
    this.tlsServer = undefined;
    for (const server of servers) if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // --- SessionHost -------------------------------------------------------------------

  /** An open outbound connection to this first hop (reused, RFC 6135), or a new one. */
  async connect(firstHop: MsrpUri, fingerprints: readonly Fingerprint[] = []): Promise<MsrpConnection> {
    if (this.closed) throw new MsrpSendError('endpoint is closed', 'closed');
    if (firstHop.transport.toLowerCase() !== 'tcp') {
      throw new MsrpSendError(`${firstHop.scheme}/${firstHop.transport} is not supported (only tcp)`, 'unsupported');
    }
    if (firstHop.scheme === 'msrps' && this.tls === undefined) {
      throw new MsrpSendError('msrps needs TLS configured on the endpoint (no fallback to cleartext)', 'unsupported');
    }
    const key = reuseKey(firstHop);
    const existing = this.outbound.get(key);
    // A shared TLS connection must also satisfy this session's a=fingerprint (RFC 4975 §14.1).
    if (existing !== undefined && existing.isOpen && this.tls?.check(existing, fingerprints, firstHop.scheme === 'msrps') === undefined) return existing;
    const inFlight = this.connecting.get(key);
    if (inFlight !== undefined) {
      const conn = await inFlight;
      const why = this.tls?.check(conn, fingerprints, firstHop.scheme === 'msrps');
      if (why !== undefined) throw new MsrpSendError(`msrps connection refused: ${why}`, 'connect-failed');
      return conn;
    }
    const p = this.dial(firstHop, key, fingerprints).finally(() => this.connecting.delete(key));
    this.connecting.set(key, p);
    return p;
  }

  bind(session: MsrpSession, conn: MsrpConnection): void {
    conn.sessions.add(session.sessionId);
  }

  release(session: MsrpSession): void {
    this.sessions.delete(session.sessionId);
    const conn = session.connection;
    if (conn === undefined || !conn.sessions.delete(session.sessionId)) return;
    if (conn.sessions.size > 0 || conn.pins > 0) return;
    if (conn.direction === 'outbound') conn.close('last session ended');
    else conn.touch();
  }

  redeliver(conn: MsrpConnection, req: MsrpRequest): void {
    if (conn.isOpen) this.onRequest(conn, req);
  }

  // --- internals ---------------------------------------------------------------------

  private async listen(address: string, port: number, tls = false): Promise<void> {
    const server = net.createServer((socket) => this.accept(socket, tls));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.ctx.logger.error({ err }, 'msrp listener error'));
    const a = server.address();
    const bound = typeof a === 'object' && a !== null ? a.port : port;
    if (tls) {
      this.tlsServer = server;
      this.tlsListenPort = bound;
      this.ctx.logger.info({ address, port: bound, scheme: 'msrps' }, 'msrp listening');
      return;
    }
    this.server = server;
    this.listenPort = bound;
    this.listenAddress = address;
    this.ctx.logger.info({ address, port: this.listenPort }, 'msrp listening');
  }

  private accept(socket: Socket, tls = false): void {
    if (this.closed || this.connections.size + this.handshaking >= this.ctx.limits.maxConnections) {
      this.ctx.logger.warn({ remote: `${socket.remoteAddress}:${socket.remotePort}` }, 'msrp connection refused (limit)');
      socket.destroy();
      return;
    }
    if (!this.inboundPerIp.admit(socket, this.ctx.limits.maxConnectionsPerIp)) {
      this.ctx.logger.warn({ remote: `${socket.remoteAddress}:${socket.remotePort}`, max: this.ctx.limits.maxConnectionsPerIp }, 'msrp connection refused (per-address limit)');
      socket.destroy();
      return;
    }
    if (tls && this.tls !== undefined) {
      const msrpTls = this.tls;
      this.handshaking++;
      const settled = (): void => void this.handshaking--;
      msrpTls.upgrade.accept(socket).finally(settled).then(
        (secure) => {
          if (this.closed) return void secure.destroy();
          const conn = new MsrpConnection(secure, 'inbound', this.ctx, this.hooks);
          msrpTls.adopt(conn, secure);
          this.connections.add(conn);
          this.ctx.logger.debug({ ...conn.logFields(), tls: true }, 'msrp connection accepted');
        },
        () => undefined, // the upgrade logged why
      );
      return;
    }
    const conn = new MsrpConnection(socket, 'inbound', this.ctx, this.hooks);
    this.connections.add(conn);
    this.ctx.logger.debug(conn.logFields(), 'msrp connection accepted');
  }

  private dial(uri: MsrpUri, key: string, fingerprints: readonly Fingerprint[]): Promise<MsrpConnection> {
    if (this.connections.size >= this.ctx.limits.maxConnections) {
      return Promise.reject(new MsrpSendError(`more than ${this.ctx.limits.maxConnections} connections`, 'connect-failed'));
    }
    const host = uri.host.startsWith('[') ? uri.host.slice(1, -1) : uri.host;
    const port = uri.port ?? MSRP_DEFAULT_PORT;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = this.ctx.clock.setTimer(this.ctx.limits.connectTimeoutMs, () => {
        socket.destroy();
        reject(new MsrpSendError(`connect to ${host}:${port} timed out`, 'connect-failed'));
      });
      socket.once('error', (err) => {
        timer.cancel();
        reject(new MsrpSendError(`connect to ${host}:${port} failed: ${err.message}`, 'connect-failed'));
      });
      socket.once('connect', () => {
        timer.cancel();
        if (this.closed) {
          socket.destroy();
          reject(new MsrpSendError('endpoint is closed', 'closed'));
          return;
        }
        if (uri.scheme === 'msrps' && this.tls !== undefined) {
          const msrpTls = this.tls;
          msrpTls.connect(socket, host, port, fingerprints).then(
            (secure) => {
              if (this.closed) {
                secure.destroy();
                reject(new MsrpSendError('endpoint is closed', 'closed'));
                return;
              }
              const conn = new MsrpConnection(secure, 'outbound', this.ctx, this.hooks);
              msrpTls.adopt(conn, secure);
              conn.reuseKey = key;
              this.connections.add(conn);
              this.outbound.set(key, conn);
              this.ctx.logger.debug({ ...conn.logFields(), tls: true }, 'msrp connection opened');
              resolve(conn);
            },
            (e: unknown) => reject(new MsrpSendError(`msrps connection to ${host}:${port} refused: ${(e as Error).message}`, 'connect-failed')),
          );
          return;
        }
        const conn = new MsrpConnection(socket, 'outbound', this.ctx, this.hooks);
        conn.reuseKey = key;
        this.connections.add(conn);
        this.outbound.set(key, conn);
        this.ctx.logger.debug(conn.logFields(), 'msrp connection opened');
        resolve(conn);
      });
    });
  }

  private onRequest(conn: MsrpConnection, req: MsrpRequest): void {
    let to;
    try {
      to = parsePath(getHeader(req, 'To-Path') ?? '');
      parsePath(getHeader(req, 'From-Path') ?? '');
    } catch (e) {
      conn.respond(req, 400, (e as Error).message.slice(0, 120));
      return;
    }
    const target = to.uris[to.uris.length - 1]!;
    // §7.3: "the To-Path will have exactly one URI" when it reaches the endpoint (a relay
    // removes its own, RFC 4976); more than one is not for us.
    const session = to.uris.length !== 1 || target.sessionId === undefined ? undefined : this.sessions.get(target.sessionId);
    if (session === undefined || !msrpUriEquals(session.localUriParsed, target)) {
      this.ctx.logger.info({ ...conn.logFields(), tid: req.transactionId, toPath: to.text.join(' ') }, 'msrp request for no session');
      conn.respond(req, 481, 'Session-does-not-exist', to.text[to.text.length - 1]);
      return;
    }
    const refused = this.tls !== undefined
      ? this.tls.check(conn, session.peerFingerprints, session.localUriParsed.scheme === 'msrps')
      : session.localUriParsed.scheme === 'msrps' ? 'TLS is not configured' : undefined;
    if (refused !== undefined) {
      // RFC 4975 §14.1: the peer is not who the SDP said; nothing of this connection is accepted.
      this.ctx.logger.warn({ ...conn.logFields(), sessionId: session.sessionId, reason: refused }, 'msrps peer refused');
      conn.respond(req, 403, 'Forbidden: TLS peer check failed');
      conn.close(`TLS peer check failed: ${refused}`);
      return;
    }
    session.handleRequest(conn, req);
  }

  private onLateFailure(req: MsrpRequest, res: MsrpResponse): void {
    try {
      const ours = parsePath(getHeader(req, 'From-Path') ?? '').uris[0];
      const session = ours?.sessionId === undefined ? undefined : this.sessions.get(ours.sessionId);
      session?.lateFailure(req.transactionId, res.code, res.comment);
    } catch {
      // Our own request always has a valid From-Path; nothing to report otherwise.
    }
  }

  private onConnectionClosed(conn: MsrpConnection, reason: string): void {
    this.connections.delete(conn);
    if (conn.reuseKey !== undefined && this.outbound.get(conn.reuseKey) === conn) this.outbound.delete(conn.reuseKey);
    for (const id of [...conn.sessions]) this.sessions.get(id)?.connectionLost(reason);
    conn.sessions.clear();
  }
}
