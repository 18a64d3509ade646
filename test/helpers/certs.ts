// Test certificates made with the openssl CLI (/usr/bin/openssl) into a temporary directory:
// a test CA, server/client certificates it signs with the SANs a test asks for, a self-signed
// one nobody trusts, and an expired one (`openssl ca` with explicit start/end dates).
// Keys are P-256 (fast to make). Call cleanup() in a finally / after hook.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertFiles {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  caCert: string;
  /** A certificate signed by the test CA with these subjectAltName entries (openssl syntax). */
  issue(name: string, san: readonly string[], opts?: { expired?: boolean }): CertFiles;
  /** A self-signed certificate (not issued by the test CA). */
  selfSigned(name: string, san: readonly string[]): CertFiles;
  read(path: string): Buffer;
  cleanup(): void;
}

const OPENSSL = '/usr/bin/openssl';
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function run(args: string[], cwd: string): void {
  execFileSync(OPENSSL, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'im-history-pki-'));
  run(['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=im-history test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  mkdirSync(join(dir, 'issued'));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(join(dir, 'ca.cnf'), [
    '[ ca ]', 'default_ca = d', '[ d ]', 'database = index.txt', 'new_certs_dir = issued', 'serial = serial',
    'default_md = sha256', 'policy = p', 'unique_subject = no', '[ p ]', 'commonName = supplied', '',
  ].join('\n'));
  const extFile = (name: string, san: readonly string[]): string => {
    const f = `${name}.ext`;
    const lines = ['basicConstraints=CA:FALSE', 'keyUsage=digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth,clientAuth'];
    if (san.length > 0) lines.push(`subjectAltName=${san.join(',')}`);
    writeFileSync(join(dir, f), lines.join('\n') + '\n');
    return f;
  };
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    issue(name, san, opts = {}) {
      run(['req', '-new', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
      const ext = extFile(name, san);
      const dates = opts.expired === true ? ['-startdate', '20200101000000Z', '-enddate', '20200102000000Z'] : ['-days', '1'];
      run(['ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.crt', '-keyfile', 'ca.key', '-in', `${name}.csr`, '-out', `${name}.crt`,
        '-notext', '-extfile', ext, ...dates], dir);
      return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
    },
    selfSigned(name, san) {
      const args = ['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${name}`];
      if (san.length > 0) args.push('-addext', `subjectAltName=${san.join(',')}`);
      run(args, dir);
      return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
    },
    read: (p) => readFileSync(p),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
