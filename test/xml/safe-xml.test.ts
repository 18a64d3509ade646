import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  childElements, escapeXmlAttr, escapeXmlText, getAttribute, parseXml, textContent, XML_NAMESPACE, XmlError,
  type SafeXmlOptions, type XmlErrorCode,
} from '../../src/xml/safe-xml.js';

function assertXmlError(input: string | Uint8Array, code: XmlErrorCode, pattern?: RegExp, options?: SafeXmlOptions): void {
  assert.throws(() => parseXml(input, options), (e: unknown) => {
    assert.ok(e instanceof XmlError, `expected XmlError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

const RL = 'urn:ietf:params:xml:ns:resource-lists';

test('Namespaces in XML §5: a prefixed and a default-namespace document resolve to the same names', () => {
  const prefixed = parseXml(`<rl:resource-lists xmlns:rl="${RL}"><rl:list><rl:entry uri="sip:a@example.com"/></rl:list></rl:resource-lists>`);
  const dflt = parseXml(`<resource-lists xmlns="${RL}"><list><entry uri="sip:a@example.com"/></list></resource-lists>`);
  for (const root of [prefixed, dflt]) {
    assert.equal(root.ns, RL);
    assert.equal(root.local, 'resource-lists');
    const entry = childElements(childElements(root, RL, 'list')[0]!, RL, 'entry')[0]!;
    assert.equal(getAttribute(entry, 'uri'), 'sip:a@example.com');
    // Unprefixed attributes are in no namespace, whatever the default namespace (§6.2).
    assert.equal(entry.attributes[0]!.ns, '');
  }
  assert.equal(prefixed.prefix, 'rl');
  assert.equal(dflt.prefix, '');
  assert.deepEqual(prefixed.attributes, [], 'xmlns declarations are consumed');
});

test('Namespaces in XML §6: scoping, redeclaration, the xml prefix, unbound prefixes', () => {
  const root = parseXml('<a xmlns="urn:1" xmlns:p="urn:p"><b xmlns="urn:2" p:x="1" xml:lang="en"><p:c/></b><d xmlns=""/></a>');
  const b = childElements(root)[0]!;
  assert.equal(b.ns, 'urn:2');
  assert.equal(getAttribute(b, 'x', 'urn:p'), '1');
  assert.equal(getAttribute(b, 'lang', XML_NAMESPACE), 'en');
  assert.equal(childElements(b)[0]!.ns, 'urn:p');
  assert.equal(childElements(root)[1]!.ns, '', 'xmlns="" undeclares the default namespace');
  assertXmlError('<p:a/>', 'namespace', /unbound namespace prefix p/);
  assertXmlError('<a p:x="1"/>', 'namespace', /unbound/);
  assertXmlError('<a xmlns:p=""/>', 'namespace', /empty namespace/);
  assertXmlError('<a xmlns:xml="urn:other"/>', 'namespace', /reserved/);
  assertXmlError('<a xmlns:xmlns="urn:other"/>', 'namespace', /reserved/);
  assertXmlError('<a:b:c xmlns:a="urn:a"/>', 'namespace', /invalid qualified name/);
  assertXmlError('<a xmlns:p="urn:u" xmlns:q="urn:u" p:x="1" q:x="2"/>', 'namespace', /repeated/);
});

test('XML 1.0 §4.6, §4.1: predefined entities and character references are decoded once; CDATA is not decoded', () => {
  const root = parseXml('<a v="x&amp;y &lt;&#x41;&#66;&quot;&apos;">&amp;lt; &#x1F600; <![CDATA[<b>&amp;</b>]]></a>');
  assert.equal(getAttribute(root, 'v'), 'x&y <AB"\'');
  assert.equal(textContent(root), '&lt; \u{1F600} <b>&amp;</b>');
});

test('XML 1.0 §4.1: any other entity reference is refused (no DTD defines one)', () => {
  assertXmlError('<a>&nbsp;</a>', 'entity', /undefined entity &nbsp;/);
  assertXmlError('<a v="&foo;"/>', 'entity');
  assertXmlError('<a>&#0;</a>', 'entity', /not an XML character/);
  assertXmlError('<a>&#xD800;</a>', 'entity');
  assertXmlError('<a>&#x110000;</a>', 'entity');
});

test('XML 1.0 §2.8, §4.2: DOCTYPE and entity declarations are refused outright (billion laughs, XXE)', () => {
  const lol = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE lolz [',
    ' <!ENTITY lol "lol">',
    ' <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">',
    ' <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">',
    ' <!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">',
    ']>',
    '<lolz>&lol9;</lolz>',
  ].join('\n');
  assertXmlError(lol, 'doctype', /<!DOCTYPE/);
  assertXmlError('<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>', 'doctype');
  assertXmlError('<!doctype a><a/>', 'doctype');
  assertXmlError('<a><!ENTITY x "y"></a>', 'doctype', /<!ENTITY/);
  assertXmlError('<a/><!ELEMENT a ANY>', 'doctype');
  // A comment or CDATA mentioning DOCTYPE is not a declaration.
  assert.equal(parseXml('<a><!-- <!DOCTYPE x> --><![CDATA[<!DOCTYPE y>]]></a>').local, 'a');
});

test('design.md §8: the size limit refuses a 10 MB document before scanning it', () => {
  const big = '<a>' + 'x'.repeat(10 * 1024 * 1024) + '</a>';
  const t = performance.now();
  assertXmlError(big, 'too-large', /larger than 65536 bytes/);
  assertXmlError(Buffer.from(big), 'too-large');
  assert.ok(performance.now() - t < 100, 'refused without parsing');
  // Bytes, not characters: 30000 three-byte characters are 90000 bytes.
  assertXmlError('<a>' + '\u20ac'.repeat(30000) + '</a>', 'too-large');
  assert.equal(parseXml('<a>x</a>', { maxBytes: 8 }).local, 'a');
  assertXmlError('<a>xx</a>', 'too-large', undefined, { maxBytes: 8 });
});

test('design.md §8: the depth limit refuses deep nesting', () => {
  const nest = (n: number): string => '<a>'.repeat(n) + '</a>'.repeat(n);
  assert.equal(parseXml(nest(32)).local, 'a');
  assertXmlError(nest(33), 'too-deep');
  assertXmlError(nest(5000), 'too-deep');
  assert.equal(parseXml(nest(4), { maxDepth: 4 }).local, 'a');
  assertXmlError(nest(5), 'too-deep', undefined, { maxDepth: 4 });
  // An unclosed 20000-deep document is refused quickly, with a short message.
  const t = performance.now();
  assert.throws(() => parseXml('<a>'.repeat(20000)), (e: unknown) => e instanceof XmlError && e.message.length < 300);
  assert.ok(performance.now() - t < 1000);
});

test('XML 1.0 §2.1, §2.4, §3.1: documents that are not well-formed are refused', () => {
  assertXmlError('<a><b></a>', 'malformed', /closing tag/);
  assertXmlError('<a x="1" x="2"/>', 'malformed', /repeated/);
  assertXmlError('<a', 'malformed');
  assertXmlError('<a/><b/>', 'malformed', /root/);
  assertXmlError('<a/> trailing', 'malformed', /after the root/);
  assertXmlError('text', 'malformed');
  assertXmlError('', 'malformed');
  assertXmlError('<a x=1/>', 'malformed');
  assertXmlError('<a b="<"/>', 'malformed', /"<" in the value/);
  assertXmlError('<a>]]></a>', 'malformed', /"\]\]>"/);
  assertXmlError('<a>&</a>', 'malformed');
  assertXmlError('<?xml version="1.1"?><a/>', 'malformed', /version 1.1/);
});

test('XML names that shadow Object properties are refused, not renamed or merged into a prototype', () => {
  assertXmlError('<__proto__/>', 'malformed');
  assertXmlError('<a constructor="x"/>', 'malformed');
  assertXmlError('<a toString="x"/>', 'malformed', /toString/);
  assertXmlError('<a><hasOwnProperty/></a>', 'malformed');
  assert.equal(({} as Record<string, unknown>)['x'], undefined);
});

test('XML 1.0 §2.2: characters outside Char are refused', () => {
  assertXmlError('<a>\u0001</a>', 'invalid-char', /U\+0001/);
  assertXmlError('<a>\uFFFE</a>', 'invalid-char');
  assertXmlError('<a>\uD800</a>', 'invalid-char');
  assert.equal(textContent(parseXml('<a>\u{1F600}</a>')), '\u{1F600}');
});

test('XML 1.0 §4.3.3: UTF-8 only; a Buffer is decoded strictly, a UTF-8 BOM is skipped', () => {
  assert.equal(textContent(parseXml(Buffer.from('\uFEFF<a>caf\u00e9</a>', 'utf8'))), 'caf\u00e9');
  assert.equal(parseXml('\uFEFF<a/>').local, 'a');
  assertXmlError(Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0x3c, 0x2f, 0x61, 0x3e]), 'encoding', /not valid UTF-8/);
  assertXmlError(Buffer.from('\uFEFF<a/>', 'utf16le'), 'encoding', /UTF-16/);
  assertXmlError('<?xml version="1.0" encoding="ISO-8859-1"?><a/>', 'encoding');
  assert.equal(parseXml('<?xml version="1.0" encoding="utf-8"?><a/>').local, 'a');
});

test('XML 1.0 §2.11, §3.3.3: line ends and attribute whitespace are normalised; text rules', () => {
  const root = parseXml('<a v="x\r\ny\tz&#9;w">\r\n  <b>  one\r\ntwo  </b>\r\n  <c>   </c> mixed <d/></a>');
  assert.equal(getAttribute(root, 'v'), 'x y z\tw');
  const [b, c] = childElements(root);
  assert.equal(textContent(b!), 'one\ntwo');
  assert.equal(textContent(b!, false), '  one\ntwo  ');
  assert.deepEqual(c!.children, [], 'whitespace-only text is dropped');
  assert.deepEqual(root.children.filter((x) => typeof x === 'string'), [' mixed ']);
  assert.equal(childElements(root, '', 'd').length, 1);
});

test('XML 1.0 §2.4, §3.1: escaped text and attribute values survive a parse unchanged', () => {
  const nasty = 'a & b < c > d " e \' f\tg\nh\ri ]]> &amp;';
  const root = parseXml(`<a v="${escapeXmlAttr(nasty)}">${escapeXmlText(nasty)}</a>`);
  assert.equal(getAttribute(root, 'v'), nasty);
  assert.equal(textContent(root, false), nasty);
});

test('XML comments and processing instructions are skipped', () => {
  const root = parseXml('<?xml version="1.0"?>\n<!-- head -->\n<a><?pi data?><!-- c --><b/></a>\n<!-- tail -->\n');
  assert.deepEqual(root.children.map((c) => (typeof c === 'string' ? c : c.local)), ['b']);
});
