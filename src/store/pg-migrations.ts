/**
 * The PostgreSQL schema as ordered migrations, version for version the SQLite ones
 * (sqlite-migrations.ts), so a history means the same thing in both: 1 histories, SIP
 * events, conference notifications; 2 messages and their search; 3 roster, participants,
 * members; 4 the instance recording each history.
 *
 * All missing migrations are applied in ONE transaction at open, under a transaction-level
 * advisory lock (pg_advisory_xact_lock), so several instances starting at once against one
 * database apply each migration exactly once and none sees a half-migrated schema. A
 * database whose schema_version is newer than this code is refused (SchemaTooNewError).
 *
 * Differences from SQLite, all internal: keys are identity columns; `histories.last_seq`
 * is the per-history message counter that a write locks (SELECT ... FOR NO KEY UPDATE) and
 * advances in its transaction, which is what keeps seq gapless with several writers;
 * search is a `tsvector` column built by the store from pre-folded words (pg-search.ts)
 * with a GIN index; `participants` have their own identity column for first-appearance
 * order; the roster's user column is `user_uri` (`user` is reserved in PostgreSQL).
 */
import type { PoolClient } from 'pg';
import { SchemaTooNewError } from './types.js';

export interface PgMigration {
  version: number;
  description: string;
  sql: string;
}

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    description: 'histories, SIP events, conference notifications',
    sql: `
CREATE TABLE histories (
  pk                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id                 text NOT NULL UNIQUE,
  name               text NOT NULL,
  type               text NOT NULL,
  owner              text NOT NULL,
  conference_factory text NOT NULL,
  im_users           text NOT NULL,
  refer_call_id      text NOT NULL,
  client_allow       text NOT NULL,
  client_contact     text,
  refer_headers      text NOT NULL,
  created_at         bigint NOT NULL,
  state              text NOT NULL CHECK (state IN ('inviting', 'active', 'ended', 'failed')),
  session_call_id    text,
  conference_uri     text,
  server_allow       text,
  session_headers    text,
  started_at         bigint,
  ended_at           bigint,
  end_reason         text
);
CREATE INDEX histories_created ON histories (created_at, pk);
CREATE INDEX histories_owner ON histories (owner, created_at);

CREATE TABLE sip_events (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  history   bigint NOT NULL REFERENCES histories (pk) ON DELETE CASCADE,
  at        bigint NOT NULL,
  direction text NOT NULL CHECK (direction IN ('in', 'out')),
  summary   text NOT NULL,
  headers   text NOT NULL
);
CREATE INDEX sip_events_history ON sip_events (history, id);

CREATE TABLE conference_notifications (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  history      bigint NOT NULL REFERENCES histories (pk) ON DELETE CASCADE,
  at           bigint NOT NULL,
  content_type text NOT NULL,
  body         text NOT NULL
);
CREATE INDEX conference_notifications_history ON conference_notifications (history, id);
`,
  },
  {
    version: 2,
    description: 'messages (MSRP/CPIM) with full-text search over their text',
    sql: `
-- The last seq given in the history: locked and advanced by the transaction adding messages.
ALTER TABLE histories ADD COLUMN last_seq integer NOT NULL DEFAULT 0;

CREATE TABLE messages (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  history         bigint NOT NULL REFERENCES histories (pk) ON DELETE CASCADE,
  seq             integer NOT NULL,
  at              bigint NOT NULL,
  sender          text NOT NULL,
  recipients      text NOT NULL,
  content_type    text NOT NULL,
  body            bytea NOT NULL,
  imdn_message_id text,
  msrp_message_id text,
  cpim_headers    text,
  -- The searchable text when it is not the body itself (CPIM-wrapped, other charsets)...
  search_text     text,
  -- ...or true when the body, read as UTF-8, is exactly the searchable text.
  text_is_body    boolean NOT NULL DEFAULT false,
  -- The folded words of the searchable text with their positions (pg-search.ts); NULL when not searchable.
  tsv             tsvector,
  UNIQUE (history, seq)
);
CREATE INDEX messages_tsv ON messages USING gin (tsv);
`,
  },
  {
    version: 3,
    description: 'roster events, participants, and the members index behind visibility',
    sql: `
CREATE TABLE roster_events (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  history      bigint NOT NULL REFERENCES histories (pk) ON DELETE CASCADE,
  at           bigint NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('joined', 'left', 'status')),
  user_uri     text NOT NULL,
  display_name text,
  endpoint     text,
  status       text,
  method       text,
  reason       text
);
CREATE INDEX roster_events_history ON roster_events (history, id);

CREATE TABLE participants (
  id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  history              bigint NOT NULL REFERENCES histories (pk) ON DELETE CASCADE,
  aor                  text NOT NULL,
  user_uri             text NOT NULL,
  display_name         text,
  present              boolean NOT NULL,
  status               text,
  joined_at            bigint,
  left_at              bigint,
  joining_method       text,
  disconnection_method text,
  disconnection_reason text,
  last_event_at        bigint NOT NULL,
  UNIQUE (history, aor)
);

-- Who may read a history: its owner, the IM users it invited, everyone on its roster.
CREATE TABLE history_members (
  aor     text NOT NULL,
  history bigint NOT NULL REFERENCES histories (pk) ON DELETE CASCADE,
  role    text NOT NULL CHECK (role IN ('owner', 'invited', 'roster')),
  PRIMARY KEY (aor, history, role)
);
CREATE INDEX history_members_history ON history_members (history);
`,
  },
  {
    version: 4,
    description: 'the im-history instance recording each history',
    sql: `
-- NULL for histories recorded before instances were tracked.
ALTER TABLE histories ADD COLUMN instance text;
CREATE INDEX histories_instance_state ON histories (instance, state);
`,
  },
];

export const PG_LATEST_SCHEMA_VERSION = PG_MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);

/** Key of the advisory lock that serialises migrations of one database ("IMHMIGR" in ASCII). */
export const MIGRATION_LOCK_KEY = '20632646229509970';

const SCHEMA_VERSION_DDL = `CREATE TABLE IF NOT EXISTS schema_version (
  version     integer PRIMARY KEY,
  description text NOT NULL,
  applied_at  bigint NOT NULL
)`;

export async function pgSchemaVersion(client: Pick<PoolClient, 'query'>): Promise<number> {
  const exists = await client.query<{ t: string | null }>("SELECT to_regclass('schema_version')::text AS t");
  if (exists.rows[0]?.t === null || exists.rows[0]?.t === undefined) return 0;
  const r = await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_version');
  return r.rows[0]?.v ?? 0;
}

/**
 * Brings the database to `target` (default: the latest version) in one transaction under
 * the migration lock; returns the version reached. SchemaTooNewError when the database is
 * ahead of this code (nothing is changed then).
 */
export async function pgMigrate(client: PoolClient, target = PG_LATEST_SCHEMA_VERSION): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await client.query(SCHEMA_VERSION_DDL);
    const found = await pgSchemaVersion(client);
    if (found > PG_LATEST_SCHEMA_VERSION) throw new SchemaTooNewError(found, PG_LATEST_SCHEMA_VERSION);
    for (const m of [...PG_MIGRATIONS].sort((a, b) => a.version - b.version)) {
      if (m.version <= found || m.version > target) continue;
      try {
        await client.query(m.sql);
      } catch (e) {
        throw new Error(`migration ${m.version} (${m.description}) failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      await client.query('INSERT INTO schema_version (version, description, applied_at) VALUES ($1, $2, $3)', [m.version, m.description, Date.now()]);
    }
    const reached = await pgSchemaVersion(client);
    await client.query('COMMIT');
    return reached;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
