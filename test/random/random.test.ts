// src/random.ts: pooled CSPRNG identifiers — shapes, no reuse across pool refills, uniform base 62.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBase62, randomBase64url, randomHex, randomUint32 } from '../../src/random.js';

test('randomHex(n) is 2n lower-case hex characters', () => {
  for (const n of [1, 6, 8, 12, 18]) assert.match(randomHex(n), new RegExp(`^[0-9a-f]{${2 * n}}$`));
});

test('randomBase64url(n) is unpadded base64url of n bytes', () => {
  const s = randomBase64url(16);
  assert.match(s, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(Buffer.from(s, 'base64url').length, 16);
});

test('randomBase62(n) has n characters of [A-Za-z0-9]', () => {
  for (const n of [1, 16, 20, 64]) assert.match(randomBase62(n), new RegExp(`^[A-Za-z0-9]{${n}}$`));
});

test('no identifier repeats across many pool refills (each byte handed out once)', () => {
  // 20,000 x 12 bytes = 240,000 bytes: about 59 refills of the 4 KiB pool.
  const seen = new Set<string>();
  for (let i = 0; i < 20_000; i++) seen.add(randomHex(12));
  assert.equal(seen.size, 20_000);
  // The same across a refill boundary for odd sizes that do not divide the pool.
  const odd = new Set<string>();
  for (let i = 0; i < 5_000; i++) odd.add(randomHex(7));
  assert.equal(odd.size, 5_000);
});

test('randomBase62 draws every character about equally often', () => {
  const counts = new Map<string, number>();
  const draws = 62_000;
  const s = randomBase62(draws);
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  assert.equal(counts.size, 62);
  // Expected 1,000 each; a binomial(62000, 1/62) leaves [700, 1300] with probability < 1e-20.
  for (const [c, n] of counts) assert.ok(n > 700 && n < 1300, `${c} drawn ${n} times`);
});

test('randomUint32 covers the 32-bit range', () => {
  let max = 0;
  for (let i = 0; i < 1000; i++) {
    const v = randomUint32();
    assert.ok(Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff);
    max = Math.max(max, v);
  }
  assert.ok(max > 0x8000_0000, 'the top bit is set in some of 1000 draws');
});

test('more than a pool at once is refused, not silently truncated', () => {
  assert.throws(() => randomHex(4097), RangeError);
});
