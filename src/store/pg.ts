/**
 * The PostgreSQL HistoryStore, for several im-history instances (e.g. behind a Kamailio
 * dispatcher) sharing one database; same contract as the SQLite backend (types.ts, the
 * suite in test/store/contract.ts). npm `pg` with a Pool; schema in pg-migrations.ts;
 * search in pg-search.ts.
 *
 * Writes. Every write goes into one queue and is applied in call order; the writes waiting
 * when a transaction starts share it (group commit, at most maxBatch), and each write's
 * promise settles only after COMMIT returned. One write transaction is in flight at a
 * time per store; the writes arriving meanwhile make the next batch, so the batch grows
 * with the load and the per-commit cost (round trips, WAL flush) is shared.
 *
 * A transaction first locks the rows of every history its writes name, in pk order
 * (SELECT ... FOR NO KEY UPDATE: other instances writing the same histories wait, and two
 * instances lock in the same order so they cannot deadlock on them), reads each history's
 * `last_seq`, gives the messages seq last_seq+1, +2, ... in call order, inserts them with
 * one multi-row INSERT, and stores the new last_seq. A rollback undoes the counter with
 * the rows, so seqs stay 1, 2, 3... without gaps whatever the number of writers.
 *
 * Failure isolation (as the SQLite WriteQueue): a write that fails its own check before
 * sending anything (unknown history) is rejected alone and the batch goes on; a write that
 * fails in the database aborts the batch, which is rolled back and rerun one write per
 * transaction, so only the bad write rejects. Deadlocks and serialization failures are
 * retried; lost connections reject the batch.
 *
 * Reads run on other pool connections after every write issued before them has settled,
 * so a read sees every earlier write, awaited or not. More than maxQueued writes waiting
 * is StoreOverloadedError.
 */
import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import { aorKey } from './aor.js';
import { pgMigrate, pgSchemaVersion } from './pg-migrations.js';
import { tsqueryLiteral, tsvectorLiteral } from './pg-search.js';
import { applyRosterEvent } from './roster.js';
import { DEFAULT_MAX_SEARCH_TEXT, matchText, parseSearchText, searchableText } from './search-text.js';
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
import type { WriteQueueStats } from './write-queue.js';
import {
  NoSuchHistoryError,
  SchemaTooNewError,
  SNIPPET_CLOSE,
  SNIPPET_ELLIPSIS,
  SNIPPET_OPEN,
  StoreClosedError,
  StoreOpenError,
  StoreOverloadedError,
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

export interface PgStoreOptions {
  /**
   * Schema holding the tables (created when missing), for several im-history deployments
   * or a test per schema in one database; default: the server's search_path (public).
   */
  schema?: string;
  /** Most connections (default 10): one for the write transaction, the rest for reads. */
  poolSize?: number;
  /** Most writes waiting for a transaction before StoreOverloadedError (default 100000). */
  maxQueued?: number;
  /** Most writes in one transaction (default 1000). 1 disables group commit (benchmarks only). */
  maxBatch?: number;
  /** Bound for opening a connection (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Server-side statement_timeout (default 30000 ms; 0 = none). */
  statementTimeoutMs?: number;
  /** Characters of each message kept for search (default 64 Ki). */
  maxSearchText?: number;
  /** application_name shown in pg_stat_activity (default im-history). */
  applicationName?: string;
  /** Where errors of idle connections go (they are otherwise dropped, and the pool replaces the connection). */
  onIdleError?: (e: Error) => void;
}

const MAX_SEARCH_LIMIT = 1000;
const DEFAULT_SEARCH_LIMIT = 50;
const SNIPPET_WORDS = 12;
const RETRIES = 3;
const DEFAULT_POOL_SIZE = 10;
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const HISTORY_COLUMNS = `h.id, h.name, h.type, h.owner, h.conference_factory, h.im_users, h.refer_call_id, h.client_allow,
  h.client_contact, h.refer_headers, h.created_at, h.state, h.session_call_id, h.conference_uri, h.server_allow,
  h.session_headers, h.started_at, h.ended_at, h.end_reason, h.instance`;
const PK_OF = '(SELECT pk FROM histories WHERE id = $1)';

// bigint columns (times, keys) as numbers: ms since the epoch and row counts stay far below 2^53.
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** The URL with its password masked, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** An error as one line (AggregateError from a multi-address connect included). */
export function errorText(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length > 0) return e.errors.map(errorText).join('; ');
  if (e instanceof Error) return e.message !== '' ? e.message : ((e as NodeJS.ErrnoException).code ?? e.name);
  return String(e);
}

