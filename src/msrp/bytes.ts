/**
 * Byte-level helpers for the MSRP stream parser (RFC 4975 §9 character classes) and the
 * input buffer it frames from.
 */
export const CR = 0x0d;
export const LF = 0x0a;
export const EMPTY = Buffer.alloc(0);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A contiguous input buffer with cheap consume and amortised append. */
export class ByteQueue {
  private data: Buffer = EMPTY;
  private start = 0;
  private end = 0;

  get length(): number {
    return this.end - this.start;
  }

  view(): Buffer {
    return this.data.subarray(this.start, this.end);
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.end + chunk.length > this.data.length) {
      const live = this.length;
      if (live + chunk.length <= this.data.length && live <= this.data.length / 2) {
        this.data.copyWithin(0, this.start, this.end);
      } else {
        const next = Buffer.allocUnsafe(Math.max(4096, 2 * (live + chunk.length)));
        this.data.copy(next, 0, this.start, this.end);
        this.data = next;
      }
      this.start = 0;
      this.end = live;
    }
    chunk.copy(this.data, this.end);
    this.end += chunk.length;
  }

  consume(n: number): void {
    this.start += n;
    if (this.start >= this.end) {
      this.start = this.end = 0;
      // Do not keep a large buffer alive for a connection that has gone quiet.
      if (this.data.length > 256 * 1024) this.data = EMPTY;
    }
  }

  clear(): void {
    this.data = EMPTY;
    this.start = this.end = 0;
  }
}

export function isTokenChar(c: number): boolean {
  return c === 0x21 || (c >= 0x23 && c <= 0x27) || c === 0x2a || c === 0x2b || c === 0x2d || c === 0x2e ||
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x5e && c <= 0x7e);
}

export function isAlpha(c: number): boolean {
  return (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
}

/** utf8text (§9): HTAB / %x20-7E / UTF8-NONASCII; undefined when the bytes are not that. */
export function utf8Text(b: Buffer, start = 0, end = b.length): string | undefined {
  let ascii = true;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return undefined;
    if (c >= 0x80) ascii = false;
  }
  if (ascii) return b.toString('latin1', start, end);
  try {
    return utf8.decode(b.subarray(start, end));
  } catch {
    return undefined;
  }
}

export function isFlag(c: number | undefined): c is 0x24 | 0x2b | 0x23 {
  return c === 0x24 || c === 0x2b || c === 0x23;
}
