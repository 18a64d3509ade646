// An independent reader of our SIP over TLS (RFC 3261 §26.2.1): a loopback OPTIONS exchange
// is captured, tshark decrypts it with the key log Node reports ('keylog' event, NSS format)
// and dissects SIP inside TLS with no malformed packet. Without the key log the capture shows
// no SIP at all (it really is encrypted). Skipped without tshark unless CI is set.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTransports, type TlsOptions } from '../../src/sip/transport/index.js';
import { UserAgent } from '../../src/sip/ua/user-agent.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { missing, startCapture } from './peers.js';

const skip = missing('tshark');
let pki: TestPki;

before(() => {
  pki = makeTestPki();
});
after(() => pki.cleanup());

function tshark(file: string, port: number, keylog: string | undefined, filter: string, fields: string[]): string[] {
  const args = ['-r', file, '-d', `tcp.port==${port},tls`, '-d', `tls.port==${port},sip`];
  if (keylog !== undefined) args.push('-o', `tls.keylog_file:${keylog}`);
  const r = spawnSync('tshark', [...args, '-Y', filter, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', timeout: 30_000 });
  const out = r.stdout.trim();
  return out === '' ? [] : out.split('\n');
}

test('tshark decrypts (key log) and dissects a SIP/TLS OPTIONS exchange with no malformed packet', { skip, timeout: 60_000 }, async () => {
  const files = pki.issue('tls-sip', ['URI:sip:127.0.0.1', 'IP:127.0.0.1']);
  const keylog = join(pki.dir, 'keys.log');
  writeFileSync(keylog, '');
  const opts: TlsOptions = {
    cert: pki.read(files.cert), key: pki.read(files.key), ca: [pki.read(pki.caCert)],
    keylog: (line) => appendFileSync(keylog, line),
  };
  const uas: UserAgent[] = [];
  const start = async () => {
    const late: { ua?: UserAgent } = {};
    const t = await createTransports({ tls: [{ address: '127.0.0.1', port: 0 }], tlsOptions: opts }, { message: (m) => late.ua?.receive(m), parseError: () => undefined });
    const ua = new UserAgent({ transport: t, profile: { methods: ['OPTIONS'], optionTags: [] }, serverHeader: 's', userAgentHeader: 'u' });
    late.ua = ua;
    uas.push(ua);
    return { ua, t, port: t.listening[0]!.port };
  };
  const b = await start();
  const a = await start();
  const cap = await startCapture([b.port], 40_000);
  try {
    for (let i = 0; i < 2; i++) {
      const res = await a.ua.request(a.ua.createRequest('OPTIONS', `sips:b@127.0.0.1:${b.port}`, '<sips:a@127.0.0.1>', '<sips:b@127.0.0.1>'));
      assert.equal(res.status, 200);
    }
  } finally {
    await cap.stop();
    for (const ua of uas) await ua.close();
    await a.t.close();
    await b.t.close();
  }
  assert.deepEqual(tshark(cap.file, b.port, undefined, 'sip', ['frame.number']), [], 'without the keys nothing is readable as SIP');
  const lines = tshark(cap.file, b.port, keylog, 'sip', ['sip.Method', 'sip.Status-Code', 'sip.Via']);
  assert.equal(lines.filter((l) => l.startsWith('OPTIONS')).length, 2, lines.join('\n'));
  assert.equal(lines.filter((l) => /\t200\t/.test(l)).length, 2, lines.join('\n'));
  assert.ok(lines.every((l) => l.includes('SIP/2.0/TLS')), lines.join('\n'));
  const bad = tshark(cap.file, b.port, keylog, '_ws.malformed || _ws.expert.severity == "error"', ['frame.number', '_ws.col.Info']);
  assert.deepEqual(bad, [], bad.join('\n'));
});
