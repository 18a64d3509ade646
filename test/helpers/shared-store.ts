// The store several `im-history serve` instances share in scale-out tests and benches.
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { HistoryStore } from '../../src/store/types.js';

export type StoreKind = 'sqlite' | 'postgres';

export interface SharedStore {
  /** The `store` section of each instance's config. */
  config: object;
  /** Open the store from the test process, to check what the instances wrote. */
  open(): Promise<HistoryStore>;
  stop(): Promise<void>;
}

export async function sharedStore(dir: string, kind: StoreKind = 'sqlite'): Promise<SharedStore> {
  if (kind !== 'sqlite') throw new Error(`no ${kind} store yet`);
  const path = join(dir, 'shared.db');
  return { config: { path }, open: () => SqliteStore.open(path), stop: async () => undefined };
}
