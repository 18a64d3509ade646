/** Rows of the SQLite schema (sqlite-migrations.ts) and their mapping to the store's types. */
import type { HistoryPatch, HistoryRecord, HistoryState, Participant, RosterEvent, RosterEventKind, StoredHeader, StoredMessage } from './types.js';

export interface HistoryRow {
  id: string;
  name: string;
  type: string;
  owner: string;
  conference_factory: string;
  im_users: string;
  refer_call_id: string;
  client_allow: string;
  client_contact: string | null;
  refer_headers: string;
  created_at: number;
  state: HistoryState;
  session_call_id: string | null;
  conference_uri: string | null;
  server_allow: string | null;
  session_headers: string | null;
  started_at: number | null;
  ended_at: number | null;
  end_reason: string | null;
  instance: string | null;
}

export interface MessageRow {
  seq: number;
  at: number;
  sender: string;
  recipients: string;
  content_type: string;
  body: Buffer;
  imdn_message_id: string | null;
  msrp_message_id: string | null;
  cpim_headers: string | null;
}

export interface RosterRow {
  at: number;
  kind: RosterEventKind;
  user: string;
  display_name: string | null;
  endpoint: string | null;
  status: string | null;
  method: string | null;
  reason: string | null;
}

export interface ParticipantRow {
  user: string;
  display_name: string | null;
  present: number;
  status: string | null;
  joined_at: number | null;
  left_at: number | null;
  joining_method: string | null;
  disconnection_method: string | null;
  disconnection_reason: string | null;
  last_event_at: number;
}

const json = <T>(s: string): T => JSON.parse(s) as T;

/** Sets `key` on `o` only when the column is not NULL, so absent stays absent. */
function opt<T extends object, K extends keyof T>(o: T, key: K, v: T[K] | null): void {
  if (v !== null) o[key] = v;
}

export function historyFromRow(r: HistoryRow): HistoryRecord {
  const h: HistoryRecord = {
    id: r.id,
    name: r.name,
    type: r.type,
    owner: r.owner,
    conferenceFactory: r.conference_factory,
    imUsers: json<string[]>(r.im_users),
    referCallId: r.refer_call_id,
    clientAllow: json<string[]>(r.client_allow),
    clientContact: r.client_contact ?? undefined,
    referHeaders: json<StoredHeader[]>(r.refer_headers),
    createdAt: r.created_at,
    state: r.state,
  };
  opt(h, 'sessionCallId', r.session_call_id);
  opt(h, 'conferenceUri', r.conference_uri);
  opt(h, 'serverAllow', r.server_allow === null ? null : json<string[]>(r.server_allow));
  opt(h, 'sessionHeaders', r.session_headers === null ? null : json<StoredHeader[]>(r.session_headers));
  opt(h, 'startedAt', r.started_at);
  opt(h, 'endedAt', r.ended_at);
  opt(h, 'endReason', r.end_reason);
  opt(h, 'instance', r.instance);
  return h;
}

/** Column and encoding of each patchable field. */
export const PATCH_COLUMNS: { readonly [K in keyof Required<HistoryPatch>]: [column: string, encode: (v: HistoryPatch[K]) => string | number | null] } = {
  state: ['state', (v) => v ?? null],
  sessionCallId: ['session_call_id', (v) => v ?? null],
  conferenceUri: ['conference_uri', (v) => v ?? null],
  serverAllow: ['server_allow', (v) => (v === undefined ? null : JSON.stringify(v))],
  sessionHeaders: ['session_headers', (v) => (v === undefined ? null : JSON.stringify(v))],
  startedAt: ['started_at', (v) => v ?? null],
  endedAt: ['ended_at', (v) => v ?? null],
  endReason: ['end_reason', (v) => v ?? null],
};

export function messageFromRow(r: MessageRow): StoredMessage {
  const m: StoredMessage = {
    seq: r.seq,
    at: r.at,
    sender: r.sender,
    recipients: json<string[]>(r.recipients),
    contentType: r.content_type,
    body: r.body,
  };
  opt(m, 'imdnMessageId', r.imdn_message_id);
  opt(m, 'msrpMessageId', r.msrp_message_id);
  opt(m, 'cpimHeaders', r.cpim_headers === null ? null : json<StoredHeader[]>(r.cpim_headers));
  return m;
}

export function rosterFromRow(r: RosterRow): RosterEvent {
  const e: RosterEvent = { at: r.at, kind: r.kind, user: r.user };
  opt(e, 'displayName', r.display_name);
  opt(e, 'endpoint', r.endpoint);
  opt(e, 'status', r.status);
  opt(e, 'method', r.method);
  opt(e, 'reason', r.reason);
  return e;
}

export function participantFromRow(r: ParticipantRow): Participant {
  const p: Participant = { user: r.user, present: r.present !== 0, lastEventAt: r.last_event_at };
  opt(p, 'displayName', r.display_name);
  opt(p, 'status', r.status);
  opt(p, 'joinedAt', r.joined_at);
  opt(p, 'leftAt', r.left_at);
  opt(p, 'joiningMethod', r.joining_method);
  opt(p, 'disconnectionMethod', r.disconnection_method);
  opt(p, 'disconnectionReason', r.disconnection_reason);
  return p;
}

export function participantParams(history: number, aor: string, p: Participant): (string | number | null)[] {
  return [
    history,
    aor,
    p.user,
    p.displayName ?? null,
    p.present ? 1 : 0,
    p.status ?? null,
    p.joinedAt ?? null,
    p.leftAt ?? null,
    p.joiningMethod ?? null,
    p.disconnectionMethod ?? null,
    p.disconnectionReason ?? null,
    p.lastEventAt,
  ];
}
