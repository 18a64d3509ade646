/**
 * Limits, timers and logging for the MSRP stack (design.md conventions 2, 8, 9).
 *
 * Every resource a peer can make us hold is bounded here: header and chunk sizes
 * (parse.ts), reassembly (reassembly.ts), connections (in all and per IP address), the time a
 * started frame may take to complete, sessions, requests held for a session
 * that has not been given its peer's path yet, and bytes queued for a slow reader. Timers
 * (transaction timeout, RFC 4975 §7.1.1's 30 s; idle and bind timeouts) run on the Clock.
 */
import { systemClock, type Clock } from '../sip/clock.js';
import { DEFAULT_MSRP_PARSE_LIMITS, type MsrpParseLimits } from './parse.js';
import { DEFAULT_REASSEMBLY_LIMITS, type ReassemblyLimits } from './reassembly.js';

/** The subset of pino's API the MSRP stack uses. */
export interface MsrpLogger {
  /** pino's: lets the per-chunk debug lines skip building their fields when debug is off. */
  isLevelEnabled?(level: string): boolean;
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export { debugOn } from '../sip/transport/config.js';

export const silentMsrpLogger: MsrpLogger = {
  isLevelEnabled: () => false,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export interface MsrpLimits {
  parse: MsrpParseLimits;
  reassembly: ReassemblyLimits;
  /** A SEND with no response after this long has failed with 408 (RFC 4975 §7.1.1: 30 s). */
  transactionTimeoutMs: number;
  /** A connection carrying no session is closed after this long without traffic (longer than bindTimeoutMs, so held requests get their 481). */
  unboundIdleTimeoutMs: number;
  /** Outbound TCP connects fail after this long. */
  connectTimeoutMs: number;
  /** After close(), how long queued bytes may drain before the socket is destroyed. */
  closeLingerMs: number;
  /**
   * Bytes that may wait in a connection's send queue before a send of ours is refused; past
   * it, a peer's requests are no longer read until it has read our responses, and at four
   * times it the connection is closed (the peer reads nothing).
   */
  maxPendingWriteBytes: number;
  /**
   * Responses a connection writes in one turn of the event loop leave in one write (one
   * TCP segment when they fit) instead of one write each: under load, one system call for
   * the 200s of a whole committed batch. Any MSRP peer reads the stream as usual (RFC 4975
   * frames are delimited by their end-lines), but Wireshark's MSRP dissector decodes only
   * the first frame of a TCP segment: false writes each response on its own, for captures.
   */
  coalesceResponses: boolean;
  /** Open connections, inbound and outbound together; more are refused. */
  maxConnections: number;
  /** Inbound connections from one IP address; more are refused (maxConnections still applies). */
  maxConnectionsPerIp: number;
  /**
   * A frame (request or response) started and not completed within this long closes the
   * connection: every byte counts as traffic, so a peer dribbling a header a byte at a time
   * (slow-loris) is not caught by the idle timer.
   */
  messageTimeoutMs: number;
  /** Sessions in the endpoint's table. */
  maxSessions: number;
  /** Largest chunk body we send (RFC 4975 §7.1.1 suggests 2048 octets for interruptible chunks). */
  maxChunkSize: number;
  /** SEND transactions of one message outstanding at once. */
  sendWindow: number;
  /** An unfinished incoming message untouched this long is dropped. */
  inProgressTimeoutMs: number;
  /** Requests for a session whose peer path is not known yet are held this long, then 481. */
  bindTimeoutMs: number;
  /** ... and at most this many per session. */
  maxDeferredRequests: number;
}

export const DEFAULT_MSRP_LIMITS: MsrpLimits = {
  parse: DEFAULT_MSRP_PARSE_LIMITS,
  reassembly: DEFAULT_REASSEMBLY_LIMITS,
  transactionTimeoutMs: 30_000,
  unboundIdleTimeoutMs: 60_000,
  connectTimeoutMs: 10_000,
  closeLingerMs: 2_000,
  maxPendingWriteBytes: 1024 * 1024,
  coalesceResponses: true,
  maxConnections: 1024,
  maxConnectionsPerIp: 64,
  messageTimeoutMs: 30_000,
  maxSessions: 10_000,
  maxChunkSize: 2048,
  sendWindow: 16,
  inProgressTimeoutMs: 120_000,
  bindTimeoutMs: 30_000,
  maxDeferredRequests: 16,
};

export type MsrpLimitsInput = Partial<Omit<MsrpLimits, 'parse' | 'reassembly'>> & {
  parse?: Partial<MsrpParseLimits>;
  reassembly?: Partial<ReassemblyLimits>;
};

export function resolveMsrpLimits(input: MsrpLimitsInput | undefined): MsrpLimits {
  const { parse, reassembly, ...rest } = input ?? {};
  return {
    ...DEFAULT_MSRP_LIMITS,
    ...rest,
    parse: { ...DEFAULT_MSRP_PARSE_LIMITS, ...parse },
    reassembly: { ...DEFAULT_REASSEMBLY_LIMITS, ...reassembly },
  };
}

/** What the connection, session and endpoint share, defaults filled in. */
export interface MsrpContext {
  limits: MsrpLimits;
  clock: Clock;
  logger: MsrpLogger;
}

export function resolveMsrpContext(c: { limits?: MsrpLimitsInput; clock?: Clock; logger?: MsrpLogger }): MsrpContext {
  return { limits: resolveMsrpLimits(c.limits), clock: c.clock ?? systemClock, logger: c.logger ?? silentMsrpLogger };
}
