/**
 * bench/scale (issue 7): recorded sessions/s and messages/s with 1, 2 and 3 `im-history serve`
 * instances behind Kamailio's dispatcher on this machine, sharing one store, and, in the
 * same run, one instance reached directly (no balancer) as the reference.
 *
 * Per configuration: a fresh shared store; N instances (the real CLI, SIP UDP+TCP, MSRP, no
 * API); Kamailio (test/helpers/kamailio.ts: round-robin, OPTIONS probes, failover) in front;
 * bench/record-peer.js plays the IM clients and a cheap focus. The peer ramps S sessions
 * through the balancer (a session counts when the History Function's MSRP connection is bound
 * and the conference NOTIFY was answered: REFER, 202, INVITE/200/ACK, SUBSCRIBE/NOTIFY, MSRP
 * all done), then pushes message/cpim on all of them for T seconds; a message counts when its
 * MSRP 200 came back, which the History Function sends only after the store committed it.
 * CPU seconds of every process (instances, Kamailio, peer) are read from /proc.
 *
 * Run: npm run build && node dist/bench/scale.js [--sessions=1500 --seconds=5 --window=4
 *   --instances=1,2,3 --store=sqlite|postgres --hop=tcp|udp (Kamailio to the instances)]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/interop/peers.js';
import { startDispatcher, type Dispatcher } from '../test/helpers/kamailio.js';
import { serve, type Served } from '../test/helpers/serve.js';
import { sharedStore, type StoreKind } from '../test/helpers/shared-store.js';
import { RecordPeer } from './lib/record-peer-client.js';
import { procCpuMs, procTreeCpuMs } from './lib/proc.js';
import { describeMachine, fmtInt, markdownTable } from './lib/report.js';

function arg(name: string, dflt: string): string {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? dflt : a.slice(name.length + 3);
}

/** CPU seconds of a process (and, with `tree`, its live children), 0 when unknown or gone. */
function cpuSeconds(pid: number | undefined, tree = false): number {
  if (pid === undefined) return 0;
  return ((tree ? procTreeCpuMs(pid) : procCpuMs(pid)) ?? 0) / 1000;
}

interface Row {
  setup: string;
  sessionsPerS: number;
  up: number;
  failed: number;
  msgsPerS: number;
  instanceCpu: number;
  kamailioCpu: number;
  dbCpu: number;
  peerCpu: number;
  errors: string;
}

