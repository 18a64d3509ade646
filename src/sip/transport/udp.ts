/**
 * SIP over UDP, RFC 3261 §18 with the symmetric response routing of RFC 3581.
 *
 * §18.3: each datagram is one message (parseDatagram); §18.2.1 + RFC 3581 §4: requests are
 * stamped with received/rport (inbound.ts); §18.2.2: a stateless 400 for an unparseable
 * request goes where the response would (received + rport, else sent-by port), from the
 * socket the request arrived on (the UDP "connectionId" is that socket's id).
 *
 * §18.1.1 says a request over 1300 bytes (path MTU unknown) MUST go over a congestion-
 * controlled transport. Choosing the transport belongs to the layer that picks the
 * Destination (RFC 3263 resolution), not here: this transport sends what it is given up to
 * the UDP payload ceiling, logging a warning above 1300 bytes, and never switches to TCP.
 *
 * Keep-alives that are not SIP (CRLF or NUL datagrams, RFC 5626 §3.5.2 STUN) are dropped
 * quietly: they are not parse errors.
 *
 * Work is done in runs. Under load one event-loop turn reads a run of datagrams (libuv reads
 * up to 32 per socket wake-up); each is handed to setImmediate as it is read, so the run is
 * parsed and handled in the turn's check phase, one after the other in arrival order, with
 * promise callbacks run between two datagrams as before (Node drains them after each
 * immediate). The sends they cause (and any other send of the turn) wait in an outbox that
 * is flushed after the run's last datagram, in the order they were made. So the kernel's
 * receive path, our own code and the kernel's send path each run back to back and stay in
 * the CPU caches, and the peer is woken once per run of responses instead of once per
 * datagram. bench/transactions: the OPTIONS rate went from 12,500-15,000/s to 22,500/s with
 * the outbox alone, and handling the run in the check phase passes steps at saturation that
 * the outbox alone failed (docs/benchmarks.md, sixth session: OPTIONS at 22,500/s, INVITE
 * dialogs at 6,800/s). A message waits no longer than the rest of its turn takes; when idle,
 * a turn holds one datagram and nothing waits. close() sends what is in the outbox before
 * closing the sockets (a send to a host name still being resolved fails with CLOSED) and
 * ignores datagrams read but not yet handled.
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import { isIP } from 'node:net';
import type { RemoteInfo } from 'node:dgram';
import { MessageParseError, parseDatagram } from '../message/parse.js';
import { serialize } from '../message/serialize.js';
import type { MessageSource, SipMessage } from '../message/message.js';
import type { Destination, ListenAddress, TransportEvents } from './types.js';
import { debugOn, MAX_UDP_PAYLOAD, TransportError, UDP_MTU_GUIDE, type ListenSpec, type TransportContext } from './config.js';
import { acceptMessage, rejectMessage, type Inbound, type Reply } from './inbound.js';
import { canonicalIp, responseDestination } from './received.js';
import { hostport } from './stateless.js';

interface BoundSocket {
  id: string;
  socket: dgram.Socket;
  family: 4 | 6;
  address: string;
  port: number;
}

/**
 * dgram's lookup of a send's address. Responses go to IP literals (received, §18.2.1), which
 * need no resolving: they are handed straight back, where dns.lookup would answer them on
 * the next tick. Names still go to dns.lookup.
 */
function literalLookup(address: string, family: number, cb: (err: Error | null, address: string, family: number) => void): void {
  const kind = literalKind(address);
  if (kind === 0) return void dns.lookup(address, family, cb);
  cb(null, address, kind);
}

let lastLiteral = { address: '', kind: 0 };

/**
 * isIP, remembering the last literal: responses mostly go to the peer the last one went to,
 * which then skips isIP's regular expressions. 0 for a name.
 */
function literalKind(address: string): number {
  if (address === lastLiteral.address) return lastLiteral.kind;
  const kind = isIP(address);
  if (kind !== 0) lastLiteral = { address, kind };
  return kind;
}

function bindOne(spec: ListenSpec, ctx: TransportContext): Promise<BoundSocket> {
  const family = isIP(spec.address) === 6 ? 6 : 4;
  const options: dgram.SocketOptions = { type: family === 6 ? 'udp6' : 'udp4', lookup: literalLookup as unknown as typeof dns.lookup };
  // Node applies these right after bind (setsockopt SO_RCVBUF/SO_SNDBUF); the kernel caps them.
  if (ctx.limits.udpRecvBufferBytes > 0) options.recvBufferSize = ctx.limits.udpRecvBufferBytes;
  if (ctx.limits.udpSendBufferBytes > 0) options.sendBufferSize = ctx.limits.udpSendBufferBytes;
  const socket = dgram.createSocket(options);
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind(spec.port, spec.address, () => {
      socket.off('error', onError);
      const a = socket.address();
      resolve({ id: `UDP:${hostport(a.address, a.port)}`, socket, family, address: a.address, port: a.port });
    });
  });
}

