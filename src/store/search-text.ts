/**
 * The searchable text of a message and the word rules of search, shared by the backends.
 *
 * - searchableText: the text of a text/* body, or of the text/* content inside a
 *   message/cpim wrapper (RFC 3862 §3: message headers, a blank line, MIME content headers,
 *   a blank line, the content). Other content (images, isComposing, IMDN reports) is not
 *   searchable. Backends store this text beside the raw body, which stays byte-exact.
 * - Words are maximal runs of letters, digits and private-use characters, compared after
 *   case folding and with diacritics removed: the rules of SQLite FTS5's
 *   `unicode61 remove_diacritics 2` tokenizer, which the SQLite backend indexes with, so the
 *   in-memory backend finds the same messages.
 * - parseSearchText turns user input into terms (words, "quoted phrases", word* prefixes)
 *   with no operator syntax, so user input can never be an FTS5 syntax error or injection.
 */

/** Upper bound of the text kept for search per message (the raw body is kept whole). */
export const DEFAULT_MAX_SEARCH_TEXT = 64 * 1024;

interface MediaType {
  type: string;
  subtype: string;
  charset: string | undefined;
}

function parseMediaType(value: string): MediaType | undefined {
  const [essence = '', ...params] = value.split(';');
  const slash = essence.indexOf('/');
  if (slash <= 0) return undefined;
  let charset: string | undefined;
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === 'charset') charset = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return { type: essence.slice(0, slash).trim().toLowerCase(), subtype: essence.slice(slash + 1).trim().toLowerCase(), charset };
}

function decode(body: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body);
  }
}

/** Splits at the first empty line (CRLF CRLF, or LF LF from lenient peers): [head, rest]. */
function splitAtBlankLine(buf: Buffer): [string, Buffer] | undefined {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return undefined;
  const [at, len] = crlf >= 0 && (lf < 0 || crlf < lf) ? [crlf, 4] : [lf, 2];
  return [buf.subarray(0, at).toString('latin1'), buf.subarray(at + len)];
}

function headerValue(head: string, name: string): string | undefined {
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === name) return line.slice(colon + 1).trim();
  }
  return undefined;
}

export function searchableText(contentType: string, body: Buffer, maxChars = DEFAULT_MAX_SEARCH_TEXT): string | undefined {
  let mt = parseMediaType(contentType);
  let content = body;
  if (mt?.type === 'message' && mt.subtype === 'cpim') {
    const afterMessageHeaders = splitAtBlankLine(body);
    const mime = afterMessageHeaders === undefined ? undefined : splitAtBlankLine(afterMessageHeaders[1]);
    if (mime === undefined) return undefined;
    const inner = headerValue(mime[0], 'content-type');
    mt = inner === undefined ? undefined : parseMediaType(inner);
    content = mime[1];
  }
  if (mt?.type !== 'text') return undefined;
  const text = decode(content, mt.charset);
  return text.length > maxChars ? text.slice(0, maxChars) : text;
}

// ---- words ----

const WORD = /[\p{L}\p{N}\p{Co}]+/gu;

const ASCII = /^[\x00-\x7f]*$/;

/** Case-folded, diacritics removed. */
export function foldWord(w: string): string {
  // ASCII has no decompositions and no combining marks: skip the Unicode work (most words).
  if (ASCII.test(w)) return w.toLowerCase();
  return w.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

export interface WordAt {
  word: string;
  start: number;
  end: number;
}

export function words(text: string): WordAt[] {
  const out: WordAt[] = [];
  for (const m of text.matchAll(WORD)) {
    const start = m.index ?? 0;
    out.push({ word: foldWord(m[0]), start, end: start + m[0].length });
  }
  return out;
}

export interface SearchTerm {
  /** Folded words that must occur consecutively. */
  words: string[];
  /** The last word matches as a prefix. */
  prefix: boolean;
}

export function parseSearchText(text: string): SearchTerm[] {
  const terms: SearchTerm[] = [];
  const re = /"([^"]*)"(\*?)|([^\s"]+)/g;
  for (const m of text.matchAll(re)) {
    const raw = m[1] ?? m[3] ?? '';
    const prefix = m[2] === '*' || (m[3] !== undefined && m[3].endsWith('*'));
    const ws = words(raw).map((w) => w.word);
    if (ws.length > 0) terms.push({ words: ws, prefix });
  }
  return terms;
}

/** FTS5 query text: each term a quoted phrase (implicit AND), `*` for a prefix. */
export function ftsQuery(terms: readonly SearchTerm[]): string {
  return terms.map((t) => `"${t.words.join(' ')}"${t.prefix ? '*' : ''}`).join(' ');
}

/** Start indexes (into ws) of the occurrences of term. */
function occurrences(ws: readonly WordAt[], t: SearchTerm): number[] {
  const out: number[] = [];
  const n = t.words.length;
  for (let i = 0; i + n <= ws.length; i++) {
    let ok = true;
    for (let k = 0; k < n && ok; k++) {
      const w = ws[i + k]!.word;
      const q = t.words[k]!;
      ok = k === n - 1 && t.prefix ? w.startsWith(q) : w === q;
    }
    if (ok) out.push(i);
  }
  return out;
}

/**
 * For backends without FTS: undefined when the text does not match every term, else a
 * snippet of about `size` words around the first match, in the SQLite snippet() format.
 */
export function matchText(text: string, terms: readonly SearchTerm[], marks: { open: string; close: string; ellipsis: string }, size = 12): string | undefined {
  if (terms.length === 0) return undefined;
  const ws = words(text);
  const hit = new Set<number>();
  let first = Infinity;
  for (const t of terms) {
    const occ = occurrences(ws, t);
    if (occ.length === 0) return undefined;
    for (const i of occ) for (let k = 0; k < t.words.length; k++) hit.add(i + k);
    first = Math.min(first, occ[0]!);
  }
  const from = Math.max(0, Math.min(first - 2, ws.length - size));
  const to = Math.min(ws.length, from + size);
  let out = from > 0 ? marks.ellipsis : '';
  for (let i = from; i < to; i++) {
    const w = ws[i]!;
    if (i > from) out += text.slice(ws[i - 1]!.end, w.start);
    const s = text.slice(w.start, w.end);
    out += hit.has(i) ? marks.open + s + marks.close : s;
  }
  return to < ws.length ? out + marks.ellipsis : out;
}
