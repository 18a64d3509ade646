/**
 * Opens the store the configuration names (`store.backend`): the SQLite file (one
 * instance; the default) or a PostgreSQL server several instances share. Used by `serve`
 * and the `histories` commands; `check-config --store` uses probeStore, which connects
 * and reads the schema version without changing anything.
 */
import pg from 'pg';
import type { Config } from '../config.js';
import { PG_LATEST_SCHEMA_VERSION, pgSchemaVersion } from './pg-migrations.js';
import { errorText, PgStore, redactUrl } from './pg.js';
import { LATEST_SCHEMA_VERSION } from './sqlite-migrations.js';
import { SqliteStore } from './sqlite.js';
import { StoreOpenError, type HistoryStore } from './types.js';

export interface OpenedStore {
  store: HistoryStore;
  backend: Config['store']['backend'];
  /** Other instances may write to it: start-up clean-up is limited to this instance's histories. */
  shared: boolean;
  /** Where, for logs (no password). */
  where: string;
}

export async function openStore(config: Config['store'], opts: { onIdleError?: (e: Error) => void } = {}): Promise<OpenedStore> {
  if (config.backend === 'sqlite') {
    return { store: await SqliteStore.open(config.path, { synchronous: config.synchronous }), backend: 'sqlite', shared: false, where: config.path };
  }
  const p = config.postgres;
  if (p.url === undefined) throw new StoreOpenError('store.backend "postgres" needs store.postgres.url');
  const store = await PgStore.open(p.url, {
    ...(p.schema !== undefined ? { schema: p.schema } : {}),
    poolSize: p.poolSize,
    maxQueued: p.maxQueued,
    maxBatch: p.maxBatch,
    connectTimeoutMs: p.connectTimeoutMs,
    statementTimeoutMs: p.statementTimeoutMs,
    ...(opts.onIdleError !== undefined ? { onIdleError: opts.onIdleError } : {}),
  });
  return { store, backend: 'postgres', shared: true, where: store.where };
}

/** One line about the configured store; StoreOpenError when PostgreSQL cannot be reached. Changes nothing. */
export async function probeStore(config: Config['store']): Promise<string> {
  if (config.backend === 'sqlite') return `store: SQLite file ${config.path} (schema version ${LATEST_SCHEMA_VERSION} in this im-history)`;
  const p = config.postgres;
  const where = redactUrl(p.url ?? '');
  const client = new pg.Client({
    connectionString: p.url,
    connectionTimeoutMillis: p.connectTimeoutMs,
    ...(p.schema !== undefined ? { options: `-c search_path=${p.schema}` } : {}),
  });
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => undefined);
    throw new StoreOpenError(`cannot connect to PostgreSQL at ${where}: ${errorText(e)}`);
  }
  try {
    const server = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?';
    const found = await pgSchemaVersion(client);
    const state =
      found === 0
        ? 'no im-history schema yet (serve creates it)'
        : found > PG_LATEST_SCHEMA_VERSION
          ? `schema version ${found} is NEWER than this im-history supports (${PG_LATEST_SCHEMA_VERSION}): serve will refuse it`
          : `schema version ${found}${found < PG_LATEST_SCHEMA_VERSION ? ` (serve migrates it to ${PG_LATEST_SCHEMA_VERSION})` : ''}`;
    return `store: PostgreSQL ${server} at ${where}${p.schema !== undefined ? ` schema ${p.schema}` : ''}: ${state}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}
