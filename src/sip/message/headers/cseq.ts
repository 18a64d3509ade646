/**
 * CSeq (RFC 3261 §20.16, §8.1.1.5: sequence number < 2^31 when sent, any 32-bit value
 * accepted) and the integer scalars of §25.1: delta-seconds, qvalue.
 *
 * RFC 4475 §3.1.2.4 and §3.1.2.5: a CSeq beyond 2^32-1 is a 400, not a wrap-around, and
 * leading zeros are legal (§3.1.1.1: "0009" is 9).
 */
import { charAt, fail, scanToken, skipLws } from './scan.js';

export interface CSeq {
  seq: number;
  method: string;
}

const UINT32_MAX = 0xffffffff;

/**
 * Scans 1*DIGIT at i as an unsigned 32-bit value. Gives up at the first digit that
 * overflows, so a million-digit number costs nothing. Returns [value, end].
 */
export function scanUint32(s: string, i: number, what: string): [number, number] {
  let v = 0;
  let j = i;
  for (; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c < 0x30 || c > 0x39) break;
    v = v * 10 + (c - 0x30);
    if (v > UINT32_MAX) fail(`${what} exceeds 2^32-1`, i);
  }
  if (j === i) fail(`expected ${what}, found ${charAt(s, i)}`, i);
  return [v, j];
}

/** The end of 1*DIGIT at i, throwing as scanUint32 does; uint32At reads the value. */
function uint32End(s: string, i: number, what: string): number {
  let v = 0;
  let j = i;
  for (; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c < 0x30 || c > 0x39) break;
    v = v * 10 + (c - 0x30);
    if (v > UINT32_MAX) fail(`${what} exceeds 2^32-1`, i);
  }
  if (j === i) fail(`expected ${what}, found ${charAt(s, i)}`, i);
  return j;
}

function uint32At(s: string, i: number, end: number): number {
  let v = 0;
  for (let j = i; j < end; j++) v = v * 10 + (s.charCodeAt(j) - 0x30);
  return v;
}

function wholeValue(s: string, what: string): number {
  const i = skipLws(s, 0);
  const end = uint32End(s, i, what);
  const k = skipLws(s, end);
  if (k < s.length) fail(`unexpected ${charAt(s, k)} after ${what}`, k);
  return uint32At(s, i, end);
}

/** 1*DIGIT, 0..2^32-1, surrounding LWS allowed. */
export function parseUint32(s: string): number {
  return wholeValue(s, 'number');
}

/**
 * delta-seconds = 1*DIGIT (RFC 3261 §25.1). Values over 2^32-1 throw by default; with
 * 'clamp' they become 2^32-1, for fields where RFC 4475 §3.1.2.4 allows tolerance
 * (Expires, contact expires).
 */
export function parseDeltaSeconds(s: string, overflow: 'throw' | 'clamp' = 'throw'): number {
  if (overflow === 'throw') return wholeValue(s, 'delta-seconds');
  const i = skipLws(s, 0);
  let j = i;
  while (j < s.length && s.charCodeAt(j) >= 0x30 && s.charCodeAt(j) <= 0x39) j++;
  if (j === i || skipLws(s, j) < s.length) fail('invalid delta-seconds', i);
  let k = i;
  while (k < j - 1 && s.charCodeAt(k) === 0x30) k++;
  return j - k > 10 ? UINT32_MAX : Math.min(Number(s.slice(k, j)), UINT32_MAX);
}

/** qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 3261 §25.1). */
export function parseQValue(s: string): number {
  const t = s.trim();
  const n = t.length;
  const head = t.charCodeAt(0);
  let ok = n >= 1 && n <= 5 && (head === 0x30 || head === 0x31);
  if (ok && n > 1) {
    ok = t.charCodeAt(1) === 0x2e;
    for (let k = 2; ok && k < n; k++) {
      const c = t.charCodeAt(k);
      ok = head === 0x31 ? c === 0x30 : c >= 0x30 && c <= 0x39;
    }
  }
  if (!ok) fail(`invalid qvalue ${JSON.stringify(t)}`, 0);
  return Number(t);
}

/** CSeq = 1*DIGIT LWS Method. */
export function parseCSeq(s: string): CSeq {
  const i = skipLws(s, 0);
  const end = uint32End(s, i, 'CSeq number');
  const seq = uint32At(s, i, end);
  const m = skipLws(s, end);
  if (m === end) fail(`expected LWS after CSeq number, found ${charAt(s, m)}`, m);
  const methodEnd = scanToken(s, m);
  if (methodEnd === m) fail(`expected method, found ${charAt(s, m)}`, m);
  const k = skipLws(s, methodEnd);
  if (k < s.length) fail(`unexpected ${charAt(s, k)} after CSeq method`, k);
  return { seq, method: s.slice(m, methodEnd) };
}

export function formatCSeq(c: CSeq): string {
  return `${c.seq} ${c.method}`;
}
