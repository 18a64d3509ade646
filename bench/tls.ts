/**
 * bench/tls: what TLS costs the SIP transport (RFC 3261 §26.2.1, src/sip/transport/tls.ts),
 * measured against plain TCP on loopback, one process, certificates made with openssl (P-256).
 *
 *   npm run build --silent && node dist/bench/tls.js [--seconds=3] [--window=32] [--handshakes=300]
 *
 * 1. OPTIONS transactions/s over one long-lived connection, `--window` outstanding at once,
 *    TCP then TLS (the UAS answers OPTIONS itself, §11.2): the per-message cost of encryption.
 * 2. Full TLS handshakes/s accepted by a TLS listener (a fresh Node TLS client each, CA chain
 *    verified, closed once secure), against TCP connects/s: the per-connection cost.
 * The machine has 2 cores shared with other work: repeat runs and read the figures as ranges.
 */
import net from 'node:net';
import tls from 'node:tls';
import { createTransports, type SipTransports, type TlsOptions } from '../src/sip/transport/index.js';
import { UserAgent } from '../src/sip/ua/user-agent.js';
import { makeTestPki } from '../test/helpers/certs.js';

function arg(name: string, def: number): number {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? def : Number(a.slice(name.length + 3));
}

const SECONDS = arg('seconds', 3);
const WINDOW = arg('window', 32);
const HANDSHAKES = arg('handshakes', 300);

async function ua(config: Parameters<typeof createTransports>[0]): Promise<{ ua: UserAgent; t: SipTransports }> {
  const late: { ua?: UserAgent } = {};
  const t = await createTransports(config, { message: (m) => late.ua?.receive(m), parseError: () => undefined });
  const u = new UserAgent({ transport: t, profile: { methods: ['OPTIONS'], optionTags: [] }, serverHeader: 'bench', userAgentHeader: 'bench' });
  late.ua = u;
  return { ua: u, t };
}

async function optionsRate(kind: 'TCP' | 'TLS', tlsOptions: TlsOptions): Promise<number> {
  const listen = [{ address: '127.0.0.1', port: 0 }];
  const server = await ua(kind === 'TCP' ? { tcp: listen } : { tls: listen, tlsOptions });
  const client = await ua(kind === 'TCP' ? { tcp: listen } : { tls: listen, tlsOptions });
  const port = server.t.listening[0]!.port;
  const uri = kind === 'TCP' ? `sip:b@127.0.0.1:${port};transport=tcp` : `sips:b@127.0.0.1:${port}`;
  let done = 0;
  let failed = 0;
  const end = Date.now() + SECONDS * 1000;
  const worker = async (): Promise<void> => {
    while (Date.now() < end) {
      const res = await client.ua.request(client.ua.createRequest('OPTIONS', uri, '<sip:a@bench>', '<sip:b@bench>'));
      if (res.status === 200) done++;
      else failed++;
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: WINDOW }, worker));
  const rate = done / ((Date.now() - t0) / 1000);
  await client.ua.close();
  await server.ua.close();
  await client.t.close();
  await server.t.close();
  if (failed > 0) throw new Error(`${kind}: ${failed} OPTIONS failed`);
  return rate;
}

async function connectRate(kind: 'TCP' | 'TLS', tlsOptions: TlsOptions): Promise<number> {
  const server = await ua(kind === 'TCP' ? { tcp: [{ address: '127.0.0.1', port: 0 }] } : { tls: [{ address: '127.0.0.1', port: 0 }], tlsOptions });
  const port = server.t.listening[0]!.port;
  const t0 = Date.now();
  for (let i = 0; i < HANDSHAKES; i++) {
    await new Promise<void>((resolve, reject) => {
      const s = kind === 'TCP'
        ? net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(); })
        : tls.connect({ host: '127.0.0.1', port, ca: tlsOptions.ca! }, () => { s.destroy(); resolve(); });
      s.once('error', reject);
    });
  }
  const rate = HANDSHAKES / ((Date.now() - t0) / 1000);
  await server.ua.close();
  await server.t.close();
  return rate;
}

async function main(): Promise<void> {
  const pki = makeTestPki();
  try {
    const f = pki.issue('bench', ['URI:sip:127.0.0.1', 'IP:127.0.0.1']);
    const tlsOptions: TlsOptions = { cert: pki.read(f.cert), key: pki.read(f.key), ca: [pki.read(pki.caCert)] };
    const rows: [string, number, number][] = [];
    rows.push(['OPTIONS/s, one connection, window ' + WINDOW, await optionsRate('TCP', tlsOptions), await optionsRate('TLS', tlsOptions)]);
    rows.push([`new connections/s (${HANDSHAKES}, sequential)`, await connectRate('TCP', tlsOptions), await connectRate('TLS', tlsOptions)]);
    console.log('| measure | TCP | TLS | TLS / TCP |');
    console.log('|---|---:|---:|---:|');
    for (const [what, tcp, t] of rows) console.log(`| ${what} | ${Math.round(tcp).toLocaleString('en')} | ${Math.round(t).toLocaleString('en')} | ${(t / tcp).toFixed(2)} |`);
  } finally {
    pki.cleanup();
  }
}

await main();