/** Datagrams that carry no SIP: CRLF/NUL keep-alives and STUN (first byte < 0x04, RFC 7983). */
function isKeepAlive(buf: Buffer): boolean {
  const first = buf[0];
  if (first === undefined || first < 4) return true;
  for (const b of buf) if (b !== 13 && b !== 10 && b !== 0 && b !== 32) return false;
  return true;
}

/** A datagram waiting for the end of the turn; `done` gets dgram's send callback. */
interface QueuedSend {
  socket: dgram.Socket;
  bytes: Buffer;
  port: number;
  address: string;
  done: (err: Error | null) => void;
}

export class UdpTransport {
  private closed = false;
  private queue: QueuedSend[] = [];
  private flushArmed = false;
  /** Datagrams read and not yet handled (each waits in an immediate): 0 ends a run. */
  private unhandled = 0;
  /** Sends to host names, waiting for dgram's resolver: close() fails those. */
  private readonly resolving = new Set<QueuedSend>();

  private constructor(
    private readonly sockets: readonly BoundSocket[],
    private readonly ctx: TransportContext,
    private readonly inbound: Inbound,
  ) {
    for (const b of sockets) {
      b.socket.on('message', (buf, rinfo) => {
        this.unhandled++;
        setImmediate(this.handleRead, b, buf, rinfo);
      });
      b.socket.on('error', (err) => ctx.logger.error({ transport: 'UDP', socket: b.id, err }, 'udp socket error'));
    }
  }

  /** Bind every address (port 0 = ephemeral); on any failure nothing stays bound. */
  static async open(specs: readonly ListenSpec[], ctx: TransportContext, events: TransportEvents): Promise<UdpTransport> {
    const bound: BoundSocket[] = [];
    try {
      for (const s of specs) bound.push(await bindOne(s, ctx));
    } catch (e) {
      for (const b of bound) b.socket.close();
      throw e;
    }
    for (const b of bound) ctx.logger.info({ transport: 'UDP', local: hostport(b.address, b.port) }, 'listening');
    return new UdpTransport(bound, ctx, { events, logger: ctx.logger });
  }

  get listening(): ListenAddress[] {
    return this.sockets.map((b) => ({ transport: 'UDP', address: b.address, port: b.port }));
  }

  /** One datagram of the run; after the run's last, what it caused is sent. */
  private readonly handleRead = (b: BoundSocket, buf: Buffer, rinfo: RemoteInfo): void => {
    try {
      this.receive(b, buf, rinfo);
    } catch (err) {
      // receive() hands errors of the layers above to acceptMessage, which catches them:
      // this is for its own bugs, which must not cost the rest of the run.
      this.ctx.logger.error({ transport: 'UDP', err }, 'datagram handling threw');
    } finally {
      if (--this.unhandled === 0) this.flush();
    }
  };

  private receive(b: BoundSocket, buf: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return;
    const source: MessageSource = {
      transport: 'UDP',
      localAddress: b.address,
      localPort: b.port,
      // Node writes IPv4 sources in dotted-quad form already: canonical as they are.
      remoteAddress: rinfo.family === 'IPv4' ? rinfo.address : (canonicalIp(rinfo.address) ?? rinfo.address),
      remotePort: rinfo.port,
      connectionId: b.id,
    };
    const reply: Reply = (res, req) => {
      const dest = responseDestination(req) ?? {
        transport: 'UDP',
        address: source.remoteAddress,
        port: source.remotePort,
        connectionId: b.id,
      };
      this.send(res, dest).catch((err: unknown) =>
        this.ctx.logger.warn({ transport: 'UDP', dest, err }, 'stateless response not sent'),
      );
    };
    if (buf.length > this.ctx.limits.maxDatagramBytes) {
      const err = new MessageParseError(`datagram of ${buf.length} bytes exceeds ${this.ctx.limits.maxDatagramBytes}`, 0, 513);
      rejectMessage(this.inbound, err, source, reply);
      return;
    }
    if (isKeepAlive(buf)) {
      this.ctx.logger.debug({ transport: 'UDP', remote: hostport(source.remoteAddress, source.remotePort), bytes: buf.length }, 'keep-alive ignored');
      return;
    }
    let msg: SipMessage;
    try {
      msg = parseDatagram(buf, this.ctx.limits.parse);
    } catch (e) {
      if (!(e instanceof MessageParseError)) {
        this.ctx.logger.error({ transport: 'UDP', err: e }, 'parser threw an untyped error');
        return;
      }
      rejectMessage(this.inbound, e, source, reply);
      return;
    }
    acceptMessage(this.inbound, msg, source, reply);
  }