async function run(n: number, balanced: boolean, kind: StoreKind): Promise<Row> {
  const S = Number(arg('sessions', '1500'));
  const SECONDS = Number(arg('seconds', '5'));
  const WINDOW = Number(arg('window', '4'));
  const dir = mkdtempSync(join(tmpdir(), 'im-history-bench-scale-'));
  const shared = await sharedStore(dir, kind);
  const storeCpu = () => treeCpu(shared.pid);
  const instances: Served[] = [];
  let kam: Dispatcher | undefined;
  const peer = RecordPeer.start();
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const port = await freePort();
      ports.push(port);
      const { factory } = await peer.ready;
      instances.push(
        await serve(
          {
            logLevel: 'info',
            instance: { id: `node-${i}` },
            sip: { udp: [{ address: '127.0.0.1', port }], tcp: [{ address: '127.0.0.1', port }], maxServerTransactions: 200_000, maxClientTransactions: 200_000 },
            history: { conferenceFactories: [factory], trustedDomains: ['example.net'], maxSessions: 100_000, msrp: { address: '127.0.0.1', port: 0 } },
            api: { enabled: false },
            store: shared.config,
          },
          { limitMs: 600_000 },
        ),
      );
    }
    if (balanced) kam = await startDispatcher({ port: await freePort(), instances: ports.map((p) => `127.0.0.1:${p}`), tcp: true, instanceTransport: arg('hop', 'tcp') === 'udp' ? 'udp' : 'tcp', branchTimeoutMs: 8000, debug: process.env.SCALE_LOG !== undefined ? 2 : 1, children: 2 }, 600_000);
    const hf = `sip:history@127.0.0.1:${kam?.port ?? ports[0]!}`;
    const pids = instances.map((s) => s.child.pid);
    const cpu0 = pids.map((p) => cpuSeconds(p));
    const kam0 = treeCpu(kam?.proc.pid);
    const db0 = storeCpu();
    const peer0 = cpuSeconds(peer.child.pid);
    const ramp = (await peer.ask({ cmd: 'sessions', hf, count: S, inflight: 200, rate: 100_000, timeoutMs: 120_000 })) as { up: number; failed: number; ms: number };
    const push = (await peer.ask({ cmd: 'push', sessions: S, ms: SECONDS * 1000, window: WINDOW, bodyBytes: 100 })) as { acked: number; ms: number; errors: Record<string, number> };
    const wall = (ramp.ms + push.ms) / 1000;
    return {
      setup: balanced ? `${n} behind Kamailio` : `${n}, direct (no balancer)`,
      sessionsPerS: ramp.up / (ramp.ms / 1000),
      up: ramp.up,
      failed: ramp.failed,
      msgsPerS: push.acked / (push.ms / 1000),
      instanceCpu: pids.map((p) => cpuSeconds(p)).reduce((a, c, i) => a + c - cpu0[i]!, 0) / wall,
      kamailioCpu: (treeCpu(kam?.proc.pid) - kam0) / wall,
      dbCpu: (storeCpu() - db0) / wall,
      peerCpu: (cpuSeconds(peer.child.pid) - peer0) / wall,
      errors: Object.entries(push.errors ?? {})
        .map(([k, v]) => `${k}: ${v}`)
        .join('; '),
    };
  } finally {
    void peer.ask({ cmd: 'exit' });
    if (peer.child.exitCode === null) peer.child.kill('SIGKILL');
    await Promise.all(instances.map((s) => s.kill('SIGKILL')));
    if (kam !== undefined && process.env.SCALE_LOG !== undefined) console.log(kam.log().split('\n').filter((l) => /ERROR|WARN/.test(l)).slice(0, 20).join('\n'));
    await kam?.stop();
    await shared.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Kamailio and PostgreSQL fork their workers: the main process plus every live child. */
function treeCpu(pid: number | undefined): number {
  return cpuSeconds(pid, true);
}

async function main(): Promise<void> {
  const kind = arg('store', 'postgres') as StoreKind;
  const counts = arg('instances', '1,2,3').split(',').map(Number);
  const m = describeMachine();
  console.log(`# bench/scale — ${m.cpus} CPUs ${m.cpuModel}, node ${m.node}, ${m.platform}, load ${m.loadavg}, ${m.date}`);
  console.log(`store: ${kind}; ${arg('sessions', '1500')} sessions per configuration, then ${arg('seconds', '5')} s of messages (window ${arg('window', '4')} per session, 100-byte texts)\n`);
  const rows: Row[] = [await run(1, false, kind)];
  for (const n of counts) rows.push(await run(n, true, kind));
  console.log(
    markdownTable(
      ['instances', 'sessions up', 'failed', 'sessions/s', 'messages/s', 'CPU: instances', 'CPU: Kamailio', 'CPU: database', 'CPU: peer'],
      rows.map((r) => [
        r.setup,
        fmtInt(r.up),
        fmtInt(r.failed),
        fmtInt(r.sessionsPerS),
        fmtInt(r.msgsPerS),
        `${r.instanceCpu.toFixed(2)} cores`,
        `${r.kamailioCpu.toFixed(2)} cores`,
        `${r.dbCpu.toFixed(2)} cores`,
        `${r.peerCpu.toFixed(2)} cores`,
      ]),
    ),
  );
  for (const r of rows) if (r.errors !== '') console.log(`errors (${r.setup}): ${r.errors}`);
}

await main();
