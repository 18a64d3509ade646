import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildResourceLists, parseResourceLists, ResourceListError,
  type ResourceListEntry, type ResourceListErrorCode, type ResourceListsOptions,
} from '../../src/xml/resource-lists.js';
import { XmlError, type XmlErrorCode } from '../../src/xml/safe-xml.js';

function assertListError(input: string | Uint8Array, code: ResourceListErrorCode, options?: ResourceListsOptions & { entryIndex?: number; xmlCode?: XmlErrorCode }): ResourceListError {
  let caught: unknown;
  try {
    parseResourceLists(input, options);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ResourceListError, `expected ResourceListError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (options?.entryIndex !== undefined) assert.equal(caught.entryIndex, options.entryIndex);
  if (options?.xmlCode !== undefined) {
    assert.ok(caught.cause instanceof XmlError);
    assert.equal(caught.cause.code, options.xmlCode);
  }
  return caught;
}

// The recipient-list body of an RFC 5366 §6-style INVITE to a conference factory.
const RFC5366_BODY = `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"
   xmlns:cp="urn:ietf:params:xml:ns:copycontrol">
  <list>
    <entry uri="sip:bill@example.com" cp:copyControl="to" />
    <entry uri="sip:randy@example.net" cp:copyControl="to" cp:anonymize="true"/>
    <entry uri="sip:eddy@example.com" cp:copyControl="to" cp:anonymize="true"/>
    <entry uri="sip:joe@example.org" cp:copyControl="cc" />
    <entry uri="sip:carol@example.net" cp:copyControl="cc" cp:anonymize="true"/>
    <entry uri="sip:ted@example.net" cp:copyControl="bcc" />
    <entry uri="sip:andy@example.com" cp:copyControl="bcc" />
  </list>
</resource-lists>
`;

test('RFC 5366 §4, §6, RFC 5364: the recipient-list body with copyControl and anonymize', () => {
  const list = parseResourceLists(RFC5366_BODY);
  assert.deepEqual(list.unresolved, []);
  assert.deepEqual(list.entries, [
    { uri: 'sip:bill@example.com', copyControl: 'to' },
    { uri: 'sip:randy@example.net', copyControl: 'to', anonymize: true },
    { uri: 'sip:eddy@example.com', copyControl: 'to', anonymize: true },
    { uri: 'sip:joe@example.org', copyControl: 'cc' },
    { uri: 'sip:carol@example.net', copyControl: 'cc', anonymize: true },
    { uri: 'sip:ted@example.net', copyControl: 'bcc' },
    { uri: 'sip:andy@example.com', copyControl: 'bcc' },
  ]);
});

test('RFC 5368 §4: a REFER URI list with a prefixed resource-lists namespace, display names and URI headers', () => {
  const body = `<?xml version="1.0" encoding="UTF-8"?>
<rl:resource-lists xmlns:rl="urn:ietf:params:xml:ns:resource-lists" xmlns:copy="urn:ietf:params:xml:ns:copycontrol">
  <rl:list name="weekly-sync">
    <rl:entry uri="sip:bill@example.com" copy:copyControl="to"><rl:display-name>Bill &amp; Co</rl:display-name></rl:entry>
    <rl:entry uri="sip:joe@example.org;transport=tcp?Subject=weekly%20sync&amp;Priority=urgent"/>
    <rl:entry uri=" tel:+1-201-555-0123 "><rl:display-name xml:lang="en"> Ted </rl:display-name></rl:entry>
  </rl:list>
</rl:resource-lists>`;
  assert.deepEqual(parseResourceLists(body).entries, [
    { uri: 'sip:bill@example.com', displayName: 'Bill & Co', copyControl: 'to' },
    { uri: 'sip:joe@example.org;transport=tcp?Subject=weekly%20sync&Priority=urgent' },
    { uri: 'tel:+1-201-555-0123', displayName: 'Ted' },
  ]);
});

test('RFC 4826 §3.2: nested lists are flattened in document order; other namespaces are skipped', () => {
  const body = `<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists" xmlns:x="urn:example:ext">
  <list><display-name>outer</display-name>
    <entry uri="sip:a@example.com"/>
    <list><entry uri="sip:b@example.com"/><list><entry uri="sip:c@example.com"/></list></list>
    <x:entry uri="sip:ignored@example.com"/>
    <entry uri="sip:d@example.com"/>
  </list>
  <list><entry uri="sips:e@example.com"/></list>
</resource-lists>`;
  assert.deepEqual(parseResourceLists(body).entries.map((e) => e.uri), [
    'sip:a@example.com', 'sip:b@example.com', 'sip:c@example.com', 'sip:d@example.com', 'sips:e@example.com',
  ]);
});

test('RFC 4826 §3.2: entry-ref and external are reported as unresolved, never fetched', () => {
  const body = `<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list>
    <entry uri="sip:a@example.com"/>
    <entry-ref ref="resource-lists/users/sip:bill@example.com/index/~~/resource-lists/list%5b@name=%22list1%22%5d/entry%5b1%5d"/>
    <external anchor="http://xcap.example.org/resource-lists/users/sip:a@example.com/index/~~/resource-lists/list%5b@name=%22mkt%22%5d"/>
  </list></resource-lists>`;
  const list = parseResourceLists(body);
  assert.deepEqual(list.entries, [{ uri: 'sip:a@example.com' }]);
  assert.deepEqual(list.unresolved.map((u) => u.kind), ['entry-ref', 'external']);
  assert.match(list.unresolved[1]!.ref, /^http:\/\/xcap\.example\.org\//);
});

test('RFC 5363: duplicate URIs (exact string) are listed once, the first occurrence kept', () => {
  const body = `<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list>
    <entry uri="sip:a@example.com"><display-name>first</display-name></entry>
    <list><entry uri="sip:a@example.com"><display-name>second</display-name></entry></list>
    <entry uri="sip:A@example.com"/>
  </list></resource-lists>`;
  assert.deepEqual(parseResourceLists(body).entries, [
    { uri: 'sip:a@example.com', displayName: 'first' },
    { uri: 'sip:A@example.com' },
  ]);
});

test('RFC 3261 §19.1, RFC 3966: every uri must be a valid SIP, SIPS or tel URI', () => {
  const wrap = (entries: string): string => `<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list>${entries}</list></resource-lists>`;
  assertListError(wrap('<entry uri="sip:a@example.com"/><entry uri="sip:bad host@example.com"/>'), 'invalid-uri', { entryIndex: 1 });
  assertListError(wrap('<entry uri="sip:2001:db8::10"/>'), 'invalid-uri', { entryIndex: 0 });
  assertListError(wrap('<entry uri="tel:5551234"/>'), 'invalid-uri');
  assertListError(wrap('<entry uri="http://example.com/"/>'), 'unsupported-scheme');
  assertListError(wrap('<entry uri="mailto:a@example.com"/>'), 'unsupported-scheme');
  assertListError(wrap('<entry/>'), 'missing-uri');
  assertListError(wrap('<entry uri="  "/>'), 'missing-uri');
  assertListError(wrap('<entry uri="sip:a@example.com" xmlns:cp="urn:ietf:params:xml:ns:copycontrol" cp:copyControl="TO"/>'), 'invalid-copy-control');
  assertListError(wrap('<entry uri="sip:a@example.com" xmlns:cp="urn:ietf:params:xml:ns:copycontrol" cp:anonymize="yes"/>'), 'invalid-anonymize');
  const ok = parseResourceLists(wrap('<entry uri="sip:a@example.com" xmlns:cp="urn:ietf:params:xml:ns:copycontrol" cp:anonymize="0"/>'));
  assert.equal(ok.entries[0]!.anonymize, false);
  // copyControl in no namespace is not RFC 5364's attribute.
  assert.deepEqual(parseResourceLists(wrap('<entry uri="sip:a@example.com" copyControl="bogus"/>')).entries, [{ uri: 'sip:a@example.com' }]);
});

test('RFC 4826 §3.2: the root must be {urn:ietf:params:xml:ns:resource-lists}resource-lists', () => {
  assertListError('<resource-lists><list><entry uri="sip:a@example.com"/></list></resource-lists>', 'not-resource-lists');
  assertListError('<conference-info xmlns="urn:ietf:params:xml:ns:conference-info"/>', 'not-resource-lists');
  assert.deepEqual(parseResourceLists('<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"/>'), { entries: [], unresolved: [] });
});

test('design.md §8: the entry cap, default 100, is enforced (10k entries)', () => {
  const body = (n: number): string => '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list>'
    + Array.from({ length: n }, (_, i) => `<entry uri="sip:u${i}@example.com"/>`).join('') + '</list></resource-lists>';
  assert.equal(parseResourceLists(body(100)).entries.length, 100);
  assertListError(body(101), 'too-many-entries', { entryIndex: 100 });
  // 10k entries exceed the 64 KiB size limit first ...
  assertListError(body(10000), 'xml', { xmlCode: 'too-large' });
  // ... and with the size limit raised, the entry cap still holds.
  assertListError(body(10000), 'too-many-entries', { maxBytes: 1 << 20, entryIndex: 100 });
  assert.equal(parseResourceLists(body(10000), { maxBytes: 1 << 20, maxEntries: 10000 }).entries.length, 10000);
  assertListError(body(3), 'too-many-entries', { maxEntries: 2 });
});

test('XML 1.0 §4.2, design.md §8: hostile bodies are refused as typed errors', () => {
  const lol = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list><entry uri="sip:&lol2;@example.com"/></list></resource-lists>`;
  assertListError(lol, 'xml', { xmlCode: 'doctype' });
  assertListError(`<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list><entry uri="sip:a@example.com"><display-name>&xxe;</display-name></entry></list></resource-lists>`, 'xml', { xmlCode: 'doctype' });
  const big = '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">' + ' '.repeat(10 * 1024 * 1024) + '</resource-lists>';
  assertListError(big, 'xml', { xmlCode: 'too-large' });
  const deep = '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">' + '<list>'.repeat(1000) + '</list>'.repeat(1000) + '</resource-lists>';
  assertListError(deep, 'xml', { xmlCode: 'too-deep' });
  assertListError('<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list><entry uri="sip:a@example.com">', 'xml', { xmlCode: 'malformed' });
  assertListError(Buffer.from([0xc3, 0x28]), 'xml', { xmlCode: 'encoding' });
});

