/**
 * An in-memory HistoryStore: for tests and for running without persistence. Keeps copies,
 * so callers cannot change stored records by mutating what they passed or got back.
 */
import { randomUUID } from 'node:crypto';
import type {
  ConferenceNotification,
  HistoryFilter,
  HistoryPatch,
  HistoryRecord,
  HistoryStore,
  NewHistory,
  SipEvent,
} from './types.js';

export class MemoryStore implements HistoryStore {
  private readonly histories = new Map<string, HistoryRecord>();
  private readonly events = new Map<string, SipEvent[]>();
  private readonly notifications = new Map<string, ConferenceNotification[]>();

  async createHistory(h: NewHistory): Promise<HistoryRecord> {
    const rec: HistoryRecord = { ...structuredClone(h), id: randomUUID(), state: 'inviting' };
    this.histories.set(rec.id, rec);
    return structuredClone(rec);
  }

  async updateHistory(id: string, patch: HistoryPatch): Promise<void> {
    const rec = this.must(id);
    Object.assign(rec, structuredClone(patch));
  }

  async addSipEvent(id: string, ev: SipEvent): Promise<void> {
    this.must(id);
    const list = this.events.get(id) ?? [];
    list.push(structuredClone(ev));
    this.events.set(id, list);
  }

  async addConferenceNotification(id: string, n: ConferenceNotification): Promise<void> {
    this.must(id);
    const list = this.notifications.get(id) ?? [];
    list.push(structuredClone(n));
    this.notifications.set(id, list);
  }

  async getHistory(id: string): Promise<HistoryRecord | undefined> {
    const rec = this.histories.get(id);
    return rec === undefined ? undefined : structuredClone(rec);
  }

  async listHistories(filter: HistoryFilter = {}): Promise<HistoryRecord[]> {
    const out = [...this.histories.values()].filter(
      (h) => (filter.owner === undefined || h.owner === filter.owner) && (filter.state === undefined || h.state === filter.state),
    );
    out.sort((a, b) => a.createdAt - b.createdAt);
    return structuredClone(filter.limit === undefined ? out : out.slice(0, filter.limit));
  }

  async sipEvents(id: string): Promise<SipEvent[]> {
    return structuredClone(this.events.get(id) ?? []);
  }

  async conferenceNotifications(id: string): Promise<ConferenceNotification[]> {
    return structuredClone(this.notifications.get(id) ?? []);
  }

  async close(): Promise<void> {}

  private must(id: string): HistoryRecord {
    const rec = this.histories.get(id);
    if (rec === undefined) throw new Error(`no history ${id}`);
    return rec;
  }
}
