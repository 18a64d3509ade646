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
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabUsed = 0;

function take(n: number): Buffer {
  if (n > SLAB_BYTES >>> 2) return Buffer.allocUnsafe(n);
  if (slabUsed + n > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + n);
  // 8-byte aligned, as Node's pool does.
  slabUsed = (slabUsed + n + 7) & ~7;
  return out;
}

/** A body given as a string, UTF-8 encoded into the same slabs. */
export function utf8Bytes(s: string): Buffer {
  const n = Buffer.byteLength(s, 'utf8');
  const out = take(n);
  out.write(s, 0, n, 'utf8');
  return out;
}

export function serialize(msg: SipMessage): Buffer {
  const head = serializeHead(msg);
  const headLen = Buffer.byteLength(head, 'utf8');
  const out = take(headLen + msg.body.length);
  out.write(head, 0, headLen, 'utf8');
  if (msg.body.length > 0) msg.body.copy(out, headLen);
  return out;
}
