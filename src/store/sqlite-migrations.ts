/**
 * The SQLite schema as ordered migrations. Each runs once, in its own transaction, and
 * records itself in schema_version; a database whose version is newer than the code is
 * refused. A later backend (PostgreSQL) mirrors these versions one for one, so a history
 * means the same thing in both.
 *
 * Conventions: child rows point at histories by the integer pk (compact rows and indexes:
 * the (history, seq) index is touched once per message); times are integers (ms since the
 * epoch); header lists and URI lists are JSON text ([{name,value}], [uri]); AORs compared
 * across sources are stored as keys (aor.ts) in participants and history_members; message
 * bodies are BLOBs, byte-exact; the searchable text of a message is kept apart from the
 * body (its own column, or a flag when it is byte-for-byte the body) and indexed by an
 * external-content FTS5 table kept in step by triggers.
 */

import type { Database } from 'better-sqlite3';
import { aorKey } from './aor.js';
import { SchemaTooNewError } from './types.js';

export interface Migration {
  version: number;
  description: string;
  sql: string;
  /** Data changes SQL alone cannot express; runs after `sql`, in the same transaction. */
  backfill?: (db: Database) => void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'histories, SIP events, conference notifications',
    sql: `
-- pk is the compact key child rows use; id (a UUID) is the name the API shows.
CREATE TABLE histories (
  pk                 INTEGER PRIMARY KEY,
  id                 TEXT NOT NULL UNIQUE,
  name               TEXT NOT NULL,
  type               TEXT NOT NULL,
  owner              TEXT NOT NULL,
  conference_factory TEXT NOT NULL,
  im_users           TEXT NOT NULL,
  refer_call_id      TEXT NOT NULL,
  client_allow       TEXT NOT NULL,
  client_contact     TEXT,
  refer_headers      TEXT NOT NULL,
  created_at         INTEGER NOT NULL,
  state              TEXT NOT NULL CHECK (state IN ('inviting', 'active', 'ended', 'failed')),
  session_call_id    TEXT,
  conference_uri     TEXT,
  server_allow       TEXT,
  session_headers    TEXT,
  started_at         INTEGER,
  ended_at           INTEGER,
  end_reason         TEXT
);
CREATE INDEX histories_created ON histories (created_at);
CREATE INDEX histories_owner ON histories (owner, created_at);

CREATE TABLE sip_events (
  id         INTEGER PRIMARY KEY,
  history    INTEGER NOT NULL REFERENCES histories (pk) ON DELETE CASCADE,
  at         INTEGER NOT NULL,
  direction  TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  summary    TEXT NOT NULL,
  headers    TEXT NOT NULL
);
CREATE INDEX sip_events_history ON sip_events (history, id);

CREATE TABLE conference_notifications (
  id           INTEGER PRIMARY KEY,
  history      INTEGER NOT NULL REFERENCES histories (pk) ON DELETE CASCADE,
  at           INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  body         TEXT NOT NULL
);
CREATE INDEX conference_notifications_history ON conference_notifications (history, id);
`,
  },
  {
    version: 2,
    description: 'messages (MSRP/CPIM) with FTS5 search over their text',
    sql: `
CREATE TABLE messages (
  id              INTEGER PRIMARY KEY,
  history         INTEGER NOT NULL REFERENCES histories (pk) ON DELETE CASCADE,
  seq             INTEGER NOT NULL,
  at              INTEGER NOT NULL,
  sender          TEXT NOT NULL,
  recipients      TEXT NOT NULL,
  content_type    TEXT NOT NULL,
  body            BLOB NOT NULL,
  imdn_message_id TEXT,
  msrp_message_id TEXT,
  cpim_headers    TEXT,
  -- The searchable text when it is not the body itself (CPIM-wrapped, other charsets)...
  text            TEXT,
  -- ...or 1 when the body, read as UTF-8, is exactly the searchable text (plain UTF-8
  -- text/*, the common case): the text is then not stored twice.
  text_is_body    INTEGER NOT NULL DEFAULT 0,
  search_text     TEXT GENERATED ALWAYS AS (CASE WHEN text_is_body THEN CAST(body AS TEXT) ELSE text END) VIRTUAL,
  UNIQUE (history, seq)
);

-- columnsize=0: no per-message %_docsize row (a third b-tree insert per message, for bm25
-- ranking only); hits are returned newest first instead, which FTS5 does in rowid order.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
  search_text,
  content = 'messages',
  content_rowid = 'id',
  columnsize = 0,
  tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.search_text IS NOT NULL BEGIN
  INSERT INTO messages_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.search_text IS NOT NULL BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
`,
  },
  {
    version: 3,
    description: 'roster events, participants, and the members index behind visibility',
    sql: `
CREATE TABLE roster_events (
  id           INTEGER PRIMARY KEY,
  history      INTEGER NOT NULL REFERENCES histories (pk) ON DELETE CASCADE,
  at           INTEGER NOT NULL,
  kind         TEXT NOT NULL CHECK (kind IN ('joined', 'left', 'status')),
  user         TEXT NOT NULL,
  display_name TEXT,
  endpoint     TEXT,
  status       TEXT,
  method       TEXT,
  reason       TEXT
);
CREATE INDEX roster_events_history ON roster_events (history, id);

CREATE TABLE participants (
  history              INTEGER NOT NULL REFERENCES histories (pk) ON DELETE CASCADE,
  aor                  TEXT NOT NULL,
  user                 TEXT NOT NULL,
  display_name         TEXT,
  present              INTEGER NOT NULL,
  status               TEXT,
  joined_at            INTEGER,
  left_at              INTEGER,
  joining_method       TEXT,
  disconnection_method TEXT,
  disconnection_reason TEXT,
  last_event_at        INTEGER NOT NULL,
  UNIQUE (history, aor)
);

-- Who may read a history: its owner, the IM users it invited, everyone on its roster.
CREATE TABLE history_members (
  aor        TEXT NOT NULL,
  history    INTEGER NOT NULL REFERENCES histories (pk) ON DELETE CASCADE,
  role       TEXT NOT NULL CHECK (role IN ('owner', 'invited', 'roster')),
  PRIMARY KEY (aor, history, role)
) WITHOUT ROWID;
CREATE INDEX history_members_history ON history_members (history);
`,
    backfill: backfillMembers,
  },
  {
    version: 4,
    description: 'the im-history instance recording each history',
    sql: `
-- NULL for histories recorded before instances were tracked.
ALTER TABLE histories ADD COLUMN instance TEXT;
CREATE INDEX histories_instance_state ON histories (instance, state);
`,
  },
];

