// TLS configuration as an operator meets it: check-config and serve read the certificate
// files at start-up and refuse (exit 2, with the path and the reason) a missing file, a key
// that does not match its certificate, a file that is no certificate, TLS listeners without
// certificates; `serve` listens for SIP over TLS and answers OPTIONS on it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { makeTestPki, type TestPki, type CertFiles } from '../helpers/certs.js';
import { createTransports } from '../../src/sip/transport/index.js';
import { UserAgent } from '../../src/sip/ua/user-agent.js';

const CLI = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

let pki: TestPki;
let server: CertFiles;
let other: CertFiles;
let expired: CertFiles;

before(() => {
  pki = makeTestPki();
  server = pki.issue('hf', ['URI:sip:127.0.0.1', 'IP:127.0.0.1']);
  other = pki.issue('other', ['DNS:other.example.test']);
  expired = pki.issue('old', ['IP:127.0.0.1'], { expired: true });
});

after(() => pki.cleanup());

function config(name: string, body: unknown): string {
  const f = join(pki.dir, `${name}.json`);
  writeFileSync(f, JSON.stringify(body));
  return f;
}

function tlsCerts(cert: string, key: string, extra: Record<string, unknown> = {}) {
  return { sip: { tls: [{ address: '127.0.0.1', port: 0 }], tlsCertificates: { certFile: cert, keyFile: key, caFiles: [pki.caCert], ...extra } } };
}

test('check-config refuses bad TLS files with the path and the reason (exit 2)', () => {
  const missing = join(pki.dir, 'nope.crt');
  let r = run('check-config', config('missing', tlsCerts(missing, server.key)));
  assert.equal(r.code, 2);
  assert.match(r.err, new RegExp(`sip\\.tlsCertificates\\.certFile ${missing.replace(/[.]/g, '\\.')}: ENOENT`));

  r = run('check-config', config('mismatch', tlsCerts(server.cert, other.key)));
  assert.equal(r.code, 2);
  assert.match(r.err, /sip\.tlsCertificates\.keyFile .*other\.key does not belong to the certificate in .*hf\.crt \(key mismatch\)/);

  r = run('check-config', config('notcert', tlsCerts(server.key, server.key)));
  assert.equal(r.code, 2);
  assert.match(r.err, /certFile .*hf\.key: no PEM certificate in the file/);

  r = run('check-config', config('nokey', tlsCerts(server.cert, server.cert)));
  assert.equal(r.code, 2);
  assert.match(r.err, /keyFile .*hf\.crt: not a usable private key/);

  r = run('check-config', config('nocerts', { sip: { tls: [{ address: '127.0.0.1', port: 5061 }] } }));
  assert.equal(r.code, 2);
  assert.match(r.err, /sip\.tlsCertificates: TLS listeners need sip\.tlsCertificates/);

  r = run('check-config', config('msrps', { history: { msrp: { tls: { enabled: true } } } }));
  assert.equal(r.code, 2);
  assert.match(r.err, /history\.msrp\.tls: msrps needs certFile\/keyFile here or sip\.tlsCertificates/);

  r = run('check-config', config('msrpsbad', { history: { msrp: { tls: { enabled: true, certFile: server.cert, keyFile: other.key } } } }));
  assert.equal(r.code, 2);
  assert.match(r.err, /history\.msrp\.tls\.keyFile .* \(key mismatch\)/);
});

test('check-config accepts good TLS files, and warns about an expired certificate or verification turned off', () => {
  const good = run('check-config', config('good', { ...tlsCerts(server.cert, server.key), history: { msrp: { tls: { enabled: true, port: 0 } } } }));
  assert.equal(good.code, 0, good.err);
  const c = JSON.parse(good.out) as { sip: { tlsCertificates: { verifyServer: boolean } }; history: { msrp: { tls: { enabled: boolean; verifyPeer: boolean } } } };
  assert.equal(c.sip.tlsCertificates.verifyServer, true);
  assert.equal(c.history.msrp.tls.verifyPeer, true);
  assert.equal(good.err, '');
  const old = run('check-config', config('old', tlsCerts(expired.cert, expired.key, { verifyServer: false })));
  assert.equal(old.code, 0, old.err);
  assert.match(old.err, /warning: sip\.tlsCertificates\.certFile .*old\.crt expired on/);
  assert.match(old.err, /warning: .*verifyServer is false: server certificates are NOT checked/);
});

test('serve with a mismatched key exits 2 naming the file; with good files it listens on TLS and answers OPTIONS there', { timeout: 30_000 }, async () => {
  const bad = spawnSync(process.execPath, [CLI, 'serve', '-c', config('serve-bad', { ...tlsCerts(server.cert, other.key), api: { enabled: false }, store: { path: ':memory:' } })], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /other\.key does not belong to the certificate/);

  const cfg = config('serve', {
    logLevel: 'info',
    sip: { udp: [{ address: '127.0.0.1', port: 0 }], tcp: [], ...tlsCerts(server.cert, server.key).sip },
    history: { msrp: { address: '127.0.0.1', port: 0, tls: { enabled: true, port: 0 } } },
    api: { enabled: false },
    store: { path: ':memory:' },
  });
  const child = spawn(process.execPath, [CLI, 'serve', '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const killTimer = setTimeout(() => child.kill('SIGKILL'), 25_000);
  const late: { ua?: UserAgent } = {};
  const t = await createTransports(
    { tlsOptions: { cert: pki.read(server.cert), key: pki.read(server.key), ca: [pki.read(pki.caCert)] }, udp: [{ address: '127.0.0.1', port: 0 }] },
    { message: (m) => late.ua?.receive(m), parseError: () => undefined },
  );
  const ua = new UserAgent({ transport: t, profile: { methods: ['OPTIONS'], optionTags: [] }, serverHeader: 's', userAgentHeader: 'u' });
  late.ua = ua;
  try {
    const start = Date.now();
    while (!out.includes('"msg":"im-history started"') && Date.now() - start < 15_000 && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /"msg":"im-history started"/);
    const tls = /"transport":"TLS","address":"127\.0\.0\.1","port":(\d+),"msg":"SIP listening"/.exec(out);
    assert.ok(tls, out);
    assert.match(out, /"msrpsPort":\d+,"msg":"MSRP listening"/);
    const res = await ua.request(ua.createRequest('OPTIONS', `sips:history@127.0.0.1:${tls[1]}`, '<sips:probe@127.0.0.1>', '<sips:history@127.0.0.1>'));
    assert.equal(res.status, 200);
    assert.match(res.get('via') ?? '', /^SIP\/2\.0\/TLS /);
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    assert.equal(code, 0);
  } finally {
    clearTimeout(killTimer);
    if (child.exitCode === null) child.kill('SIGKILL');
    await ua.close();
    await t.close();
  }
});
