// MSRP over TLS between two endpoints on 127.0.0.1 (RFC 4975 §14.1, §15 msrps; RFC 8122
// a=fingerprint for self-signed certificates), certificates made by openssl in a temp dir.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { MsrpEndpoint } from '../../src/msrp/endpoint.js';
import type { MsrpTlsConfig } from '../../src/msrp/tls.js';
import type { ReceivedMessage } from '../../src/msrp/session.js';
import { certificateFingerprint, fingerprintMismatch, formatFingerprint, parseFingerprint } from '../../src/sdp/fingerprint.js';
import { buildMsrpOffer, parseMsrpOffer } from '../../src/sdp/msrp-offer.js';
import { makeTestPki, type TestPki } from '../helpers/certs.js';
import { next, until } from './helpers.js';

const T = { timeout: 10_000 };
let pki: TestPki;
let selfA: MsrpTlsConfig;
let selfB: MsrpTlsConfig;
let caIssued: MsrpTlsConfig;
let wrongName: MsrpTlsConfig;
let ca: Buffer[];

before(() => {
  pki = makeTestPki();
  ca = [pki.read(pki.caCert)];
  const load = (f: { cert: string; key: string }): MsrpTlsConfig => ({ cert: pki.read(f.cert), key: pki.read(f.key) });
  selfA = load(pki.selfSigned('msrp-a', ['IP:127.0.0.1']));
  selfB = load(pki.selfSigned('msrp-b', ['IP:127.0.0.1']));
  caIssued = { ...load(pki.issue('msrp-ca', ['IP:127.0.0.1', 'DNS:localhost'])), ca };
  wrongName = { ...load(pki.issue('msrp-wrong', ['DNS:elsewhere.example.test'])), ca };
});

after(() => pki.cleanup());

function logSink(): { logs: Record<string, unknown>[]; logger: pino.Logger } {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logs, logger: pino({ level: 'debug' }, sink) };
}

/** Passive endpoint with an msrps listener, active endpoint connecting out. */
async function pair(passive: MsrpTlsConfig, active: MsrpTlsConfig) {
  const pl = logSink();
  const al = logSink();
  const p = await MsrpEndpoint.create({ tls: { ...passive, listen: { address: '127.0.0.1', port: 0 } }, logger: pl.logger });
  const a = await MsrpEndpoint.create({ tls: active, logger: al.logger });
  return { p, a, plogs: pl.logs, alogs: al.logs, close: async () => { await a.close(); await p.close(); } };
}