/** A write as the queue runs it. */
interface Op {
  /** Histories it names: locked at the start of its transaction. */
  ids: readonly string[];
  run(tx: Tx): unknown;
}

interface Pending {
  op: Op;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface Locked {
  pk: number;
  lastSeq: number;
  dirty: boolean;
}

/** A message as inserted, computed before its transaction (all but pk and seq). */
interface MessageParams {
  at: number;
  sender: string;
  recipients: string;
  contentType: string;
  body: Buffer;
  imdn: string | null;
  msrp: string | null;
  cpim: string | null;
  text: string | null;
  textIsBody: boolean;
  tsv: string | null;
}

/** One write transaction: the locked histories and the messages waiting for their INSERT. */
class Tx {
  queries = 0;
  readonly histories = new Map<string, Locked>();
  private readonly rows: { pk: number; seq: number; m: MessageParams }[] = [];

  constructor(private readonly client: pg.PoolClient) {}

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>> {
    this.queries++;
    return this.client.query<R>(prepared(sql, params));
  }

  async lock(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const r = await this.query<{ pk: number; id: string; last_seq: number }>(
      'SELECT pk, id, last_seq FROM histories WHERE id = ANY($1::text[]) ORDER BY pk FOR NO KEY UPDATE',
      [ids],
    );
    for (const row of r.rows) this.histories.set(row.id, { pk: row.pk, lastSeq: row.last_seq, dirty: false });
  }

  history(id: string): Locked {
    const h = this.histories.get(id);
    if (h === undefined) throw new NoSuchHistoryError(id);
    return h;
  }

  addMessage(id: string, m: MessageParams): number {
    const h = this.history(id);
    const seq = ++h.lastSeq;
    h.dirty = true;
    this.rows.push({ pk: h.pk, seq, m });
    return seq;
  }

  /** Inserts the messages added so far, in one statement, in call order (their ids are arrival order). */
  async flushMessages(): Promise<void> {
    if (this.rows.length === 0) return;
    const rows = this.rows.splice(0);
    const col = <T>(f: (r: (typeof rows)[number]) => T): T[] => rows.map(f);
    await this.query(
      `INSERT INTO messages (history, seq, at, sender, recipients, content_type, body, imdn_message_id, msrp_message_id,
         cpim_headers, search_text, text_is_body, tsv)
       SELECT * FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bytea[], $8::text[],
         $9::text[], $10::text[], $11::text[], $12::boolean[], $13::tsvector[])`,
      [
        col((r) => r.pk),
        col((r) => r.seq),
        col((r) => r.m.at),
        col((r) => r.m.sender),
        col((r) => r.m.recipients),
        col((r) => r.m.contentType),
        col((r) => r.m.body),
        col((r) => r.m.imdn),
        col((r) => r.m.msrp),
        col((r) => r.m.cpim),
        col((r) => r.m.text),
        col((r) => r.m.textIsBody),
        col((r) => r.m.tsv),
      ],
    );
  }

