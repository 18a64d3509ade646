/**
 * Bearer tokens (RFC 6750) for the HTTP API. A token maps to a user's AOR, or to '*' for an
 * operator who sees every history. Tokens are compared in constant time: the presented
 * token and every configured one are hashed to SHA-256 digests of equal length, and the
 * presented digest is compared with all of them with timingSafeEqual (no early exit), so
 * neither the position of a mismatch nor which token matched shows in the timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export const OPERATOR = '*';
/** Shortest token accepted in the configuration: a guessable token is no authentication. */
export const MIN_TOKEN_LENGTH = 16;

export interface ApiToken {
  token: string;
  /** The user's AOR (e.g. sip:alice@example.net), or '*' for an operator. */
  aor: string;
}

export interface Principal {
  /** The AOR the token stands for; '*' for an operator. */
  aor: string;
  operator: boolean;
}

export class TokenConfigError extends Error {
  override readonly name = 'TokenConfigError';
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export class TokenTable {
  private readonly entries: { digest: Buffer; principal: Principal }[];

  constructor(tokens: readonly ApiToken[]) {
    const seen = new Set<string>();
    this.entries = tokens.map((t, i) => {
      if (typeof t.token !== 'string' || t.token.length < MIN_TOKEN_LENGTH) {
        throw new TokenConfigError(`tokens[${i}]: a token needs at least ${MIN_TOKEN_LENGTH} characters`);
      }
      if (!/^[\x21-\x7e]+$/.test(t.token)) throw new TokenConfigError(`tokens[${i}]: a token is printable ASCII without spaces`);
      if (typeof t.aor !== 'string' || t.aor.trim() === '') throw new TokenConfigError(`tokens[${i}]: aor is empty`);
      if (seen.has(t.token)) throw new TokenConfigError(`tokens[${i}]: duplicate token`);
      seen.add(t.token);
      return { digest: digest(t.token), principal: { aor: t.aor, operator: t.aor === OPERATOR } };
    });
  }

  /** The principal of an Authorization header value, or undefined when missing or unknown. */
  authenticate(authorization: string | undefined): Principal | undefined {
    if (authorization === undefined) return undefined;
    const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(authorization);
    if (m === null) return undefined;
    const presented = digest(m[1]!);
    let found: Principal | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(presented, e.digest) && found === undefined) found = e.principal;
    }
    return found;
  }
}
