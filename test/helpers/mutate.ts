// Seeded string mutations for differential tests: the same seed gives the same inputs, so a
// failure names an input that can be reproduced.

/**
 * `count` strings, each a random element of `bases` with 1..maxEdits single-character edits
 * (delete, insert or replace with a character of `alphabet`), from a linear congruential
 * generator started at `seed`.
 */
export function* mutations(seed: number, bases: readonly string[], alphabet: string, count: number, maxEdits: number): Generator<string> {
  let x = seed;
  const rnd = (n: number): number => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x % n;
  };
  const letters = [...alphabet];
  for (let k = 0; k < count; k++) {
    const chars = [...bases[rnd(bases.length)]!];
    for (let e = 1 + rnd(maxEdits); e > 0; e--) {
      const at = rnd(chars.length + 1);
      const op = rnd(3);
      const c = letters[rnd(letters.length)]!;
      if (op === 0) chars.splice(at, 1);
      else if (op === 1) chars.splice(at, 0, c);
      else chars[Math.min(at, chars.length - 1)] = c;
    }
    yield chars.join('');
  }
}
