// Interop through a real MSRP relay (RFC 4976): Kamailio's msrp module, started by the test
// on loopback ports it chose, with a config written to a temp dir. Our endpoint A AUTHs to
// the relay (§5, no Digest: the config accepts any AUTH), puts the Use-Path in front of its
// URI, and talks to endpoint B (no relay) through it: chunked SEND, Success-Report REPORT
// back through the relay, and a message the other way over A's AUTH connection.
// Skipped when kamailio is not installed (Debian package "kamailio").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MsrpEndpoint } from '../../src/msrp/endpoint.js';
import type { ReceivedMessage, ReceivedReport } from '../../src/msrp/session.js';
import { freePort } from '../interop/peers.js';
import { delay, next } from './helpers.js';

const MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules/';
const skip = spawnSync('sh', ['-c', 'command -v kamailio']).status === 0 ? undefined : 'kamailio not installed (apt-get install kamailio)';

/** The relay's routing: answer SENDs itself (hop-by-hop, RFC 4975 §7.2), forward by To-Path. */
function config(relayPort: number, bPort: number): string {
  return `#!KAMAILIO
debug=2
log_stderror=yes
children=1
tcp_children=1
auto_aliases=no
tcp_accept_no_cl=yes
disable_sctp=yes
listen=tcp:127.0.0.1:${relayPort}
mpath="${MODULES}"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "msrp.so"
modparam("msrp", "cmap_size", 4)
modparam("msrp", "use_path_addr", "127.0.0.1:${relayPort}")

request_route { drop; }
reply_route { drop; }

event_route[msrp:frame-in] {
    msrp_reply_flags("1");
    if (msrp_is_reply()) { exit; }
    if ($msrp(method) == "AUTH") { msrp_cmap_save(); exit; }
    if ($msrp(method) == "SEND" || $msrp(method) == "REPORT") {
        if ($msrp(nexthops) < 1) {
            if ($msrp(method) == "SEND") { msrp_reply("481", "Session-does-not-exist"); }
            exit;
        }
        if ($msrp(method) == "SEND") { msrp_reply("200", "OK"); }
        if ($msrp(nexthop) =~ ":${bPort}/") { msrp_relay(); exit; }
        if (msrp_cmap_lookup()) { msrp_relay_flags("1"); msrp_relay(); exit; }
        exit;
    }
    msrp_reply("501", "Request-method-not-understood");
}
`;
}

async function listening(port: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await delay(100);
  }
  return false;
}

test('RFC 4976 interop: AUTH, Use-Path and relayed SEND/REPORT through Kamailio\'s msrp relay', { skip, timeout: 60_000 }, async () => {
  const relayPort = await freePort();
  const b = await MsrpEndpoint.create({ listen: { address: '127.0.0.1', port: 0 } });
  const a = await MsrpEndpoint.create({ listen: { address: '127.0.0.1', port: 0 } });
  const dir = mkdtempSync(join(tmpdir(), 'kamailio-msrp-'));
  mkdirSync(join(dir, 'run'));
  writeFileSync(join(dir, 'kamailio.cfg'), config(relayPort, b.port!));
  const kam = spawn('kamailio', ['-f', join(dir, 'kamailio.cfg'), '-DD', '-E', '-Y', join(dir, 'run'), '-m', '32', '-M', '8'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  kam.stdout.on('data', (d: Buffer) => (log += d.toString()));
  kam.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => kam.once('exit', () => resolve()));
  const hardLimit = setTimeout(() => kam.kill('SIGKILL'), 55_000);
  try {
    assert.ok(await listening(relayPort, 10_000), `kamailio did not listen:\n${log.slice(-2000)}`);
    const relay = `msrp://127.0.0.1:${relayPort};tcp`;
    const binding = await a.authenticate(relay, { localUriHost: '127.0.0.1' });
    assert.equal(binding.usePath.length, 1);
    assert.match(binding.usePath[0]!, new RegExp(`^msrp://127\\.0\\.0\\.1:${relayPort}/[^;]+;tcp$`));

    const sa = a.createSession({ localUriHost: '127.0.0.1', relays: binding.usePath });
    const sb = b.createSession({ localUriHost: '127.0.0.1' });
    sb.accept(sa.localPathUris);
    await Promise.all([sa.connect(sb.localPathUris), sb.opened()]);
    assert.equal(a.connectionCount, 1, 'the session reuses the AUTH connection (RFC 6135 §4)');

    const atB = next<ReceivedMessage>(sb, 'message', 10_000);
    const report = next<ReceivedReport>(sa, 'report', 10_000);
    const body = Buffer.alloc(7000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 13) & 0xff;
    const sent = await sa.send('application/octet-stream', body, { successReport: true, chunkSize: 2048 });
    const m = await atB;
    assert.ok(m.body.equals(body));
    assert.equal(m.chunks, 4);
    assert.deepEqual(m.fromPath, [binding.usePath[0], sa.localUri]);
    const r = await report;
    assert.equal(r.messageId, sent.messageId);
    assert.equal(r.status.code, 200);
    assert.deepEqual(r.fromPath, [binding.usePath[0], sb.localUri]);

    const atA = next<ReceivedMessage>(sa, 'message', 10_000);
    await sb.send('text/plain', Buffer.from('hello through kamailio'));
    const back = await atA;
    assert.equal(back.body.toString(), 'hello through kamailio');
    binding.release();
  } finally {
    await a.close();
    await b.close();
    kam.kill('SIGTERM');
    await Promise.race([exited, delay(3000)]);
    if (kam.exitCode === null && kam.signalCode === null) kam.kill('SIGKILL');
    clearTimeout(hardLimit);
  }
});
