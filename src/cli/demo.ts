/**
 * `im-history demo`: a whole recorded IM session on loopback. Alice asks the History
 * Function (REFER, seed 1.1) to record a session with Bob and Carol; the simulated focus
 * invites them; they chat over MSRP; the focus ends the conference; the stored history is
 * printed.
 */
import { pino } from 'pino';
import { SimNetwork } from '../sim/network.js';
import { startHistoryNode } from '../sim/history-node.js';
import type { HistoryStore } from '../store/types.js';
import { formatTranscript } from '../history/transcript.js';

const USERS = [
  { aor: 'sip:alice@example.net', name: 'Alice' },
  { aor: 'sip:bob@example.net', name: 'Bob' },
  { aor: 'sip:carol@example.net', name: 'Carol' },
];

const SCRIPT: [string, string][] = [
  ['sip:alice@example.net', 'Good morning! This session is being recorded as "weekly-sync".'],
  ['sip:bob@example.net', 'Morning. The release candidate passed the interop run last night.'],
  ['sip:carol@example.net', 'Great — I will update the changelog.'],
  ['sip:alice@example.net', 'Thanks both. That is all for today.'],
];

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`demo: ${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function runDemo(store: HistoryStore, opts: { verbose: boolean; out: (s: string) => void }): Promise<string> {
  const log = (m: string) => {
    if (opts.verbose) opts.out(`  [sim] ${m}\n`);
  };
  const net = await new SimNetwork(log).start(USERS);
  const hf = await startHistoryNode(store, { conferenceFactories: [net.factoryUri], trustedDomains: ['example.net'] }, pino({ level: opts.verbose ? 'info' : 'silent' }));
  try {
    opts.out(`History Function at ${hf.uri}; conference factory ${net.factoryUri}\n`);
    const alice = net.client('sip:alice@example.net');
    const res = await alice.refer(`${hf.uri};history=session;filename=weekly-sync`, net.factoryUri, USERS.map((u) => u.aor));
    opts.out(`Alice -> REFER: ${res.status} ${res.reason}\n`);
    if (res.status !== 202) throw new Error(`the History Function refused the REFER: ${res.status} ${res.reason}`);
    await until(() => USERS.every((u) => net.client(u.aor).session?.state === 'open'), 10_000, 'everyone joining');
    const history = (await store.listHistories()).find((h) => h.name === 'weekly-sync' && h.state === 'active');
    if (history === undefined) throw new Error('no active history');
    let n = 0;
    for (const [who, text] of SCRIPT) {
      await net.client(who).say(text);
      n++;
      const want = n;
      await until(async () => (await store.messages(history.id)).length >= want, 5000, `message ${want} being recorded`);
      opts.out(`  ${who.replace(/^sip:|@.*$/g, '')}: ${text}\n`);
    }
    await net.focus.end([...net.focus.conferences.keys()][0]!);
    await until(() => hf.fn.sessions.size === 0, 5000, 'the session closing');
    const done = await store.getHistory(history.id);
    if (done === undefined) throw new Error('history vanished');
    return formatTranscript({ history: done, messages: await store.messages(history.id), participants: await store.participants(history.id) });
  } finally {
    await hf.close();
    await net.close();
  }
}
