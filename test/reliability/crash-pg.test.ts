// The crash scenario (crash-scenario.ts) on PostgreSQL: kill -9 of `serve` while recording
// loses no message it answered 200 on MSRP (each was acknowledged after COMMIT), and the next
// start of the same instance closes the history its crash left open.
import { test } from 'node:test';
import { PgStore } from '../../src/store/pg.js';
import { usePostgres } from '../helpers/postgres.js';
import { crashWhileRecording } from './crash-scenario.js';

const server = usePostgres();

test('PostgreSQL: kill -9 while recording: every message answered 200 is stored; the restart closes the open history', { timeout: 90_000 }, async () => {
  const url = await server().createDatabase('crash');
  await crashWhileRecording({
    config: () => ({ instance: { id: 'hf-crash' }, store: { backend: 'postgres', postgres: { url } } }),
    open: () => PgStore.open(url),
    // Seqs 1..n with no gap in every history (each message's seq came from the counter its transaction locked).
    check: async (store) => {
      const problems: string[] = [];
      for (const h of await store.listHistories()) {
        const seqs = (await store.messages(h.id)).map((m) => m.seq);
        if (seqs.some((seq, i) => seq !== i + 1)) problems.push(`history ${h.id}: seqs not 1..${seqs.length}`);
      }
      return problems;
    },
  });
});
