// SIP over TLS on loopback (RFC 3261 §26.2.1, §26.3.1, §18.2.2; RFC 5922 §7 server identity;
// RFC 5630 sips:), with certificates made by openssl in a temporary directory.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createTransports, type TlsOptions, type TransportLimitsInput } from '../../../src/sip/transport/index.js';
import { UserAgent, type UserAgentOptions } from '../../../src/sip/ua/user-agent.js';
import type { Destination } from '../../../src/sip/transport/types.js';
import { identityMismatch, splitAltNames } from '../../../src/sip/transport/tls-identity.js';
import { resolveUri } from '../../../src/sip/ua/resolve.js';
import { makeTestPki, type TestPki } from '../../helpers/certs.js';
import { ipv6Loopback, waitFor } from './helpers.js';

const PROFILE = { methods: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS'], optionTags: [] };
const NAME = 'sip.example.test';
const T = { timeout: 15_000 };

let pki: TestPki;
let good: TlsOptions;
let wrongName: TlsOptions;
let selfSigned: TlsOptions;
let expired: TlsOptions;
let client: TlsOptions;
let v6 = false;

before(async () => {
  pki = makeTestPki();
  const ca = [pki.read(pki.caCert)];
  const opts = (f: { cert: string; key: string }): TlsOptions => ({ cert: pki.read(f.cert), key: pki.read(f.key), ca });
  const sans = [`URI:sip:${NAME}`, `DNS:${NAME}`, 'IP:127.0.0.1', 'IP:::1'];
  good = opts(pki.issue('server', sans));
  wrongName = opts(pki.issue('other', ['URI:sip:other.example.test', 'DNS:other.example.test']));
  selfSigned = opts(pki.selfSigned('selfsigned', sans));
  expired = opts(pki.issue('expired', sans, { expired: true }));
  client = opts(pki.issue('client', ['URI:sip:client.example.test', 'DNS:client.example.test']));
  v6 = await ipv6Loopback();
});

after(() => pki.cleanup());

interface Node {
  ua: UserAgent;
  port: number;
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

async function startNode(address: string, tlsOptions: TlsOptions, extra: Partial<UserAgentOptions> = {}, limits?: TransportLimitsInput): Promise<Node> {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const late: { ua?: UserAgent } = {};
  const t = await createTransports(
    { tls: [{ address, port: 0 }], tlsOptions, logger, ...(limits !== undefined ? { limits } : {}) },
    { message: (m) => late.ua?.receive(m), parseError: () => undefined },
  );
  const ua = new UserAgent({ transport: t, profile: PROFILE, serverHeader: 'tls-test', userAgentHeader: 'tls-test', timers: { T1: 20 }, ...extra });
  late.ua = ua;
  return { ua, port: t.listening[0]!.port, logs, close: async () => { await ua.close(); await t.close(); } };
}

function host(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

test('RFC 5922 §7.1/§7.2: identities are sip: URI hosts and dNSNames, whole-name and case-insensitive; IP literals match iPAddress', () => {
  assert.deepEqual(splitAltNames('DNS:a.example, URI:"sip:x.example;a,b", IP Address:0:0:0:0:0:0:0:1'), [
    { type: 'DNS', value: 'a.example' },
    { type: 'URI', value: 'sip:x.example;a,b' },
    { type: 'IP Address', value: '0:0:0:0:0:0:0:1' },
  ]);
  const cert = { subjectaltname: 'URI:sip:Example.COM, URI:sip:alice@user.example, URI:sips:s.example, DNS:*.wild.example, IP Address:0:0:0:0:0:0:0:1' };
  assert.equal(identityMismatch('example.com', cert), undefined);
  assert.equal(identityMismatch('::1', cert), undefined);
  assert.match(identityMismatch('user.example', cert) ?? '', /does not name user\.example/, 'a URI with a user part is not a domain identity');
  assert.ok(identityMismatch('s.example', cert), 'only the sip scheme counts (§7.1)');
  assert.ok(identityMismatch('a.wild.example', cert), 'no wildcard matching (§7.2)');
  assert.ok(identityMismatch('127.0.0.1', cert));
  // The CN counts only when there is no subjectAltName at all.
  assert.equal(identityMismatch('cn.example', { subject: { CN: 'cn.example' } }), undefined);
  assert.ok(identityMismatch('cn.example', { subjectaltname: 'DNS:x.example', subject: { CN: 'cn.example' } }));
});

test('RFC 5630 / RFC 3263 §4.1: sips: and transport=tls resolve to TLS (port 5061 by default) with the URI host as the name to check', async () => {
  assert.deepEqual(await resolveUri('sips:conf@127.0.0.1'), { transport: 'TLS', address: '127.0.0.1', port: 5061, serverName: '127.0.0.1' });
  assert.deepEqual(await resolveUri('sip:conf@[::1]:5071;transport=TLS'), { transport: 'TLS', address: '::1', port: 5071, serverName: '::1' });
  const viaName = await resolveUri('sips:conf@localhost:5081');
  assert.equal(viaName.transport, 'TLS');
  assert.equal(viaName.serverName, 'localhost', 'the certificate must name the domain, not the address it resolved to');
  assert.ok(['127.0.0.1', '::1'].includes(viaName.address));
  assert.deepEqual(await resolveUri('sips:conf@ims.example.test;maddr=127.0.0.1'), { transport: 'TLS', address: '127.0.0.1', port: 5061, serverName: 'ims.example.test' });
  assert.equal((await resolveUri('sip:conf@127.0.0.1;transport=tcp')).serverName, undefined);
});

for (const address of ['127.0.0.1', '::1']) {
  test(`RFC 3261 §26.2.1 over TLS on ${address}: OPTIONS, then an INVITE dialog (INVITE/200/ACK/BYE) to a sips: URI`, T, async (t) => {
    if (address === '::1' && !v6) return t.skip('IPv6 loopback ::1 is not available on this machine');
    const events: string[] = [];
    const b = await startNode(address, good, {
      onRequest: (req) => {
        events.push(`B got ${req.request.method} via ${req.request.get('via')?.split(' ')[0]}`);
        req.accept({ body: 'v=0\r\n', contentType: 'application/sdp' });
      },
      onDialogTerminated: (_d, why) => events.push(`B dialog ended: ${why}`),
    });
    const a = await startNode(address, client);
    try {
      // The target named by domain, reached at a loopback address: the certificate must name the domain.
      const dest: Destination = { transport: 'TLS', address, port: b.port, serverName: NAME };
      const opt = await a.ua.request(a.ua.createRequest('OPTIONS', `sips:b@${NAME}:${b.port}`, '<sips:a@client.example.test>', `<sips:b@${NAME}>`), { destination: dest });
      assert.equal(opt.status, 200);
      assert.equal(opt.get('server'), 'tls-test');
      assert.match(opt.get('via') ?? '', /^SIP\/2\.0\/TLS /);

      const inv = a.ua.createRequest('INVITE', `sips:b@${host(address)}:${b.port}`, '<sips:a@client.example.test>', `<sips:b@${NAME}>`);
      const r = await a.ua.invite(inv, { body: 'v=0\r\n', contentType: 'application/sdp' });
      assert.equal(r.response.status, 200);
      assert.match(r.response.get('contact') ?? '', /^<sips:/, 'RFC 5630: the Contact of a TLS dialog is a sips: URI');
      assert.ok(r.dialog);
      await waitFor('B to see the ACK', () => ((b.ua as unknown as { pendingAck: Map<string, unknown> }).pendingAck.size === 0 ? true : undefined));
      const bye = await a.ua.sendInDialog(r.dialog, 'BYE');
      assert.equal(bye.status, 200);
      await waitFor('B dialog end', () => (b.ua.dialogs.size === 0 ? true : undefined));
      assert.deepEqual(events, ['B got INVITE via SIP/2.0/TLS', 'B dialog ended: BYE received']);
      // §18.2.2: B answered every request on the connection it came on, never dialling A.
      assert.ok(b.logs.some((l) => l['msg'] === 'connection accepted' && l['transport'] === 'TLS'));
      assert.ok(!b.logs.some((l) => l['msg'] === 'connection opened'), 'B opened no connection of its own');
      // One connection verified for sip.example.test (OPTIONS), one for the address (INVITE, then
      // ACK and BYE to B's sips: Contact reuse it): a connection is only reused for the name it was checked for.
      assert.deepEqual(a.logs.filter((l) => l['msg'] === 'connection opened').map((l) => l['transport']), ['TLS', 'TLS']);
    } finally {
      await a.close();
      await b.close();
    }
  });
}

for (const [what, server, reason] of [
  ['a certificate for another name', () => wrongName, /does not name sip\.example\.test/],
  ['a self-signed certificate nobody trusts', () => selfSigned, /self-signed certificate/],
  ['an expired certificate', () => expired, /certificate has expired/],
] as const) {
  test(`RFC 3261 §26.3.1 / RFC 5922: a server with ${what} is refused; the request fails with 503 (§8.1.3.1) and the reason is logged`, T, async () => {
    const b = await startNode('127.0.0.1', server());
    const a = await startNode('127.0.0.1', client);
    try {
      const dest: Destination = { transport: 'TLS', address: '127.0.0.1', port: b.port, serverName: NAME };
      const res = await a.ua.request(a.ua.createRequest('OPTIONS', `sips:b@${NAME}`, '<sips:a@client.example.test>', `<sips:b@${NAME}>`), { destination: dest });
      assert.equal(res.status, 503);
      const refusal = a.logs.find((l) => l['msg'] === 'TLS connection to server refused');
      assert.ok(refusal, 'the refusal is logged');
      assert.match(String(refusal['reason']), reason);
      assert.equal(refusal['serverName'], NAME);
      assert.ok(!b.logs.some((l) => l['msg'] === 'sip message received'), 'nothing reached the server');
    } finally {
      await a.close();
      await b.close();
    }
  });
}

test('verifyServer: false (lab only) accepts an untrusted server and says so in the log', T, async () => {
  const b = await startNode('127.0.0.1', selfSigned);
  const a = await startNode('127.0.0.1', { ...client, verifyServer: false });
  try {
    assert.ok(a.logs.some((l) => l['level'] === 40 && /verification is OFF/.test(String(l['msg']))));
    const dest: Destination = { transport: 'TLS', address: '127.0.0.1', port: b.port, serverName: NAME };
    const res = await a.ua.request(a.ua.createRequest('OPTIONS', `sips:b@${NAME}`, '<sips:a@x.example>', `<sips:b@${NAME}>`), { destination: dest });
    assert.equal(res.status, 200);
    const warn = a.logs.find((l) => /NOT verified/.test(String(l['msg'])));
    assert.match(String(warn?.['reason']), /SELF_SIGNED/);
  } finally {
    await a.close();
    await b.close();
  }
});

test('mutual TLS: a client without a certificate, or with one the CA did not issue, is refused; one with a CA-issued certificate gets through', T, async () => {
  const b = await startNode('127.0.0.1', { ...good, requestClientCert: true });
  const rogue = await startNode('127.0.0.1', { ...selfSigned, ca: good.ca! });
  const a = await startNode('127.0.0.1', client);
  try {
    // A bare TLS client that presents no certificate.
    const bare = tls.connect({ host: '127.0.0.1', port: b.port, ca: good.ca!, servername: NAME });
    bare.on('error', () => undefined);
    await new Promise<void>((resolve) => bare.once('close', () => resolve()));
    const noCert = await waitFor('refusal log', () => b.logs.find((l) => l['msg'] === 'TLS connection refused'));
    assert.match(String(noCert['reason']), /no client certificate/);

    const dest: Destination = { transport: 'TLS', address: '127.0.0.1', port: b.port, serverName: NAME };
    const r1 = await rogue.ua.request(rogue.ua.createRequest('OPTIONS', `sips:b@${NAME}`, '<sips:r@x.example>', `<sips:b@${NAME}>`), { destination: dest });
    assert.notEqual(r1.status, 200);
    await waitFor('second refusal', () => (b.logs.filter((l) => l['msg'] === 'TLS connection refused').length >= 2 ? true : undefined));
    const untrusted = b.logs.filter((l) => l['msg'] === 'TLS connection refused')[1]!;
    assert.match(String(untrusted['reason']), /client certificate not accepted: .*SELF_SIGNED/);
    assert.ok(!b.logs.some((l) => l['msg'] === 'sip message received'));

    const r2 = await a.ua.request(a.ua.createRequest('OPTIONS', `sips:b@${NAME}`, '<sips:a@client.example.test>', `<sips:b@${NAME}>`), { destination: dest });
    assert.equal(r2.status, 200);
  } finally {
    await a.close();
    await rogue.close();
    await b.close();
  }
});

test('a client that connects and never finishes the handshake is dropped after tlsHandshakeTimeoutMs and counts against maxConnections meanwhile', T, async () => {
  const b = await startNode('127.0.0.1', good, {}, { tlsHandshakeTimeoutMs: 300, maxConnections: 1 });
  const net = await import('node:net');
  const silent = net.connect({ host: '127.0.0.1', port: b.port });
  silent.on('error', () => undefined);
  try {
    await new Promise<void>((resolve) => silent.once('connect', () => resolve()));
    // While it holds the only slot, a second connection is refused.
    const second = net.connect({ host: '127.0.0.1', port: b.port });
    second.on('error', () => undefined);
    await new Promise<void>((resolve) => second.once('close', () => resolve()));
    assert.ok(b.logs.some((l) => l['msg'] === 'connection refused: too many connections'));
    const dropped = await waitFor('handshake timeout', () => b.logs.find((l) => l['msg'] === 'TLS connection refused'));
    assert.match(String(dropped['reason']), /handshake not finished within 300 ms/);
    await new Promise<void>((resolve) => (silent.closed ? resolve() : silent.once('close', () => resolve())));
  } finally {
    silent.destroy();
    await b.close();
  }
});

test('no TLS options: a sips: target fails (NO_TRANSPORT, 503) instead of falling back to cleartext (RFC 5630 §3.1.1)', T, async () => {
  const late: { ua?: UserAgent } = {};
  const t = await createTransports({ tcp: [{ address: '127.0.0.1', port: 0 }] }, { message: (m) => late.ua?.receive(m), parseError: () => undefined });
  const ua = new UserAgent({ transport: t, profile: PROFILE, serverHeader: 's', userAgentHeader: 'u' });
  late.ua = ua;
  try {
    const res = await ua.request(ua.createRequest('OPTIONS', `sips:b@127.0.0.1:${t.listening[0]!.port}`, '<sip:a@x>', '<sip:b@x>'));
    assert.equal(res.status, 503);
  } finally {
    await ua.close();
    await t.close();
  }
});
