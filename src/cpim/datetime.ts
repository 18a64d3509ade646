/**
 * RFC 3339 §5.6 date-time, as the CPIM DateTime header (RFC 3862 §4.4) and the IMDN
 * <datetime> element (RFC 5438 §7.2) carry it.
 *
 * Checked beyond the grammar: month 01-12, the day against the month (leap years per the
 * Gregorian rule, RFC 3339 Appendix C), hour <= 23, minute <= 59, second <= 60 (§5.7 allows
 * a leap second), offset hours <= 23 and minutes <= 59. "T" and "Z" may be lower case (§5.6
 * NOTE). A leap second maps to the first millisecond of the next minute: the instant is kept
 * to the millisecond, which is all a history record needs.
 */

// The grammar, read character by character below (every recorded message has one, and a
// regular expression's match array and substrings were a third of a message's CPIM garbage):
//   YYYY-MM-DD ("T" / "t") hh:mm:ss [ "." 1*9DIGIT ] ( "Z" / "z" / ("+" / "-") hh:mm )
// Fractions are capped at 9 digits (nanoseconds); longer ones say nothing a millisecond clock can use.

/** The value of the `n` decimal digits at text[at...], or -1 if any of them is not a digit. */
function digits(text: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = text.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The instant of an RFC 3339 date-time in milliseconds since the epoch, or undefined when `text` is not one. */
export function parseRfc3339(text: string): number | undefined {
  const len = text.length;
  if (len < 20 || text[4] !== '-' || text[7] !== '-' || (text[10] !== 'T' && text[10] !== 't') || text[13] !== ':' || text[16] !== ':') return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return undefined;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  let i = 19;
  let ms = 0;
  if (text[i] === '.') {
    const from = ++i;
    while (i < len && i - from < 10 && digits(text, i, 1) >= 0) i++;
    if (i === from || i - from > 9) return undefined;
    ms = Math.floor(Number(`0.${text.slice(from, i)}`) * 1000);
  }
  let offsetMinutes = 0;
  const z = text[i];
  if (z === 'Z' || z === 'z') {
    if (i + 1 !== len) return undefined;
  } else if (z === '+' || z === '-') {
    if (i + 6 !== len || text[i + 3] !== ':') return undefined;
    const oh = digits(text, i + 1, 2);
    const om = digits(text, i + 4, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return undefined;
    offsetMinutes = (oh * 60 + om) * (z === '-' ? -1 : 1);
  } else return undefined;
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime() - offsetMinutes * 60_000;
}

/** Formats an instant as an RFC 3339 date-time in UTC with milliseconds (what Date#toISOString writes for years 0-9999). */
export function formatRfc3339(date: Date): string {
  const t = date.getTime();
  if (!Number.isFinite(t)) throw new RangeError('invalid Date');
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`year ${year} cannot be written as an RFC 3339 date-time`);
  return date.toISOString();
}
