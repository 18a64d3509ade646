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

export function serialize(msg: SipMessage): Buffer {
  const head = serializeHead(msg);
  if (msg.body.length === 0) return Buffer.from(head, 'utf8');
  const headLen = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLen + msg.body.length);
  out.write(head, 0, 'utf8');
  msg.body.copy(out, headLen);
  return out;
}
