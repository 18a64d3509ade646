/**
 * Chunked messages (RFC 4975 §5.1, §7.1.1, §7.3.1): reassembly on receipt, chunking to send.
 *
 * A message may arrive as several SEND chunks with the same Message-ID, each placing its
 * body at Byte-Range start (1-based). We accept them in any order and overlapping; where
 * chunks overlap "the last chunk received SHOULD take precedence" (§7.3.1), so newer bytes
 * overwrite older ones. The end is known from the chunk flagged "$": it is the last chunk
 * sent, and its end is start + body length - 1 whatever its Byte-Range says (an end or total
 * of "*" is allowed, and RFC 4975's own examples count bytes loosely, so the octets that
 * arrived are believed over the header). The message is complete when a "$" chunk has
 * arrived and bytes 1..end are all present; "#" aborts it (§7.1) and drops what was kept.
 * A missing Byte-Range means the chunk holds the whole message from byte 1 (§7.3.1).
 *
 * Memory is bounded (design.md convention 8): a message larger than maxMessageBytes, more
 * than maxMessagesInProgress unfinished messages, or more than maxBufferedBytes held in
 * total is refused with 413 (§10: "Stop-sending-message"). Stale unfinished messages are
 * dropped by expire(), which the session calls from its Clock.
 */
import type { ByteRange, ContinuationFlag, MsrpHeader } from './message.js';

export interface ReassemblyLimits {
  maxMessageBytes: number;
  maxMessagesInProgress: number;
  maxBufferedBytes: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = {
  maxMessageBytes: 4 * 1024 * 1024,
  maxMessagesInProgress: 16,
  maxBufferedBytes: 16 * 1024 * 1024,
};

export interface IncomingChunk {
  messageId: string;
  byteRange?: ByteRange;
  continuation: ContinuationFlag;
  body: Buffer;
  contentType?: string;
  headers?: readonly MsrpHeader[];
}

export interface AssembledMessage {
  messageId: string;
  /** From the chunk that starts at byte 1 (every chunk repeats the message's type, §7.1.1). */
  contentType?: string;
  body: Buffer;
  chunks: number;
  /** Header fields of the chunk that starts at byte 1. */
  headers: MsrpHeader[];
}

export type ChunkOutcome =
  | { kind: 'partial'; messageId: string; receivedBytes: number }
  | { kind: 'complete'; message: AssembledMessage }
  | { kind: 'aborted'; messageId: string; receivedBytes: number }
  | { kind: 'rejected'; messageId: string; status: 413; reason: string };

interface Piece {
  start: number;
  data: Buffer;
}

interface InProgress {
  pieces: Piece[];
  bytes: number;
  finalEnd?: number;
  chunks: number;
  contentType?: string;
  headers: MsrpHeader[];
  lastActivity: number;
}

function endOf(p: Piece): number {
  return p.start + p.data.length - 1;
}

/** Per-session reassembly state. Pure: time comes in as arguments. */
export class Reassembler {
  private readonly limits: ReassemblyLimits;
  private readonly messages = new Map<string, InProgress>();
  private buffered = 0;

  constructor(limits: Partial<ReassemblyLimits> = {}) {
    this.limits = { ...DEFAULT_REASSEMBLY_LIMITS, ...limits };
  }

