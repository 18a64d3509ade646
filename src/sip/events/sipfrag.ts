/**
 * message/sipfrag (RFC 3420) as the REFER implicit subscription uses it (RFC 3515 §2.4.4,
 * §2.4.5): each NOTIFY body is a fragment that starts with the Status-Line of the response
 * the referenced request got, `SIP-Version SP Status-Code SP Reason-Phrase CRLF`
 * (RFC 3261 §7.2). We send the minimal fragment, the Status-Line alone, which RFC 3515
 * §2.4.5 allows ("the fragment MAY consist of just the Status-Line").
 * Pure: no I/O.
 */

/** The Content-Type our NOTIFYs carry (RFC 3420 §2: version defaults to 2.0; RFC 3515 examples name it). */
export const SIPFRAG_CONTENT_TYPE = 'message/sipfrag;version=2.0';

export interface SipfragStatus {
  version: string;
  status: number;
  reason: string;
}

/**
 * Reason-Phrase is `*(reserved / unreserved / escaped / UTF8-NONASCII / UTF8-CONT / SP / HTAB)`
 * (RFC 3261 §25.1): no CR, LF or other controls. A phrase we were handed (often a peer's)
 * is cleaned so it cannot end the line or shape the fragment.
 */
function cleanReason(reason: string): string {
  const s = reason.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, ' ').trim();
  return s.length > 120 ? s.slice(0, 120) : s;
}

/** `SIP/2.0 <status> <reason>\r\n` for a Status-Code 100..699. */
export function sipfrag(status: number, reason: string): string {
  if (!Number.isInteger(status) || status < 100 || status > 699) throw new RangeError(`not a SIP status code: ${status}`);
  return `SIP/2.0 ${status} ${cleanReason(reason)}\r\n`;
}

/**
 * The Status-Line a sipfrag body starts with, or undefined when it does not start with one
 * (a request fragment, or garbage). Only the first line is read (RFC 3420 §2: the fragment
 * may carry headers and a body after it).
 */
export function parseSipfragStatus(body: Buffer | string): SipfragStatus | undefined {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const eol = text.indexOf('\n');
  const line = (eol < 0 ? text : text.slice(0, eol)).replace(/\r$/, '');
  // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase; a bare "SIP/2.0 200" is taken too.
  const m = /^(SIP\/\d+\.\d+) ([1-6]\d\d)(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?$/i.exec(line);
  if (m === null) return undefined;
  return { version: m[1]!.toUpperCase(), status: Number(m[2]), reason: m[3] ?? '' };
}
