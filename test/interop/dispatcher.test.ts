// Issue 7, scale-out: three `im-history serve` instances behind Kamailio's dispatcher (Debian
// package "kamailio", started by the test on loopback), sharing one store. IM clients of the
// loopback network (src/sim) send their REFERs to the balancer only; sessions are spread over
// the instances; one instance is killed with SIGKILL mid-load; new REFERs all succeed on the
// others (the balancer fails over on timeout and stops choosing the dead one); every message
// an instance acknowledged on MSRP, the killed one included, is in the shared store; and any
// instance answers a history query for a session another instance recorded.
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

test('Kamailio dispatcher in front of 3 instances: failover on kill -9, nothing acknowledged lost, any instance reads any history', { skip, timeout: 120_000 }, async () => {
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
    shared = await sharedStore(dir);
    const ports: number[] = [];
    for (let i = 0; i < INSTANCES; i++) {
      const port = await freePort();
      ports.push(port);
      instances.push(
        await serve({
          logLevel: 'info',
          sip: { udp: [{ address: '127.0.0.1', port }], tcp: [] },
          history: { conferenceFactories: [net.factoryUri], trustedDomains: ['example.net'], msrp: { address: '127.0.0.1', port: 0 } },
          api: { enabled: true, address: '127.0.0.1', port: 0, tokens: [{ token: TOKEN, aor: '*' }] },
          store: shared.config,
        }),
      );
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
      // Any live instance answers for a history another instance recorded (here: the dead one's).
      const recordedByVictim = histories.find((h) => h.name === 'session-0')!;
      const reader = instances[(victim + 1) % INSTANCES]!;
      const r = await fetch(`http://127.0.0.1:${reader.port('API')}/api/v1/histories/${recordedByVictim.id}/messages?limit=1000`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(r.status, 200);
      const body = (await r.json()) as { messages: unknown[] };
      assert.ok(body.messages.length > 0, 'messages recorded by the killed instance are served by another');
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

