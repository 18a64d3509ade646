// Issue 6 crash safety, end to end, on the SQLite file (crash-scenario.ts): kill -9 of `serve`
// while recording loses no message it answered 200 on MSRP; the database is consistent; the
// next start closes the history left open.
import { test } from 'node:test';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite.js';
import { crashWhileRecording } from './crash-scenario.js';

test('kill -9 while recording: every message answered 200 is stored; the restart closes the open history', { timeout: 90_000 }, async () => {
  await crashWhileRecording({
    config: (dir) => ({ store: { path: join(dir, 'h.db') } }),
    open: (dir) => SqliteStore.open(join(dir, 'h.db')),
    // PRAGMA integrity_check and the FTS5 check.
    check: (store) => (store as SqliteStore).integrityCheck(),
  });
});
