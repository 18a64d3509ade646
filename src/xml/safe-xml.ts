/**
 * XML from untrusted peers (resource-lists in REFER/INVITE bodies, conference-info in
 * NOTIFYs), parsed into a small namespace-resolved element tree.
 *
 * fast-xml-parser does the tokenising; around it this module adds what a network-facing
 * parser needs and the library leaves to its caller:
 * - A size limit checked before any scanning (default 64 KiB) and a nesting limit.
 * - No DTD at all: any `<!DOCTYPE`, `<!ENTITY` or other markup declaration is refused
 *   outright, so no entity can expand (billion laughs, XML 1.0 §4.2) and nothing external
 *   is ever referenced (XXE). Only the five predefined entities and character references
 *   (§4.1, §4.6) are decoded, here rather than by the library, so a CDATA section is never
 *   decoded and `&amp;lt;` is never decoded twice; any other reference is an error.
 * - Well-formedness the library's tokenizer lets through: one root element (§2.1),
 *   matched tags and unique attributes (its validator), XML 1.0 Char (§2.2), no "<" in an
 *   attribute value (§3.1), no "]]>" in text (§2.4), UTF-8 only (a Buffer is decoded
 *   strictly; another declared encoding is refused).
 * - Namespaces in XML 1.0: prefixes resolved to URIs, so `<rl:list>` and a default-namespace
 *   `<list>` read the same; an unbound prefix is an error.
 * - Line ends normalised (§2.11) and attribute values whitespace-normalised (§3.3.3).
 * - Names that shadow Object properties (`__proto__`, `constructor`, `toString`, ...) are
 *   refused: the tokenizer keys plain objects by element and attribute name.
 *
 * Text rules: whitespace-only text between elements is dropped (these are data formats,
 * not mixed content); textContent() trims XML whitespace at both ends unless asked not to.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export type XmlErrorCode = 'too-large' | 'doctype' | 'malformed' | 'too-deep' | 'namespace' | 'encoding' | 'entity' | 'invalid-char';

export class XmlError extends Error {
  override readonly name = 'XmlError';
  constructor(
    message: string,
    readonly code: XmlErrorCode,
    /** 1-based position, when the problem is tied to one. */
    readonly line?: number,
    readonly column?: number,
  ) {
    super(line !== undefined ? `${message} (line ${line}, column ${column ?? 0})` : message);
  }
}

export interface XmlAttribute {
  /** Namespace URI; '' for an unprefixed attribute (it is in no namespace). */
  ns: string;
  local: string;
  prefix: string;
  value: string;
}

export interface XmlElement {
  /** Namespace URI; '' when the element is in no namespace. */
  ns: string;
  local: string;
  prefix: string;
  /** Without the xmlns declarations, which are consumed by resolution. */
  attributes: XmlAttribute[];
  /** Child elements and decoded text (CDATA included), in document order. */
  children: (XmlElement | string)[];
}

export interface SafeXmlOptions {
  /** Maximum input size in bytes (UTF-8), default 65536. */
  maxBytes?: number;
  /** Maximum element nesting, the root counting 1, default 32. */
  maxDepth?: number;
}

export const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';

const BAD_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Parses a document and returns its root element. */
export function parseXml(input: string | Uint8Array, options: SafeXmlOptions = {}): XmlElement {
  const maxBytes = options.maxBytes ?? 65536;
  const maxDepth = options.maxDepth ?? 32;
  let text = decode(input, maxBytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  checkDeclaration(text);
  checkMarkupDeclarations(text);
  const bad = BAD_CHAR.exec(text);
  if (bad) throw new XmlError(`character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')} is not allowed in XML`, 'invalid-char');
  text = text.replace(/\r\n?/g, '\n');

  const valid = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid !== true) throw new XmlError(clip(valid.err.msg), 'malformed', valid.err.line, valid.err.col);
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    textNodeName: '#text',
    cdataPropName: '#cdata',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    processEntities: false,
    htmlEntities: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    removeNSPrefix: false,
    maxNestedTags: maxDepth,
    // The tokenizer keys objects by name; it already refuses __proto__ and constructor, and
    // would silently rename toString and friends: refuse those too rather than misread them.
    onDangerousProperty: (name: string): string => {
      throw new XmlError(`name ${JSON.stringify(name)} is refused (it shadows an Object property)`, 'malformed');
    },
  });
  let nodes: unknown;
  try {
    nodes = parser.parse(text);
  } catch (e) {
    if (e instanceof XmlError) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new XmlError(clip(message), /nested/i.test(message) ? 'too-deep' : 'malformed');
  }
  let root: XmlElement | undefined;
  for (const node of asArray(nodes)) {
    const [name, content] = nodeName(node);
    if (name === '#text') {
      if (!isWhitespace(textOf(content))) throw new XmlError('text outside the root element', 'malformed');
    } else if (name !== '#cdata') {
      if (root) throw new XmlError('more than one root element', 'malformed');
      root = convert(node, new Map([['xml', XML_NAMESPACE]]), 1, maxDepth);
    } else {
      throw new XmlError('CDATA outside the root element', 'malformed');
    }
  }
  if (!root) throw new XmlError('no root element', 'malformed');
  // The tokenizer keeps text only when a tag follows it, so trailing text is checked here.
  if (!isWhitespace(text.slice(text.lastIndexOf('>') + 1))) throw new XmlError('text after the root element', 'malformed');
  return root;
}