/** Histories recorded before version 3 get their owner and invited users as members. */
function backfillMembers(db: Database): void {
  const insert = db.prepare<[string, number, string]>('INSERT OR IGNORE INTO history_members (aor, history, role) VALUES (?, ?, ?)');
  const rows = db.prepare<[], { pk: number; owner: string; im_users: string }>('SELECT pk, owner, im_users FROM histories').all();
  for (const r of rows) {
    insert.run(aorKey(r.owner), r.pk, 'owner');
    for (const u of JSON.parse(r.im_users) as string[]) insert.run(aorKey(u), r.pk, 'invited');
  }
}

export const LATEST_SCHEMA_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);

export { SchemaTooNewError };

const SCHEMA_VERSION_DDL = `CREATE TABLE IF NOT EXISTS schema_version (
  version     INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at  INTEGER NOT NULL
)`;

export function schemaVersion(db: Database): number {
  const row = db.prepare<[], { v: number | null }>('SELECT MAX(version) AS v FROM schema_version').get();
  return row?.v ?? 0;
}

/**
 * Applies, in order, each migration above the database's version up to `target` (default:
 * all), each in its own IMMEDIATE transaction that re-reads the version first, so two
 * processes opening one file cannot apply a migration twice. Returns the version reached.
 */
export function migrate(db: Database, target = LATEST_SCHEMA_VERSION): number {
  db.exec(SCHEMA_VERSION_DDL);
  const found = schemaVersion(db);
  if (found > LATEST_SCHEMA_VERSION) throw new SchemaTooNewError(found, LATEST_SCHEMA_VERSION);
  const record = db.prepare<[number, string, number]>('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)');
  for (const m of [...MIGRATIONS].sort((a, b) => a.version - b.version)) {
    if (m.version > target) break;
    db.transaction(() => {
      if (schemaVersion(db) >= m.version) return;
      db.exec(m.sql);
      m.backfill?.(db);
      record.run(m.version, m.description, Date.now());
    }).immediate();
  }
  return schemaVersion(db);
}
