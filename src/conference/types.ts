/**
 * The conference-info document model of the SIP conference event package (RFC 4575 §5),
 * as typed values: one interface per schema type, attribute and element names in camelCase.
 *
 * `state` (full / partial / deleted) is kept exactly as written: undefined means the
 * attribute was absent. The schema default is "full"; how an absent state is read inside a
 * partial document is the Roster's decision (see roster.ts), not the parser's.
 */

export const CONFERENCE_INFO_NS = 'urn:ietf:params:xml:ns:conference-info';
export const CONFERENCE_INFO_CONTENT_TYPE = 'application/conference-info+xml';

export type ElementState = 'full' | 'partial' | 'deleted';

/** RFC 4575 §5.7 endpoint status. */
export type EndpointStatus =
  | 'pending'
  | 'dialing-out'
  | 'dialing-in'
  | 'alerting'
  | 'on-hold'
  | 'connected'
  | 'muted-via-focus'
  | 'disconnecting'
  | 'disconnected';

export type JoiningMethod = 'dialed-in' | 'dialed-out' | 'focus-owner';
export type DisconnectionMethod = 'departed' | 'booted' | 'failed' | 'busy';
export type MediaStatus = 'recvonly' | 'sendonly' | 'sendrecv' | 'inactive';

export const ENDPOINT_STATUSES: readonly EndpointStatus[] = [
  'pending', 'dialing-out', 'dialing-in', 'alerting', 'on-hold', 'connected', 'muted-via-focus', 'disconnecting', 'disconnected',
];
export const JOINING_METHODS: readonly JoiningMethod[] = ['dialed-in', 'dialed-out', 'focus-owner'];
export const DISCONNECTION_METHODS: readonly DisconnectionMethod[] = ['departed', 'booted', 'failed', 'busy'];
export const MEDIA_STATUSES: readonly MediaStatus[] = ['recvonly', 'sendonly', 'sendrecv', 'inactive'];

/** The schema's execution-type: joining-info, disconnection-info, referred, modified. */
export interface Execution {
  /** xs:dateTime as written. */
  when?: string;
  /** `when` in milliseconds since the epoch, when it is a valid xs:dateTime. */
  whenMs?: number;
  reason?: string;
  by?: string;
}

export interface UriEntry {
  uri: string;
  displayText?: string;
  purpose?: string;
  modified?: Execution;
}

export interface UriList {
  state?: ElementState;
  entries: UriEntry[];
}

export interface Media {
  id: string;
  displayText?: string;
  type?: string;
  label?: string;
  srcId?: string;
  status?: MediaStatus;
}

export interface SipDialogId {
  displayText?: string;
  callId?: string;
  fromTag?: string;
  toTag?: string;
}

export interface Endpoint {
  entity: string;
  state?: ElementState;
  displayText?: string;
  referred?: Execution;
  status?: EndpointStatus;
  joiningMethod?: JoiningMethod;
  joiningInfo?: Execution;
  disconnectionMethod?: DisconnectionMethod;
  disconnectionInfo?: Execution;
  media: Media[];
  callInfo?: SipDialogId;
}

export interface User {
  entity: string;
  state?: ElementState;
  displayText?: string;
  associatedAors?: UriList;
  roles?: string[];
  languages?: string[];
  cascadedFocus?: string;
  endpoints: Endpoint[];
}

export interface Users {
  state?: ElementState;
  users: User[];
}

export interface AvailableMedia {
  label: string;
  displayText?: string;
  type?: string;
  status?: MediaStatus;
}

export interface ConferenceDescription {
  state?: ElementState;
  displayText?: string;
  subject?: string;
  freeText?: string;
  keywords?: string[];
  confUris?: UriList;
  serviceUris?: UriList;
  maximumUserCount?: number;
  availableMedia?: AvailableMedia[];
}

export interface HostInfo {
  state?: ElementState;
  displayText?: string;
  webPage?: string;
  uris?: UriList;
}

export interface ConferenceState {
  state?: ElementState;
  userCount?: number;
  active?: boolean;
  locked?: boolean;
}

export interface SidebarByVal {
  entity: string;
  state?: ElementState;
  users?: Users;
}

export interface ConferenceInfo {
  /** The conference URI. */
  entity: string;
  /** The root state, the schema default "full" applied. */
  state: ElementState;
  /** Undefined when the attribute is absent (the schema allows it; RFC 4575 §3.7 needs it for partial state). */
  version?: number;
  description?: ConferenceDescription;
  hostInfo?: HostInfo;
  conferenceState?: ConferenceState;
  users?: Users;
  sidebarsByRef?: UriList;
  sidebarsByVal?: { state?: ElementState; entries: SidebarByVal[] };
  /** Values the parser could not read and left out (unknown enumeration values, bad numbers, repeats). */
  warnings: string[];
}

export type ConferenceInfoErrorCode =
  | 'xml'
  | 'not-conference-info'
  | 'missing-entity'
  | 'invalid-entity'
  | 'invalid-version'
  | 'invalid-state'
  | 'duplicate-entity'
  | 'too-many-users'
  | 'too-many-endpoints'
  | 'too-many-entries'
  | 'text-too-long';

export class ConferenceInfoError extends Error {
  override readonly name = 'ConferenceInfoError';
  constructor(message: string, readonly code: ConferenceInfoErrorCode, options?: { cause?: unknown }) {
    super(message, options);
  }
}
