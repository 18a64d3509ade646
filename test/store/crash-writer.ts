/**
 * Child process of sqlite-crash.test.ts: appends messages to one history from several
 * concurrent writers, forever, and prints "<seq> <writer> <n>" for each message after its
 * addMessage promise resolved (= committed). The parent SIGKILLs it at some point.
 * argv: <db path> <history id> <writers>
 */
import { SqliteStore } from '../../src/store/sqlite.js';

const [path, historyId, writersArg] = process.argv.slice(2);
if (path === undefined || historyId === undefined) throw new Error('usage: crash-writer <db> <history id> [writers]');
const store = await SqliteStore.open(path);
const writers = Number(writersArg ?? '8');
process.stdout.write('ready\n');

async function writer(w: number): Promise<never> {
  for (let i = 0; ; i++) {
    const body = Buffer.from(`writer ${w} message ${i} ${'x'.repeat(200)}`);
    const seq = await store.addMessage(historyId!, { at: Date.now(), sender: `sip:w${w}@example.net`, recipients: [], contentType: 'text/plain', body });
    process.stdout.write(`${seq} ${w} ${i}\n`);
  }
}

await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
