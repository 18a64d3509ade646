/**
 * What the History Function keeps, as an interface the store backends implement
 * (memory.ts for tests, sqlite.ts the embedded default, pg.ts for a PostgreSQL shared by several instances). Nothing protocol-side depends on a
 * backend: history/ sees only this interface (design.md).
 *
 * Seed clauses that land here: 1.1.1-3/4 (the REFER's Allow list and Contact, the IM
 * Session Identity), 1.2.1 (Allow and Contact of every response to our INVITE), 1.3 on 200
 * (Allow, Contact and all SIP headers of the session), and the History Filename (1.1.2-2).
 * The user plane adds the session's messages (RFC 4975 MSRP, RFC 3862 CPIM, RFC 5438 IMDN
 * ids) and its roster (RFC 4575); read access adds search and the visibility rule.
 *
 * Durability contract (every backend): a write's promise resolves only after the write is
 * committed, so the user plane may answer MSRP 200 once `addMessage` has resolved. Writes
 * are applied in call order; a read sees every write issued before it, awaited or not.
 */

export interface StoredHeader {
  name: string;
  value: string;
}

export type HistoryState = 'inviting' | 'active' | 'ended' | 'failed';

export interface NewHistory {
  /** The History Filename, or a generated name when the REFER gave none. */
  name: string;
  /** History Type (seed: History Type uri-parameter). */
  type: string;
  /** Initiator: the Authenticated Originator's IM Address (AOR). */
  owner: string;
  conferenceFactory: string;
  imUsers: string[];
  /** Call-ID of the REFER, to tie logs together. */
  referCallId: string;
  /** Seed 1.1.1-3: methods the IM Client supports (its Allow header). */
  clientAllow: string[];
  /** Seed 1.1.1-4: the IM Client's Contact, its IM Session Identity. */
  clientContact: string | undefined;
  /** Every header field of the REFER, in order. */
  referHeaders: StoredHeader[];
  createdAt: number;
  /**
   * The im-history instance (config `instance.id`) recording the history, so that an
   * instance sharing the store with others closes only its own histories at start-up.
   * Absent for histories recorded before instances were tracked (and by tools).
   */
  instance?: string;
}

export interface HistoryRecord extends NewHistory {
  id: string;
  state: HistoryState;
  /** Call-ID of our INVITE to the conference factory. */
  sessionCallId?: string;
  /** Seed 1.3: the focus's Contact on the 200 — the IM Session Identity of the conference. */
  conferenceUri?: string;
  /** Seed 1.2.1 / 1.3: methods the IM Server supports (Allow of its responses). */
  serverAllow?: string[];
  /** Seed 1.3-4: all SIP headers of the 200 that established the session. */
  sessionHeaders?: StoredHeader[];
  startedAt?: number;
  endedAt?: number;
  endReason?: string;
}

export type HistoryPatch = Partial<
  Pick<HistoryRecord, 'state' | 'sessionCallId' | 'conferenceUri' | 'serverAllow' | 'sessionHeaders' | 'startedAt' | 'endedAt' | 'endReason'>
>;

/** One SIP message of the session's signalling, kept for the record (seed 1.2.1). */
export interface SipEvent {
  at: number;
  direction: 'in' | 'out';
  /** Start line, e.g. "SIP/2.0 180 Ringing" or "NOTIFY sip:...". */
  summary: string;
  headers: StoredHeader[];
}

/** A conference-info notification (RFC 4575) as received. */
export interface ConferenceNotification {
  at: number;
  contentType: string;
  body: string;
}

export interface HistoryFilter {
  owner?: string;
  state?: HistoryState;
  /** Only histories recorded by this instance (NewHistory.instance). */
  instance?: string;
  limit?: number;
}

/** One message of the session's user plane (RFC 4975 SEND, usually RFC 3862 message/cpim). */
export interface NewMessage {
  /** Arrival time (ms since the epoch). */
  at: number;
  /** The sender's IM address (CPIM From, else the MSRP peer). */
  sender: string;
  /** CPIM To (and cc) addresses; empty for a message to the whole conference. */
  recipients: string[];
  /** Content-Type of `body` as received: the MSRP Content-Type (e.g. message/cpim) or, when the caller unwrapped CPIM, the inner one. */
  contentType: string;
  /** The body, byte-exact (may be binary). */
  body: Buffer;
  /** RFC 5438 imdn.Message-ID, when the CPIM message carries one. */
  imdnMessageId?: string;
  /** RFC 4975 Message-ID of the SEND. */
  msrpMessageId?: string;
  /** The CPIM message headers in order (RFC 3862 §3), when the caller parsed them. */
  cpimHeaders?: StoredHeader[];
}

export interface StoredMessage extends NewMessage {
  /** Position in its history: 1, 2, 3... in arrival order, with no gaps. */
  seq: number;
}

export interface MessageQuery {
  /** Only messages with seq > afterSeq (paging). */
  afterSeq?: number;
  limit?: number;
}

export type RosterEventKind = 'joined' | 'left' | 'status';

/**
 * A change of the conference roster, derived from RFC 4575 conference-info by the caller:
 * `joined`/`left` when a user's endpoint becomes connected/disconnected (or is deleted),
 * `status` for any other endpoint status (alerting, on-hold, ...).
 */
