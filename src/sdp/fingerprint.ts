/**
 * The SDP `a=fingerprint` attribute (RFC 8122 §5, which obsoletes RFC 4572): the hash of the
 * certificate an endpoint will present on a TLS media connection, so a self-signed
 * certificate can be trusted through the (integrity-protected) signalling. RFC 4975 §14.1
 * uses it for msrps when no CA vouches for the peer.
 *
 *   attribute   = "fingerprint" ":" hash-func SP fingerprint
 *   hash-func   = "sha-1" / "sha-224" / "sha-256" / "sha-384" / "sha-512" / "md5" / "md2" / token
 *   fingerprint = 2UHEX *(":" 2UHEX)
 *
 * The hash is over the DER form of the certificate (§5). Hash names compare
 * case-insensitively; we accept lower-case hex too (some stacks write it). md2/md5 are refused
 * (§5: MUST NOT be used), unknown functions are kept but can never match. RFC 8122 §5: with
 * several a=fingerprint, the certificate must match one of those whose hash function we
 * support.
 */
import { createHash, X509Certificate } from 'node:crypto';

export interface Fingerprint {
  /** Lower-case hash function name ("sha-256"). */
  hash: string;
  /** Upper-case hex pairs joined by ':'. */
  value: string;
}

export class FingerprintError extends Error {
  override readonly name = 'FingerprintError';
}

const NODE_HASH: Record<string, string> = { 'sha-1': 'sha1', 'sha-224': 'sha224', 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' };

/** Parse the value of an a=fingerprint attribute ("sha-256 AB:CD:..."). */
export function parseFingerprint(value: string): Fingerprint {
  const m = /^\s*([A-Za-z0-9!#$%&'*+.^_`{|}~-]+) +([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})*)\s*$/.exec(value);
  if (m === null) throw new FingerprintError(`invalid a=fingerprint value ${JSON.stringify(value.slice(0, 80))} (RFC 8122 §5)`);
  const hash = m[1]!.toLowerCase();
  if (hash === 'md5' || hash === 'md2') throw new FingerprintError(`a=fingerprint with ${hash} is not acceptable (RFC 8122 §5)`);
  const fp = { hash, value: m[2]!.toUpperCase() };
  const algo = NODE_HASH[hash];
  if (algo !== undefined && fp.value.length !== createHash(algo).digest().length * 3 - 1) {
    throw new FingerprintError(`a=fingerprint ${hash} has the wrong length`);
  }
  return fp;
}

export function formatFingerprint(f: Fingerprint): string {
  return `${f.hash} ${f.value}`;
}

function der(cert: Buffer | string | X509Certificate): Buffer {
  if (cert instanceof X509Certificate) return cert.raw;
  if (typeof cert === 'string' || cert.subarray(0, 11).toString('latin1') === '-----BEGIN ') return new X509Certificate(cert).raw;
  return cert;
}

/** The fingerprint of a certificate (PEM, DER or X509Certificate); sha-256 unless asked otherwise. */
export function certificateFingerprint(cert: Buffer | string | X509Certificate, hash = 'sha-256'): Fingerprint {
  const algo = NODE_HASH[hash];
  if (algo === undefined) throw new FingerprintError(`unsupported fingerprint hash ${hash}`);
  const hex = createHash(algo).update(der(cert)).digest('hex').toUpperCase();
  return { hash, value: hex.match(/../g)!.join(':') };
}

/**
 * undefined when the certificate (DER) matches one of `expected` with a hash function we
 * support, else why not, for the log and the refusal.
 */
export function fingerprintMismatch(expected: readonly Fingerprint[], certDer: Buffer | undefined): string | undefined {
  const usable = expected.filter((f) => NODE_HASH[f.hash] !== undefined);
  if (usable.length === 0) return `no a=fingerprint with a supported hash function (have: ${expected.map((f) => f.hash).join(', ') || 'none'})`;
  if (certDer === undefined || certDer.length === 0) return 'the peer presented no certificate to compare with a=fingerprint';
  for (const f of usable) if (certificateFingerprint(certDer, f.hash).value === f.value) return undefined;
  const got = certificateFingerprint(certDer, usable[0]!.hash);
  return `certificate fingerprint ${got.hash} ${got.value} matches no a=fingerprint of the SDP (${usable.map(formatFingerprint).join(', ')})`;
}
