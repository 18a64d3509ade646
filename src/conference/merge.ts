/**
 * Applying conference-info elements to held state (RFC 4575 §5 `state` attribute, the
 * partial-notification rules): "full" replaces the element, "partial" updates it — a child
 * present in the update replaces the held one, an absent child stays as it was, keyed
 * children (user and endpoint by entity, media by id) merge recursively — and "deleted"
 * removes it. Pure functions: the held records are never changed in place, so the
 * roster can diff the state before against the state after.
 */
import type { ConferenceDescription, ConferenceState, Endpoint, Media, User, Users } from './types.js';

export interface EndpointRecord extends Omit<Endpoint, 'state'> {
  media: Media[];
}

export interface UserRecord extends Omit<User, 'state' | 'endpoints'> {
  endpoints: Map<string, EndpointRecord>;
  /** When the roster last saw the user become present (bookkeeping, set by the roster). */
  joinedAt?: number;
  /** Whether an endpoint of this user ever reported a status: from then on, presence follows endpoint status only. */
  statusSeen: boolean;
}

export interface ConferenceSummary {
  displayText?: string;
  subject?: string;
  userCount?: number;
  active?: boolean;
  locked?: boolean;
}

/** Copies the keys `source` defines: an absent child of a partial element leaves the held value. */
function assignDefined<T extends object, K extends keyof T>(target: T, source: { [P in K]?: T[P] }, keys: readonly K[]): void {
  for (const k of keys) {
    const v = source[k];
    if (v !== undefined) target[k] = v as T[K];
  }
}

const ENDPOINT_FIELDS = ['displayText', 'referred', 'status', 'joiningMethod', 'joiningInfo', 'disconnectionMethod', 'disconnectionInfo', 'callInfo'] as const;
const USER_FIELDS = ['displayText', 'associatedAors', 'roles', 'languages', 'cascadedFocus'] as const;

/** An endpoint record from an endpoint element: merged onto `base` when given (partial), else built afresh (full). */
export function endpointFrom(el: Endpoint, base?: EndpointRecord): EndpointRecord {
  const r: EndpointRecord = base ? { ...base, media: [...base.media] } : { entity: el.entity, media: [] };
  assignDefined(r, el, ENDPOINT_FIELDS);
  for (const m of el.media) {
    const i = r.media.findIndex((x) => x.id === m.id);
    if (i >= 0) r.media[i] = m;
    else r.media.push(m);
  }
  return r;
}

/**
 * A user record from a user element. `partial` merges onto `base`; otherwise the record
 * holds only what the element says. Either way a partial endpoint merges onto the endpoint
 * `base` held, and a deleted one is dropped.
 */
export function userFrom(el: User, base: UserRecord | undefined, partial: boolean): UserRecord {
  const r: UserRecord = partial && base ? { ...base, endpoints: new Map(base.endpoints) } : { entity: el.entity, endpoints: new Map(), statusSeen: false };
  if (base?.joinedAt !== undefined) r.joinedAt = base.joinedAt;
  assignDefined(r, el, USER_FIELDS);
  for (const ep of el.endpoints) {
    const state = ep.state ?? 'full';
    if (state === 'deleted') r.endpoints.delete(ep.entity);
    else r.endpoints.set(ep.entity, endpointFrom(ep, state === 'partial' ? base?.endpoints.get(ep.entity) : undefined));
  }
  r.statusSeen = (base?.statusSeen ?? false) || [...r.endpoints.values()].some((e) => e.status !== undefined);
  return r;
}

/**
 * The users held after a document. `containerDefault` is how an absent state on <users>
 * reads (the roster passes "full" for full documents and its configured reading for
 * partial ones). A user element without state is a full replacement (the schema default).
 */
export function mergeUsers(held: ReadonlyMap<string, UserRecord>, users: Users | undefined, docState: 'full' | 'partial', containerDefault: 'full' | 'partial'): Map<string, UserRecord> {
  if (!users) return docState === 'full' ? new Map() : new Map(held);
  const state = users.state ?? containerDefault;
  if (state === 'deleted') return new Map();
  const out = state === 'full' ? new Map<string, UserRecord>() : new Map(held);
  for (const u of users.users) {
    const us = u.state ?? 'full';
    if (us === 'deleted') out.delete(u.entity);
    else out.set(u.entity, userFrom(u, held.get(u.entity), us === 'partial'));
  }
  return out;
}

/** The conference-level summary after a document, by the same rules. */
export function mergeSummary(
  held: ConferenceSummary,
  description: ConferenceDescription | undefined,
  state: ConferenceState | undefined,
  docState: 'full' | 'partial',
  containerDefault: 'full' | 'partial',
): ConferenceSummary {
  const out: ConferenceSummary = { ...held };
  const section = <K extends keyof ConferenceSummary>(el: { state?: string } | undefined, keys: readonly K[], values: Pick<ConferenceSummary, K>): void => {
    const st = el ? el.state ?? containerDefault : docState === 'full' ? 'deleted' : 'untouched';
    if (st === 'untouched') return;
    if (st !== 'partial') for (const k of keys) delete out[k];
    if (st !== 'deleted') assignDefined(out, values, keys);
  };
  section(description, ['displayText', 'subject'] as const, { displayText: description?.displayText, subject: description?.subject });
  section(state, ['userCount', 'active', 'locked'] as const, { userCount: state?.userCount, active: state?.active, locked: state?.locked });
  return out;
}
