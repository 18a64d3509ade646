/**
 * Crash safety of the SQLite backend: a message whose addMessage resolved (what the user
 * plane answers MSRP 200 for) is in the file after the writing process is killed with
 * SIGKILL at an arbitrary point, and the file is sound. Three kills on one file, each
 * after a different number of messages, the later writers continuing the same history.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { SqliteStore } from '../../src/store/sqlite.js';
import { newHistory } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'im-history-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const writerScript = join(dirname(fileURLToPath(import.meta.url)), 'crash-writer.js');

interface Printed {
  seq: number;
  body: string;
}

/** Runs the writer until it printed `killAfter` seqs, SIGKILLs it, returns everything it printed. */
function runAndKill(path: string, historyId: string, killAfter: number): Promise<Printed[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writerScript, path, historyId, '8'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const printed: Printed[] = [];
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (line === 'ready') return;
      const [seq, w, i] = line.split(' ');
      printed.push({ seq: Number(seq), body: `writer ${w} message ${i} ${'x'.repeat(200)}` });
      if (!killed && printed.length >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    // 'close' comes after stdout is fully read: every line the child wrote is in `printed`.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL' || !killed) reject(new Error(`writer ended by itself (${code} ${signal}): ${stderr}`));
      else resolve(printed);
    });
  });
}

test('kill -9 while writing: every message acknowledged before the kill is stored, the file is sound', async () => {
  const path = join(dir, 'crash.db');
  const setup = await SqliteStore.open(path);
  const h = await setup.createHistory(newHistory());
  await setup.close();

  const acknowledged: Printed[] = [];
  for (const killAfter of [300, 457, 1203]) {
    const printed = await runAndKill(path, h.id, killAfter);
    assert.ok(printed.length >= killAfter);
    acknowledged.push(...printed);

    const s = await SqliteStore.open(path);
    assert.deepEqual(await s.integrityCheck(), [], 'integrity_check and the FTS index check pass');
    const stored = await s.messages(h.id);
    const bySeq = new Map(stored.map((m) => [m.seq, m.body.toString()]));
    for (const p of acknowledged) assert.equal(bySeq.get(p.seq), p.body, `acknowledged seq ${p.seq} is stored with its body`);
    // Batches commit whole or not at all: the seqs are 1..n without gaps.
    assert.deepEqual(
      stored.map((m) => m.seq),
      Array.from({ length: stored.length }, (_, i) => i + 1),
    );
    assert.ok(stored.length >= acknowledged.length);
    await s.close();
  }
});
