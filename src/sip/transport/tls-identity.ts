/**
 * Which identity a TLS peer's certificate carries, and whether it is the one we wanted
 * (RFC 5922 §7.1 and §7.2, used for SIP; RFC 4975 §14.2 uses the same host-name check for
 * msrps).
 *
 * RFC 5922 §7.1: the SIP domain identities of a certificate are the host parts of its
 * subjectAltName URIs whose scheme is `sip` (and that have no user part), and its dNSName
 * entries; only when the certificate has no subjectAltName at all may the Subject's
 * (most specific) Common Name serve. §7.2: compared case-insensitively as whole DNS names,
 * no wildcards. An IP literal target (sips:192.0.2.1) is not covered by RFC 5922; it is
 * matched against iPAddress entries, as RFC 6125 / Node's own check do.
 *
 * Node hands us the subjectAltName as text ("DNS:a, URI:sip:b, IP Address:127.0.0.1"), with
 * values holding ',' or '"' written as JSON strings; splitAltNames reads that form.
 */
import { canonicalIp } from './received.js';

export interface AltName {
  /** "DNS", "URI", "IP Address", "email", ... as Node writes it. */
  type: string;
  value: string;
}

/** Split Node's subjectaltname text into entries (quoted values unescaped). */
export function splitAltNames(text: string | undefined): AltName[] {
  const out: AltName[] = [];
  if (text === undefined) return out;
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === ',') i++;
    if (i >= text.length) break;
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const type = text.slice(i, colon);
    i = colon + 1;
    let value: string;
    if (text[i] === '"') {
      // A JSON string: find its closing quote, honouring backslash escapes.
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(text.slice(i, j + 1)) as string;
      } catch {
        value = text.slice(i + 1, j);
      }
      i = j + 1;
    } else {
      const end = text.indexOf(', ', i);
      value = end < 0 ? text.slice(i) : text.slice(i, end);
      i = end < 0 ? text.length : end;
    }
    out.push({ type, value });
  }
  return out;
}

export interface CertIdentities {
  /** RFC 5922 §7.1 SIP domain identities (lower-cased): sip: URI hosts and dNSNames, or the CN. */
  domains: string[];
  /** iPAddress entries, canonical spelling. */
  addresses: string[];
}

/** The host of a `sip:` URI without user part, or undefined (RFC 5922 §7.1 step 1). */
function sipUriDomain(uri: string): string | undefined {
  if (!/^sip:/i.test(uri)) return undefined;
  const rest = uri.slice(4);
  if (rest.includes('@')) return undefined;
  const end = rest.search(/[;?]/);
  let hostport = end < 0 ? rest : rest.slice(0, end);
  if (hostport.startsWith('[')) return hostport.slice(1, hostport.indexOf(']')).toLowerCase();
  const colon = hostport.lastIndexOf(':');
  if (colon >= 0) hostport = hostport.slice(0, colon);
  return hostport.length > 0 ? hostport.toLowerCase() : undefined;
}

/** The identities of a peer certificate as Node describes it (PeerCertificate or X509Certificate fields). */
export function certIdentities(cert: { subjectaltname?: string | undefined; subject?: { CN?: string | string[] } | undefined }): CertIdentities {
  const names = splitAltNames(cert.subjectaltname);
  const domains: string[] = [];
  const addresses: string[] = [];
  for (const n of names) {
    if (n.type === 'URI') {
      const d = sipUriDomain(n.value);
      if (d !== undefined) domains.push(d);
    } else if (n.type === 'DNS') {
      domains.push(n.value.toLowerCase().replace(/\.$/, ''));
    } else if (n.type === 'IP Address') {
      addresses.push(canonicalIp(n.value) ?? n.value.toLowerCase());
    }
  }
  if (names.length === 0) {
    const cn = cert.subject?.CN;
    const last = Array.isArray(cn) ? cn[cn.length - 1] : cn;
    if (last !== undefined && last.length > 0) domains.push(last.toLowerCase());
  }
  return { domains, addresses };
}

/**
 * undefined when the certificate carries `expected` (a SIP domain or an IP literal), else a
 * sentence saying what it carries instead, for the log and the error.
 */
export function identityMismatch(expected: string, cert: Parameters<typeof certIdentities>[0]): string | undefined {
  const ids = certIdentities(cert);
  const ip = canonicalIp(expected);
  if (ip !== undefined) {
    if (ids.addresses.includes(ip)) return undefined;
  } else {
    const want = expected.toLowerCase().replace(/\.$/, '');
    // RFC 5922 §7.2: whole-name comparison; "*.example.com" is not a wildcard here.
    if (ids.domains.includes(want)) return undefined;
  }
  const carried = [...ids.domains, ...ids.addresses];
  return `certificate does not name ${expected} (RFC 5922 7.2); it names ${carried.length > 0 ? carried.join(', ') : 'nothing usable'}`;
}