/** Library messages may quote a whole unclosed-tag stack; an error message need not be 64 KiB long. */
function clip(message: string): string {
  return message.length > 200 ? message.slice(0, 200) + '...' : message;
}

function decode(input: string | Uint8Array, maxBytes: number): string {
  if (typeof input === 'string') {
    // A UTF-16 code unit never takes fewer UTF-8 bytes than one, so length is a lower bound.
    if (input.length > maxBytes || Buffer.byteLength(input, 'utf8') > maxBytes) {
      throw new XmlError(`XML document larger than ${maxBytes} bytes`, 'too-large');
    }
    return input;
  }
  if (input.length > maxBytes) throw new XmlError(`XML document larger than ${maxBytes} bytes`, 'too-large');
  if ((input[0] === 0xfe && input[1] === 0xff) || (input[0] === 0xff && input[1] === 0xfe)) {
    throw new XmlError('UTF-16 documents are not accepted', 'encoding');
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    throw new XmlError('document is not valid UTF-8', 'encoding');
  }
}

function checkDeclaration(text: string): void {
  if (!text.startsWith('<?xml')) return;
  // The declaration is short; anything odd past 256 chars is left to the validator.
  const end = text.indexOf('?>');
  const decl = end < 0 || end > 256 ? '' : text.slice(0, end);
  const version = /\sversion\s*=\s*["']([^"']*)["']/.exec(decl);
  if (version && version[1] !== '1.0') throw new XmlError(`XML version ${version[1]} is not supported`, 'malformed');
  const encoding = /\sencoding\s*=\s*["']([^"']*)["']/.exec(decl);
  if (encoding && !/^utf-?8$/i.test(encoding[1]!)) throw new XmlError(`encoding ${encoding[1]} is not supported (UTF-8 only)`, 'encoding');
}

/** Refuses every `<!` that opens neither a comment nor a CDATA section: DOCTYPE, ENTITY, ELEMENT, ATTLIST. */
function checkMarkupDeclarations(text: string): void {
  for (let i = text.indexOf('<!'); i >= 0; i = text.indexOf('<!', i)) {
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) throw new XmlError('unterminated comment', 'malformed');
      i = end + 3;
    } else if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i + 9);
      if (end < 0) throw new XmlError('unterminated CDATA section', 'malformed');
      i = end + 3;
    } else {
      const what = /^<!([A-Za-z]*)/.exec(text.slice(i, i + 12))?.[1] ?? '';
      throw new XmlError(`markup declaration <!${what} refused (no DTDs or entities are accepted)`, 'doctype');
    }
  }
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** A preserveOrder node is `{ [name]: children, ':@'?: attributes }`. */
function nodeName(node: unknown): [string, unknown] {
  if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node)) if (k !== ':@') return [k, v];
  }
  throw new XmlError('unexpected parser output', 'malformed');
}

function textOf(content: unknown): string {
  return typeof content === 'string' ? content : typeof content === 'number' || typeof content === 'boolean' ? String(content) : '';
}

function isWhitespace(s: string): boolean {
  return /^[ \t\r\n]*$/.test(s);
}

function splitQName(qname: string): [string, string] {
  const colon = qname.indexOf(':');
  if (colon < 0) return ['', qname];
  const prefix = qname.slice(0, colon);
  const local = qname.slice(colon + 1);
  if (prefix === '' || local === '' || local.indexOf(':') >= 0) throw new XmlError(`invalid qualified name ${JSON.stringify(qname)}`, 'namespace');
  return [prefix, local];
}

