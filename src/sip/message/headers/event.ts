/**
 * Event (RFC 6665 §8.2.1, ABNF §8.4; §7.2 event packages and templates):
 *   event-type = event-package *( "." event-template ), each a token-nodot,
 *   event-param = generic-param / ( "id" EQUAL token ).
 * Package names are kept as written: RFC 6665 §8.2.1 compares them case-sensitively.
 */
import { C_TOKEN, CHAR } from './chars.js';
import {
  charAt, expectEnd, fail, formatParams, getParam, isToken,
  mergeParams, parseParams, rejectDuplicates, skipLws, type Param,
} from './scan.js';

export interface EventHeader {
  package: string;
  templates: string[];
  id?: string;
  /** Every event-param as written, id included. */
  params: Param[];
}

/** token-nodot: a token char other than ".". */
function scanTokenNoDot(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x2e || c >= 128 || (CHAR[c]! & C_TOKEN) === 0) break;
    i++;
  }
  return i;
}

export function parseEvent(s: string): EventHeader {
  let i = skipLws(s, 0);
  let e = scanTokenNoDot(s, i);
  if (e === i) fail(`expected event package or template, found ${charAt(s, i)}`, i);
  const pkg = s.slice(i, e);
  const templates: string[] = [];
  i = e;
  while (s.charCodeAt(i) === 0x2e) {
    i++;
    e = scanTokenNoDot(s, i);
    if (e === i) fail(`expected event package or template, found ${charAt(s, i)}`, i);
    templates.push(s.slice(i, e));
    i = e;
  }
  const params: Param[] = [];
  const end = parseParams(s, i, params);
  expectEnd(s, end);
  const out: EventHeader = { package: pkg, templates, params };
  if (params.length === 0) return out;
  rejectDuplicates(params, ['id'], i);
  const id = getParam(params, 'id');
  if (id !== undefined) {
    if (id === null || !isToken(id)) fail('id must be a token', i);
    out.id = id;
  }
  return out;
}

export function formatEvent(e: EventHeader): string {
  const type = [e.package, ...e.templates].join('.');
  return type + formatParams(mergeParams(e.params, [['id', e.id]]));
}

/** RFC 6665 §4.1.2 / §4.2.1: two Event values name the same subscription when package and id match. */
export function sameEvent(a: EventHeader, b: EventHeader): boolean {
  return a.package === b.package && a.templates.join('.') === b.templates.join('.') && a.id === b.id;
}
