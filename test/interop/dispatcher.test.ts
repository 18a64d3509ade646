// Issue 7, scale-out: three `im-history serve` instances behind Kamailio's dispatcher (Debian
// package "kamailio", started by the test on loopback), sharing one PostgreSQL database (a
// throwaway server the test starts, bench/pg-server.ts). IM clients of the
// loopback network (src/sim) send their REFERs to the balancer only; sessions are spread over
// the instances; one instance is killed with SIGKILL mid-load; new REFERs all succeed on the
// others (the balancer fails over on timeout and stops choosing the dead one); every message
// an instance acknowledged on MSRP, the killed one included, is in the shared store; and any
// instance answers a history query for a session another instance recorded; when the killed
// instance restarts it closes its own abandoned histories and no one else's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimNetwork } from '../../src/sim/network.js';
import { parseCpim } from '../../src/cpim/parse.js';
import type { HistoryStore } from '../../src/store/types.js';
import { freePort, missing } from './peers.js';
import { startDispatcher, type Dispatcher } from '../helpers/kamailio.js';
import { serve, type Served } from '../helpers/serve.js';
import { until } from '../helpers/wait.js';
import { sharedStore, type SharedStore } from '../helpers/shared-store.js';

const skip = missing('kamailio');
const INSTANCES = 3;
const TOKEN = 'operator-token-0123456789abcdef';

function user(i: number) {
  return { aor: `sip:user${i}@example.net`, name: `User ${i}` };
}