test('RFC 5366 §4: buildResourceLists writes the recipient-list body', () => {
  assert.equal(buildResourceLists([{ uri: 'sip:bill@example.com' }, { uri: 'sip:joe@example.org' }], { copyControl: true }), [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists" xmlns:cp="urn:ietf:params:xml:ns:copycontrol">',
    '  <list>',
    '    <entry uri="sip:bill@example.com" cp:copyControl="to"/>',
    '    <entry uri="sip:joe@example.org" cp:copyControl="to"/>',
    '  </list>',
    '</resource-lists>',
    '',
  ].join('\r\n'));
  assert.equal(buildResourceLists([{ uri: 'sip:bill@example.com' }]), [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">',
    '  <list>',
    '    <entry uri="sip:bill@example.com"/>',
    '  </list>',
    '</resource-lists>',
    '',
  ].join('\r\n'));
});

test('RFC 4826, RFC 5364: build then parse gives the entries back, escaping included', () => {
  const entries: ResourceListEntry[] = [
    { uri: 'sip:bill@example.com?Subject=a%20b&Priority=urgent', displayName: 'Bill "B" <b> & \'co\'', copyControl: 'to' },
    { uri: 'sips:joe@example.org;transport=tls', displayName: 'J\u00f6e \u{1F600}', copyControl: 'cc', anonymize: true },
    { uri: 'tel:+1-201-555-0123', copyControl: 'bcc', anonymize: false },
  ];
  const xml = buildResourceLists(entries);
  assert.match(xml, /uri="sip:bill@example.com\?Subject=a%20b&amp;Priority=urgent"/);
  assert.match(xml, /<display-name>Bill "B" &lt;b&gt; &amp; 'co'<\/display-name>/);
  assert.deepEqual(parseResourceLists(xml), { entries, unresolved: [] });
  assert.deepEqual(parseResourceLists(Buffer.from(xml, 'utf8')).entries, entries);
  // Every entry gets "to" with copyControl: true, unless it says otherwise.
  assert.deepEqual(parseResourceLists(buildResourceLists([{ uri: 'sip:a@example.com' }, { uri: 'sip:b@example.com', copyControl: 'cc' }], { copyControl: true })).entries, [
    { uri: 'sip:a@example.com', copyControl: 'to' },
    { uri: 'sip:b@example.com', copyControl: 'cc' },
  ]);
});

test('design.md §4: buildResourceLists refuses what it cannot write correctly', () => {
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      return e instanceof ResourceListError ? e.code : String(e);
    }
    return 'no error';
  };
  assert.equal(code(() => buildResourceLists([{ uri: 'sip:a@example.com' }, { uri: 'not a uri' }])), 'invalid-uri');
  assert.equal(code(() => buildResourceLists([{ uri: 'https://example.com/' }])), 'unsupported-scheme');
  assert.equal(code(() => buildResourceLists([{ uri: 'sip:a@example.com', displayName: 'bell\u0007' }])), 'invalid-display-name');
  assert.equal(code(() => buildResourceLists([{ uri: 'sip:a@example.com', copyControl: 'all' as 'to' }])), 'invalid-copy-control');
});
