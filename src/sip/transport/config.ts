/**
 * Configuration, limits, logging and errors shared by the SIP transports (RFC 3261 §18).
 *
 * Every resource a peer can make us hold is bounded here (design.md convention 8): the
 * size of a received datagram, the bytes a stream connection may buffer (the framer's
 * ParseLimits), the number of stream connections, and the bytes queued for a slow reader.
 */
import { DEFAULT_LIMITS, type ParseLimits } from '../message/parse.js';
import { systemClock, type Clock } from '../clock.js';

/** The subset of pino's API the transports use, so pino is not a dependency here. */
export interface TransportLogger {
  /** pino's: lets per-message debug lines skip building their fields when debug is off. */
  isLevelEnabled?(level: string): boolean;
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Whether debug lines would be written (true for a logger that cannot tell). */
export function debugOn(logger: { isLevelEnabled?(level: string): boolean }): boolean {
  return logger.isLevelEnabled === undefined || logger.isLevelEnabled('debug');
}

export const silentLogger: TransportLogger = {
  isLevelEnabled: () => false,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export interface TransportLimits {
  /** Header/body limits for datagrams and for each stream connection's framer. */
  parse: ParseLimits;
  /** Received datagrams larger than this are dropped unparsed (reported as 513). */
  maxDatagramBytes: number;
  /** Open TCP connections, inbound and outbound together; more are refused. */
  maxConnections: number;
  /** A TCP connection with no bytes moving either way for this long is closed. */
  idleTimeoutMs: number;
  /**
   * A TCP connection that started a message and has not completed it within this long is
   * closed: each byte resets the idle timer, so without it a peer dribbling a byte at a time
   * (slow-loris) would hold the connection and its buffer for ever.
   */
  messageTimeoutMs: number;
  /** Inbound TCP connections from one IP address; more are refused (maxConnections still applies). */
  maxConnectionsPerIp: number;
  /** Outbound TCP connect attempts fail (§18.4 transport error) after this long. */
  connectTimeoutMs: number;
  /** Bytes that may wait in a connection's send queue before send() rejects. */
  maxPendingWriteBytes: number;
  /** A TLS handshake (inbound or outbound, after the TCP connect) not finished by then fails (tls.ts). */
  tlsHandshakeTimeoutMs: number;
  /** After a fatal framing error, how long the half-closed socket may linger for the 400 to drain. */
  closeLingerMs: number;
  /**
   * SO_RCVBUF of each UDP socket. The OS default (Linux net.core.rmem_default, ~208 KB, some
   * 150 datagrams) overflows during a GC pause at a few thousand messages/s, and a datagram
   * the kernel drops costs a retransmission (§17.1.1.2) or a failed call. The kernel caps
   * the value at net.core.rmem_max (and Linux doubles it for bookkeeping). 0 = OS default.
   */
  udpRecvBufferBytes: number;
  /** SO_SNDBUF of each UDP socket (capped at net.core.wmem_max). 0 = OS default. */
  udpSendBufferBytes: number;
}

export const DEFAULT_TRANSPORT_LIMITS: TransportLimits = {
  parse: DEFAULT_LIMITS,
  maxDatagramBytes: 65_535,
  maxConnections: 1024,
  // RFC 3261 §18 leaves a connection's lifetime to the implementation but wants it kept
  // past the last message so responses and later requests can reuse it; a minute of
  // silence outlasts Timer F/H (32 s) of any transaction on the connection.
  idleTimeoutMs: 60_000,
  // RFC 3261 gives no figure; 30 s lets a 256 KiB body through at ~9 KB/s.
  messageTimeoutMs: 30_000,
  maxConnectionsPerIp: 128,
  connectTimeoutMs: 10_000,
  maxPendingWriteBytes: 1024 * 1024,
  tlsHandshakeTimeoutMs: 10_000,
  closeLingerMs: 2_000,
  udpRecvBufferBytes: 4 * 1024 * 1024,
  udpSendBufferBytes: 4 * 1024 * 1024,
};

export type TransportLimitsInput = Partial<Omit<TransportLimits, 'parse'>> & { parse?: Partial<ParseLimits> };

export function resolveLimits(input: TransportLimitsInput | undefined): TransportLimits {
  const { parse, ...rest } = input ?? {};
  return { ...DEFAULT_TRANSPORT_LIMITS, ...rest, parse: { ...DEFAULT_LIMITS, ...parse } };
}

/**
 * Certificates and checks for SIP over TLS (tls.ts). PEM text or bytes: reading the files is
 * the caller's business (src/tls-files.ts), so errors there can name the path.
 */
export interface TlsOptions {
  /** Our certificate (chain), presented as server and, when we connect, as client. */
  cert: string | Buffer;
  key: string | Buffer;
  /** Trust anchors for server certificates we check and for client certificates; absent: Node's built-in roots. */
  ca?: (string | Buffer)[];
  /** Mutual TLS: ask every client for a certificate that chains to `ca`; refuse a client without one. */
  requestClientCert?: boolean;
  /**
   * false accepts any server certificate (no chain, name or date check): for a lab only,
   * and logged as a warning at start and for every connection. Default true.
   */
  verifyServer?: boolean;
  /** Lowest TLS version accepted (default TLSv1.2, RFC 8996 forbids older). */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /**
   * Debugging only: receives every session's key material in NSS key log format (Node's
   * 'keylog' event) so a capture can be decrypted (tshark -o tls.keylog_file:...). Never set
   * in production: whoever has these lines can read the traffic.
   */
  keylog?: (line: Buffer) => void;
}

export interface ListenSpec {
  address: string;
  port: number;
}

export interface TransportConfig {
  udp?: ListenSpec[];
  tcp?: ListenSpec[];
  /** TLS listeners (RFC 3261 §26.2.1); needs `tlsOptions`, which alone also allows outbound TLS. */
  tls?: ListenSpec[];
  tlsOptions?: TlsOptions;
  limits?: TransportLimitsInput;
  logger?: TransportLogger;
  /** Drives idle, connect and linger timeouts (design.md convention 2). */
  clock?: Clock;
}

/** What one transport module needs, with every default filled in. */
export interface TransportContext {
  limits: TransportLimits;
  logger: TransportLogger;
  clock: Clock;
}

export function resolveContext(config: Pick<TransportConfig, 'limits' | 'logger' | 'clock'>): TransportContext {
  return {
    limits: resolveLimits(config.limits),
    logger: config.logger ?? silentLogger,
    clock: config.clock ?? systemClock,
  };
}

/** A send that failed below SIP: RFC 3261 §18.4 says it is reported to the transaction layer. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    message: string,
    readonly code: 'NO_TRANSPORT' | 'TOO_LARGE' | 'CONNECT_TIMEOUT' | 'MAX_CONNECTIONS' | 'BACKPRESSURE' | 'CLOSED' | 'TLS_HANDSHAKE',
  ) {
    super(message);
  }
}

/** UDP payload ceiling (65535 minus IPv4 and UDP headers): larger cannot be sent at all. */
export const MAX_UDP_PAYLOAD = 65_507;

/** RFC 3261 §18.1.1: above this a request SHOULD go over a congestion-controlled transport. */
export const UDP_MTU_GUIDE = 1300;
