/**
 * Random identifiers for MSRP (RFC 4975).
 *
 * - §7.1: a transaction identifier "MUST contain at least 64 bits of randomness"; it is an
 *   ident (§9: ALPHANUM 3*31ident-char). We use 16 base-62 characters: 95 bits.
 * - Message-ID: also an ident, unique within the session (§7.1.1); same construction.
 * - §14.1: the session-id part of an MSRP URI is what keeps a stranger from injecting into
 *   a session, so it "SHOULD be at least 80 bits of randomness"; the project's security
 *   requirement (issue 6) makes that a must. 20 base-62 characters: 119 bits, all of them
 *   unreserved characters, so the URI needs no escaping.
 * Base 62 (letters and digits) is a subset of both ident-char and the session-id alphabet.
 */
import { randomBase62 } from '../random.js';

/** Bits of randomness in a base-62 string of this length. */
export function base62Bits(length: number): number {
  return length * Math.log2(62);
}

export const TRANSACTION_ID_LENGTH = 16;
export const MESSAGE_ID_LENGTH = 16;
export const SESSION_ID_LENGTH = 20;

export function newTransactionId(): string {
  return randomBase62(TRANSACTION_ID_LENGTH);
}

export function newMessageId(): string {
  return randomBase62(MESSAGE_ID_LENGTH);
}

export function newSessionId(): string {
  return randomBase62(SESSION_ID_LENGTH);
}
