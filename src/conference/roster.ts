/**
 * The roster of one conference subscription, kept from conference-info notifications
 * (RFC 4575 §3.7 subscriber processing, §5 state and version), and the changes each
 * notification makes to it, as the History Function records them.
 *
 * Versions (§3.7): a full document replaces the roster unless its version is not newer
 * than the one held (a late or repeated NOTIFY); a partial document applies only on top
 * of version N-1 — not newer is ignored, a gap means a notification was lost, and the
 * roster answers { resync: true } and waits for full state (the caller re-SUBSCRIBEs).
 * While it waits, partial documents are ignored (one resync per gap, not one per NOTIFY)
 * and any full document is accepted, whatever its version. Versions are scoped to the
 * subscription: call newSubscription() when a new subscription dialog starts.
 * A document for another conference entity is treated like a gap. A root state of
 * "deleted" (the conference is gone) empties the roster.
 *
 * Absent state attributes: the schema default is "full", and a user or endpoint without
 * one is replaced whole. For the containers <users>, <conference-description> and
 * <conference-state> inside a *partial* document the default reading is "partial": the
 * RFC 4575 §6 partial example itself carries <users> without a state while listing one
 * user of 32, and reading that as "full" would record every other participant as having
 * left. `containerStateInPartial: 'full'` restores the literal schema reading.
 *
 * Changes: a user is present while one of its endpoints is connected, on-hold,
 * muted-via-focus or disconnecting — or, for a user none of whose endpoints has ever reported
 * a status (a focus that lists users only), while it is listed. Becoming present is
 * 'joined', ceasing to be is 'left' (a deleted user or endpoint counts as disconnected);
 * every other endpoint status change is 'status'.
 * Joining/disconnection details are reported only when the notification brought them
 * (unchanged details are from an earlier event).
 */
import { mergeSummary, mergeUsers, type ConferenceSummary, type EndpointRecord, type UserRecord } from './merge.js';
import {
  ConferenceInfoError, type ConferenceInfo, type DisconnectionMethod, type EndpointStatus, type Execution, type JoiningMethod,
} from './types.js';

export interface RosterOptions {
  /** How an absent state on a container element reads in a partial document; default 'partial'. */
  containerStateInPartial?: 'partial' | 'full';
  /** Users held at most, default 10000; beyond, apply() throws ConferenceInfoError 'too-many-users' and keeps its state. */
  maxUsers?: number;
}

export interface RosterChange {
  /** The `at` given to apply(). */
  at: number;
  kind: 'joined' | 'left' | 'status';
  /** The user's entity. */
  user: string;
  displayName?: string;
  endpoint?: string;
  status?: EndpointStatus;
  joiningMethod?: JoiningMethod;
  disconnectionMethod?: DisconnectionMethod;
  reason?: string;
  /** From joining-info / disconnection-info <when>, in milliseconds since the epoch. */
  when?: number;
  by?: string;
}

export type RosterResult = RosterChange[] | { resync: true; reason: string };

export interface ParticipantEndpoint {
  entity: string;
  displayText?: string;
  status?: EndpointStatus;
  joiningMethod?: JoiningMethod;
}

export interface Participant {
  entity: string;
  displayName?: string;
  /** The most engaged endpoint status (connected first, disconnected last). */
  status?: EndpointStatus;
  present: boolean;
  /** When the roster saw the user join: joining-info <when> when given, else the `at` of that notification. */
  joinedAt?: number;
  roles?: string[];
  endpoints: ParticipantEndpoint[];
}

const ACTIVE: readonly EndpointStatus[] = ['connected', 'muted-via-focus', 'on-hold', 'disconnecting'];
const RANK: readonly EndpointStatus[] = [...ACTIVE, 'alerting', 'dialing-in', 'dialing-out', 'pending', 'disconnected'];

function isActive(s: EndpointStatus | undefined): boolean {
  return s !== undefined && ACTIVE.includes(s);
}

