/**
 * The SQLite store itself, synchronous underneath (better-sqlite3): schema by ordered
 * migrations (sqlite-migrations.ts), message search by FTS5. SqliteStore (sqlite.ts) runs
 * it in a worker thread, or inline; nothing else should use it directly.
 *
 * Crash safety. The file is opened in WAL mode. A transaction is committed once its frames,
 * ending in a commit frame, are written to the -wal file; from then on it is in the
 * operating system's page cache and survives the death of this process (kill -9, OOM,
 * uncaught exception): the next open replays the WAL. That holds for any `synchronous`
 * setting; what synchronous=FULL adds is an fsync of the WAL on every commit, which only
 * matters when the machine itself loses power or the kernel crashes. The requirement is
 * "a committed message is never lost on kill -9" (a process crash), so the default is
 * synchronous=NORMAL (no fsync per commit, and WAL mode never corrupts the database on
 * power loss either: NORMAL may only lose the last transactions). Deployments that want
 * power-loss durability too set `synchronous: 'full'` (see bench/record-store.ts for the cost).
 *
 * Every write goes through one WriteQueue (group commit): its promise resolves after the
 * transaction holding it committed, so the user plane answers MSRP 200 only for messages
 * that are in the file. Reads first run any queued writes, so they see every earlier write.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { aorKey } from './aor.js';
import { applyRosterEvent } from './roster.js';
import { DEFAULT_MAX_SEARCH_TEXT, ftsQuery, parseSearchText, searchableText } from './search-text.js';
import { migrate, schemaVersion } from './sqlite-migrations.js';
import {
  historyFromRow,
  messageFromRow,
  participantFromRow,
  participantParams,
  PATCH_COLUMNS,
  rosterFromRow,
  type HistoryRow,
  type MessageRow,
  type ParticipantRow,
  type RosterRow,
} from './sqlite-rows.js';
import { WriteQueue, type WriteQueueStats } from './write-queue.js';
import {
  NoSuchHistoryError,
  SNIPPET_CLOSE,
  SNIPPET_ELLIPSIS,
  SNIPPET_OPEN,
  StoreClosedError,
  type ConferenceNotification,
  type HistoryFilter,
  type HistoryPatch,
  type HistoryRecord,
  type HistoryStore,
  type MessageQuery,
  type NewHistory,
  type NewMessage,
  type Participant,
  type RosterEvent,
  type SearchHit,
  type SearchQuery,
  type SipEvent,
  type StoredMessage,
} from './types.js';

export interface SqliteEngineOptions {
  /** 'normal' (default): durable against process crashes; 'full': also against power loss (fsync per commit). */
  synchronous?: 'normal' | 'full';
  /**
   * WAL pages between automatic checkpoints (default 8192, 32 MiB). A checkpoint writes each
   * page changed since the last one once: the hot pages (index tails, FTS segments) change
   * in nearly every commit, so a longer interval writes them far fewer times.
   */
  walAutocheckpointPages?: number;
  /** Most writes per transaction (default 4096). 1 disables group commit (benchmarks only). */
  maxBatch?: number;
  /** Most writes waiting for a transaction before StoreOverloadedError (default 100000). */
  maxQueued?: number;
  /** How long a write waits for another process's lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Characters of each message kept for search (default 64 Ki). */
  maxSearchText?: number;
}

const MAX_SEARCH_LIMIT = 1000;
const DEFAULT_SEARCH_LIMIT = 50;
const SNIPPET_WORDS = 12;

/** Bound of the per-history caches (pk, last seq); cleared when exceeded. */
const CACHE_LIMIT = 10_000;

type Db = Database.Database;
type Param = string | number | bigint | Buffer | null;

const HISTORY_COLUMNS = `h.id, h.name, h.type, h.owner, h.conference_factory, h.im_users, h.refer_call_id, h.client_allow,
  h.client_contact, h.refer_headers, h.created_at, h.state, h.session_call_id, h.conference_uri, h.server_allow,
  h.session_headers, h.started_at, h.ended_at, h.end_reason, h.instance`;

