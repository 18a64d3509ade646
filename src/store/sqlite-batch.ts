/**
 * The hot path between SqliteStore and its worker (sqlite.ts, sqlite-worker.ts), in one
 * binary buffer each way instead of structured clones of objects.
 *
 * Calls: every addMessage of one event-loop turn is encoded into one ArrayBuffer, which is
 * transferred (not copied) to the worker. Each message is encoded at call time, so it is the
 * caller's snapshot (the caller may reuse its buffers at once). Cloning the same messages as
 * objects (an object, its arrays and a Uint8Array per message, each ArrayBuffer transferred
 * on its own) took ~16% of the recording thread in bench/record, and the objects were most of
 * its garbage.
 *
 * Replies: results that are numbers (addMessage's seq, and other numeric results) travel as
 * [id, value] pairs in a Float64Array; any other reply as the Reply object it was.
 *
 * Layout of a message batch (little-endian), per message:
 *   f64 call id, f64 at, str historyId, str sender, str contentType, ostr msrpMessageId,
 *   ostr imdnMessageId, u32 n + n str recipients, u32 n (ABSENT: no cpimHeaders) + n pairs
 *   (str name, str value), u32 length + body bytes.
 *   str = u32 byte length + UTF-8; ostr = str, or u32 ABSENT when undefined.
 */
import type { NewMessage, StoredHeader } from './types.js';
import type { Call, Reply } from './sqlite-protocol.js';

const ABSENT = 0xffff_ffff;
const INITIAL_BYTES = 64 * 1024;
/** A scratch buffer grown past this by one large batch is let go afterwards. */
const KEEP_BYTES = 4 * 1024 * 1024;

/** A batch as it crosses the port. */
export interface MessageBatch {
  kind: 'messages';
  buffer: ArrayBuffer;
  length: number;
}

export function isMessageBatch(m: unknown): m is MessageBatch {
  return typeof m === 'object' && m !== null && (m as { kind?: unknown }).kind === 'messages';
}

/** Accumulates addMessage calls; take() hands the encoded batch over and starts a new one. */
export class MessageBatchWriter {
  private buf = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  private at = 0;
  count = 0;

  /** Encodes one message; if it throws (a malformed message), the batch is left as it was. */
  append(id: number, historyId: string, m: NewMessage): void {
    const start = this.at;
    try {
      this.encode(id, historyId, m);
    } catch (e) {
      this.at = start;
      throw e;
    }
    this.count++;
  }

  private encode(id: number, historyId: string, m: NewMessage): void {
    this.f64(id);
    this.f64(m.at);
    this.str(historyId);
    this.str(m.sender);
    this.str(m.contentType);
    this.ostr(m.msrpMessageId);
    this.ostr(m.imdnMessageId);
    this.u32(m.recipients.length);
    for (const r of m.recipients) this.str(r);
    const h = m.cpimHeaders;
    if (h === undefined) this.u32(ABSENT);
    else {
      this.u32(h.length);
      for (const x of h) {
        this.str(x.name);
        this.str(x.value);
      }
    }
    const body = m.body;
    this.reserve(4 + body.length);
    this.buf.writeUInt32LE(body.length, this.at);
    this.buf.set(body, this.at + 4);
    this.at += 4 + body.length;
  }

  /** The batch so far, copied out into an ArrayBuffer of its own (undefined when empty); the writer starts afresh. */
  take(): MessageBatch | undefined {
    if (this.count === 0) return undefined;
    // One copy of the used bytes (a memcpy); the scratch buffer is kept for the next batch.
    const batch: MessageBatch = { kind: 'messages', buffer: this.buf.buffer.slice(this.buf.byteOffset, this.buf.byteOffset + this.at) as ArrayBuffer, length: this.at };
    if (this.buf.length > KEEP_BYTES) this.buf = Buffer.allocUnsafeSlow(INITIAL_BYTES);
    this.at = 0;
    this.count = 0;
    return batch;
  }

  private reserve(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  private f64(v: number): void {
    this.reserve(8);
    this.buf.writeDoubleLE(v, this.at);
    this.at += 8;
  }

  private u32(v: number): void {
    this.reserve(4);
    this.buf.writeUInt32LE(v, this.at);
    this.at += 4;
  }

  private str(s: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    this.reserve(4 + s.length * 3);
    const n = this.buf.write(s, this.at + 4, 'utf8');
    this.buf.writeUInt32LE(n, this.at);
    this.at += 4 + n;
  }

  private ostr(s: string | undefined): void {
    if (s === undefined) this.u32(ABSENT);
    else this.str(s);
  }
}

/** The calls of a batch, as the worker runs them; bodies are views of the batch's buffer. */
export function decodeMessageBatch(batch: MessageBatch): Call[] {
  const buf = Buffer.from(batch.buffer, 0, batch.length);
  let at = 0;
  const f64 = (): number => {
    const v = buf.readDoubleLE(at);
    at += 8;
    return v;
  };
  const u32 = (): number => {
    const v = buf.readUInt32LE(at);
    at += 4;
    return v;
  };
  const str = (): string => {
    const n = u32();
    const s = buf.toString('utf8', at, at + n);
    at += n;
    return s;
  };
  const ostr = (): string | undefined => {
    const n = buf.readUInt32LE(at);
    if (n === ABSENT) {
      at += 4;
      return undefined;
    }
    return str();
  };
  const calls: Call[] = [];
  while (at < batch.length) {
    const id = f64();
    const when = f64();
    const historyId = str();
    const sender = str();
    const contentType = str();
    const msrpMessageId = ostr();
    const imdnMessageId = ostr();
    const recipients: string[] = [];
    for (let n = u32(); n > 0; n--) recipients.push(str());
    const nh = u32();
    let cpimHeaders: StoredHeader[] | undefined;
    if (nh !== ABSENT) {
      cpimHeaders = [];
      for (let n = nh; n > 0; n--) cpimHeaders.push({ name: str(), value: str() });
    }
    const len = u32();
    const body = buf.subarray(at, at + len);
    at += len;
    const m: NewMessage = { at: when, sender, recipients, contentType, body };
    if (msrpMessageId !== undefined) m.msrpMessageId = msrpMessageId;
    if (imdnMessageId !== undefined) m.imdnMessageId = imdnMessageId;
    if (cpimHeaders !== undefined) m.cpimHeaders = cpimHeaders;
    calls.push({ id, method: 'addMessage', args: [historyId, m] });
  }
  return calls;
}

/** Replies as they cross the port: numeric results packed, the rest as objects; both in id order. */
export interface ReplyBatch {
  numeric: Float64Array;
  other: Reply[];
}

export function encodeReplies(replies: readonly Reply[]): ReplyBatch {
  let n = 0;
  for (const r of replies) if (r.error === undefined && typeof r.value === 'number') n++;
  const numeric = new Float64Array(2 * n);
  const other: Reply[] = [];
  let k = 0;
  for (const r of replies) {
    if (r.error === undefined && typeof r.value === 'number') {
      numeric[k++] = r.id;
      numeric[k++] = r.value;
    } else other.push(r);
  }
  return { numeric, other };
}

/** Calls `each` for every reply, in id (= call) order. */
export function forEachReply(b: ReplyBatch, each: (id: number, value: unknown, error: Reply['error']) => void): void {
  const num = b.numeric;
  let i = 0;
  let j = 0;
  while (i < num.length || j < b.other.length) {
    const o = b.other[j];
    if (i < num.length && (o === undefined || num[i]! < o.id)) {
      each(num[i]!, num[i + 1]!, undefined);
      i += 2;
    } else {
      each(o!.id, o!.value, o!.error);
      j++;
    }
  }
}
