/**
 * The stateless error response a transport sends for a request it could not parse.
 *
 * RFC 3261 §8.2 / §21.4.1: a request that cannot be understood gets 400 (or the more
 * specific status the parser chose, e.g. 413), with the problem as the reason phrase;
 * §8.2.6.2: Via, From, To, Call-ID and CSeq are copied and a To tag is added; §17: an ACK
 * never gets a response; §20.43: the Warning header (code 399) repeats the problem.
 * RFC 4475 §3.1.2.2/§3.1.2.3/§3.3.9 are the cases that end up here.
 *
 * The request is only partly parsed, so nothing here calls the structured accessors (which
 * would throw on the very fields that may be broken): headers are copied as text.
 */
import { randomHex } from '../../random.js';
import { SipResponse, type SipMessage } from '../message/message.js';
import type { MessageParseError } from '../message/parse.js';

const REQUIRED = ['via', 'from', 'to', 'call-id', 'cseq'] as const;

/**
 * RFC 3261 Reason-Phrase allows reserved, unreserved, escaped, UTF-8, SP and HTAB; the
 * parser's messages quote with '"' and may carry anything the peer sent, so map the rest.
 */
export function toReasonPhrase(text: string, max = 120): string {
  let out = '';
  for (const ch of text) {
    if (/[A-Za-z0-9\-_.!~*'();/?:@&=+$, \t]/.test(ch) || ch.codePointAt(0)! >= 0x80) out += ch;
    else if (ch === '"') out += "'";
    else out += ' ';
  }
  out = out.replace(/\s+/g, ' ').trim();
  if (out.length > max) out = out.slice(0, max - 3) + '...';
  return out.length > 0 ? out : 'Bad Request';
}

function quoted(text: string): string {
  return '"' + text.replace(/[\\"]/g, (c) => '\\' + c).replace(/[\x00-\x1f\x7f]/g, ' ') + '"';
}

/**
 * The error response for a partly parsed request, or undefined when it cannot be built
 * (a response, an ACK, or a request missing one of the five headers a response needs).
 * `warnAgent` is our host:port for the Warning header.
 */
export function statelessErrorResponse(error: MessageParseError, warnAgent: string): SipResponse | undefined {
  const req: SipMessage | undefined = error.partial;
  if (req === undefined || !req.isRequest() || req.method === 'ACK') return undefined;
  if (REQUIRED.some((n) => !req.has(n))) return undefined;
  const status = error.status >= 400 && error.status <= 699 ? error.status : 400;
  const res = new SipResponse(status, toReasonPhrase(error.message));
  for (const h of req.headers) {
    if (h.name === 'via') res.headers.push({ name: 'via', value: h.value });
  }
  res.headers.push({ name: 'from', value: req.get('from')! });
  const to = req.get('to')!;
  // A stateless UAS still owes a To tag (§8.2.6.2) so the client can tell responses apart.
  res.headers.push({ name: 'to', value: /;\s*tag\s*=/i.test(to) ? to : `${to};tag=${randomHex(6)}` });
  res.headers.push({ name: 'call-id', value: req.get('call-id')! });
  res.headers.push({ name: 'cseq', value: req.get('cseq')! });
  res.headers.push({ name: 'warning', value: `399 ${warnAgent} ${quoted(error.message.slice(0, 200))}` });
  return res;
}

/** host:port as a Warning warn-agent or log field (IPv6 in brackets, RFC 3261 §19.1.1). */
export function hostport(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
