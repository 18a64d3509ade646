/**
 * Messages the transaction layer builds itself: the ACK for a non-2xx final response
 * (RFC 3261 §17.1.1.3), CANCEL (§9.1), and responses it sends without the TU — the
 * automatic 100 Trying (§17.2.1, §8.2.6.1) and the 503 for an over-limit request
 * (§21.5.4 with Retry-After, §20.33) — following §8.2.6.2 for the copied header fields.
 */
import { MissingHeaderError, SipRequest, SipResponse, type HeaderField } from '../message/message.js';
import { reasonPhrase } from '../message/reasons.js';

export { reasonPhrase };

/** §8.2.6.2: Via (all, in order), From, To, Call-ID and CSeq are copied from the request. */
const RESPONSE_COPIED = new Set(['via', 'from', 'to', 'call-id', 'cseq']);

/**
 * A response to `req` per §8.2.6. `toTag` is added only when the request's To has none
 * (§8.2.6.2); §17.2.1 downgrades adding one to a 100 Trying to SHOULD NOT, so the layer's
 * own 100 passes none.
 */
export function createResponse(req: SipRequest, status: number, reason = reasonPhrase(status), toTag?: string): SipResponse {
  const headers = req.fieldsNamed(RESPONSE_COPIED);
  if (toTag !== undefined && req.toTag() === undefined) {
    // The first To gets the tag and stands for all of them (one To per response, §20.39).
    let tagged = false;
    for (let i = 0; i < headers.length; i++) {
      if (headers[i]!.name !== 'to') continue;
      if (!tagged) {
        headers[i] = { name: 'to', value: `${headers[i]!.value};tag=${toTag}` };
        tagged = true;
      } else headers.splice(i--, 1);
    }
  }
  return new SipResponse(status, reason, headers);
}

/**
 * §8.2.6.1: a 100 Trying copies Timestamp, adding how long the request waited here (in
 * seconds) when the client left the delay out, so the client's RTT estimate excludes it.
 */
export function createTrying(req: SipRequest, delayMs: number): SipResponse {
  const res = createResponse(req, 100);
  const ts = req.get('timestamp');
  if (ts !== undefined) {
    const hasDelay = /\s/.test(ts.trim());
    res.append('timestamp', hasDelay ? ts : `${ts.trim()} ${(Math.max(0, delayMs) / 1000).toFixed(3)}`);
  }
  return res;
}

/**
 * §17.1.1.3: the client transaction's own ACK to a 300–699 response. Request-URI, Call-ID,
 * From and the CSeq number come from the INVITE, To (with the tag) from the response, the
 * one Via is the INVITE's top Via (so the ACK shares its branch and matches the server
 * transaction), and Route header fields are copied so stateless proxies route it the same.
 */
export function buildNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  const headers: HeaderField[] = [];
  const topVia = firstFieldValue(invite, 'via');
  if (topVia !== undefined) headers.push({ name: 'via', value: topVia });
  for (const h of invite.headers) if (h.name === 'route') headers.push({ name: 'route', value: h.value });
  headers.push({ name: 'max-forwards', value: invite.get('max-forwards') ?? '70' });
  headers.push({ name: 'from', value: required(invite, 'from') });
  headers.push({ name: 'to', value: required(response, 'to') });
  headers.push({ name: 'call-id', value: required(invite, 'call-id') });
  headers.push({ name: 'cseq', value: `${invite.cseq().seq} ACK` });
  return new SipRequest('ACK', invite.uri, headers);
}

/**
 * §9.1: CANCEL carries the cancelled request's Request-URI, Call-ID, To, From and CSeq
 * number (tags included), a single Via equal to its top Via (same branch: the server finds
 * the INVITE through it, §9.2) and its Route header fields.
 */
export function buildCancel(req: SipRequest): SipRequest {
  const headers: HeaderField[] = [];
  const topVia = firstFieldValue(req, 'via');
  if (topVia !== undefined) headers.push({ name: 'via', value: topVia });
  for (const h of req.headers) if (h.name === 'route') headers.push({ name: 'route', value: h.value });
  headers.push({ name: 'max-forwards', value: req.get('max-forwards') ?? '70' });
  headers.push({ name: 'from', value: required(req, 'from') });
  headers.push({ name: 'to', value: required(req, 'to') });
  headers.push({ name: 'call-id', value: required(req, 'call-id') });
  headers.push({ name: 'cseq', value: `${req.cseq().seq} CANCEL` });
  return new SipRequest('CANCEL', req.uri, headers);
}

/**
 * The first Via value only: a header field may carry several comma-separated values
 * (§7.3.1), and the ACK and CANCEL must carry exactly the top one.
 */
function firstFieldValue(msg: SipRequest, name: string): string | undefined {
  const v = msg.get(name);
  if (v === undefined) return undefined;
  const cut = topLevelComma(v);
  return cut < 0 ? v : v.slice(0, cut).trim();
}

/** Index of the first comma outside a quoted string and outside <...>, or -1. */
function topLevelComma(s: string): number {
  let quoted = false;
  let angle = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '<') angle++;
    else if (c === '>') angle = Math.max(0, angle - 1);
    else if (c === ',' && angle === 0) return i;
  }
  return -1;
}

function required(msg: SipRequest | SipResponse, name: string): string {
  const v = msg.get(name);
  if (v === undefined) throw new MissingHeaderError(name);
  return v;
}