  get inProgress(): number {
    return this.messages.size;
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  add(chunk: IncomingChunk, now = 0): ChunkOutcome {
    const id = chunk.messageId;
    const start = chunk.byteRange?.start ?? 1;
    const end = start + chunk.body.length - 1;
    const total = chunk.byteRange?.total;
    if ((typeof total === 'number' && total > this.limits.maxMessageBytes) || end > this.limits.maxMessageBytes) {
      this.drop(id);
      return { kind: 'rejected', messageId: id, status: 413, reason: `message larger than ${this.limits.maxMessageBytes} bytes` };
    }
    let m = this.messages.get(id);
    if (chunk.continuation === '#') {
      const receivedBytes = m?.bytes ?? 0;
      this.drop(id);
      return { kind: 'aborted', messageId: id, receivedBytes };
    }
    if (m === undefined && start === 1 && chunk.continuation === '$') {
      // The common case, a message in one chunk: nothing to keep.
      const message: AssembledMessage = { messageId: id, body: chunk.body, chunks: 1, headers: [...(chunk.headers ?? [])] };
      if (chunk.contentType !== undefined) message.contentType = chunk.contentType;
      return { kind: 'complete', message };
    }
    if (m === undefined) {
      if (this.messages.size >= this.limits.maxMessagesInProgress) {
        return { kind: 'rejected', messageId: id, status: 413, reason: `more than ${this.limits.maxMessagesInProgress} messages in progress` };
      }
      m = { pieces: [], bytes: 0, chunks: 0, headers: [], lastActivity: now };
      this.messages.set(id, m);
    }
    const before = m.bytes;
    if (chunk.body.length > 0) this.place(m, { start, data: chunk.body });
    this.buffered += m.bytes - before;
    if (this.buffered > this.limits.maxBufferedBytes) {
      this.drop(id);
      return { kind: 'rejected', messageId: id, status: 413, reason: `more than ${this.limits.maxBufferedBytes} bytes of unfinished messages` };
    }
    m.chunks++;
    m.lastActivity = now;
    if (start === 1 || m.contentType === undefined) {
      if (chunk.contentType !== undefined) m.contentType = chunk.contentType;
      if (start === 1 || m.headers.length === 0) m.headers = [...(chunk.headers ?? [])];
    }
    if (chunk.continuation === '$') m.finalEnd = Math.max(m.finalEnd ?? 0, end);
    const body = this.assembled(m);
    if (body === undefined) return { kind: 'partial', messageId: id, receivedBytes: m.bytes };
    this.drop(id);
    const message: AssembledMessage = { messageId: id, body, chunks: m.chunks, headers: m.headers };
    if (m.contentType !== undefined) message.contentType = m.contentType;
    return { kind: 'complete', message };
  }

  /** Drops unfinished messages not touched since `cutoff`; returns their Message-IDs. */
  expire(cutoff: number): string[] {
    const gone: string[] = [];
    for (const [id, m] of this.messages) {
      if (m.lastActivity < cutoff) gone.push(id);
    }
    for (const id of gone) this.drop(id);
    return gone;
  }

  drop(messageId: string): void {
    const m = this.messages.get(messageId);
    if (m === undefined) return;
    this.buffered -= m.bytes;
    this.messages.delete(messageId);
  }

  clear(): void {
    this.messages.clear();
    this.buffered = 0;
  }

  /** Inserts a piece, trimming older pieces it overlaps (the newest bytes win, §7.3.1). */
  private place(m: InProgress, piece: Piece): void {
    const s = piece.start;
    const e = endOf(piece);
    const kept: Piece[] = [];
    for (const p of m.pieces) {
      const pe = endOf(p);
      if (pe < s || p.start > e) {
        kept.push(p);
        continue;
      }
      // Copies, so a trimmed remnant does not pin the whole buffer it came from.
      if (p.start < s) kept.push({ start: p.start, data: Buffer.from(p.data.subarray(0, s - p.start)) });
      if (pe > e) kept.push({ start: e + 1, data: Buffer.from(p.data.subarray(e + 1 - p.start)) });
    }
    kept.push(piece);
    kept.sort((a, b) => a.start - b.start);
    m.pieces = kept;
    m.bytes = kept.reduce((n, p) => n + p.data.length, 0);
  }

  private assembled(m: InProgress): Buffer | undefined {
    if (m.finalEnd === undefined) return undefined;
    const last = m.pieces[m.pieces.length - 1];
    const end = Math.max(m.finalEnd, last === undefined ? 0 : endOf(last));
    let next = 1;
    for (const p of m.pieces) {
      if (p.start !== next) return undefined;
      next = p.start + p.data.length;
    }
    if (next !== end + 1) return undefined;
    return Buffer.concat(m.pieces.map((p) => p.data), end);
  }
}

export interface OutgoingChunk {
  byteRange: ByteRange;
  body: Buffer;
  continuation: '+' | '$';
}

/**
 * Splits a body into chunks of at most maxChunkBytes with numeric Byte-Ranges (§7.1.1); an
 * empty body is one chunk "1-0/0". The chunks share the body's memory.
 */
export function chunkBody(body: Buffer, maxChunkBytes: number): OutgoingChunk[] {
  if (!Number.isInteger(maxChunkBytes) || maxChunkBytes < 1) throw new RangeError(`invalid chunk size ${maxChunkBytes}`);
  const total = body.length;
  if (total === 0) return [{ byteRange: { start: 1, end: 0, total: 0 }, body, continuation: '$' }];
  const out: OutgoingChunk[] = [];
  for (let s = 0; s < total; s += maxChunkBytes) {
    const e = Math.min(total, s + maxChunkBytes);
    out.push({ byteRange: { start: s + 1, end: e, total }, body: body.subarray(s, e), continuation: e === total ? '$' : '+' });
  }
  return out;
}
