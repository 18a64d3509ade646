// src/cpim/datetime.ts: the hand-written RFC 3339 reader against the grammar written as a
// regular expression (its earlier implementation), on valid, boundary and mutated inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRfc3339 } from '../../src/cpim/datetime.js';
import { mutations } from '../helpers/mutate.js';

const GRAMMAR = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function reference(text: string): number | undefined {
  const m = GRAMMAR.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as number[];
  const dim = month === 2 ? ((year! % 4 === 0 && year! % 100 !== 0) || year! % 400 === 0 ? 29 : 28) : [4, 6, 9, 11].includes(month!) ? 30 : 31;
  if (month! < 1 || month! > 12 || day! < 1 || day! > dim) return undefined;
  if (hour! > 23 || minute! > 59 || second! > 60) return undefined;
  let off = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    off = (oh * 60 + om) * (m[9] === '-' ? -1 : 1);
  }
  const ms = m[7] !== undefined ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  const d = new Date(0);
  d.setUTCFullYear(year!, month! - 1, day!);
  d.setUTCHours(hour!, minute!, second!, ms);
  return d.getTime() - off * 60_000;
}

const VALID = [
  '2026-11-25T16:37:31Z', '2026-11-25t16:37:31z', '2026-11-25T16:37:31.123Z', '2026-11-25T16:37:31.5+02:00',
  '2026-11-25T16:37:31.123456789-11:30', '0001-01-01T00:00:00Z', '0099-12-31T23:59:59Z', '9999-12-31T23:59:60Z',
  '2024-02-29T12:00:00Z', '2000-02-29T12:00:00Z', '1985-04-12T23:20:50.52Z', '1996-12-19T16:39:57-08:00', '1990-12-31T23:59:60Z',
];
const INVALID = [
  '', 'Z', '2026-11-25', '2026-11-25T16:37Z', '2026-11-25 16:37:31Z', '2026-11-25T16:37:31', '2026-11-25T16:37:31.Z',
  '2026-11-25T16:37:31.1234567890Z', '2026-13-01T00:00:00Z', '2026-00-01T00:00:00Z', '2023-02-29T00:00:00Z', '1900-02-29T00:00:00Z',
  '2026-04-31T00:00:00Z', '2026-11-25T24:00:00Z', '2026-11-25T23:60:00Z', '2026-11-25T23:59:61Z', '2026-11-25T16:37:31+24:00',
  '2026-11-25T16:37:31+02:60', '2026-11-25T16:37:31+0200', '2026-11-25T16:37:31+02:00Z', '2026-11-25T16:37:31ZZ', '+2026-11-25T16:37:31Z',
  '2026-11-25T16:37:31.12a Z', '２０２６-11-25T16:37:31Z', '2026-11-25T16:37:31 Z', '2026/11/25T16:37:31Z',
];

test('RFC 3339 §5.6: the reader agrees with the grammar on valid and invalid date-times', () => {
  for (const t of VALID) {
    assert.notEqual(parseRfc3339(t), undefined, t);
    assert.equal(parseRfc3339(t), reference(t), t);
  }
  for (const t of INVALID) assert.equal(parseRfc3339(t), undefined, t);
});

test('the reader agrees with the grammar on 20,000 mutations of valid date-times (seeded)', () => {
  for (const t of mutations(12345, VALID, '0123456789-:.TtZz+- x', 20_000, 2)) {
    assert.equal(parseRfc3339(t), reference(t), JSON.stringify(t));
  }
});
