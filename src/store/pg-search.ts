/**
 * Full-text search for the PostgreSQL backend with the word rules every backend shares
 * (search-text.ts): the store builds the tsvector and the tsquery itself from the folded
 * words (case-folded, diacritics removed, runs of letters/digits/private-use characters)
 * instead of letting PostgreSQL's parser split the text, whose rules differ (hyphenated
 * words, e-mail addresses, URLs, file paths become tokens of their own). Both literals are
 * cast as they are (`$1::tsvector`, `$1::tsquery`), which applies no dictionary, so the
 * lexemes are exactly our words; positions are word indexes, which is what `<->` (phrase)
 * compares. PostgreSQL limits: a lexeme is at most 2046 bytes (longer words are not
 * indexed and cannot be searched for), positions stop at 16383, and a lexeme keeps at most
 * 256 positions.
 */
import { words, type SearchTerm } from './search-text.js';

const MAX_LEXEME_BYTES = 2046;
const MAX_POSITION = 16383;
const MAX_POSITIONS_PER_LEXEME = 256;

function quote(w: string): string {
  return `'${w.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

// A UTF-16 unit is at most 3 UTF-8 bytes: only long words need counting.
const indexable = (w: string): boolean => w.length * 3 <= MAX_LEXEME_BYTES || Buffer.byteLength(w) <= MAX_LEXEME_BYTES;

/** The tsvector literal of a message's searchable text; undefined when it has no word. */
export function tsvectorLiteral(text: string): string | undefined {
  const positions = new Map<string, number[]>();
  let i = 0;
  for (const w of words(text)) {
    const pos = Math.min(++i, MAX_POSITION);
    if (!indexable(w.word)) continue;
    let list = positions.get(w.word);
    if (list === undefined) positions.set(w.word, (list = []));
    if (list.length < MAX_POSITIONS_PER_LEXEME && list.at(-1) !== pos) list.push(pos);
  }
  if (positions.size === 0) return undefined;
  let out = '';
  for (const [w, list] of positions) out += `${out === '' ? '' : ' '}${quote(w)}:${list.join(',')}`;
  return out;
}

/**
 * The tsquery literal for parsed terms: every term must match (&); a term of several
 * words is a phrase (<->); a prefix term's last word gets :*. Undefined when a term can
 * never match (a word longer than a lexeme may be).
 */
export function tsqueryLiteral(terms: readonly SearchTerm[]): string | undefined {
  if (terms.length === 0 || terms.some((t) => !t.words.every(indexable))) return undefined;
  return terms
    .map((t) => `(${t.words.map((w, k) => quote(w) + (t.prefix && k === t.words.length - 1 ? ':*' : '')).join(' <-> ')})`)
    .join(' & ');
}
