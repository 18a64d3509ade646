/**
 * Reads and checks the TLS files the configuration names (sip.tlsCertificates,
 * history.msrp.tls), once, at start-up, so `serve` and `check-config` refuse a bad set-up
 * with the path and the reason instead of failing at the first handshake:
 * missing or unreadable file, not a PEM certificate / key, a key that does not belong to the
 * certificate, a CA file without a certificate. An own certificate outside its validity
 * period is reported as a warning (peers will refuse it, RFC 5280 §4.1.2.5), not an error.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { ConfigError, type Config } from './config.js';
import type { TlsOptions } from './sip/transport/config.js';
import type { MsrpTlsConfig } from './msrp/tls.js';

export interface LoadedTls {
  /** For createTransports / startSipStack, when sip.tlsCertificates is set. */
  sip?: TlsOptions;
  /** For MsrpEndpoint.create({ tls }), when history.msrp.tls.enabled. */
  msrp?: MsrpTlsConfig;
  /** Things worth a log line (certificate about to expire, verification off). */
  warnings: string[];
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(`${what} ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function certificates(pem: Buffer, path: string, what: string): X509Certificate[] {
  const blocks = pem.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new ConfigError(`${what} ${path}: no PEM certificate in the file`);
  return blocks.map((b) => {
    try {
      return new X509Certificate(b);
    } catch (e) {
      throw new ConfigError(`${what} ${path}: not a valid certificate (${e instanceof Error ? e.message : String(e)})`);
    }
  });
}

/** Our certificate + key (+ CAs), checked to belong together. `where` names the config section. */
export function loadCertificatePair(
  files: { certFile: string; keyFile: string; caFiles: readonly string[] },
  where: string,
  warnings: string[],
  now = Date.now(),
): { cert: Buffer; key: Buffer; ca?: Buffer[] } {
  const cert = read(files.certFile, `${where}.certFile`);
  const leaf = certificates(cert, files.certFile, `${where}.certFile`)[0]!;
  const key = read(files.keyFile, `${where}.keyFile`);
  let keyObject;
  try {
    keyObject = createPrivateKey(key);
  } catch (e) {
    throw new ConfigError(`${where}.keyFile ${files.keyFile}: not a usable private key (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!leaf.checkPrivateKey(keyObject)) {
    throw new ConfigError(`${where}.keyFile ${files.keyFile} does not belong to the certificate in ${files.certFile} (key mismatch)`);
  }
  if (Date.parse(leaf.validTo) < now) warnings.push(`${where}.certFile ${files.certFile} expired on ${leaf.validTo}: peers will refuse it`);
  else if (Date.parse(leaf.validFrom) > now) warnings.push(`${where}.certFile ${files.certFile} is not valid before ${leaf.validFrom}`);
  if (files.caFiles.length === 0) return { cert, key };
  const ca = files.caFiles.map((f) => {
    const pem = read(f, `${where}.caFiles`);
    certificates(pem, f, `${where}.caFiles`);
    return pem;
  });
  return { cert, key, ca };
}

export function loadTlsFiles(config: Config, now = Date.now()): LoadedTls {
  const warnings: string[] = [];
  const out: LoadedTls = { warnings };
  const s = config.sip.tlsCertificates;
  if (s !== undefined) {
    const pair = loadCertificatePair(s, 'sip.tlsCertificates', warnings, now);
    out.sip = { ...pair, requestClientCert: s.requestClientCert, verifyServer: s.verifyServer, minVersion: s.minVersion };
    if (!s.verifyServer) warnings.push('sip.tlsCertificates.verifyServer is false: server certificates are NOT checked (lab use only)');
  }
  const m = config.history.msrp.tls;
  if (m.enabled) {
    const files = m.certFile !== undefined && m.keyFile !== undefined
      ? { certFile: m.certFile, keyFile: m.keyFile, caFiles: m.caFiles ?? [] }
      : { certFile: s!.certFile, keyFile: s!.keyFile, caFiles: m.caFiles ?? s!.caFiles };
    const pair = loadCertificatePair(files, 'history.msrp.tls', warnings, now);
    out.msrp = {
      ...pair,
      verifyPeer: m.verifyPeer,
      handshakeTimeoutMs: m.handshakeTimeoutMs,
      ...(m.port !== undefined ? { listen: { address: config.history.msrp.address, port: m.port } } : {}),
    };
    if (!m.verifyPeer) warnings.push('history.msrp.tls.verifyPeer is false: focus certificates without a=fingerprint are NOT checked (lab use only)');
  }
  return out;
}