function isPresent(u: UserRecord): boolean {
  for (const ep of u.endpoints.values()) if (isActive(ep.status)) return true;
  return !u.statusSeen;
}

function sameExecution(a: Execution | undefined, b: Execution | undefined): boolean {
  return a?.when === b?.when && a?.reason === b?.reason && a?.by === b?.by;
}

interface Step {
  entity: string;
  before?: EndpointRecord;
  after?: EndpointRecord;
  status?: EndpointStatus;
}

function effectiveStatus(step: Omit<Step, 'status'>): EndpointStatus | undefined {
  return step.after ? step.after.status : step.before ? 'disconnected' : undefined;
}

/** The event fields an endpoint step contributes; details only when this notification brought them. */
function endpointFields(step: Step): Partial<RosterChange> {
  const f: Partial<RosterChange> = { endpoint: step.entity };
  if (step.status !== undefined) f.status = step.status;
  const a = step.after;
  if (!a) return f;
  const leaving = step.status === 'disconnected' || step.status === 'disconnecting';
  const info = leaving ? a.disconnectionInfo : a.joiningInfo;
  const earlier = leaving ? step.before?.disconnectionInfo : step.before?.joiningInfo;
  if (leaving && a.disconnectionMethod !== undefined) f.disconnectionMethod = a.disconnectionMethod;
  if (!leaving && a.joiningMethod !== undefined) f.joiningMethod = a.joiningMethod;
  if (info && !sameExecution(info, earlier)) {
    if (info.whenMs !== undefined) f.when = info.whenMs;
    if (info.reason !== undefined) f.reason = info.reason;
    if (info.by !== undefined) f.by = info.by;
  }
  return f;
}

function diffUser(before: UserRecord | undefined, after: UserRecord | undefined, at: number, out: RosterChange[]): void {
  const entity = (after ?? before)?.entity ?? '';
  const displayName = after?.displayText ?? before?.displayText;
  const base: RosterChange = { at, kind: 'status', user: entity };
  if (displayName !== undefined) base.displayName = displayName;
  const keys = [...(after?.endpoints.keys() ?? [])];
  for (const k of before?.endpoints.keys() ?? []) if (!after?.endpoints.has(k)) keys.push(k);
  const changed: Step[] = [];
  for (const k of keys) {
    const step: Step = { entity: k };
    const b = before?.endpoints.get(k);
    const a = after?.endpoints.get(k);
    if (b) step.before = b;
    if (a) step.after = a;
    const status = effectiveStatus(step);
    if (status !== undefined) step.status = status;
    if (status !== b?.status) changed.push(step);
  }
  const wasPresent = before !== undefined && isPresent(before);
  const isNowPresent = after !== undefined && isPresent(after);
  let cause: Step | undefined;
  if (!wasPresent && isNowPresent && after) {
    cause = changed.find((s) => isActive(s.status));
    const fields = cause ? endpointFields(cause) : {};
    out.push({ ...base, ...fields, kind: 'joined' });
    after.joinedAt = fields.when ?? at;
  } else if (wasPresent && !isNowPresent) {
    cause = changed.find((s) => isActive(s.before?.status) && !isActive(s.status)) ?? changed[0];
    out.push({ ...base, ...(cause ? endpointFields(cause) : {}), kind: 'left' });
    if (after) delete after.joinedAt;
  } else if (wasPresent && isNowPresent && after && before?.joinedAt !== undefined) {
    after.joinedAt = before.joinedAt;
  }
  for (const s of changed) if (s !== cause) out.push({ ...base, ...endpointFields(s), kind: 'status' });
}

export class Roster {
  private held = new Map<string, UserRecord>();
  private summary: ConferenceSummary = {};
  private heldVersion: number | undefined;
  private heldEntity: string | undefined;
  private hasState = false;
  private awaiting = false;
  private readonly containerDefault: 'partial' | 'full';
  private readonly maxUsers: number;

  constructor(options: RosterOptions = {}) {
    this.containerDefault = options.containerStateInPartial ?? 'partial';
    this.maxUsers = options.maxUsers ?? 10_000;
  }