export interface RosterEvent {
  at: number;
  kind: RosterEventKind;
  /** The user's entity URI (RFC 4575 §5.6). */
  user: string;
  displayName?: string;
  /** The endpoint entity (RFC 4575 §5.7), when the change is about one endpoint. */
  endpoint?: string;
  /** RFC 4575 endpoint status (connected, disconnected, on-hold, alerting, ...). */
  status?: string;
  /** RFC 4575 joining-method (joined) or disconnection-method (left). */
  method?: string;
  /** RFC 4575 disconnection-info reason (left). */
  reason?: string;
}

/**
 * A user as the roster left them, kept per history (stored, updated by each roster event
 * in arrival order; see applyRosterEvent in roster.ts for the exact rule).
 */
export interface Participant {
  user: string;
  displayName?: string;
  /** Joined and not left since. */
  present: boolean;
  /** Latest status given, else 'connected' on join and 'disconnected' on leave. */
  status?: string;
  /** First time the user joined. */
  joinedAt?: number;
  /** Time the user left; only while not present. */
  leftAt?: number;
  joiningMethod?: string;
  disconnectionMethod?: string;
  disconnectionReason?: string;
  /** Time of the latest roster event about the user. */
  lastEventAt: number;
}

export interface SearchQuery {
  /**
   * Words, all of which must occur (AND), case- and diacritic-insensitively; a word ending
   * in `*` matches as a prefix; a quoted "two words" must occur as a phrase. No operators.
   */
  text: string;
  /** Only histories with exactly this owner (as listHistories' owner filter). */
  owner?: string;
  /** Only histories this AOR took part in: the visibility rule of historiesVisibleTo. */
  participant?: string;
  /** Default 50, at most 1000. */
  limit?: number;
}

/** Marks around the matched words in SearchHit.snippet (plain text: escape before rendering). */
export const SNIPPET_OPEN = '\u00ab';
export const SNIPPET_CLOSE = '\u00bb';
export const SNIPPET_ELLIPSIS = '\u2026';

export interface SearchHit {
  historyId: string;
  seq: number;
  at: number;
  sender: string;
  /** A short excerpt of the message text with matches between SNIPPET_OPEN and SNIPPET_CLOSE. */
  snippet: string;
}

/** The id names no stored history. */
export class NoSuchHistoryError extends Error {
  constructor(readonly historyId: string) {
    super(`no history ${historyId}`);
    this.name = 'NoSuchHistoryError';
  }
}

/** More writes are queued than the configured limit: answer the peer with a transient error. */
export class StoreOverloadedError extends Error {
  constructor(readonly queued: number) {
    super(`store overloaded: ${queued} writes queued`);
    this.name = 'StoreOverloadedError';
  }
}

/** The database holds a schema newer than this code knows (written by a newer im-history). */
export class SchemaTooNewError extends Error {
  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(`database schema version ${found} is newer than this im-history supports (${supported}): upgrade im-history, or use another database`);
    this.name = 'SchemaTooNewError';
  }
}

/** The store could not be opened: unreachable server, bad URL, refused credentials, unusable file. */
export class StoreOpenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreOpenError';
  }
}

export class StoreClosedError extends Error {
  constructor() {
    super('store closed');
    this.name = 'StoreClosedError';
  }
}

export interface HistoryStore {
  createHistory(h: NewHistory): Promise<HistoryRecord>;
  updateHistory(id: string, patch: HistoryPatch): Promise<void>;
  addSipEvent(id: string, ev: SipEvent): Promise<void>;
  addConferenceNotification(id: string, n: ConferenceNotification): Promise<void>;
  getHistory(id: string): Promise<HistoryRecord | undefined>;
  listHistories(filter?: HistoryFilter): Promise<HistoryRecord[]>;
  sipEvents(id: string): Promise<SipEvent[]>;
  conferenceNotifications(id: string): Promise<ConferenceNotification[]>;

  /** Record a message; resolves with its seq once committed. NoSuchHistoryError for an unknown id. */
  addMessage(historyId: string, m: NewMessage): Promise<number>;
  /** Messages in seq (arrival) order; [] for an unknown id. */
  messages(historyId: string, q?: MessageQuery): Promise<StoredMessage[]>;
  /** Record a roster change and update the history's participants. NoSuchHistoryError for an unknown id. */
  addRosterEvent(historyId: string, e: RosterEvent): Promise<void>;
  /** Roster events in arrival order; [] for an unknown id. */
  rosterEvents(historyId: string): Promise<RosterEvent[]>;
  /** Everyone the roster ever named, in order of first appearance; [] for an unknown id. */
  participants(historyId: string): Promise<Participant[]>;
  /** Full-text search over the text of messages (text/* bodies, also inside message/cpim). Newest first (arrival order). */
  searchMessages(q: SearchQuery): Promise<SearchHit[]>;
  /**
   * Histories the AOR may read, oldest first: those it owns, those it was invited to
   * (imUsers) and those whose roster named it. AORs compare without display name, URI
   * parameters and headers, with scheme and host case-insensitive (aorKey in aor.ts).
   */
  historiesVisibleTo(aor: string): Promise<HistoryRecord[]>;
  /** Delete a history and everything recorded in it; false when there was none. */
  deleteHistory(id: string): Promise<boolean>;
  close(): Promise<void>;
}
