/**
 * The parts of the top Via the transaction layer works with: the branch (RFC 3261 §8.1.1.7,
 * magic cookie z9hG4bK), sent-by (§17.2.3 matching, §18.2.2 response address), received
 * (§18.2.1) and rport (RFC 3581 §4), plus making a new top Via for an outgoing request.
 */
import { randomHex } from '../../random.js';
import type { SipMessage } from '../message/message.js';
import type { Via } from '../message/headers/via.js';
import { getParam } from '../message/headers/scan.js';
import type { TransportName } from '../transport/types.js';
import { defaultPort } from '../transport/received.js';

/** §8.1.1.7: branches starting with this were made by an RFC 3261 client transaction. */
export const MAGIC_COOKIE = 'z9hG4bK';

export interface ViaInfo {
  /** Upper-cased transport token (UDP, TCP, TLS, SCTP, or any extension). */
  transport: string;
  host: string;
  port: number | undefined;
  branch: string | undefined;
  received: string | undefined;
  /** RFC 3581: present (true, or the port a server filled in) or absent (false). */
  rport: boolean | number;
  maddr: string | undefined;
}

/** The parsed top via-parm, or undefined when there is no Via. Throws ParseError when unreadable. */
export function parsedTopVia(msg: SipMessage): Via | undefined {
  return msg.has('via') ? msg.topVia() : undefined;
}

/** The top Via of a message, or undefined when it has none. Throws ParseError when unreadable. */
export function topVia(msg: SipMessage): ViaInfo | undefined {
  const v = parsedTopVia(msg);
  if (v === undefined) return undefined;
  const rport = getParam(v.params, 'rport');
  return {
    transport: v.transport.toUpperCase(),
    host: unbracket(v.host),
    port: v.port,
    branch: nonEmpty(getParam(v.params, 'branch')),
    received: unbracketOpt(nonEmpty(getParam(v.params, 'received'))),
    rport: rport === undefined ? false : rport === null || !/^\d+$/.test(rport) ? true : Number(rport),
    maddr: unbracketOpt(nonEmpty(getParam(v.params, 'maddr'))),
  };
}

/**
 * Whether the branch identifies the transaction by itself (§17.2.3). RFC 4475 §3.2.1
 * "badbranch" sends the bare cookie with nothing after it; that carries no identifier, so
 * it is handled like an RFC 2543 request.
 */
export function isRfc3261Branch(branch: string | undefined): branch is string {
  return branch !== undefined && branch.length > MAGIC_COOKIE.length && branch.startsWith(MAGIC_COOKIE);
}

/** §8.1.1.7: unique across space and time; 96 random bits from the CSPRNG. */
export function newBranch(): string {
  return MAGIC_COOKIE + randomHex(12);
}

/** Where this element can be reached for responses: the sent-by of the Via it inserts. */
export interface ViaSentBy {
  host: string;
  port?: number;
  /** Defaults to the destination's transport. */
  transport?: TransportName;
  /** Ask for symmetric response routing (RFC 3581 §3); on by default. */
  rport?: boolean;
}

export function formatVia(sentBy: ViaSentBy, transport: string, branch: string): string {
  const host = sentBy.host.includes(':') && !sentBy.host.startsWith('[') ? `[${sentBy.host}]` : sentBy.host;
  const port = sentBy.port === undefined ? '' : `:${sentBy.port}`;
  const rport = sentBy.rport === false ? '' : ';rport';
  return `SIP/2.0/${transport} ${host}${port};branch=${branch}${rport}`;
}

/**
 * sent-by as a comparable string: host case-insensitive and without IPv6 brackets, absent
 * port as the default. Takes a ViaInfo or a parsed Via (upper-cased transport, both).
 */
export function sentByKey(v: { host: string; port?: number | undefined; transport: string }): string {
  return `${unbracket(v.host).toLowerCase()}:${v.port ?? defaultPort(v.transport)}`;
}

function nonEmpty(v: string | null | undefined): string | undefined {
  return v === null || v === undefined || v.length === 0 ? undefined : v;
}

/** Addresses are handed to the transport without the IPv6reference brackets. */
function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function unbracketOpt(host: string | undefined): string | undefined {
  return host === undefined ? undefined : unbracket(host);
}
