/**
 * The key under which the store compares IM addresses (AORs) from different sources: the
 * REFER's initiator, the URI list of IM users (RFC 5366/5368) and the roster's entity URIs
 * (RFC 4575 §5.6). Those spell the same user differently ("Bob" <sip:bob@Example.net>,
 * sip:bob@example.net;transport=tcp), so the key drops the display name and angle
 * brackets, URI parameters and headers, and lower-cases the scheme and host (RFC 3261
 * §19.1.4: they compare case-insensitively; the user part does not). Deliberately small:
 * the store depends on nothing protocol-side (design.md), so this is not a URI parser.
 */
export function aorKey(address: string): string {
  let s = address.trim();
  const lt = s.indexOf('<');
  if (lt >= 0) {
    const gt = s.indexOf('>', lt + 1);
    s = s.slice(lt + 1, gt < 0 ? undefined : gt).trim();
  }
  const colon = s.indexOf(':');
  if (colon <= 0) return s.toLowerCase();
  const scheme = s.slice(0, colon).toLowerCase();
  let rest = s.slice(colon + 1);
  // The user part may itself hold ';' (RFC 3261 user-param, tel-style users): parameters start after the host.
  const at = rest.lastIndexOf('@');
  const hostStart = at < 0 ? 0 : at + 1;
  let end = rest.length;
  for (let i = hostStart; i < rest.length; i++) {
    const c = rest[i];
    if (c === ';' || c === '?') {
      end = i;
      break;
    }
  }
  rest = rest.slice(0, end);
  const user = at < 0 ? '' : rest.slice(0, at + 1);
  const host = rest.slice(hostStart).toLowerCase();
  // tel: and other schemes without '@' are compared whole, case-insensitively only in the scheme.
  return at < 0 && scheme !== 'sip' && scheme !== 'sips' ? `${scheme}:${rest}` : `${scheme}:${user}${host}`;
}
