/**
 * What the History Function keeps, as an interface the store backends implement
 * (memory.ts for tests; SQLite and PostgreSQL later). Nothing protocol-side depends on a
 * backend: history/ sees only this interface (design.md).
 *
 * Seed clauses that land here: 1.1.1-3/4 (the REFER's Allow list and Contact, the IM
 * Session Identity), 1.2.1 (Allow and Contact of every response to our INVITE), 1.3 on 200
 * (Allow, Contact and all SIP headers of the session), and the History Filename (1.1.2-2).
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
  limit?: number;
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
  close(): Promise<void>;
}
