/**
 * An in-memory HistoryStore: for tests and for running without persistence. Keeps copies,
 * so callers cannot change stored records by mutating what they passed or got back.
 * Writes are applied before their promise is created, so call order is apply order and
 * reads see every earlier write (the contract in types.ts). Search is a linear scan with
 * the word rules of search-text.ts, which mirror the SQLite backend's FTS5 tokenizer.
 */
import { randomUUID } from 'node:crypto';
import { aorKey } from './aor.js';
import { applyRosterEvent } from './roster.js';
import { matchText, parseSearchText, searchableText } from './search-text.js';
import {
  NoSuchHistoryError,
  SNIPPET_CLOSE,
  SNIPPET_ELLIPSIS,
  SNIPPET_OPEN,
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

interface Kept {
  rec: HistoryRecord;
  events: SipEvent[];
  notifications: ConferenceNotification[];
  messages: StoredMessage[];
  /** Searchable text per message, by index into messages. */
  texts: (string | undefined)[];
  /** Store-wide arrival number per message, by index into messages (search order). */
  arrivals: number[];
  roster: RosterEvent[];
  participants: Map<string, Participant>;
}

export const MAX_SEARCH_LIMIT = 1000;
export const DEFAULT_SEARCH_LIMIT = 50;

/** Copy without the properties whose value is undefined, so both backends return the same shapes. */
function defined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

function copyMessage(m: StoredMessage): StoredMessage {
  const { body, ...rest } = m;
  return { ...structuredClone(rest), body: Buffer.from(body) };
}

export class MemoryStore implements HistoryStore {
  private readonly kept = new Map<string, Kept>();
  private arrivals = 0;

  async createHistory(h: NewHistory): Promise<HistoryRecord> {
    const rec: HistoryRecord = { ...structuredClone(h), id: randomUUID(), state: 'inviting' };
    if (rec.instance === undefined) delete rec.instance;
    this.kept.set(rec.id, { rec, events: [], notifications: [], messages: [], texts: [], arrivals: [], roster: [], participants: new Map() });
    return structuredClone(rec);
  }

  async updateHistory(id: string, patch: HistoryPatch): Promise<void> {
    Object.assign(this.must(id).rec, structuredClone(patch));
  }

  async addSipEvent(id: string, ev: SipEvent): Promise<void> {
    this.must(id).events.push(structuredClone(ev));
  }

  async addConferenceNotification(id: string, n: ConferenceNotification): Promise<void> {
    this.must(id).notifications.push(structuredClone(n));
  }

  async getHistory(id: string): Promise<HistoryRecord | undefined> {
    const k = this.kept.get(id);
    return k === undefined ? undefined : structuredClone(k.rec);
  }

  async listHistories(filter: HistoryFilter = {}): Promise<HistoryRecord[]> {
    const out = this.records().filter(
      (h) =>
        (filter.owner === undefined || h.owner === filter.owner) &&
        (filter.state === undefined || h.state === filter.state) &&
        (filter.instance === undefined || h.instance === filter.instance),
    );
    return structuredClone(filter.limit === undefined ? out : out.slice(0, filter.limit));
  }

  async sipEvents(id: string): Promise<SipEvent[]> {
    return structuredClone(this.kept.get(id)?.events ?? []);
  }

  async conferenceNotifications(id: string): Promise<ConferenceNotification[]> {
    return structuredClone(this.kept.get(id)?.notifications ?? []);
  }

  async addMessage(historyId: string, m: NewMessage): Promise<number> {
    const k = this.must(historyId);
    const seq = k.messages.length + 1;
    k.messages.push(copyMessage(defined({ ...m, seq })));
    k.texts.push(searchableText(m.contentType, m.body));
    k.arrivals.push(++this.arrivals);
    return seq;
  }

  async messages(historyId: string, q: MessageQuery = {}): Promise<StoredMessage[]> {
    const all = this.kept.get(historyId)?.messages ?? [];
    const after = all.slice(Math.max(0, q.afterSeq ?? 0));
    return (q.limit === undefined ? after : after.slice(0, Math.max(0, q.limit))).map(copyMessage);
  }

  async addRosterEvent(historyId: string, e: RosterEvent): Promise<void> {
    const k = this.must(historyId);
    const ev = defined(structuredClone(e));
    k.roster.push(ev);
    const key = aorKey(ev.user);
    k.participants.set(key, applyRosterEvent(k.participants.get(key), ev));
  }

  async rosterEvents(historyId: string): Promise<RosterEvent[]> {
    return structuredClone(this.kept.get(historyId)?.roster ?? []);
  }

  async participants(historyId: string): Promise<Participant[]> {
    return structuredClone([...(this.kept.get(historyId)?.participants.values() ?? [])]);
  }

  async searchMessages(q: SearchQuery): Promise<SearchHit[]> {
    const terms = parseSearchText(q.text);
    const limit = Math.min(q.limit ?? DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT);
    if (terms.length === 0 || limit <= 0) return [];
    const who = q.participant === undefined ? undefined : aorKey(q.participant);
    const hits: (SearchHit & { arrival: number })[] = [];
    for (const k of this.kept.values()) {
      if (q.owner !== undefined && k.rec.owner !== q.owner) continue;
      if (who !== undefined && !this.visible(k, who)) continue;
      k.messages.forEach((m, i) => {
        const text = k.texts[i];
        const snippet = text === undefined ? undefined : matchText(text, terms, { open: SNIPPET_OPEN, close: SNIPPET_CLOSE, ellipsis: SNIPPET_ELLIPSIS });
        if (snippet !== undefined) hits.push({ historyId: k.rec.id, seq: m.seq, at: m.at, sender: m.sender, snippet, arrival: k.arrivals[i]! });
      });
    }
    // Newest first = reverse arrival order across histories (the SQLite backend's rowid order).
    hits.sort((a, b) => b.arrival - a.arrival);
    return hits.slice(0, limit).map(({ arrival: _arrival, ...hit }) => hit);
  }

  async historiesVisibleTo(aor: string): Promise<HistoryRecord[]> {
    const who = aorKey(aor);
    return structuredClone(this.records().filter((h) => this.visible(this.kept.get(h.id)!, who)));
  }

  async deleteHistory(id: string): Promise<boolean> {
    return this.kept.delete(id);
  }

  async close(): Promise<void> {}

  private visible(k: Kept, who: string): boolean {
    return aorKey(k.rec.owner) === who || k.rec.imUsers.some((u) => aorKey(u) === who) || k.participants.has(who);
  }

  /** Records oldest first (live objects: copy before returning). */
  private records(): HistoryRecord[] {
    return [...this.kept.values()].map((k) => k.rec).sort((a, b) => a.createdAt - b.createdAt);
  }

  private must(id: string): Kept {
    const k = this.kept.get(id);
    if (k === undefined) throw new NoSuchHistoryError(id);
    return k;
  }
}