test('RFC 8122 §5: a=fingerprint is parsed, formatted and compared over the DER certificate', () => {
  const fp = certificateFingerprint(selfA.cert as Buffer);
  assert.equal(fp.hash, 'sha-256');
  assert.match(fp.value, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.deepEqual(parseFingerprint(`SHA-256 ${fp.value.toLowerCase()}`), fp);
  assert.throws(() => parseFingerprint('md5 AB:CD'), /not acceptable/);
  assert.throws(() => parseFingerprint('sha-256 AB:CD'), /wrong length/);
  assert.throws(() => parseFingerprint('sha-256'), /invalid a=fingerprint/);
  const der = Buffer.from((selfA.cert as Buffer).toString().replace(/-----[^-]+-----|\s/g, ''), 'base64');
  assert.equal(fingerprintMismatch([fp], der), undefined);
  assert.match(fingerprintMismatch([certificateFingerprint(selfB.cert as Buffer)], der) ?? '', /matches no a=fingerprint/);
  assert.equal(fingerprintMismatch([parseFingerprint('x-new AB'), certificateFingerprint(der, 'sha-1')], der), undefined, 'an unknown hash is skipped, a known one decides');
  // Through the SDP of an msrps offer (RFC 4975 §8.1 TCP/TLS/MSRP).
  const sdp = buildMsrpOffer({
    address: '127.0.0.1', port: 2856, path: 'msrps://127.0.0.1:2856/abc;tcp', acceptTypes: ['text/plain'], setup: 'passive', sessionId: 1, fingerprint: fp,
  });
  assert.match(sdp, /m=message 2856 TCP\/TLS\/MSRP \*/);
  assert.ok(sdp.includes(`a=fingerprint:${formatFingerprint(fp)}\r\n`));
  assert.deepEqual(parseMsrpOffer(sdp).fingerprints, [fp]);
  assert.throws(() => parseMsrpOffer(sdp.replace(fp.value, 'zz')), /invalid a=fingerprint/);
});

test('RFC 4975 §14.1: self-signed certificates trusted through a=fingerprint carry a message end to end over msrps', T, async () => {
  const x = await pair(selfA, selfB);
  try {
    const sp = x.p.createSession({ localUriHost: '127.0.0.1', tls: true });
    const sa = x.a.createSession({ localUriHost: '127.0.0.1', tls: true });
    assert.match(sp.localUri, new RegExp(`^msrps://127\\.0\\.0\\.1:${x.p.tlsPort}/`));
    // What each side learnt from the other's SDP.
    sp.peerFingerprints = [x.a.fingerprint!];
    sa.peerFingerprints = [x.p.fingerprint!];
    sp.accept(sa.localPathUris);
    await Promise.all([sa.connect(sp.localPathUris), sp.opened()]);
    const got = next<ReceivedMessage>(sp, 'message');
    await sa.send('text/plain', Buffer.from('over TLS, pinned by fingerprint'));
    assert.equal((await got).body.toString(), 'over TLS, pinned by fingerprint');
    const back = next<ReceivedMessage>(sa, 'message');
    await sp.send('text/plain', Buffer.from('and back'));
    assert.equal((await back).body.toString(), 'and back');
    assert.ok(x.alogs.some((l) => l['msg'] === 'msrp connection opened' && l['tls'] === true));
  } finally {
    await x.close();
  }
});

test('RFC 4975 §14.1: the active side refuses a passive peer whose certificate does not match its a=fingerprint', T, async () => {
  const x = await pair(selfA, selfB);
  try {
    const sp = x.p.createSession({ localUriHost: '127.0.0.1', tls: true });
    const sa = x.a.createSession({ localUriHost: '127.0.0.1', tls: true });
    sa.peerFingerprints = [certificateFingerprint(selfB.cert as Buffer)]; // not the passive side's certificate
    sp.accept(sa.localPathUris);
    await assert.rejects(sa.connect(sp.localPathUris), /msrps connection to 127\.0\.0\.1:\d+ refused: .*matches no a=fingerprint/);
    const refusal = x.alogs.find((l) => l['msg'] === 'TLS connection to server refused');
    assert.match(String(refusal?.['reason']), /certificate fingerprint sha-256 .* matches no a=fingerprint/);
    assert.equal(sp.state, 'waiting', 'nothing reached the passive session');
  } finally {
    await x.close();
  }
});

test('RFC 4975 §14.1: the passive side refuses (403, connection closed) an active peer whose client certificate does not match its a=fingerprint', T, async () => {
  const x = await pair(selfA, selfB);
  try {
    const sp = x.p.createSession({ localUriHost: '127.0.0.1', tls: true });
    const sa = x.a.createSession({ localUriHost: '127.0.0.1', tls: true });
    sa.peerFingerprints = [x.p.fingerprint!];
    sp.peerFingerprints = [certificateFingerprint(selfA.cert as Buffer)]; // expects someone else
    sp.accept(sa.localPathUris);
    await assert.rejects(sa.connect(sp.localPathUris));
    await until(() => x.plogs.some((l) => l['msg'] === 'msrps peer refused'));
    const refusal = x.plogs.find((l) => l['msg'] === 'msrps peer refused');
    assert.match(String(refusal?.['reason']), /matches no a=fingerprint/);
    assert.notEqual(sp.state, 'open');
  } finally {
    await x.close();
  }
});

test('RFC 4975 §14.1 without a=fingerprint: a CA-issued certificate naming the msrps host is accepted, one naming another host is not', T, async () => {
  const ok = await pair(caIssued, { ...selfB, ca });
  try {
    const sp = ok.p.createSession({ localUriHost: '127.0.0.1', tls: true });
    const sa = ok.a.createSession({ localUriHost: '127.0.0.1', tls: true });
    sp.accept(sa.localPathUris);
    await Promise.all([sa.connect(sp.localPathUris), sp.opened()]);
    const got = next<ReceivedMessage>(sp, 'message');
    await sa.send('text/plain', Buffer.from('CA-verified'));
    assert.equal((await got).body.toString(), 'CA-verified');
  } finally {
    await ok.close();
  }
  const bad = await pair(wrongName, { ...selfB, ca });
  try {
    const sp = bad.p.createSession({ localUriHost: '127.0.0.1', tls: true });
    const sa = bad.a.createSession({ localUriHost: '127.0.0.1', tls: true });
    sp.accept(sa.localPathUris);
    await assert.rejects(sa.connect(sp.localPathUris), /does not name 127\.0\.0\.1/);
  } finally {
    await bad.close();
  }
});

test('msrps never falls back to cleartext: no TLS config refuses msrps sessions and first hops; a cleartext connection cannot bind an msrps session', T, async () => {
  const plain = await MsrpEndpoint.create({ listen: { address: '127.0.0.1', port: 0 } });
  const x = await pair(selfA, selfB);
  try {
    assert.throws(() => plain.createSession({ localUriHost: '127.0.0.1', tls: true }), /needs TLS configured/);
    const s = plain.createSession({ localUriHost: '127.0.0.1' });
    await assert.rejects(s.connect([`msrps://127.0.0.1:${x.p.tlsPort}/abcdefghijklmnopqrst;tcp`]), /msrps needs TLS configured/);
    // An msrps session on the TLS-capable side, reached over its cleartext listener: refused.
    const both = await MsrpEndpoint.create({ listen: { address: '127.0.0.1', port: 0 }, tls: { ...selfA, listen: { address: '127.0.0.1', port: 0 } } });
    try {
      const sp = both.createSession({ localUriHost: '127.0.0.1', tls: true });
      const sa = plain.createSession({ localUriHost: '127.0.0.1' });
      sp.accept(sa.localPathUris);
      const cleartextHop = sp.localUri.replace('msrps://', 'msrp://').replace(`:${both.tlsPort}/`, `:${both.port}/`);
      await assert.rejects(sa.connect([cleartextHop]));
      assert.notEqual(sp.state, 'open');
    } finally {
      await both.close();
    }
  } finally {
    await plain.close();
    await x.close();
  }
});
