/**
 * xs:dateTime (XML Schema Part 2 §3.2.7), the type of <when> in RFC 4575 §5.7 joining-info
 * and disconnection-info: RFC 3339 with an optional timezone and hour 24:00:00 allowed.
 * Without a timezone the instant is read as UTC: a conference focus that leaves it out
 * gives nothing better to go on, and a record needs one instant.
 */
const XS_DATE_TIME = /^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|([+-])(\d{2}):(\d{2}))?$/;

/** xs:dateTime in milliseconds since the epoch; without a timezone it is read as UTC. */
export function parseXsDateTime(text: string): number | undefined {
  const m = XS_DATE_TIME.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = mo === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(mo) ? 30 : 31;
  if (mo < 1 || mo > 12 || d < 1 || d > days || h > 24 || mi > 59 || s > 59 || (h === 24 && (mi !== 0 || s !== 0))) return undefined;
  let offset = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 14 || om > 59) return undefined;
    offset = (oh * 60 + om) * (m[9] === '-' ? -1 : 1);
  }
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, m[7] !== undefined ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0);
  const t = date.getTime() - offset * 60_000;
  return Number.isFinite(t) ? t : undefined;
}
