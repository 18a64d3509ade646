/**
 * Refer-To (RFC 3515 §2.1): `( name-addr / addr-spec ) *(SEMI refer-param)`, one value
 * only. The method of the referenced request comes from the `method` uri-parameter and its
 * headers from the URI's `?` part (RFC 3261 §19.1.1, RFC 3515 §2.1.1: INVITE when absent);
 * a `cid:` target (RFC 5368 §4) names a URI-list body and parses as an absoluteURI.
 */
import { parseNameAddr, type NameAddr } from './name-addr.js';
import { fail, getParam, isToken, type Param } from './scan.js';
import { isSipUri, unescape } from './uri.js';

export interface ReferTo {
  target: NameAddr;
  /** The `method` uri-parameter, when the target is a SIP URI carrying one. */
  method?: string;
  /** The target URI's headers, values %-unescaped (names kept as written). */
  embeddedHeaders: Param[];
}

export function parseReferTo(s: string): ReferTo {
  const target = parseNameAddr(s);
  const out: ReferTo = { target, embeddedHeaders: [] };
  if (isSipUri(target.uri)) {
    const method = getParam(target.uri.params, 'method');
    if (method !== undefined) {
      if (method === null || !isToken(method)) fail('method uri-parameter must be a method token', 0);
      out.method = method;
    }
    out.embeddedHeaders = target.uri.headers.map((h) => ({ name: h.name, value: unescape(h.value ?? '') }));
  }
  return out;
}
