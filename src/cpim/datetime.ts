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

// Anchored, no nested quantifiers: linear on any input. Fractions are capped at 9 digits
// (nanoseconds); longer ones say nothing a millisecond clock can use.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The instant of an RFC 3339 date-time in milliseconds since the epoch, or undefined when `text` is not one. */
export function parseRfc3339(text: string): number | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (oh * 60 + om) * (m[9] === '-' ? -1 : 1);
  }
  const ms = m[7] !== undefined ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
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
