/**
 * The public shapes of an MSRP session (session.ts): what it delivers (RFC 4975 §7.3.1
 * messages, §7.1.2 reports), how sends are asked for (§7.1.1 report headers, chunk size),
 * and what it needs from its endpoint.
 */
import type { MsrpUri } from '../sdp/msrp-uri.js';
import type { Fingerprint } from '../sdp/fingerprint.js';
import type { MsrpContext } from './config.js';
import type { MsrpConnection } from './connection.js';
import type { ByteRange, FailureReport, MsrpHeader, MsrpRequest, MsrpStatus } from './message.js';
import type { MsrpSession } from './session.js';

/** new: created; connecting: active, binding; waiting: passive, peer path known; open: bound. */
export type MsrpSessionState = 'new' | 'connecting' | 'waiting' | 'open' | 'closed';

export interface ReceivedMessage {
  sessionId: string;
  messageId: string;
  /** The From-Path of the chunk that completed the message, in order (relays first). */
  fromPath: string[];
  toPath: string[];
  contentType?: string;
  body: Buffer;
  chunks: number;
  /** Header fields of the chunk starting at byte 1 (extension and MIME headers included). */
  headers: MsrpHeader[];
}

export interface ReceivedReport {
  sessionId: string;
  messageId: string;
  status: MsrpStatus;
  byteRange?: ByteRange;
  fromPath: string[];
  headers: MsrpHeader[];
}

export interface SendOptions {
  successReport?: boolean;
  failureReport?: FailureReport;
  messageId?: string;
  chunkSize?: number;
}

export interface SendResult {
  messageId: string;
  chunks: number;
  bytes: number;
}

export interface MsrpSessionEvents {
  open: [];
  message: [ReceivedMessage];
  report: [ReceivedReport];
  error: [Error];
  closed: [{ reason: string }];
}

/** What a session needs from its endpoint. */
export interface SessionHost {
  readonly ctx: MsrpContext;
  /** `fingerprints`: the peer's SDP a=fingerprint, checked on an msrps connection (RFC 4975 §14.1). */
  connect(firstHop: MsrpUri, fingerprints?: readonly Fingerprint[]): Promise<MsrpConnection>;
  bind(session: MsrpSession, conn: MsrpConnection): void;
  release(session: MsrpSession): void;
  redeliver(conn: MsrpConnection, req: MsrpRequest): void;
}
