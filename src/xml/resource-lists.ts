/**
 * URI lists in the RFC 4826 resource-lists format, as carried by an RFC 5366 INVITE to a
 * conference factory (Content-Disposition: recipient-list) and an RFC 5368 REFER, with
 * the RFC 5364 copyControl extension (namespace urn:ietf:params:xml:ns:copycontrol:
 * copyControl "to" / "cc" / "bcc", anonymize xs:boolean).
 *
 * Reading (RFC 4826 §3.2 schema): the root is {resource-lists}resource-lists holding
 * <list>s; a list holds <entry uri=...> (with an optional <display-name>), nested <list>s,
 * <entry-ref ref=...> and <external anchor=...>. Nested lists are flattened in document
 * order. Elements of other namespaces (the schema's ##other extension points) and unknown
 * ones are skipped.
 *
 * <entry-ref> (an XCAP reference) and <external> (a URI to fetch a list from) are
 * reported in `unresolved`, never dereferenced: fetching a URL named by an untrusted
 * body would let any REFER sender make us issue requests (server-side request forgery),
 * and the caller is better placed to refuse the request or go on without them.
 *
 * Duplicates: the first entry with a given uri string wins (exact string equality, after
 * XML whitespace trimming), so a URI-list service never invites anyone twice for one list
 * (RFC 5363 asks URI-list services to avoid duplicate requests).
 * Each uri must parse as a SIP, SIPS or tel URI (RFC 3261 §19.1, RFC 3966): these lists
 * name the users the conference focus is to INVITE.
 */
import { ParseError } from '../sip/message/errors.js';
import { isSipUri, isTelUri, parseUri } from '../sip/message/headers/uri.js';
import {
  childElements, escapeXmlAttr, escapeXmlText, getAttribute, isXmlText, parseXml, textContent, trimXml, XmlError,
  type SafeXmlOptions, type XmlElement,
} from './safe-xml.js';

export const RESOURCE_LISTS_NS = 'urn:ietf:params:xml:ns:resource-lists';
export const COPY_CONTROL_NS = 'urn:ietf:params:xml:ns:copycontrol';
export const RESOURCE_LISTS_CONTENT_TYPE = 'application/resource-lists+xml';

export type CopyControl = 'to' | 'cc' | 'bcc';

export interface ResourceListEntry {
  uri: string;
  displayName?: string;
  /** RFC 5364 cp:copyControl; undefined when the attribute is absent. */
  copyControl?: CopyControl;
  /** RFC 5364 cp:anonymize. */
  anonymize?: boolean;
}

export interface UnresolvedReference {
  kind: 'entry-ref' | 'external';
  /** The ref (entry-ref) or anchor (external) attribute, as written. */
  ref: string;
}

export interface ResourceList {
  entries: ResourceListEntry[];
  unresolved: UnresolvedReference[];
}

export interface ResourceListsOptions extends SafeXmlOptions {
  /** Maximum number of list members (entry, entry-ref, external; duplicates included), default 100. */
  maxEntries?: number;
}

export type ResourceListErrorCode =
  | 'xml'
  | 'not-resource-lists'
  | 'missing-uri'
  | 'invalid-uri'
  | 'unsupported-scheme'
  | 'too-many-entries'
  | 'invalid-copy-control'
  | 'invalid-anonymize'
  | 'invalid-display-name';