function convert(node: unknown, parentScope: ReadonlyMap<string, string>, depth: number, maxDepth: number): XmlElement {
  if (depth > maxDepth) throw new XmlError(`elements nested deeper than ${maxDepth}`, 'too-deep');
  const [qname, content] = nodeName(node);
  const rawAttrs = (node as Record<string, unknown>)[':@'];
  const attrs: [string, string][] = [];
  if (typeof rawAttrs === 'object' && rawAttrs !== null) {
    for (const [name, value] of Object.entries(rawAttrs)) {
      const raw = textOf(value);
      if (raw.indexOf('<') >= 0) throw new XmlError(`"<" in the value of attribute ${name}`, 'malformed');
      attrs.push([name, decodeReferences(raw.replace(/[\t\n\r]/g, ' '))]);
    }
  }
  let scope = parentScope;
  for (const [name, value] of attrs) {
    if (name !== 'xmlns' && !name.startsWith('xmlns:')) continue;
    if (scope === parentScope) scope = new Map(parentScope);
    const prefix = name === 'xmlns' ? '' : name.slice(6);
    if (prefix === 'xmlns' || (prefix === 'xml') !== (value === XML_NAMESPACE) || value === XMLNS_NAMESPACE) {
      throw new XmlError(`reserved namespace binding ${name}="${value}"`, 'namespace');
    }
    if (prefix !== '' && value === '') throw new XmlError(`empty namespace for prefix ${prefix}`, 'namespace');
    (scope as Map<string, string>).set(prefix, value);
  }
  const resolve = (prefix: string, forAttribute: boolean): string => {
    if (prefix === '' && forAttribute) return '';
    const ns = scope.get(prefix);
    if (ns === undefined && prefix !== '') throw new XmlError(`unbound namespace prefix ${prefix}`, 'namespace');
    return ns ?? '';
  };
  const [prefix, local] = splitQName(qname);
  const el: XmlElement = { ns: resolve(prefix, false), local, prefix, attributes: [], children: [] };
  const seen = new Set<string>();
  for (const [name, value] of attrs) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
    const [p, l] = splitQName(name);
    const a: XmlAttribute = { ns: resolve(p, true), local: l, prefix: p, value };
    // Namespaces in XML §6.3: two prefixes bound to one URI do not make two attributes.
    const key = `{${a.ns}}${a.local}`;
    if (seen.has(key)) throw new XmlError(`attribute ${key} repeated`, 'namespace');
    seen.add(key);
    el.attributes.push(a);
  }
  let text = '';
  const flush = (): void => {
    if (text !== '' && !isWhitespace(text)) el.children.push(text);
    text = '';
  };
  for (const child of asArray(content)) {
    const [name, inner] = nodeName(child);
    if (name === '#text') {
      const raw = textOf(inner);
      if (raw.indexOf(']]>') >= 0) throw new XmlError('"]]>" in text', 'malformed');
      text += decodeReferences(raw);
    } else if (name === '#cdata') {
      for (const t of asArray(inner)) text += textOf((t as Record<string, unknown>)['#text']);
    } else {
      flush();
      el.children.push(convert(child, scope, depth + 1, maxDepth));
    }
  }
  flush();
  return el;
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** Decodes the predefined entities and character references; anything else is refused. */
function decodeReferences(raw: string): string {
  let amp = raw.indexOf('&');
  if (amp < 0) return raw;
  let out = '';
  let from = 0;
  while (amp >= 0) {
    const semi = raw.indexOf(';', amp);
    if (semi < 0 || semi - amp > 10) throw new XmlError('"&" that starts no reference', 'entity');
    const name = raw.slice(amp + 1, semi);
    let value = PREDEFINED[name];
    if (value === undefined) {
      const m = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(name);
      const cp = m ? parseInt(m[1] ?? m[2]!, m[1] !== undefined ? 16 : 10) : -1;
      if (!m) throw new XmlError(`undefined entity &${name}; (no DTD is accepted)`, 'entity');
      if (!isXmlChar(cp)) throw new XmlError(`character reference &${name}; is not an XML character`, 'entity');
      value = String.fromCodePoint(cp);
    }
    out += raw.slice(from, amp) + value;
    from = semi + 1;
    amp = raw.indexOf('&', from);
  }
  return out + raw.slice(from);
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;',
};

/** Escapes text for element content (CR as a reference, so §2.11 does not turn it into LF). */
export function escapeXmlText(s: string): string {
  return s.replace(/[&<>\r]/g, (c) => ESCAPES[c]!);
}

/** Escapes text for a double-quoted attribute value; tab, CR and LF as references so §3.3.3 normalisation keeps them. */
export function escapeXmlAttr(s: string): string {
  return s.replace(/[&<>"\t\n\r]/g, (c) => ESCAPES[c]!);
}

/** Whether `s` can be written into an XML 1.0 document at all (no C0 controls but tab/CR/LF, no lone surrogates). */
export function isXmlText(s: string): boolean {
  return !BAD_CHAR.test(s);
}

/** The value of attribute `local` in namespace `ns` ('' = unprefixed). */
export function getAttribute(el: XmlElement, local: string, ns = ''): string | undefined {
  return el.attributes.find((a) => a.local === local && a.ns === ns)?.value;
}

/** Child elements, optionally only those with the given namespace and local name. */
export function childElements(el: XmlElement, ns?: string, local?: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) {
    if (typeof c !== 'string' && (ns === undefined || c.ns === ns) && (local === undefined || c.local === local)) out.push(c);
  }
  return out;
}

/** The text directly inside `el`, trimmed of XML whitespace at both ends unless `trim` is false. */
export function textContent(el: XmlElement, trim = true): string {
  let s = '';
  for (const c of el.children) if (typeof c === 'string') s += c;
  return trim ? trimXml(s) : s;
}

function isXmlSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** Trims XML whitespace (§2.3 S) with index loops: a regex anchored at the end backtracks quadratically on long runs. */
export function trimXml(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isXmlSpace(s.charCodeAt(start))) start++;
  while (end > start && isXmlSpace(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}
