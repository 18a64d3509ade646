// The crash scenario of test/reliability/crash*.test.ts, for any store backend: the real
// `im-history serve` process records a busy session; it is killed with SIGKILL mid-stream;
// every message it had answered 200 on MSRP is in the store, and the next start closes the
// history left open.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { until } from '../helpers/wait.js';
import { SimNetwork } from '../../src/sim/network.js';
import type { HistoryStore } from '../../src/store/types.js';
import { parseCpim } from '../../src/cpim/parse.js';

const CLI = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

function serve(cfg: string) {
  const child = spawn(process.execPath, [CLI, 'serve', '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  child.once('exit', () => clearTimeout(guard));
  return { child, out: () => out };
}

export interface CrashBackend {
  /** The configuration's store (and instance) sections, given a fresh temp dir. */
  config(dir: string): Record<string, unknown>;
  /** Opens the store serve wrote to, from the test process. */
  open(dir: string): Promise<HistoryStore>;
  /** Problems of the store's own consistency checks ([] when sound), where it has them. */
  check?(store: HistoryStore): Promise<string[]>;
}

export async function crashWhileRecording(backend: CrashBackend): Promise<void> {
  const users = [
    { aor: 'sip:alice@example.net', name: 'Alice' },
    { aor: 'sip:bob@example.net', name: 'Bob' },
  ];
  const net = await new SimNetwork().start(users);
  const dir = mkdtempSync(join(tmpdir(), 'crash-'));
  const cfg = join(dir, 'c.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      logLevel: 'info',
      sip: { udp: [{ address: '127.0.0.1', port: 0 }], tcp: [] },
      history: { conferenceFactories: [net.factoryUri], trustedDomains: ['example.net'], msrp: { address: '127.0.0.1', port: 0 } },
      api: { enabled: false },
      ...backend.config(dir),
    }),
  );
  // What the History Function's MSRP leg acknowledged (200) to the focus.
  const acked = new Set<string>();
  net.focusMedia.onAcked = (user, body) => {
    if (user.startsWith('sip:history@')) acked.add(Buffer.from(parseCpim(body).content).toString());
  };
  const first = serve(cfg);
  try {
    await until(() => first.out().includes('"msg":"im-history started"'), 15_000, 'serve started');
    const port = /"transport":"UDP","address":"127\.0\.0\.1","port":(\d+)/.exec(first.out())?.[1];
    assert.ok(port, first.out());
    const res = await net.client('sip:alice@example.net').refer(`sip:history@127.0.0.1:${port};filename=crash-test`, net.factoryUri, users.map((u) => u.aor));
    assert.equal(res.status, 202);
    await until(() => users.every((u) => net.client(u.aor).session?.state === 'open'), 10_000, 'clients joined');
    await until(() => [...net.focus.conferences.values()].some((c) => c.legs.size === 3), 10_000, 'recorder joined');
    // Both talk with 32 messages in flight each (so writes are pending at any instant); the
    // server is killed part-way.
    let said = 0;
    let stop = false;
    let next = 0;
    const talk = async (aor: string) => {
      while (!stop && next < 20_000) {
        const n = next++;
        await net.client(aor).say(`${aor} #${n}`).catch(() => undefined);
        said++;
      }
    };
    const talking = users.flatMap((u) => Array.from({ length: 32 }, () => talk(u.aor)));
    await until(() => acked.size >= 2000, 30_000, '2000 messages acknowledged by the recorder');
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    stop = true;
    await Promise.all(talking);
    assert.ok(said >= acked.size);

    const store = await backend.open(dir);
    try {
      if (backend.check !== undefined) assert.deepEqual(await backend.check(store), [], 'the store\'s consistency checks are clean');
      const [h] = await store.listHistories();
      assert.ok(h);
      assert.equal(h.state, 'active', 'left open by the crash');
      const stored = new Set((await store.messages(h.id)).map((m) => m.body.toString()));
      const missing = [...acked].filter((b) => !stored.has(b));
      assert.deepEqual(missing, [], `${missing.length} of ${acked.size} acknowledged messages lost`);
    } finally {
      await store.close();
    }

    // The next start closes what the crash left open.
    const second = serve(cfg);
    await until(() => second.out().includes('"msg":"im-history started"'), 15_000, 'serve restarted');
    assert.match(second.out(), /closed histories left open by an earlier run/);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
    const after = await backend.open(dir);
    try {
      const [h] = await after.listHistories();
      assert.equal(h?.state, 'ended');
      assert.equal(h?.endReason, 'server restarted while the session was open');
    } finally {
      await after.close();
    }
  } finally {
    if (first.child.exitCode === null) first.child.kill('SIGKILL');
    await net.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