test('Kamailio dispatcher in front of 3 instances: failover on kill -9, nothing acknowledged lost, any instance reads any history, the restarted one closes only its own', { skip, timeout: 120_000 }, async () => {
  // Phase 1: 6 sessions (12 users); phase 2, after the kill: 6 more (12 more users).
  const users = Array.from({ length: 24 }, (_, i) => user(i));
  const net = await new SimNetwork().start(users);
  const dir = mkdtempSync(join(tmpdir(), 'dispatcher-'));
  let shared: SharedStore | undefined;
  let kam: Dispatcher | undefined;
  const instances: Served[] = [];
  const acked = new Set<string>();
  net.focusMedia.onAcked = (aor, body) => {
    if (aor.startsWith('sip:history@')) acked.add(Buffer.from(parseCpim(body).content).toString());
  };
  try {
    shared = await sharedStore(dir, 'postgres', { fsync: 'off' });
    const store0 = shared.config;
    const instanceConfig = (i: number, port: number) => ({
      logLevel: 'info',
      instance: { id: `node-${i}` },
      sip: { udp: [{ address: '127.0.0.1', port }], tcp: [] },
      history: { conferenceFactories: [net.factoryUri], trustedDomains: ['example.net'], msrp: { address: '127.0.0.1', port: 0 } },
      api: { enabled: true, address: '127.0.0.1', port: 0, tokens: [{ token: TOKEN, aor: '*' }] },
      store: store0,
    });
    const ports: number[] = [];
    for (let i = 0; i < INSTANCES; i++) {
      const port = await freePort();
      ports.push(port);
      instances.push(await serve(instanceConfig(i, port)));
    }
    kam = await startDispatcher({ port: await freePort(), instances: ports.map((p) => `127.0.0.1:${p}`), branchTimeoutMs: 1500, pingIntervalS: 1 });
    const balancer = `sip:history@127.0.0.1:${kam.port}`;

    // Which instance answered each REFER: the port of the 202's Contact (the dialog is bound to it).
    const servedBy = new Map<string, number>();
    const startSession = async (k: number) => {
      const owner = users[2 * k]!.aor;
      const res = await net.client(owner).refer(`${balancer};filename=session-${k}`, net.factoryUri, [owner, users[2 * k + 1]!.aor]);
      assert.equal(res.status, 202, `session ${k}: ${res.status} ${res.reason}`);
      const contact = res.get('contact') ?? '';
      const port = Number(/:(\d+)[;>]/.exec(contact)?.[1]);
      assert.ok(ports.includes(port), `session ${k}: 202 Contact ${contact} names an instance`);
      servedBy.set(`session-${k}`, port);
      await until(() => net.client(owner).session?.state === 'open' && net.client(users[2 * k + 1]!.aor).session?.state === 'open', 15_000, `session ${k} joined`);
    };
    let stop = false;
    let said = 0;
    const talk = async (aor: string) => {
      for (let n = 0; !stop && n < 5000; n++) {
        await net
          .client(aor)
          .say(`${aor} #${n}`)
          .then(() => said++)
          .catch(() => undefined);
      }
    };

    for (let k = 0; k < 6; k++) await startSession(k);
    const perInstance = ports.map((p) => [...servedBy.values()].filter((x) => x === p).length);
    assert.deepEqual(perInstance, [2, 2, 2], 'round-robin spreads the first six sessions');
    await until(() => [...net.focus.conferences.values()].filter((c) => c.legs.size === 3).length === 6, 15_000, 'recorders joined');

    const talking = users.slice(0, 12).map((u) => talk(u.aor));
    await until(() => acked.size >= 600, 30_000, '600 messages acknowledged by the recorders');
    // Kill the instance that records sessions 0 and 3, mid-load.
    const victim = ports.indexOf(servedBy.get('session-0')!);
    await instances[victim]!.kill('SIGKILL');
    const killedAt = acked.size;

    for (let k = 6; k < 12; k++) await startSession(k);
    for (let k = 6; k < 12; k++) assert.notEqual(servedBy.get(`session-${k}`), ports[victim], `session ${k} went to a live instance`);
    talking.push(...users.slice(12).map((u) => talk(u.aor)));
    await until(() => acked.size >= killedAt + 600, 30_000, '600 more messages acknowledged after the kill');
    stop = true;
    await Promise.all(talking);
    assert.ok(said > 0);
    assert.match(kam.log(), /marked inactive|failover/, 'the balancer noticed the dead instance');
    if (process.env.DISPATCHER_LOG !== undefined) console.log(kam.log().split('\n').filter((l) => /dispatch|failover|inactive|ERROR|WARN/.test(l)).join('\n'));

    // Nothing acknowledged is lost, the killed instance's sessions included.
    const store: HistoryStore = await shared.open();
    try {
      const histories = await store.listHistories();
      assert.equal(histories.length, 12);
      const stored = new Set<string>();
      for (const h of histories) for (const m of await store.messages(h.id)) stored.add(m.body.toString());
      const missingMsgs = [...acked].filter((b) => !stored.has(b));
      assert.deepEqual(missingMsgs.slice(0, 5), [], `${missingMsgs.length} of ${acked.size} acknowledged messages lost`);
      // The instance that owns each history is the one that answered its REFER.
      for (const h of histories) assert.equal(h.instance, `node-${ports.indexOf(servedBy.get(h.name)!)}`, `${h.name} owned by the instance that answered it`);
      // Any live instance answers for a history another instance recorded (here: the dead one's).
      const recordedByVictim = histories.find((h) => h.name === 'session-0')!;
      const reader = instances[(victim + 1) % INSTANCES]!;
      const r = await fetch(`http://127.0.0.1:${reader.port('API')}/api/v1/histories/${recordedByVictim.id}/messages?limit=1000`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(r.status, 200);
      const body = (await r.json()) as { messages: unknown[] };
      assert.ok(body.messages.length > 0, 'messages recorded by the killed instance are served by another');

      // The killed instance comes back: it closes the histories it left open, and only those
      // (the other instances' sessions are live and stay so).
      const openBefore = histories.filter((h) => h.state === 'active').map((h) => h.name).sort();
      assert.equal(openBefore.length, 12, 'every session still open (the killed ones too, until their owner returns)');
      instances[victim] = await serve(instanceConfig(victim, ports[victim]!));
      assert.match(instances[victim]!.out(), /closed histories left open by an earlier run/);
      const after = await store.listHistories();
      for (const h of after) {
        if (h.instance === `node-${victim}`) {
          assert.equal(h.state, 'ended', `${h.name} closed by its restarted owner`);
          assert.equal(h.endReason, 'server restarted while the session was open');
        } else {
          assert.equal(h.state, 'active', `${h.name} of a live instance left alone`);
        }
      }
      assert.equal(after.filter((h) => h.state === 'ended').length, 2);
    } finally {
      await store.close();
    }
  } finally {
    await Promise.all(instances.map((s) => s.kill('SIGTERM')));
    await kam?.stop();
    await net.close();
    await shared?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

