/**
 * The contract between the transport layer and everything above it (RFC 3261 §18).
 * Nothing above src/sip/transport/ touches sockets; it hands messages and destinations
 * to a Transport and receives parsed messages with their MessageSource.
 */
import type { SipMessage, MessageSource } from '../message/message.js';
import type { MessageParseError } from '../message/parse.js';

export type TransportName = 'UDP' | 'TCP' | 'TLS';

export interface Destination {
  transport: TransportName;
  address: string;
  port: number;
  /** For responses and in-dialog requests: reuse this stream connection if it is still open. */
  connectionId?: string;
  /**
   * TLS: the SIP domain (or IP literal) the server certificate must carry (RFC 5922 §7), the
   * host of the URI that was resolved to this address. Absent: the address itself.
   */
  serverName?: string;
}

export interface ListenAddress {
  transport: TransportName;
  address: string;
  port: number;
}

export interface TransportEvents {
  /** A well-formed message arrived. */
  message(msg: SipMessage): void;
  /**
   * A message arrived that could not be parsed. `error.partial` may hold enough to answer
   * a request with 400 (the transport has already done so where it could).
   */
  parseError(error: MessageParseError, source: MessageSource): void;
}

export interface Transport {
  /** Addresses we listen on (ports resolved after listen). */
  readonly listening: readonly ListenAddress[];
  /** Serialize and send. Rejects on a transport error (§18.4: reported to the transaction). */
  send(msg: SipMessage, dest: Destination): Promise<void>;
  /**
   * Optional fast path for a message already serialized (what a server transaction keeps to
   * answer retransmissions with): no Promise per datagram. A transport error goes to
   * `onError`, always asynchronously, or is logged when there is none.
   */
  sendBytes?(bytes: Buffer, dest: Destination, onError?: (err: Error) => void): void;
  /** Whether this transport is reliable (no retransmissions needed, §17.1.1.2). */
  isReliable(t: TransportName): boolean;
  close(): Promise<void>;
}

/** true for TCP/TLS: RFC 3261 §17 timers that only cover retransmission become zero. */
export function isReliable(t: TransportName): boolean {
  return t !== 'UDP';
}
