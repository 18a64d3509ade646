/**
 * Typed access to the two npm SIP parsers the parse bench compares against. Neither ships
 * types for what we call, so they are loaded with createRequire and checked at load time;
 * the interfaces below describe only the fields the bench reads.
 *
 * - `sip` 0.0.6 (kirm/sip.js): `parse(Buffer | string)` converts with toString('binary'),
 *   splits the head with a regular expression and parses Via, From, To, Contact, CSeq,
 *   Route/Record-Route/Path, Refer-To and the auth headers eagerly; every other header is
 *   kept as a string. Name-addr URIs stay strings (parseUri() turns one into fields).
 * - `jssip` 3.x: `Parser.parseMessage(string, ua)` (lib/Parser.js, not re-exported by the
 *   package main) runs its PEG grammar eagerly on the first Via, From, To, Call-ID, Contact,
 *   Record-Route, CSeq, Content-Type, Content-Length, Max-Forwards, Refer-To, Event,
 *   Session-Expires, Replaces and the auth challenges; any other header (and Via #2..n) is
 *   parsed on `parseHeader(name, idx)`. There is no grammar rule for Accept-Contact.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

// ---- sip (kirm) ----

export type SipJsParams = Record<string, string | null>;

export interface SipJsAor {
  name?: string;
  uri: string;
  params: SipJsParams;
}

export interface SipJsVia {
  version: string;
  protocol: string;
  host: string;
  port?: number;
  params: SipJsParams;
}

export interface SipJsUri {
  schema: string;
  user?: string;
  host: string;
  port: number;
  params: SipJsParams;
}

export interface SipJsHeaders {
  via?: SipJsVia[];
  from?: SipJsAor;
  to?: SipJsAor;
  'call-id'?: string;
  cseq?: { seq: number; method: string };
  contact?: '*' | SipJsAor[];
  'content-type'?: string;
  'max-forwards'?: string;
  'refer-to'?: SipJsAor;
  'accept-contact'?: string;
  event?: string;
  'subscription-state'?: string;
}

export interface SipJsMessage {
  method?: string;
  uri?: string;
  status?: number;
  headers: SipJsHeaders;
  content: string;
}

export interface SipJs {
  parse(data: Buffer | string): SipJsMessage | undefined;
  parseUri(s: string): SipJsUri | undefined;
}

export function loadSipJs(): SipJs {
  const mod: unknown = require('sip');
  if (!isRecord(mod) || typeof mod.parse !== 'function' || typeof mod.parseUri !== 'function') {
    throw new Error("require('sip') has no parse()/parseUri()");
  }
  return mod as unknown as SipJs;
}

// ---- jssip ----

export interface JsSipUri {
  readonly scheme: string;
  readonly user: string | undefined;
  readonly host: string;
  readonly port: number | undefined;
}

export interface JsSipNameAddr {
  readonly uri: JsSipUri;
  getParam(name: string): string | null | undefined;
}

export interface JsSipVia {
  protocol: string;
  transport: string;
  host: string;
  port?: number;
  branch?: string;
  received?: string;
  rport?: number;
}

export interface JsSipEvent {
  event: string;
  params?: Record<string, string | null>;
}

export interface JsSipSubscriptionState {
  state: string;
  expires?: number;
  reason?: string;
}

/** The fields of SIPMessage.IncomingRequest that Parser.parseMessage fills eagerly. */
export interface JsSipIncoming {
  method: string;
  ruri: JsSipUri;
  call_id: string;
  cseq: number;
  via: JsSipVia;
  via_branch: string;
  from: JsSipNameAddr;
  from_tag: string | undefined;
  to: JsSipNameAddr;
  to_tag: string | undefined;
  refer_to?: JsSipNameAddr;
  event?: JsSipEvent;
  body: string;
  /** Keyed by the canonical spelling (Utils.headerize): 'Via', 'Call-ID', 'CSeq'... */
  headers: Record<string, { raw: string; parsed?: unknown }[] | undefined>;
  getHeader(name: string): string | undefined;
  getHeaders(name: string): string[];
  parseHeader(name: string, idx?: number): unknown;
}

export interface JsSipParser {
  parseMessage(data: string, ua: object): JsSipIncoming | undefined;
}

export function loadJsSipParser(): JsSipParser {
  const mod: unknown = require('jssip/lib/Parser.js');
  if (!isRecord(mod) || typeof mod.parseMessage !== 'function') {
    throw new Error("require('jssip/lib/Parser.js') has no parseMessage()");
  }
  return mod as unknown as JsSipParser;
}

export function jssipVersion(): string {
  return packageVersion('jssip');
}

export function sipJsVersion(): string {
  return packageVersion('sip');
}

function packageVersion(name: string): string {
  const pkg: unknown = require(`${name}/package.json`);
  return isRecord(pkg) && typeof pkg.version === 'string' ? pkg.version : '?';
}