  /** The version of the last document applied. */
  get version(): number | undefined {
    return this.heldVersion;
  }

  /** The conference URI of the last document applied. */
  get entity(): string | undefined {
    return this.heldEntity;
  }

  /** True after a resync was asked for, until a full document arrives. */
  get awaitingFullState(): boolean {
    return this.awaiting;
  }

  /** Subject, display text, user-count, active and locked, as last notified. */
  get conference(): Readonly<ConferenceSummary> {
    return this.summary;
  }

  /** A new subscription dialog restarts versions (§3.7): forget the version, keep the roster, await full state. */
  newSubscription(): void {
    this.heldVersion = undefined;
    this.awaiting = true;
  }

  /** Applies one notification received at `at` (milliseconds since the epoch). */
  apply(info: ConferenceInfo, at: number): RosterResult {
    const sameConference = this.hasState && info.entity === this.heldEntity;
    const stale = sameConference && !this.awaiting && info.version !== undefined && this.heldVersion !== undefined && info.version <= this.heldVersion;
    let next: Map<string, UserRecord>;
    let summary: ConferenceSummary;
    if (info.state === 'partial') {
      if (this.awaiting) return [];
      if (!this.hasState) return this.resync('a partial notification before any full state');
      if (!sameConference) return this.resync(`a notification for ${info.entity}, not ${this.heldEntity}`);
      if (info.version === undefined || this.heldVersion === undefined) return this.resync('a partial notification without a version to order it by');
      if (stale) return [];
      if (info.version !== this.heldVersion + 1) return this.resync(`version ${info.version} after ${this.heldVersion}: a notification was lost`);
      next = mergeUsers(this.held, info.users, 'partial', this.containerDefault);
      summary = mergeSummary(this.summary, info.description, info.conferenceState, 'partial', this.containerDefault);
    } else {
      if (stale) return [];
      next = info.state === 'full' ? mergeUsers(this.held, info.users, 'full', 'full') : new Map();
      summary = info.state === 'full' ? mergeSummary({}, info.description, info.conferenceState, 'full', 'full') : {};
    }
    if (next.size > this.maxUsers) throw new ConferenceInfoError(`the roster would hold more than ${this.maxUsers} users`, 'too-many-users');
    const changes: RosterChange[] = [];
    for (const [entity, after] of next) {
      const before = this.held.get(entity);
      if (before !== after) diffUser(before, after, at, changes);
    }
    for (const [entity, before] of this.held) if (!next.has(entity)) diffUser(before, undefined, at, changes);
    this.held = next;
    this.summary = summary;
    this.heldVersion = info.version;
    this.heldEntity = info.entity;
    this.hasState = true;
    this.awaiting = false;
    return changes;
  }

  /** The users present now, in roster order. */
  participants(): Participant[] {
    return this.users().filter((p) => p.present);
  }

  /** Every user the roster lists, present or not (pending, alerting, disconnected...). */
  users(): Participant[] {
    return [...this.held.values()].map((u) => {
      const endpoints: ParticipantEndpoint[] = [...u.endpoints.values()].map((e) => {
        const p: ParticipantEndpoint = { entity: e.entity };
        if (e.displayText !== undefined) p.displayText = e.displayText;
        if (e.status !== undefined) p.status = e.status;
        if (e.joiningMethod !== undefined) p.joiningMethod = e.joiningMethod;
        return p;
      });
      const p: Participant = { entity: u.entity, present: isPresent(u), endpoints };
      if (u.displayText !== undefined) p.displayName = u.displayText;
      const best = RANK.find((s) => endpoints.some((e) => e.status === s));
      if (best !== undefined) p.status = best;
      if (u.joinedAt !== undefined) p.joinedAt = u.joinedAt;
      if (u.roles !== undefined) p.roles = [...u.roles];
      return p;
    });
  }

  private resync(reason: string): RosterResult {
    this.awaiting = true;
    return { resync: true, reason };
  }
}