  /** The socket the response should leave from, else one whose family can reach dest. */
  private pick(dest: Destination): BoundSocket | undefined {
    if (dest.connectionId !== undefined) {
      const same = this.sockets.find((b) => b.id === dest.connectionId);
      if (same !== undefined) return same;
    }
    const fam = isIP(dest.address);
    if (fam === 0) return this.sockets[0];
    return (
      this.sockets.find((b) => b.family === fam) ??
      // A dual-stack [::] socket reaches IPv4 peers as ::ffff:a.b.c.d.
      (fam === 4 ? this.sockets.find((b) => b.family === 6 && b.address === '::') : undefined)
    );
  }

  async send(msg: SipMessage, dest: Destination): Promise<void> {
    if (this.closed) throw new TransportError('UDP transport is closed', 'CLOSED');
    const b = this.pick(dest);
    if (b === undefined) throw new TransportError(`no UDP socket can reach ${dest.address}`, 'NO_TRANSPORT');
    const buf = serialize(msg);
    const log = (): Record<string, unknown> => ({ transport: 'UDP', socket: b.id, dest: hostport(dest.address, dest.port), callId: msg.get('call-id'), bytes: buf.length });
    if (buf.length > MAX_UDP_PAYLOAD) throw new TransportError(`message of ${buf.length} bytes does not fit a UDP datagram`, 'TOO_LARGE');
    if (buf.length > UDP_MTU_GUIDE) this.ctx.logger.warn(log(), 'message larger than 1300 bytes sent over UDP (RFC 3261 §18.1.1)');
    const address = b.family === 6 && isIP(dest.address) === 4 ? `::ffff:${dest.address}` : dest.address;
    await new Promise<void>((resolve, reject) => {
      this.enqueue({ socket: b.socket, bytes: buf, port: dest.port, address, done: (err) => (err ? reject(err) : resolve()) });
    });
    if (debugOn(this.ctx.logger)) this.ctx.logger.debug({ ...log(), start: msg.isRequest() ? msg.method : msg.status }, 'sip message sent');
  }

  /** Transport.sendBytes: a serialized message, with no Promise (the response path). */
  sendBytes(bytes: Buffer, dest: Destination, onError?: (err: Error) => void): void {
    const fail = (err: Error): void => {
      if (onError !== undefined) queueMicrotask(() => onError(err));
      else this.ctx.logger.warn({ transport: 'UDP', dest: hostport(dest.address, dest.port), err }, 'sip message not sent');
    };
    if (this.closed) return fail(new TransportError('UDP transport is closed', 'CLOSED'));
    const b = this.pick(dest);
    if (b === undefined) return fail(new TransportError(`no UDP socket can reach ${dest.address}`, 'NO_TRANSPORT'));
    if (bytes.length > MAX_UDP_PAYLOAD) return fail(new TransportError(`message of ${bytes.length} bytes does not fit a UDP datagram`, 'TOO_LARGE'));
    if (bytes.length > UDP_MTU_GUIDE) {
      this.ctx.logger.warn({ transport: 'UDP', socket: b.id, dest: hostport(dest.address, dest.port), bytes: bytes.length }, 'message larger than 1300 bytes sent over UDP (RFC 3261 §18.1.1)');
    }
    const address = b.family === 6 && isIP(dest.address) === 4 ? `::ffff:${dest.address}` : dest.address;
    this.enqueue({ socket: b.socket, bytes, port: dest.port, address, done: (err) => err && fail(err) });
  }

  private enqueue(s: QueuedSend): void {
    this.queue.push(s);
    if (this.flushArmed) return;
    this.flushArmed = true;
    setImmediate(this.flush);
  }

  /** Sends everything queued, in order; a send that throws fails alone. */
  private readonly flush = (): void => {
    this.flushArmed = false;
    const q = this.queue;
    if (q.length === 0) return;
    this.queue = [];
    for (const s of q) {
      try {
        s.socket.send(s.bytes, s.port, s.address, literalKind(s.address) !== 0 ? s.done : this.whileResolving(s));
      } catch (err) {
        s.done(err instanceof Error ? err : new Error(String(err)));
      }
    }
  };

  /**
   * `s.done` for a send to a host name. dgram resolves it before sending and, if the socket
   * has closed by then, never calls back: close() fails what is still here.
   */
  private whileResolving(s: QueuedSend): (err: Error | null) => void {
    this.resolving.add(s);
    return (err) => {
      if (this.resolving.delete(s)) s.done(err);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    for (const s of this.resolving) s.done(new TransportError('UDP transport is closed', 'CLOSED'));
    this.resolving.clear();
    await Promise.all(this.sockets.map((b) => new Promise<void>((resolve) => b.socket.close(() => resolve()))));
  }
}
