/**
 * SIP message serializer: SipRequest | SipResponse -> bytes.
 *
 * RFC 3261 §7 (start lines, one header field per line, CRLF line ends, empty line, body),
 * §20.14 (Content-Length: always written, computed from the body so it cannot lie).
 * Names are written in their canonical long form (names.ts), which every dissector
 * (Wireshark's included) reads without complaint.
 */
import { headerLineStart } from './names.js';
import type { SipMessage } from './message.js';

export function startLine(msg: SipMessage): string {
  return msg.isRequest() ? `${msg.method} ${msg.uri} SIP/2.0` : `SIP/2.0 ${msg.status} ${msg.reason}`;
}

export function serializeHead(msg: SipMessage): string {
  let out = startLine(msg) + '\r\n';
  for (const h of msg.headers) {
    if (h.name === 'content-length') continue;
    out += headerLineStart(h.name) + h.value + '\r\n';
  }
  out += 'Content-Length: ' + msg.body.length + '\r\n\r\n';
  return out;
}

/**
 * Serialized messages are cut from 64 KB slabs rather than Node's 8 KB Buffer pool: a
 * message is a few hundred bytes, so the pool needed a new ArrayBuffer every dozen
 * messages (a native allocation each). Like the pool's, a slab lives as long as any message
 * cut from it (a response a transaction keeps for Timer J, 32 s).
 */
const SLAB_BYTES = 64 * 1024;
/** Above this a message gets a Buffer of its own (such a one is rare, and would waste a slab). */
const SLAB_MAX = SLAB_BYTES >>> 2;
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabUsed = 0;

/**
 * `text` UTF-8 encoded, followed by `tail`, in a slab. Room for the longest encoding (3
 * bytes per UTF-16 unit) is made first, so the text is encoded once, straight into the slab,
 * without first measuring its encoded length (a second pass over it).
 */
function encode(text: string, tail: Buffer | undefined): Buffer {
  const tailLen = tail === undefined ? 0 : tail.length;
  const room = 3 * text.length + tailLen;
  if (room > SLAB_MAX) {
    const n = Buffer.byteLength(text, 'utf8');
    const own = Buffer.allocUnsafe(n + tailLen);
    own.write(text, 0, n, 'utf8');
    if (tail !== undefined) tail.copy(own, n);
    return own;
  }
  if (slabUsed + room > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const start = slabUsed;
  const n = slab.write(text, start, 'utf8');
  if (tail !== undefined) tail.copy(slab, start + n);
  const end = start + n + tailLen;
  // 8-byte aligned, as Node's pool does.
  slabUsed = (end + 7) & ~7;
  return slab.subarray(start, end);
}

/** A body given as a string, UTF-8 encoded into the same slabs. */
export function utf8Bytes(s: string): Buffer {
  return encode(s, undefined);
}

export function serialize(msg: SipMessage): Buffer {
  return encode(serializeHead(msg), msg.body.length > 0 ? msg.body : undefined);
}
