/**
 * Matching messages to transactions: RFC 3261 §17.1.3 (responses to client transactions,
 * by top Via branch and CSeq method), §17.2.3 (requests to server transactions: branch with
 * the z9hG4bK cookie + sent-by + method, ACK matching the INVITE; else the RFC 2543 rules
 * on Request-URI, tags, Call-ID, CSeq and top Via) and §9.2 (finding the request a CANCEL
 * cancels: the same matching with the method taken as anything but CANCEL or ACK).
 *
 * The layer indexes server transactions by a key built from the fields every matching
 * request shares; the per-method rules (ACK to INVITE, CANCEL apart, RFC 2543 To tags) are
 * then checked on the few transactions under one key.
 */
import type { SipRequest } from '../message/message.js';
import { TransactionUsageError } from './errors.js';
import { isRfc3261Branch, parsedTopVia, sentByKey, topVia } from './via.js';

/** What matching needs to know of a server transaction. */
export interface MatchableServerTransaction {
  readonly method: string;
  /** To tag of the request that created the transaction (RFC 2543 matching). */
  readonly requestToTag: string | undefined;
  /** To tag of the final response sent, if any (RFC 2543 ACK matching). */
  readonly finalToTag?: string | undefined;
}

export interface ServerMatchKey {
  key: string;
  /** True when the branch carried the magic cookie and an identifier after it. */
  rfc3261: boolean;
}

/**
 * The index key of a request. Throws ParseError / MissingHeaderError when a header the rules
 * need is unreadable, and TransactionUsageError when there is no Via at all.
 */
export function serverMatchKey(req: SipRequest): ServerMatchKey {
  // The parsed top via-parm has the branch and sent-by already: the key needs no more.
  const top = parsedTopVia(req);
  if (top === undefined) throw new TransactionUsageError('request without Via');
  if (isRfc3261Branch(top.branch)) {
    // §7.3.1: parameter values compare case-insensitively unless a header says otherwise.
    // One flat string (join), not a rope the index would have to flatten on every lookup.
    return { key: ['3261', top.branch.toLowerCase(), sentByKey(top)].join('\n'), rfc3261: true };
  }
  const via = topVia(req)!;
  // RFC 2543 fallback. The To tag and the method differ between an INVITE, its ACK and its
  // CANCEL, so they are compared per transaction, not put in the key.
  const viaId = `${via.transport}/${sentByKey(via)};branch=${via.branch ?? ''}`;
  const parts = ['2543', req.uri.trim(), req.fromTag() ?? '', req.callId(), String(req.cseq().seq), viaId];
  return { key: parts.join('\n'), rfc3261: false };
}

/** Whether a key from serverMatchKey is a branch key (RFC 3261) rather than an RFC 2543 one. */
export function isRfc3261Key(key: string): boolean {
  return key.startsWith('3261\n');
}

/** §17.2.3: does `req` (sharing `tx`'s key) belong to `tx`? */
export function matchesServerTransaction(tx: MatchableServerTransaction, req: SipRequest, rfc3261: boolean): boolean {
  if (req.method === 'ACK') {
    if (tx.method !== 'INVITE') return false;
    // RFC 2543: the ACK's To tag is the one of the response the transaction sent.
    return rfc3261 || tx.finalToTag === req.toTag();
  }
  if (tx.method !== req.method) return false;
  return rfc3261 || tx.requestToTag === req.toTag();
}

/** §9.2: the transaction a CANCEL (sharing its key) cancels, INVITE preferred. */
export function matchesCancelled(tx: MatchableServerTransaction, cancel: SipRequest, rfc3261: boolean): boolean {
  if (tx.method === 'CANCEL' || tx.method === 'ACK') return false;
  return rfc3261 || tx.requestToTag === cancel.toTag();
}

/** §17.1.3: the client transaction key of a branch and a (CSeq) method. */
export function clientMatchKey(branch: string, method: string): string {
  return [branch.toLowerCase(), method].join('\n');
}