export class ResourceListError extends Error {
  override readonly name = 'ResourceListError';
  constructor(
    message: string,
    readonly code: ResourceListErrorCode,
    /** 0-based position of the offending entry among all list members, in document order. */
    readonly entryIndex?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function checkUri(uri: string, index: number | undefined): void {
  let parsed;
  try {
    parsed = parseUri(uri);
  } catch (e) {
    const why = e instanceof ParseError ? e.message : String(e);
    throw new ResourceListError(`invalid URI ${JSON.stringify(uri)}: ${why}`, 'invalid-uri', index, { cause: e });
  }
  if (!isSipUri(parsed) && !isTelUri(parsed)) {
    throw new ResourceListError(`URI ${JSON.stringify(uri)} is not a SIP, SIPS or tel URI`, 'unsupported-scheme', index);
  }
}

function copyControlOf(entry: XmlElement, index: number): CopyControl | undefined {
  const v = getAttribute(entry, 'copyControl', COPY_CONTROL_NS);
  if (v === undefined) return undefined;
  const t = trimXml(v);
  if (t === 'to' || t === 'cc' || t === 'bcc') return t;
  throw new ResourceListError(`invalid copyControl ${JSON.stringify(v)}`, 'invalid-copy-control', index);
}

function anonymizeOf(entry: XmlElement, index: number): boolean | undefined {
  const v = getAttribute(entry, 'anonymize', COPY_CONTROL_NS);
  if (v === undefined) return undefined;
  // xs:boolean lexical space (XML Schema Part 2 §3.2.2).
  switch (trimXml(v)) {
    case 'true':
    case '1':
      return true;
    case 'false':
    case '0':
      return false;
  }
  throw new ResourceListError(`invalid anonymize ${JSON.stringify(v)}`, 'invalid-anonymize', index);
}

/** Parses an application/resource-lists+xml body into a flat, de-duplicated list of URIs. */
export function parseResourceLists(xml: string | Uint8Array, options: ResourceListsOptions = {}): ResourceList {
  const maxEntries = options.maxEntries ?? 100;
  let root: XmlElement;
  try {
    root = parseXml(xml, options);
  } catch (e) {
    if (e instanceof XmlError) throw new ResourceListError(`resource-lists: ${e.message}`, 'xml', undefined, { cause: e });
    throw e;
  }
  if (root.ns !== RESOURCE_LISTS_NS || root.local !== 'resource-lists') {
    throw new ResourceListError(`root element is {${root.ns}}${root.local}, not {${RESOURCE_LISTS_NS}}resource-lists`, 'not-resource-lists');
  }
  const result: ResourceList = { entries: [], unresolved: [] };
  const seen = new Set<string>();
  let members = 0;
  // Depth-first in document order, with an explicit stack of cursors rather than recursion.
  const stack: { items: XmlElement[]; next: number }[] = [{ items: childElements(root, RESOURCE_LISTS_NS, 'list'), next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const el = top.items[top.next++];
    if (el === undefined) {
      stack.pop();
      continue;
    }
    if (el.local === 'list') {
      stack.push({ items: childElements(el, RESOURCE_LISTS_NS), next: 0 });
      continue;
    }
    if (el.local !== 'entry' && el.local !== 'entry-ref' && el.local !== 'external') continue;
    const index = members++;
    if (members > maxEntries) throw new ResourceListError(`more than ${maxEntries} list members`, 'too-many-entries', index);
    if (el.local !== 'entry') {
      const ref = getAttribute(el, el.local === 'entry-ref' ? 'ref' : 'anchor');
      if (ref !== undefined) result.unresolved.push({ kind: el.local, ref: trimXml(ref) });
      continue;
    }
    const raw = getAttribute(el, 'uri');
    if (raw === undefined || trimXml(raw) === '') throw new ResourceListError('entry without a uri attribute', 'missing-uri', index);
    const uri = trimXml(raw);
    checkUri(uri, index);
    const entry: ResourceListEntry = { uri };
    const name = childElements(el, RESOURCE_LISTS_NS, 'display-name')[0];
    if (name) entry.displayName = textContent(name);
    const cc = copyControlOf(el, index);
    if (cc !== undefined) entry.copyControl = cc;
    const anon = anonymizeOf(el, index);
    if (anon !== undefined) entry.anonymize = anon;
    if (seen.has(uri)) continue;
    seen.add(uri);
    result.entries.push(entry);
  }
  return result;
}

export interface BuildResourceListsOptions {
  /** Give every entry cp:copyControl (RFC 5364), "to" unless the entry says otherwise. */
  copyControl?: boolean;
}

/**
 * Writes the RFC 5366 recipient-list body: one <list> of <entry uri> elements. cp:copyControl
 * is written for entries that carry one, and for all of them with `copyControl: true`;
 * cp:anonymize when an entry sets it. Throws ResourceListError for a URI that is not
 * SIP/SIPS/tel, or text XML cannot carry.
 */
export function buildResourceLists(entries: readonly ResourceListEntry[], options: BuildResourceListsOptions = {}): string {
  const lines: string[] = [];
  let usesCp = false;
  entries.forEach((e, index) => {
    checkUri(e.uri, index);
    if (!isXmlText(e.uri) || (e.displayName !== undefined && !isXmlText(e.displayName))) {
      throw new ResourceListError('entry holds characters XML 1.0 cannot carry', 'invalid-display-name', index);
    }
    let attrs = ` uri="${escapeXmlAttr(e.uri)}"`;
    const cc = e.copyControl ?? (options.copyControl ? 'to' : undefined);
    if (cc !== undefined) {
      if (cc !== 'to' && cc !== 'cc' && cc !== 'bcc') throw new ResourceListError(`invalid copyControl ${String(cc)}`, 'invalid-copy-control', index);
      attrs += ` cp:copyControl="${cc}"`;
      usesCp = true;
    }
    if (e.anonymize !== undefined) {
      attrs += ` cp:anonymize="${e.anonymize ? 'true' : 'false'}"`;
      usesCp = true;
    }
    lines.push(
      e.displayName === undefined
        ? `    <entry${attrs}/>`
        : `    <entry${attrs}>\r\n      <display-name>${escapeXmlText(e.displayName)}</display-name>\r\n    </entry>`,
    );
  });
  const ns = `xmlns="${RESOURCE_LISTS_NS}"` + (usesCp ? ` xmlns:cp="${COPY_CONTROL_NS}"` : '');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<resource-lists ${ns}>`,
    '  <list>',
    ...lines,
    '  </list>',
    '</resource-lists>',
    '',
  ].join('\r\n');
}