  /** Before COMMIT: the last messages, and the counters they advanced. */
  async finish(): Promise<void> {
    await this.flushMessages();
    const dirty = [...this.histories.values()].filter((h) => h.dirty);
    if (dirty.length === 0) return;
    await this.query('UPDATE histories h SET last_seq = v.seq FROM unnest($1::bigint[], $2::int[]) AS v (pk, seq) WHERE h.pk = v.pk', [
      dirty.map((h) => h.pk),
      dirty.map((h) => h.lastSeq),
    ]);
  }
}

/**
 * Every statement of the store is one of a bounded set of texts (patch and filter variants
 * included): each is a named prepared statement, parsed and planned once per connection
 * instead of at every call (a third of the server's CPU per small transaction).
 */
const statementNames = new Map<string, string>();
function prepared(text: string, values: unknown[] | undefined): pg.QueryConfig {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `imh_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return { name, text, ...(values !== undefined ? { values } : {}) };
}

/** Errors after which the same transaction may succeed when simply run again. */
function retryable(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === '40P01' || code === '40001';
}

/** The connection is gone (server ended it, network, server shutting down): nothing more can be sent on it. */
function connectionLost(e: unknown): boolean {
  if (e instanceof pg.DatabaseError) return typeof e.code === 'string' && /^(08|57P)/.test(e.code);
  return e instanceof Error && /Connection terminated|ECONNRESET|EPIPE|not queryable|Client has encountered a connection error/i.test(e.message);
}

/** A server error about the data of a write (rerun the batch one by one), not about the connection or the server. */
function dataError(e: unknown): boolean {
  if (!(e instanceof pg.DatabaseError) || typeof e.code !== 'string') return false;
  return !/^(08|53|57|58|XX)/.test(e.code);
}

/**
 * The pool's connections. Each keeps an 'error' listener for its whole life: a connection the
 * server ends (pg_terminate_backend, a restart) while the pool is ending it, or between the
 * pool's idle listener and ours, must not become an uncaught 'error' event that kills the
 * process. Nothing is lost by ignoring it here: the query in flight rejects with the error,
 * and a checked-out client is marked broken by its own listener (read(), transaction()).
 */
class StoreClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', () => undefined);
  }
}

export class PgStore implements HistoryStore {
  private queue: Pending[] = [];
  private running = false;
  private scheduled = false;
  private closing: Promise<void> | undefined;
  private enqueued = 0;
  private settled = 0;
  private barriers: { target: number; resolve: () => void }[] = [];
  private readonly stats: WriteQueueStats = { commits: 0, writes: 0, rollbacks: 0, largestBatch: 0 };
  private readonly patchSql = new Map<string, string>();
  private readonly maxQueued: number;
  private readonly maxBatch: number;
  private readonly maxSearchText: number;
  /** Attempts of a transaction or read whose connection was lost before anything was committed. */
  private readonly maxAttempts: number;

  private constructor(
    private readonly pool: pg.Pool,
    /** The URL with the password masked, for messages. */
    readonly where: string,
    options: PgStoreOptions,
  ) {
    this.maxQueued = options.maxQueued ?? 100_000;
    this.maxBatch = Math.max(1, options.maxBatch ?? 1000);
    this.maxSearchText = options.maxSearchText ?? DEFAULT_MAX_SEARCH_TEXT;
    this.maxAttempts = (options.poolSize ?? DEFAULT_POOL_SIZE) + 2;
  }

  /**
   * Connects and migrates. StoreOpenError (naming the server, never the password) when the
   * URL is bad or the server cannot be reached or refuses us; SchemaTooNewError when the
   * database was written by a newer im-history.
   */
  static async open(url: string, options: PgStoreOptions = {}): Promise<PgStore> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new StoreOpenError(`invalid PostgreSQL URL (expected postgresql://user:password@host:port/database): ${redactUrl(url)}`);
    }
    if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
      throw new StoreOpenError(`invalid PostgreSQL URL ${redactUrl(url)}: the scheme must be postgresql: or postgres:`);
    }
    const schema = options.schema;
    if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
      throw new StoreOpenError(`invalid PostgreSQL schema name "${schema}": lower-case letters, digits and _, not starting with a digit`);
    }
    const where = redactUrl(url) + (schema === undefined ? '' : ` (schema ${schema})`);
    const pool = new pg.Pool({
      Client: StoreClient,
      ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
      connectionString: url,
      max: options.poolSize ?? DEFAULT_POOL_SIZE,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      statement_timeout: options.statementTimeoutMs ?? 30_000,
      application_name: options.applicationName ?? 'im-history',
      // An idle store does not keep the process alive (as the SQLite store).
      allowExitOnIdle: true,
      types,
    });
    pool.on('error', (e) => options.onIdleError?.(e));
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw new StoreOpenError(`cannot connect to PostgreSQL at ${where}: ${errorText(e)}`, { cause: e });
    }
    const onError = (): void => undefined;
    client.on('error', onError);
    try {
      if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await pgMigrate(client);
    } catch (e) {
      client.release(true);
      await pool.end().catch(() => undefined);
      if (e instanceof SchemaTooNewError) throw new SchemaTooNewError(e.found, e.supported);
      throw new StoreOpenError(`PostgreSQL at ${where}: cannot prepare the schema: ${errorText(e)}`, { cause: e });
    }
    client.off('error', onError);
    client.release();
    return new PgStore(pool, where, options);
  }

  // ---- writes ----

  createHistory(h: NewHistory): Promise<HistoryRecord> {
    const rec: HistoryRecord = { ...structuredClone(h), id: randomUUID(), state: 'inviting' };
    if (rec.instance === undefined) delete rec.instance;
    const members = [aorKey(rec.owner), ...rec.imUsers.map(aorKey)];
    const roles = ['owner', ...rec.imUsers.map(() => 'invited')];
    return this.enqueue([], async (tx) => {
      const r = await tx.query<{ pk: number }>(
        `INSERT INTO histories (id, name, type, owner, conference_factory, im_users, refer_call_id, client_allow,
           client_contact, refer_headers, created_at, instance, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'inviting')
         RETURNING pk`,
        [
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
        ],
      );
      const pk = r.rows[0]!.pk;
      await tx.query(
        `INSERT INTO history_members (aor, history, role) SELECT a, $2, r FROM unnest($1::text[], $3::text[]) AS v (a, r)
         ON CONFLICT DO NOTHING`,
        [members, pk, roles],
      );
      tx.histories.set(rec.id, { pk, lastSeq: 0, dirty: false });
      return structuredClone(rec);
    });
  }

  updateHistory(id: string, patch: HistoryPatch): Promise<void> {
    const keys = (Object.keys(PATCH_COLUMNS) as (keyof HistoryPatch)[]).filter((k) => k in patch);
    const values = keys.map((k) => (PATCH_COLUMNS[k][1] as (v: unknown) => unknown)(patch[k]));
    return this.enqueue([id], async (tx) => {
      const h = tx.history(id);
      if (keys.length === 0) return;
      await tx.query(this.patchStatement(keys), [...values, h.pk]);
    });
  }

  addSipEvent(id: string, ev: SipEvent): Promise<void> {
    const params = [ev.at, ev.direction, ev.summary, JSON.stringify(ev.headers)];
    return this.enqueue([id], async (tx) => {
      const h = tx.history(id);
      await tx.query('INSERT INTO sip_events (history, at, direction, summary, headers) VALUES ($1, $2, $3, $4, $5)', [h.pk, ...params]);
    });
  }

  addConferenceNotification(id: string, n: ConferenceNotification): Promise<void> {
    const params = [n.at, n.contentType, n.body];
    return this.enqueue([id], async (tx) => {
      const h = tx.history(id);
      await tx.query('INSERT INTO conference_notifications (history, at, content_type, body) VALUES ($1, $2, $3, $4)', [h.pk, ...params]);
    });
  }

  addMessage(historyId: string, m: NewMessage): Promise<number> {
    // Everything but pk and seq is computed now, outside the transaction, and copied (the caller may reuse its buffer).
    const params: MessageParams = {
      at: m.at,
      sender: m.sender,
      recipients: JSON.stringify(m.recipients),
      contentType: m.contentType,
      body: Buffer.from(m.body),
      imdn: m.imdnMessageId ?? null,
      msrp: m.msrpMessageId ?? null,
      cpim: m.cpimHeaders === undefined ? null : JSON.stringify(m.cpimHeaders),
      text: null,
      textIsBody: false,
      tsv: null,
    };
    const text = searchableText(m.contentType, m.body, this.maxSearchText);
    if (text !== undefined) {
      params.tsv = tsvectorLiteral(text) ?? null;
      // PostgreSQL text cannot hold NUL: such a text is kept with NULs as spaces (the body stays byte-exact).
      if (text.includes('\0')) params.text = text.replace(/\0/g, ' ');
      // Most bodies are plain UTF-8 text: then the body is the text, and is not stored twice.
      else if (Buffer.byteLength(text) === m.body.length && Buffer.from(text).equals(m.body)) params.textIsBody = true;
      else params.text = text;
    }
    return this.enqueue([historyId], (tx) => tx.addMessage(historyId, params));
  }

  addRosterEvent(historyId: string, e: RosterEvent): Promise<void> {
    const ev = structuredClone(e);
    const aor = aorKey(ev.user);
    return this.enqueue([historyId], async (tx) => {
      const { pk } = tx.history(historyId);
      await tx.query(
        `INSERT INTO roster_events (history, at, kind, user_uri, display_name, endpoint, status, method, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [pk, ev.at, ev.kind, ev.user, ev.displayName ?? null, ev.endpoint ?? null, ev.status ?? null, ev.method ?? null, ev.reason ?? null],
      );
      const prev = await tx.query<ParticipantRow>(`SELECT ${PARTICIPANT_COLUMNS} FROM participants WHERE history = $1 AND aor = $2`, [pk, aor]);
      const next = applyRosterEvent(prev.rows[0] === undefined ? undefined : participantFromRow(prev.rows[0]), ev);
      const p: unknown[] = participantParams(pk, aor, next);
      p[4] = next.present;
      await tx.query(
        `INSERT INTO participants (history, aor, user_uri, display_name, present, status, joined_at, left_at, joining_method,
           disconnection_method, disconnection_reason, last_event_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (history, aor) DO UPDATE SET user_uri = excluded.user_uri, display_name = excluded.display_name,
           present = excluded.present, status = excluded.status, joined_at = excluded.joined_at, left_at = excluded.left_at,
           joining_method = excluded.joining_method, disconnection_method = excluded.disconnection_method,
           disconnection_reason = excluded.disconnection_reason, last_event_at = excluded.last_event_at`,
        p,
      );
      await tx.query("INSERT INTO history_members (aor, history, role) VALUES ($1, $2, 'roster') ON CONFLICT DO NOTHING", [aor, pk]);
    });
  }

  deleteHistory(id: string): Promise<boolean> {
    return this.enqueue([id], async (tx) => {
      if (!tx.histories.has(id)) return false;
      // Messages of this batch are inserted first, then go with the history (ON DELETE CASCADE).
      await tx.flushMessages();
      await tx.query('DELETE FROM histories WHERE pk = $1', [tx.histories.get(id)!.pk]);
      tx.histories.delete(id);
      return true;
    });
  }

  // ---- reads (after every write issued before them) ----

  async getHistory(id: string): Promise<HistoryRecord | undefined> {
    const r = await this.read<HistoryRow>(`SELECT ${HISTORY_COLUMNS} FROM histories h WHERE h.id = $1`, [id]);
    return r[0] === undefined ? undefined : historyFromRow(r[0]);
  }

  async listHistories(filter: HistoryFilter = {}): Promise<HistoryRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown): void => {
      params.push(v);
      where.push(`${sql} = $${params.length}`);
    };
    if (filter.owner !== undefined) add('h.owner', filter.owner);
    if (filter.state !== undefined) add('h.state', filter.state);
    if (filter.instance !== undefined) add('h.instance', filter.instance);
    params.push(filter.limit === undefined ? null : Math.max(0, filter.limit));
    const sql = `SELECT ${HISTORY_COLUMNS} FROM histories h ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''}
      ORDER BY h.created_at, h.pk LIMIT $${params.length}`;
    return (await this.read<HistoryRow>(sql, params)).map(historyFromRow);
  }

  async sipEvents(id: string): Promise<SipEvent[]> {
    const rows = await this.read<{ at: number; direction: 'in' | 'out'; summary: string; headers: string }>(
      `SELECT at, direction, summary, headers FROM sip_events WHERE history = ${PK_OF} ORDER BY id`,
      [id],
    );
    return rows.map((r) => ({ at: r.at, direction: r.direction, summary: r.summary, headers: JSON.parse(r.headers) as SipEvent['headers'] }));
  }

  conferenceNotifications(id: string): Promise<ConferenceNotification[]> {
    return this.read<ConferenceNotification>(
      `SELECT at, content_type AS "contentType", body FROM conference_notifications WHERE history = ${PK_OF} ORDER BY id`,
      [id],
    );
  }

  async messages(historyId: string, q: MessageQuery = {}): Promise<StoredMessage[]> {
    const rows = await this.read<MessageRow>(
      `SELECT seq, at, sender, recipients, content_type, body, imdn_message_id, msrp_message_id, cpim_headers
         FROM messages WHERE history = ${PK_OF} AND seq > $2 ORDER BY seq LIMIT $3`,
      [historyId, q.afterSeq ?? 0, q.limit === undefined ? null : Math.max(0, q.limit)],
    );
    return rows.map(messageFromRow);
  }

  async rosterEvents(historyId: string): Promise<RosterEvent[]> {
    const rows = await this.read<RosterRow>(
      `SELECT at, kind, user_uri AS "user", display_name, endpoint, status, method, reason FROM roster_events WHERE history = ${PK_OF} ORDER BY id`,
      [historyId],
    );
    return rows.map(rosterFromRow);
  }

  async participants(historyId: string): Promise<Participant[]> {
    const rows = await this.read<ParticipantRow>(`SELECT ${PARTICIPANT_COLUMNS} FROM participants WHERE history = ${PK_OF} ORDER BY id`, [historyId]);
    return rows.map(participantFromRow);
  }

  async searchMessages(q: SearchQuery): Promise<SearchHit[]> {
    const terms = parseSearchText(q.text);
    const limit = Math.min(q.limit ?? DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT);
    const query = tsqueryLiteral(terms);
    if (this.closing !== undefined) throw new StoreClosedError();
    if (query === undefined || limit <= 0) return [];
    const params: unknown[] = [query];
    let filters = '';
    if (q.owner !== undefined) {
      params.push(q.owner);
      filters += ` AND h.owner = $${params.length}`;
    }
    if (q.participant !== undefined) {
      params.push(aorKey(q.participant));
      filters += ` AND m.history IN (SELECT history FROM history_members WHERE aor = $${params.length})`;
    }
    params.push(limit);
    const rows = await this.read<{ historyId: string; seq: number; at: number; sender: string; text: string }>(
      `SELECT h.id AS "historyId", m.seq, m.at, m.sender,
         CASE WHEN m.text_is_body THEN convert_from(m.body, 'UTF8') ELSE m.search_text END AS text
       FROM messages m JOIN histories h ON h.pk = m.history
       WHERE m.tsv @@ $1::tsquery${filters} ORDER BY m.id DESC LIMIT $${params.length}`,
      params,
    );
    const marks = { open: SNIPPET_OPEN, close: SNIPPET_CLOSE, ellipsis: SNIPPET_ELLIPSIS };
    return rows.map((r) => ({
      historyId: r.historyId,
      seq: r.seq,
      at: r.at,
      sender: r.sender,
      // The index matched; past PostgreSQL's position limit a phrase may not be found again in the text: show its start.
      snippet: matchText(r.text, terms, marks, SNIPPET_WORDS) ?? r.text.split(/\s+/).slice(0, SNIPPET_WORDS).join(' ') + SNIPPET_ELLIPSIS,
    }));
  }

  async historiesVisibleTo(aor: string): Promise<HistoryRecord[]> {
    const rows = await this.read<HistoryRow>(
      `SELECT ${HISTORY_COLUMNS} FROM histories h WHERE h.pk IN (SELECT history FROM history_members WHERE aor = $1) ORDER BY h.created_at, h.pk`,
      [aorKey(aor)],
    );
    return rows.map(historyFromRow);
  }

  // ---- operations ----

  async schemaVersion(): Promise<number> {
    await this.barrier();
    return pgSchemaVersion(this.pool);
  }

  /** Group-commit counters: writes per commit is the batching actually achieved. */
  writeStats(): WriteQueueStats {
    return { ...this.stats };
  }

  /** Commits the writes already issued, then closes the pool. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.barrier();
      await this.pool.end();
    })();
    return this.closing;
  }

  // ---- the queue ----

  private enqueue<T>(ids: readonly string[], run: (tx: Tx) => T | Promise<T>): Promise<Awaited<T>> {
    if (this.closing !== undefined) return Promise.reject(new StoreClosedError());
    if (this.queue.length >= this.maxQueued) return Promise.reject(new StoreOverloadedError(this.queue.length));
    return new Promise((resolve, reject) => {
      this.queue.push({ op: { ids, run }, resolve: resolve as (v: unknown) => void, reject });
      this.enqueued++;
      if (!this.running && !this.scheduled) {
        // Writes issued in the rest of this turn of the event loop join the first batch.
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          void this.pump();
        });
      }
    });
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
        await this.runBatch(batch);
        this.settled += batch.length;
        this.barriers = this.barriers.filter((b) => (b.target <= this.settled ? (b.resolve(), false) : true));
      }
    } finally {
      this.running = false;
    }
  }

  /** Resolves once every write issued so far has settled. */
  private barrier(): Promise<void> {
    const target = this.enqueued;
    if (this.settled >= target) return Promise.resolve();
    return new Promise((resolve) => this.barriers.push({ target, resolve }));
  }

  private async read<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    if (this.closing !== undefined) throw new StoreClosedError();
    await this.barrier();
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let broken = false;
      const onError = (): void => {
        broken = true;
      };
      client.on('error', onError);
      try {
        return (await client.query<R>(prepared(sql, params))).rows;
      } catch (e) {
        if (connectionLost(e)) broken = true;
        // A pooled connection the server ended while idle: reads are safe to run again on another.
        if (!connectionLost(e) || attempt >= this.maxAttempts) throw e;
      } finally {
        if (!broken) client.off('error', onError);
        client.release(broken);
      }
    }
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await this.transaction(batch, true);
    } catch (e) {
      this.stats.writes += batch.length;
      if (batch.length === 1 || !dataError(e)) {
        for (const p of batch) p.reject(e);
        return;
      }
      // One write failed in the database: rerun them one per transaction so that only it fails.
      this.stats.rollbacks++;
      for (const p of batch) {
        try {
          const [o] = await this.transaction([p], false);
          if (o?.ok === true) p.resolve(o.value);
          else p.reject(o?.error);
        } catch (e2) {
          p.reject(e2);
        }
      }
      return;
    }
    this.stats.writes += batch.length;
    batch.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o.ok) p.resolve(o.value);
      else p.reject(o.error);
    });
  }

  /**
   * Runs the writes in one transaction (retrying deadlocks and serialization failures);
   * throws when it could not commit. With `isolate`, a write that fails before sending
   * anything is only marked failed.
   */
  private async transaction(batch: Pending[], isolate: boolean): Promise<Outcome[]> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let broken = false;
      let commitSent = false;
      // A checked-out client has no error listener of the pool's: a connection lost mid-transaction
      // would be an uncaught 'error' event. The query in flight rejects too; the client is dropped.
      const onError = (): void => {
        broken = true;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const tx = new Tx(client);
        await tx.lock([...new Set(batch.flatMap((p) => p.op.ids))]);
        const out: Outcome[] = [];
        for (const p of batch) {
          const before = tx.queries;
          try {
            out.push({ ok: true, value: await p.op.run(tx) });
          } catch (e) {
            // Once it sent a statement, its failure may have aborted the transaction: roll back (and rerun alone).
            if (tx.queries !== before || !isolate) throw e;
            out.push({ ok: false, error: e });
          }
        }
        await tx.finish();
        commitSent = true;
        await client.query('COMMIT');
        this.stats.commits++;
        return out;
      } catch (e) {
        if (connectionLost(e)) broken = true;
        else {
          try {
            await client.query('ROLLBACK');
          } catch {
            broken = true;
          }
        }
        // A connection lost before COMMIT was sent committed nothing: run the batch again on another one.
        // Lost during COMMIT, the outcome is unknown: the writes reject (and are not run twice).
        if (connectionLost(e) && !commitSent) {
          // Every idle connection may be dead alike (server restart): try each once, then a new one.
          if (attempt >= this.maxAttempts) throw e;
        } else if (!retryable(e) || attempt >= RETRIES) throw e;
      } finally {
        // A broken client keeps our listener: the pool ends it, and its socket may still report errors.
        if (!broken) client.off('error', onError);
        client.release(broken);
      }
    }
  }

  private patchStatement(keys: readonly (keyof HistoryPatch)[]): string {
    const sig = keys.join(',');
    let sql = this.patchSql.get(sig);
    if (sql === undefined) {
      sql = `UPDATE histories SET ${keys.map((k, i) => `${PATCH_COLUMNS[k][0]} = $${i + 1}`).join(', ')} WHERE pk = $${keys.length + 1}`;
      this.patchSql.set(sig, sql);
    }
    return sql;
  }
}

const PARTICIPANT_COLUMNS = `user_uri AS "user", display_name, present::int AS present, status, joined_at, left_at, joining_method,
  disconnection_method, disconnection_reason, last_event_at`;
