// A throwaway PostgreSQL server per test file (bench/pg-server.ts does the work): started in
// before(), stopped by PID and its directory removed in after(), even when tests fail.
import { after, before } from 'node:test';
import { startPgServer, type PgServer } from '../../bench/pg-server.js';

/** Registers before/after hooks in the current test file; the getter is valid inside tests. */
export function usePostgres(): () => PgServer {
  let server: PgServer | undefined;
  before(async () => {
    // fsync off: the tests check behaviour, not durability against power loss.
    server = await startPgServer({ settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } });
  });
  after(async () => {
    await server?.stop();
  });
  return () => {
    if (server === undefined) throw new Error('PostgreSQL test server not started (usePostgres() before hooks)');
    return server;
  };
}
