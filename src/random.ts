/**
 * Random identifiers from the CSPRNG, handed out of a pool that is refilled in bulk.
 *
 * Every per-message identifier the protocols ask for — RFC 3261 branches (§8.1.1.7, 96 bits
 * here), tags (§19.3, at least 32 bits), Call-IDs (§8.1.1.4), initial CSeqs (§8.1.1.5);
 * MSRP transaction and message ids and session-ids (RFC 4975 §7.1, §14.1); CPIM/IMDN
 * Message-IDs (RFC 5438 §6.3); multipart boundaries (RFC 2046 §5.1.1) — comes from here.
 *
 * Why a pool: `crypto.randomBytes(n)` costs a Buffer and a trip into OpenSSL per call, and
 * OpenSSL's fork check makes a getpid(2) system call each time; at tens of thousands of
 * transactions a second that was 18% of the SIP core's CPU (bench/transactions --profile).
 * One randomFillSync per 4 KiB keeps the same generator. Each pooled byte is handed out once
 * and then overwritten by the next refill, so no two identifiers share randomness.
 */
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** Offset in the pool of `n` (<= 4096) bytes no one has been given yet. */
function take(n: number): number {
  if (n > POOL_SIZE) throw new RangeError(`at most ${POOL_SIZE} random bytes at once, asked for ${n}`);
  if (poolOffset + n > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += n;
  return at;
}

/** `n` fresh random bytes as lower-case hex (2n characters). */
export function randomHex(n: number): string {
  const at = take(n);
  return pool.toString('hex', at, at + n);
}

/** `n` fresh random bytes as base64url without padding. */
export function randomBase64url(n: number): string {
  const at = take(n);
  return pool.toString('base64url', at, at + n);
}

/** A uniformly random unsigned 32-bit integer. */
export function randomUint32(): number {
  return pool.readUInt32BE(take(4));
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Bytes at or above this are dropped so every character is equally likely (248 = 4 * 62). */
const UNBIASED_LIMIT = 248;

/** `length` characters drawn uniformly from [A-Za-z0-9]. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    // 8 spare bytes cover the ~3% that are dropped; the loop takes more if they do not.
    const want = Math.min(length - out.length + 8, POOL_SIZE);
    const at = take(want);
    for (let i = at; i < at + want && out.length < length; i++) {
      const b = pool[i]!;
      if (b < UNBIASED_LIMIT) out += BASE62[b % 62];
    }
  }
  return out;
}
