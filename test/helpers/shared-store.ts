// The store several `im-history serve` instances share in scale-out tests and benches:
// PostgreSQL (a throwaway server, bench/pg-server.ts, one fresh database), or for comparison
// one SQLite file (several processes on one WAL file: works on one machine, not the design).
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite.js';
import { PgStore } from '../../src/store/pg.js';
import type { HistoryStore } from '../../src/store/types.js';
import { startPgServer } from '../../bench/pg-server.js';

export type StoreKind = 'sqlite' | 'postgres';

export interface SharedStore {
  kind: StoreKind;
  /** The `store` section of each instance's config. */
  config: object;
  /** Open the store from this process, to check what the instances wrote. */
  open(): Promise<HistoryStore>;
  /** The PostgreSQL server's PID (undefined for SQLite), for CPU accounting. */
  pid: number | undefined;
  stop(): Promise<void>;
}

export async function sharedStore(dir: string, kind: StoreKind = 'postgres', settings?: Record<string, string>): Promise<SharedStore> {
  if (kind === 'sqlite') {
    const path = join(dir, 'shared.db');
    return { kind, config: { path }, open: () => SqliteStore.open(path), pid: undefined, stop: async () => undefined };
  }
  const server = await startPgServer(settings !== undefined ? { settings } : {});
  try {
    const url = await server.createDatabase('shared');
    return { kind, config: { backend: 'postgres', postgres: { url } }, open: () => PgStore.open(url), pid: server.pid, stop: () => server.stop() };
  } catch (e) {
    await server.stop();
    throw e;
  }
}
