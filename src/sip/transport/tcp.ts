/**
 * SIP over TCP, RFC 3261 §18 (stream framing in tcp-connection.ts).
 *
 * §18.1.1: a request is sent on an open connection to the destination if there is one,
 * else on a new connection (bounded by a connect timeout, §18.4 errors reject the send).
 * §18.2.1: received requests are stamped with received/rport like UDP (inbound.ts).
 * §18.2.2: a response goes back on the connection its request arrived on while that is
 * open (Destination.connectionId, as RFC 5923 reuses connections); otherwise a connection
 * to received/sent-by port is found or opened like for a request.
 * Connections live in one table keyed by id, with a second index by remote address:port
 * for reuse; both are bounded by limits.maxConnections (new ones beyond it are refused), and
 * inbound ones also per remote IP address by limits.maxConnectionsPerIp (slow-loris, floods).
 *
 * Outbound connections use an ephemeral source port chosen by the OS, not the listening
 * port: the peer answers on the same connection, and new requests to us use our Via/Contact.
 *
 * The same machinery carries SIP over TLS (§26.2.1): tls.ts passes a StreamUpgrade that runs
 * the handshake and the certificate checks between accept/connect and adopting the socket;
 * sockets still handshaking count against maxConnections.
 */
import net from 'node:net';
import type { Server, Socket } from 'node:net';
import { serialize } from '../message/serialize.js';
import type { MessageSource, SipMessage } from '../message/message.js';
import type { FramerEvent } from '../message/stream.js';
import type { Destination, ListenAddress, TransportEvents } from './types.js';
import { debugOn, TransportError, type ListenSpec, type TransportContext } from './config.js';
import { acceptMessage, rejectMessage, type Inbound, type Reply } from './inbound.js';
import { PerAddressLimit } from './per-address.js';
import { TcpConnection, connectionKey, type ConnectionHooks } from './tcp-connection.js';
import { hostport } from './stateless.js';

/**
 * A security layer between a raw TCP socket and SIP framing (tls.ts). accept/connect resolve
 * with the socket to frame SIP on once the handshake and certificate checks passed, and
 * reject (the raw socket destroyed) when they fail.
 */
export interface StreamUpgrade {
  readonly transport: 'TLS';
  accept(raw: Socket): Promise<Socket>;
  connect(raw: Socket, dest: Destination): Promise<Socket>;
  /** Whether an open connection may carry a message for dest (e.g. verified for its server name). */
  canReuse(conn: TcpConnection, dest: Destination): boolean;
}

interface Listener {
  server: Server;
  address: string;
  port: number;
}

export class TcpTransport {
  private readonly listeners: Listener[] = [];
  private readonly conns = new Map<string, TcpConnection>();
  /** The most recent open connection per canonical remote address:port (for reuse). */
  private readonly byKey = new Map<string, TcpConnection>();
  private readonly connecting = new Map<string, Promise<TcpConnection>>();
  private readonly dialing = new Set<Socket>();
  /** Accepted sockets whose TLS handshake is still running (StreamUpgrade only). */
  private readonly handshaking = new Set<Socket>();
  private readonly name: 'TCP' | 'TLS';
  /** Open inbound connections per remote IP address. */
  private readonly inboundPerIp = new PerAddressLimit();
  private readonly inbound: Inbound;
  private readonly hooks: ConnectionHooks;
  private closed = false;

  private constructor(
    private readonly ctx: TransportContext,
    events: TransportEvents,
    private readonly upgrade?: StreamUpgrade,
  ) {
    this.name = upgrade?.transport ?? 'TCP';
    this.inbound = { events, logger: ctx.logger };
    this.hooks = {
      onEvent: (conn, ev) => this.onEvent(conn, ev),
      onClose: (conn) => this.forget(conn),
    };
  }

  /** Listen on every address (port 0 = ephemeral); on any failure nothing stays open. */
  static async open(specs: readonly ListenSpec[], ctx: TransportContext, events: TransportEvents, upgrade?: StreamUpgrade): Promise<TcpTransport> {
    const t = new TcpTransport(ctx, events, upgrade);
    try {
      for (const s of specs) await t.listen(s);
    } catch (e) {
      await t.close();
      throw e;
    }
    return t;
  }

