/**
 * One SIP stream connection over TCP: framing, keep-alive, idle timeout, orderly close.
 *
 * RFC 3261 §18.3: messages are delimited by Content-Length (StreamFramer); §18 asks that a
 * connection outlive the transactions on it, hence an idle timeout rather than a close
 * after each response. RFC 5626 §3.5.1: a CRLFCRLF ping is answered with a CRLF pong.
 * RFC 4475 §3.1.2.3 / §3.3.9: a framing error leaves no way to find the next message, so
 * the connection is half-closed after the 400, lingers briefly so the 400 is read, and is
 * then destroyed. Bytes arriving after that are read and discarded (not left unread, which
 * would make the kernel answer with a RST that can destroy the 400 in flight).
 * Slow-loris: every byte resets the idle timer, so a message started and not completed
 * within limits.messageTimeoutMs (measured from the last message boundary) closes the
 * connection.
 */
import type { Socket } from 'node:net';
import { StreamFramer, type FramerEvent } from '../message/stream.js';
import type { TimerHandle } from '../clock.js';
import { TransportError, type TransportContext } from './config.js';
import { canonicalIp } from './received.js';
import { hostport } from './stateless.js';
import { MessageDeadline } from './message-deadline.js';

export interface ConnectionHooks {
  onEvent(conn: TcpConnection, ev: FramerEvent): void;
  onClose(conn: TcpConnection): void;
}

let nextId = 1;

export class TcpConnection {
  readonly id: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Table key for reuse: canonical remote address and port. */
  readonly key: string;
  private readonly framer: StreamFramer;
  private lastActivity: number;
  private idleTimer: TimerHandle | undefined;
  private lingerTimer: TimerHandle | undefined;
  private readonly deadline: MessageDeadline;
  private state: 'open' | 'closing' | 'closed' = 'open';

  constructor(
    private readonly socket: Socket,
    readonly direction: 'inbound' | 'outbound',
    private readonly ctx: TransportContext,
    private readonly hooks: ConnectionHooks,
    /** 'TLS' when the socket is a verified TLSSocket (tls.ts); framing is the same. */
    readonly transportName: 'TCP' | 'TLS' = 'TCP',
  ) {
    this.id = `${transportName}-${nextId++}`;
    this.remoteAddress = canonicalIp(socket.remoteAddress ?? '') ?? socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = canonicalIp(socket.localAddress ?? '') ?? socket.localAddress ?? '';
    this.localPort = socket.localPort ?? 0;
    this.key = connectionKey(this.remoteAddress, this.remotePort);
    this.framer = new StreamFramer(ctx.limits.parse);
    this.deadline = new MessageDeadline(ctx.clock, ctx.limits.messageTimeoutMs, (limit) => {
      if (this.state !== 'open') return;
      this.ctx.logger.warn({ ...this.logFields(), buffered: this.framer.buffered, limit }, 'message not completed in time: closing connection');
      this.destroy(`message not completed within ${limit} ms`);
    });
    this.lastActivity = ctx.clock.now();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => ctx.logger.debug({ ...this.logFields(), err }, 'tcp socket error'));
    socket.on('close', () => this.onClosed());
    this.armIdle(ctx.limits.idleTimeoutMs);
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  logFields(): Record<string, unknown> {
    return { transport: this.transportName, connectionId: this.id, remote: hostport(this.remoteAddress, this.remotePort) };
  }

  /** Queue bytes; resolves once they are handed to the kernel. */
  write(buf: Buffer): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new TransportError(`connection ${this.id} is closed`, 'CLOSED'));
    if (this.socket.writableLength + buf.length > this.ctx.limits.maxPendingWriteBytes) {
      return Promise.reject(new TransportError(`connection ${this.id} send queue is full`, 'BACKPRESSURE'));
    }
    this.touch();
    return new Promise((resolve, reject) => {
      this.socket.write(buf, (err) => {
        if (err) {
          reject(err);
          return;
        }
        this.touch();
        resolve();
      });
    });
  }

  /** Half-close once queued writes are flushed, destroy after the linger time (fatal framing error). */
  endGracefully(reason: string): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.ctx.logger.info({ ...this.logFields(), reason }, 'closing connection');
    this.socket.end();
    this.lingerTimer = this.ctx.clock.setTimer(this.ctx.limits.closeLingerMs, () => this.socket.destroy());
  }

  destroy(reason: string): void {
    if (this.state === 'closed') return;
    this.ctx.logger.info({ ...this.logFields(), reason }, 'closing connection');
    this.state = 'closing';
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.state !== 'open') return;
    this.touch();
    let boundary = false;
    for (const ev of this.framer.push(chunk)) {
      boundary = true;
      if (ev.kind === 'ping') {
        // RFC 5626 §3.5.1: pong with a single CRLF; nothing else is written for a ping.
        this.socket.write('\r\n');
        continue;
      }
      this.hooks.onEvent(this, ev);
      if (this.state !== 'open') return;
    }
    this.deadline.update(this.framer.buffered > 0, boundary);
  }

  private touch(): void {
    this.lastActivity = this.ctx.clock.now();
  }

  /** One timer per connection, re-armed lazily, instead of one per chunk. */
  private armIdle(ms: number): void {
    this.idleTimer = this.ctx.clock.setTimer(ms, () => {
      const quiet = this.ctx.clock.now() - this.lastActivity;
      const limit = this.ctx.limits.idleTimeoutMs;
      if (quiet >= limit) this.destroy(`idle for ${limit} ms`);
      else this.armIdle(limit - quiet);
    });
  }

  private onClosed(): void {
    this.state = 'closed';
    this.idleTimer?.cancel();
    this.lingerTimer?.cancel();
    this.deadline.cancel();
    this.ctx.logger.debug(this.logFields(), 'connection closed');
    this.hooks.onClose(this);
  }
}

export function connectionKey(address: string, port: number): string {
  return `${canonicalIp(address) ?? address.toLowerCase()}|${port}`;
}