// The statement map's type is its definition (Statements below).
function prepareStatements(db: Db) {
  const byId = '(SELECT pk FROM histories WHERE id = ?)';
  return {
    pk: db.prepare<[string], { pk: number }>('SELECT pk FROM histories WHERE id = ?'),
    insertHistory: db.prepare<Param[]>(
      `INSERT INTO histories (id, name, type, owner, conference_factory, im_users, refer_call_id, client_allow,
         client_contact, refer_headers, created_at, instance, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'inviting')`,
    ),
    insertMember: db.prepare<[string, number | bigint, string]>('INSERT OR IGNORE INTO history_members (aor, history, role) VALUES (?, ?, ?)'),
    insertSipEvent: db.prepare<Param[]>('INSERT INTO sip_events (history, at, direction, summary, headers) VALUES (?, ?, ?, ?, ?)'),
    insertNotification: db.prepare<Param[]>('INSERT INTO conference_notifications (history, at, content_type, body) VALUES (?, ?, ?, ?)'),
    maxSeq: db.prepare<[number], { seq: number | null }>('SELECT MAX(seq) AS seq FROM messages WHERE history = ?'),
    insertMessage: db.prepare<Param[]>(
      `INSERT INTO messages (history, seq, at, sender, recipients, content_type, body, imdn_message_id, msrp_message_id,
         cpim_headers, text, text_is_body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertRoster: db.prepare<Param[]>(
      'INSERT INTO roster_events (history, at, kind, user, display_name, endpoint, status, method, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    participant: db.prepare<[number, string], ParticipantRow>('SELECT * FROM participants WHERE history = ? AND aor = ?'),
    upsertParticipant: db.prepare<Param[]>(
      `INSERT INTO participants (history, aor, user, display_name, present, status, joined_at, left_at, joining_method,
         disconnection_method, disconnection_reason, last_event_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (history, aor) DO UPDATE SET user = excluded.user, display_name = excluded.display_name,
         present = excluded.present, status = excluded.status, joined_at = excluded.joined_at, left_at = excluded.left_at,
         joining_method = excluded.joining_method, disconnection_method = excluded.disconnection_method,
         disconnection_reason = excluded.disconnection_reason, last_event_at = excluded.last_event_at`,
    ),
    deleteHistory: db.prepare<[string]>('DELETE FROM histories WHERE id = ?'),
    getHistory: db.prepare<[string], HistoryRow>(`SELECT ${HISTORY_COLUMNS} FROM histories h WHERE h.id = ?`),
    sipEvents: db.prepare<[string], { at: number; direction: 'in' | 'out'; summary: string; headers: string }>(
      `SELECT at, direction, summary, headers FROM sip_events WHERE history = ${byId} ORDER BY id`,
    ),
    notifications: db.prepare<[string], ConferenceNotification>(
      `SELECT at, content_type AS contentType, body FROM conference_notifications WHERE history = ${byId} ORDER BY id`,
    ),
    messages: db.prepare<[string, number, number], MessageRow>(
      `SELECT seq, at, sender, recipients, content_type, body, imdn_message_id, msrp_message_id, cpim_headers
         FROM messages WHERE history = ${byId} AND seq > ? ORDER BY seq LIMIT ?`,
    ),
    rosterEvents: db.prepare<[string], RosterRow>(
      `SELECT at, kind, user, display_name, endpoint, status, method, reason FROM roster_events WHERE history = ${byId} ORDER BY id`,
    ),
    participants: db.prepare<[string], ParticipantRow>(`SELECT * FROM participants WHERE history = ${byId} ORDER BY rowid`),
    visibleTo: db.prepare<[string], HistoryRow>(
      `SELECT ${HISTORY_COLUMNS} FROM histories h WHERE h.pk IN (SELECT history FROM history_members WHERE aor = ?)
         ORDER BY h.created_at, h.pk`,
    ),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

export class SqliteEngine implements HistoryStore {
  private readonly writes: WriteQueue;
  /** pk and last seq per history id, for histories written to since open (dropped on rollback). */
  private readonly pks = new Map<string, number>();
  private readonly lastSeq = new Map<number, number>();
  private readonly patchStatements = new Map<string, Database.Statement<Param[]>>();
  private readonly maxSearchText: number;
  private closed = false;
  private readonly s: Statements;

  private constructor(
    private readonly db: Db,
    options: SqliteEngineOptions,
  ) {
    this.maxSearchText = options.maxSearchText ?? DEFAULT_MAX_SEARCH_TEXT;
    const tx = db.transaction((fn: () => void) => fn());
    this.writes = new WriteQueue(
      (fn) => tx.immediate(fn),
      () => {
        this.pks.clear();
        this.lastSeq.clear();
      },
      { maxBatch: options.maxBatch ?? 4096, maxQueued: options.maxQueued ?? 100_000 },
    );
    this.s = prepareStatements(db);
  }

  /** Opens (creating the directory and file when missing) and migrates; ':memory:' for a throwaway database. */
  static open(path: string, options: SqliteEngineOptions = {}): SqliteEngine {
    const inMemory = path === ':memory:' || path === '';
    if (!inMemory) mkdirSync(dirname(resolve(path)), { recursive: true, mode: 0o700 });
    const db = new Database(path, { timeout: options.busyTimeoutMs ?? 5000 });
    try {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (!inMemory && mode !== 'wal') throw new Error(`${path}: cannot use WAL journal mode (got ${String(mode)})`);
      db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma('foreign_keys = ON');
      db.pragma(`wal_autocheckpoint = ${options.walAutocheckpointPages ?? 8192}`);
      // What a checkpoint leaves of the -wal file.
      db.pragma('journal_size_limit = 67108864');
      migrate(db);
      return new SqliteEngine(db, options);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  // ---- writes (all through the queue) ----

  createHistory(h: NewHistory): Promise<HistoryRecord> {
    const rec: HistoryRecord = { ...structuredClone(h), id: randomUUID(), state: 'inviting' };
    return this.writes.enqueue(() => {
      const pk = this.s.insertHistory.run(
        rec.id,
        rec.name,
        rec.type,
        rec.owner,
        rec.conferenceFactory,
        JSON.stringify(rec.imUsers),
        rec.referCallId,
        JSON.stringify(rec.clientAllow),
        rec.clientContact ?? null,
        JSON.stringify(rec.referHeaders),
        rec.createdAt,
        rec.instance ?? null,
      ).lastInsertRowid;
      this.s.insertMember.run(aorKey(rec.owner), pk, 'owner');
      for (const u of rec.imUsers) this.s.insertMember.run(aorKey(u), pk, 'invited');
      return structuredClone(rec);
    });
  }

  updateHistory(id: string, patch: HistoryPatch): Promise<void> {
    const keys = (Object.keys(PATCH_COLUMNS) as (keyof HistoryPatch)[]).filter((k) => k in patch);
    const values: Param[] = keys.map((k) => (PATCH_COLUMNS[k][1] as (v: unknown) => Param)(patch[k]));
    return this.writes.enqueue(() => {
      if (keys.length === 0) return void this.pkOf(id);
      const changed = this.patchStatement(keys).run(...values, id).changes;
      if (changed === 0) throw new NoSuchHistoryError(id);
    });
  }

  addSipEvent(id: string, ev: SipEvent): Promise<void> {
    const row: Param[] = [0, ev.at, ev.direction, ev.summary, JSON.stringify(ev.headers)];
    return this.writes.enqueue(() => {
      row[0] = this.pkOf(id);
      this.s.insertSipEvent.run(...row);
    });
  }

  addConferenceNotification(id: string, n: ConferenceNotification): Promise<void> {
    const row: Param[] = [0, n.at, n.contentType, n.body];
    return this.writes.enqueue(() => {
      row[0] = this.pkOf(id);
      this.s.insertNotification.run(...row);
    });
  }

  addMessage(historyId: string, m: NewMessage): Promise<number> {
    // Everything but the seq is computed now, outside the transaction, and copied (the caller may reuse its buffer).
    const row: Param[] = [
      0,
      0,
      m.at,
      m.sender,
      JSON.stringify(m.recipients),
      m.contentType,
      Buffer.from(m.body),
      m.imdnMessageId ?? null,
      m.msrpMessageId ?? null,
      m.cpimHeaders === undefined ? null : JSON.stringify(m.cpimHeaders),
      null,
      0,
    ];
    const text = searchableText(m.contentType, m.body, this.maxSearchText);
    if (text !== undefined) {
      // Most bodies are plain UTF-8 text: then the body is the text, and is not stored twice.
      if (Buffer.byteLength(text) === m.body.length && Buffer.from(text).equals(m.body)) row[11] = 1;
      else row[10] = text;
    }
    return this.writes.enqueue(() => {
      const pk = this.pkOf(historyId);
      const seq = (this.lastSeq.get(pk) ?? this.s.maxSeq.get(pk)?.seq ?? 0) + 1;
      row[0] = pk;
      row[1] = seq;
      this.s.insertMessage.run(...row);
      this.lastSeq.set(pk, seq);
      return seq;
    });
  }

  addRosterEvent(historyId: string, e: RosterEvent): Promise<void> {
    const ev = structuredClone(e);
    const aor = aorKey(ev.user);
    return this.writes.enqueue(() => {
      const pk = this.pkOf(historyId);
      this.s.insertRoster.run(
        pk,
        ev.at,
        ev.kind,
        ev.user,
        ev.displayName ?? null,
        ev.endpoint ?? null,
        ev.status ?? null,
        ev.method ?? null,
        ev.reason ?? null,
      );
      const prevRow = this.s.participant.get(pk, aor);
      const next = applyRosterEvent(prevRow === undefined ? undefined : participantFromRow(prevRow), ev);
      this.s.upsertParticipant.run(...participantParams(pk, aor, next));
      this.s.insertMember.run(aor, pk, 'roster');
    });
  }

  deleteHistory(id: string): Promise<boolean> {
    return this.writes.enqueue(() => {
      // ON DELETE CASCADE removes every child row; the messages trigger keeps FTS in step.
      const pk = this.s.pk.get(id)?.pk;
      if (pk === undefined) return false;
      this.s.deleteHistory.run(id);
      this.pks.delete(id);
      this.lastSeq.delete(pk);
      return true;
    });
  }

  // ---- reads (after the queued writes) ----

  async getHistory(id: string): Promise<HistoryRecord | undefined> {
    this.beforeRead();
    const r = this.s.getHistory.get(id);
    return r === undefined ? undefined : historyFromRow(r);
  }

  async listHistories(filter: HistoryFilter = {}): Promise<HistoryRecord[]> {
    this.beforeRead();
    const where: string[] = [];
    const params: Param[] = [];
    if (filter.owner !== undefined) {
      where.push('h.owner = ?');
      params.push(filter.owner);
    }
    if (filter.state !== undefined) {
      where.push('h.state = ?');
      params.push(filter.state);
    }
    if (filter.instance !== undefined) {
      where.push('h.instance = ?');
      params.push(filter.instance);
    }
    params.push(filter.limit ?? -1);
    const sql = `SELECT ${HISTORY_COLUMNS} FROM histories h ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''}
      ORDER BY h.created_at, h.pk LIMIT ?`;
    return this.db.prepare<Param[], HistoryRow>(sql).all(...params).map(historyFromRow);
  }

  async sipEvents(id: string): Promise<SipEvent[]> {
    this.beforeRead();
    return this.s.sipEvents.all(id).map((r) => ({ at: r.at, direction: r.direction, summary: r.summary, headers: JSON.parse(r.headers) as SipEvent['headers'] }));
  }

  async conferenceNotifications(id: string): Promise<ConferenceNotification[]> {
    this.beforeRead();
    return this.s.notifications.all(id);
  }

  async messages(historyId: string, q: MessageQuery = {}): Promise<StoredMessage[]> {
    this.beforeRead();
    return this.s.messages.all(historyId, q.afterSeq ?? 0, q.limit === undefined ? -1 : Math.max(0, q.limit)).map(messageFromRow);
  }

  async rosterEvents(historyId: string): Promise<RosterEvent[]> {
    this.beforeRead();
    return this.s.rosterEvents.all(historyId).map(rosterFromRow);
  }

  async participants(historyId: string): Promise<Participant[]> {
    this.beforeRead();
    return this.s.participants.all(historyId).map(participantFromRow);
  }

  async searchMessages(q: SearchQuery): Promise<SearchHit[]> {
    this.beforeRead();
    const terms = parseSearchText(q.text);
    const limit = Math.min(q.limit ?? DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT);
    if (terms.length === 0 || limit <= 0) return [];
    const params: Param[] = [SNIPPET_OPEN, SNIPPET_CLOSE, SNIPPET_ELLIPSIS, SNIPPET_WORDS, ftsQuery(terms)];
    let filters = '';
    if (q.owner !== undefined) {
      filters += ' AND h.owner = ?';
      params.push(q.owner);
    }
    if (q.participant !== undefined) {
      filters += ' AND m.history IN (SELECT history FROM history_members WHERE aor = ?)';
      params.push(aorKey(q.participant));
    }
    params.push(limit);
    const sql = `SELECT h.id AS historyId, m.seq, m.at, m.sender, snippet(messages_fts, 0, ?, ?, ?, ?) AS snippet
      FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid JOIN histories h ON h.pk = m.history
      WHERE messages_fts MATCH ?${filters} ORDER BY messages_fts.rowid DESC LIMIT ?`;
    return this.db.prepare<Param[], SearchHit>(sql).all(...params);
  }

  async historiesVisibleTo(aor: string): Promise<HistoryRecord[]> {
    this.beforeRead();
    return this.s.visibleTo.all(aorKey(aor)).map(historyFromRow);
  }

  // ---- operations ----

  /** Commits queued writes, checkpoints the WAL into the main file and closes. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.writes.close();
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.pragma('optimize');
    } finally {
      this.db.close();
    }
  }

  /** Problems found by SQLite's integrity_check and FTS5's own check; [] when the file is sound. */
  integrityCheck(): string[] {
    this.beforeRead();
    const rows = this.db.pragma('integrity_check') as { integrity_check: string }[];
    const problems = rows.map((r) => r.integrity_check).filter((s) => s !== 'ok');
    try {
      this.db.prepare("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)").run();
    } catch (e) {
      problems.push(`messages_fts: ${String(e)}`);
    }
    return problems;
  }

  schemaVersion(): number {
    return schemaVersion(this.db);
  }

  /** Group-commit counters: writes per commit is the batching actually achieved. */
  writeStats(): WriteQueueStats {
    return this.writes.snapshot();
  }

  /** Commits every queued write now (the worker calls it after taking in all pending calls). */
  flush(): void {
    if (!this.closed) this.writes.drain();
  }

  private beforeRead(): void {
    if (this.closed) throw new StoreClosedError();
    this.writes.drain();
  }

  /** The history's pk (inside a write: cached until a rollback); NoSuchHistoryError when there is none. */
  private pkOf(id: string): number {
    let pk = this.pks.get(id);
    if (pk === undefined) {
      pk = this.s.pk.get(id)?.pk;
      if (pk === undefined) throw new NoSuchHistoryError(id);
      if (this.pks.size >= CACHE_LIMIT) {
        this.pks.clear();
        this.lastSeq.clear();
      }
      this.pks.set(id, pk);
    }
    return pk;
  }

  private patchStatement(keys: readonly (keyof HistoryPatch)[]): Database.Statement<Param[]> {
    const sig = keys.join(',');
    let st = this.patchStatements.get(sig);
    if (st === undefined) {
      st = this.db.prepare<Param[]>(`UPDATE histories SET ${keys.map((k) => `${PATCH_COLUMNS[k][0]} = ?`).join(', ')} WHERE id = ?`);
      this.patchStatements.set(sig, st);
    }
    return st;
  }
}