  private listen(spec: ListenSpec): Promise<void> {
    const server = net.createServer((socket) => this.accept(socket));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: spec.address, port: spec.port }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.ctx.logger.error({ transport: this.name, err }, 'tcp server error'));
        const a = server.address();
        if (a === null || typeof a === 'string') {
          reject(new Error('TCP server has no address'));
          return;
        }
        this.listeners.push({ server, address: a.address, port: a.port });
        this.ctx.logger.info({ transport: this.name, local: hostport(a.address, a.port) }, 'listening');
        resolve();
      });
    });
  }

  get listening(): ListenAddress[] {
    return this.listeners.map((l) => ({ transport: this.name, address: l.address, port: l.port }));
  }

  /** Open connections plus those being dialled. */
  get connectionCount(): number {
    return this.conns.size + this.connecting.size + this.handshaking.size;
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (this.connectionCount >= this.ctx.limits.maxConnections) {
      this.ctx.logger.warn(
        { transport: this.name, remote: hostport(socket.remoteAddress ?? '', socket.remotePort ?? 0), max: this.ctx.limits.maxConnections },
        'connection refused: too many connections',
      );
      socket.destroy();
      return;
    }
    if (!this.inboundPerIp.admit(socket, this.ctx.limits.maxConnectionsPerIp)) {
      this.ctx.logger.warn(
        { transport: this.name, remote: hostport(socket.remoteAddress ?? '', socket.remotePort ?? 0), max: this.ctx.limits.maxConnectionsPerIp },
        'connection refused: too many connections from this address',
      );
      socket.destroy();
      return;
    }
    if (this.upgrade !== undefined) {
      this.handshaking.add(socket);
      this.upgrade.accept(socket).then(
        (secure) => {
          this.handshaking.delete(socket);
          if (this.closed) secure.destroy();
          else this.ctx.logger.info(this.adopt(secure, 'inbound').logFields(), 'connection accepted');
        },
        () => this.handshaking.delete(socket), // the upgrade logged why
      );
      return;
    }
    const conn = this.adopt(socket, 'inbound');
    this.ctx.logger.info(conn.logFields(), 'connection accepted');
  }

  private adopt(socket: Socket, direction: 'inbound' | 'outbound'): TcpConnection {
    const conn = new TcpConnection(socket, direction, this.ctx, this.hooks, this.name);
    this.conns.set(conn.id, conn);
    this.byKey.set(conn.key, conn);
    return conn;
  }

  private forget(conn: TcpConnection): void {
    this.conns.delete(conn.id);
    if (this.byKey.get(conn.key) === conn) this.byKey.delete(conn.key);
  }

  private onEvent(conn: TcpConnection, ev: FramerEvent): void {
    const source: MessageSource = {
      transport: this.name,
      localAddress: conn.localAddress,
      localPort: conn.localPort,
      remoteAddress: conn.remoteAddress,
      remotePort: conn.remotePort,
      connectionId: conn.id,
    };
    // A stateless error goes back on the connection the request came on (§18.2.2).
    const reply: Reply = (res) => {
      conn.write(serialize(res)).catch((err: unknown) =>
        this.ctx.logger.warn({ ...conn.logFields(), err }, 'stateless response not sent'),
      );
    };
    if (ev.kind === 'message') {
      acceptMessage(this.inbound, ev.message, source, reply);
    } else if (ev.kind === 'error') {
      rejectMessage(this.inbound, ev.error, source, reply);
      if (ev.error.fatal) conn.endGracefully(`framing error: ${ev.error.message}`);
    }
  }

  async send(msg: SipMessage, dest: Destination): Promise<void> {
    if (this.closed) throw new TransportError(`${this.name} transport is closed`, 'CLOSED');
    const conn = await this.connectionFor(dest);
    const buf = serialize(msg);
    await conn.write(buf);
    if (debugOn(this.ctx.logger)) {
      this.ctx.logger.debug(
        { ...conn.logFields(), callId: msg.get('call-id'), start: msg.isRequest() ? msg.method : msg.status, bytes: buf.length },
        'sip message sent',
      );
    }
  }

  /** Transport.sendBytes: a serialized message, with no Promise to await. */
  sendBytes(bytes: Buffer, dest: Destination, onError?: (err: Error) => void): void {
    const p = this.closed
      ? Promise.reject(new TransportError(`${this.name} transport is closed`, 'CLOSED'))
      : this.connectionFor(dest).then((conn) => conn.write(bytes));
    p.catch((err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      if (onError !== undefined) onError(e);
      else this.ctx.logger.warn({ transport: this.name, dest: hostport(dest.address, dest.port), err: e }, 'sip message not sent');
    });
  }

  private connectionFor(dest: Destination): Promise<TcpConnection> {
    if (dest.connectionId !== undefined) {
      const c = this.conns.get(dest.connectionId);
      if (c?.isOpen === true && this.mayReuse(c, dest)) return Promise.resolve(c);
    }
    const key = connectionKey(dest.address, dest.port);
    const open = this.byKey.get(key);
    if (open?.isOpen === true && this.mayReuse(open, dest)) return Promise.resolve(open);
    const pending = this.connecting.get(key);
    if (pending !== undefined) return pending;
    if (this.connectionCount >= this.ctx.limits.maxConnections) {
      return Promise.reject(new TransportError(`too many ${this.name} connections (${this.ctx.limits.maxConnections})`, 'MAX_CONNECTIONS'));
    }
    const p = this.dial(dest).finally(() => this.connecting.delete(key));
    this.connecting.set(key, p);
    return p;
  }

  private mayReuse(conn: TcpConnection, dest: Destination): boolean {
    return this.upgrade === undefined || this.upgrade.canReuse(conn, dest);
  }

  private dial(dest: Destination): Promise<TcpConnection> {
    const log = { transport: this.name, remote: hostport(dest.address, dest.port) };
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: dest.address, port: dest.port });
      this.dialing.add(socket);
      const timer = this.ctx.clock.setTimer(this.ctx.limits.connectTimeoutMs, () => {
        this.dialing.delete(socket);
        socket.destroy();
        this.ctx.logger.warn(log, 'connect timed out');
        reject(new TransportError(`connect to ${log.remote} timed out`, 'CONNECT_TIMEOUT'));
      });
      const onError = (err: Error): void => {
        timer.cancel();
        this.dialing.delete(socket);
        this.ctx.logger.warn({ ...log, err }, 'connect failed');
        reject(err);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        timer.cancel();
        socket.off('error', onError);
        this.dialing.delete(socket);
        if (this.closed) {
          socket.destroy();
          reject(new TransportError(`${this.name} transport is closed`, 'CLOSED'));
          return;
        }
        if (this.upgrade !== undefined) {
          // The handshake and certificate checks (tls.ts); their failure is a §18.4 transport error.
          this.dialing.add(socket);
          this.upgrade.connect(socket, dest).finally(() => this.dialing.delete(socket)).then((secure) => {
            if (this.closed) {
              secure.destroy();
              reject(new TransportError(`${this.name} transport is closed`, 'CLOSED'));
              return;
            }
            const conn = this.adopt(secure, 'outbound');
            this.ctx.logger.info(conn.logFields(), 'connection opened');
            resolve(conn);
          }, reject);
          return;
        }
        const conn = this.adopt(socket, 'outbound');
        this.ctx.logger.info(conn.logFields(), 'connection opened');
        resolve(conn);
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.dialing) s.destroy();
    this.dialing.clear();
    for (const s of this.handshaking) s.destroy();
    this.handshaking.clear();
    for (const c of this.conns.values()) c.destroy('transport closing');
    await Promise.all(
      this.listeners.map((l) => new Promise<void>((resolve) => l.server.close(() => resolve()))),
    );
  }
}
