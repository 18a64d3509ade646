/**
 * Accept-Contact and Reject-Contact (RFC 3841 §10, feature parameters of RFC 3840 §9):
 *   ac-value = "*" *(SEMI ac-params)
 *   ac-params = feature-param / req-param / explicit-param / generic-param
 * RFC 3841 §10 also says there is at most one "require", one "explicit", and one instance
 * of any feature tag per ac-value; duplicates are rejected rather than guessed at.
 * OMA SIMPLE IM routes by `*;+g.oma.sip-im;explicit` (seed clauses 1.1.1-2 and 1.2).
 */
import {
  charAt, equalsIgnoreCase, fail, formatParams, parseList, parseParams, skipLws, unquote, type Param,
} from './scan.js';

export interface AcValue {
  /** Feature and generic parameters, as written (values keep their quotes). */
  featureParams: Param[];
  require: boolean;
  explicit: boolean;
}

function scanAcValue(s: string, i: number, out: AcValue[]): number {
  if (s.charCodeAt(i) !== 0x2a) fail(`expected "*", found ${charAt(s, i)}`, i);
  const params: Param[] = [];
  const end = parseParams(s, i + 1, params);
  const value: AcValue = { featureParams: [], require: false, explicit: false };
  const features = value.featureParams;
  for (let k = 0; k < params.length; k++) {
    const p = params[k]!;
    const isRequire = equalsIgnoreCase(p.name, 'require');
    if (isRequire || equalsIgnoreCase(p.name, 'explicit')) {
      if (p.value !== null) fail(`${p.name} takes no value`, i);
      if (isRequire) {
        if (value.require) fail('duplicate require', i);
        value.require = true;
      } else {
        if (value.explicit) fail('duplicate explicit', i);
        value.explicit = true;
      }
    } else {
      for (let q = 0; q < features.length; q++) {
        if (equalsIgnoreCase(features[q]!.name, p.name)) fail(`duplicate feature tag ${p.name}`, i);
      }
      features.push(p);
    }
  }
  out.push(value);
  return end;
}

/** Parses an Accept-Contact (or Reject-Contact) value: a list of ac-values. */
export function parseAcceptContact(s: string): AcValue[] {
  return parseList(s, scanAcValue);
}

export const parseRejectContact = parseAcceptContact;

/** True when some ac-value carries the feature tag (case-insensitive, e.g. "+g.oma.sip-im"). */
export function hasFeatureTag(values: readonly AcValue[], tag: string): boolean {
  return values.some((v) => v.featureParams.some((p) => equalsIgnoreCase(p.name, tag)));
}

/**
 * The values of a feature-param (RFC 3840 §9): a tag-value-list `"a,b,!c"` gives
 * ["a", "b", "!c"], a string-value `"<...>"` gives its text inside the angle brackets,
 * no value (a boolean TRUE) gives [].
 */
export function featureValues(value: string | null): string[] {
  if (value === null) return [];
  const v = unquote(value);
  if (v.charCodeAt(0) === 0x3c && v.charCodeAt(v.length - 1) === 0x3e) return [v.slice(1, -1)];
  const out: string[] = [];
  for (const part of v.split(',')) {
    const t = part.slice(skipLws(part, 0)).trimEnd();
    if (t.length > 0) out.push(t);
  }
  return out;
}

export function formatAcValue(v: AcValue): string {
  return '*' + formatParams(v.featureParams) + (v.require ? ';require' : '') + (v.explicit ? ';explicit' : '');
}

export function formatAcceptContact(values: readonly AcValue[]): string {
  return values.map(formatAcValue).join(', ');
}
