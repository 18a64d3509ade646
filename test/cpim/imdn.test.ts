import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildCpim, buildImdn, IMDN_CONTENT_TYPE, ImdnError, parseCpim, parseImdn,
  type Imdn, type ImdnErrorCode, type ImdnNotification,
} from '../../src/cpim/index.js';

function assertImdnError(xml: string, code: ImdnErrorCode): void {
  assert.throws(() => parseImdn(xml), (e: unknown) => {
    assert.ok(e instanceof ImdnError, String(e));
    assert.equal(e.code, code, e.message);
    return true;
  });
}

// RFC 5438 §7: a delivery notification, as the RFC writes it.
const DELIVERED = `<?xml version="1.0" encoding="UTF-8"?>
<imdn xmlns="urn:ietf:params:xml:ns:imdn">
  <message-id>34jk324j</message-id>
  <datetime>2008-04-04T12:16:49-05:00</datetime>
  <recipient-uri>im:bob@example.com</recipient-uri>
  <original-recipient-uri>im:bob@example.com</original-recipient-uri>
  <subject>Project Tomorrow</subject>
  <delivery-notification>
    <status>
      <delivered/>
    </status>
  </delivery-notification>
</imdn>
`;

const wrap = (inner: string): string => `<imdn xmlns="urn:ietf:params:xml:ns:imdn"><message-id>m1</message-id><datetime>2008-04-04T12:16:49Z</datetime>${inner}</imdn>`;

test('RFC 5438 §7: the delivery notification example', () => {
  assert.deepEqual(parseImdn(DELIVERED), {
    messageId: '34jk324j',
    dateTime: '2008-04-04T12:16:49-05:00',
    dateTimeMs: Date.UTC(2008, 3, 4, 17, 16, 49),
    recipientUri: 'im:bob@example.com',
    originalRecipientUri: 'im:bob@example.com',
    subject: 'Project Tomorrow',
    notification: { kind: 'delivery', status: 'delivered' },
  });
});

test('RFC 5438 §7: a notification carried in Message/CPIM (Content-Disposition: notification)', () => {
  const cpim = buildCpim({
    from: { displayName: 'Bob', uri: 'im:bob@example.com' },
    to: [{ displayName: 'Alice', uri: 'im:alice@example.com' }],
    dateTime: '2008-04-04T12:16:49-05:00',
    imdn: { messageId: 'd834jied93rf' },
    contentType: IMDN_CONTENT_TYPE,
    mimeHeaders: [{ name: 'Content-Disposition', value: 'notification' }],
    body: DELIVERED,
  });
  const m = parseCpim(cpim);
  assert.equal(m.contentType, 'message/imdn+xml');
  assert.equal(m.imdn.messageId, 'd834jied93rf');
  assert.equal(parseImdn(m.content).messageId, '34jk324j');
});

test('RFC 5438 §7: every kind and status round-trips through buildImdn', () => {
  const all: ImdnNotification[] = [
    { kind: 'delivery', status: 'delivered' }, { kind: 'delivery', status: 'failed' },
    { kind: 'delivery', status: 'forbidden' }, { kind: 'delivery', status: 'error' },
    { kind: 'display', status: 'displayed' }, { kind: 'display', status: 'forbidden' }, { kind: 'display', status: 'error' },
    { kind: 'processing', status: 'processed' }, { kind: 'processing', status: 'stored' },
    { kind: 'processing', status: 'forbidden' }, { kind: 'processing', status: 'error' },
  ];
  for (const notification of all) {
    const doc: Imdn = { messageId: 'abc<&>', dateTime: '2026-05-13T10:00:00.000Z', recipientUri: 'sip:bob@example.com', subject: 'Zoë & <co>', notification };
    const back = parseImdn(buildImdn(doc));
    assert.deepEqual(back, { ...doc, dateTimeMs: Date.UTC(2026, 4, 13, 10) });
  }
  assert.equal(buildImdn({ messageId: 'x', dateTime: '2026-05-13T10:00:00Z', notification: { kind: 'display', status: 'displayed' } }),
    '<?xml version="1.0" encoding="UTF-8"?>\n<imdn xmlns="urn:ietf:params:xml:ns:imdn">\n  <message-id>x</message-id>\n' +
    '  <datetime>2026-05-13T10:00:00Z</datetime>\n  <display-notification>\n    <status>\n      <displayed/>\n    </status>\n' +
    '  </display-notification>\n</imdn>\n');
});

test('RFC 5438 §7: prefixes and extension elements of other namespaces are accepted', () => {
  const doc = parseImdn(`<i:imdn xmlns:i="urn:ietf:params:xml:ns:imdn" xmlns:x="urn:example:ext">
    <i:message-id>m1</i:message-id><i:datetime>2008-04-04T12:16:49Z</i:datetime><x:extra>ignored</x:extra>
    <i:processing-notification><i:status><i:stored/></i:status></i:processing-notification><x:more/></i:imdn>`);
  assert.deepEqual(doc.notification, { kind: 'processing', status: 'stored' });
});

test('RFC 5438 §7: invalid documents are typed errors', () => {
  assertImdnError('<imdn/>', 'not-imdn');
  assertImdnError('<imdn xmlns="urn:example:other"/>', 'not-imdn');
  assertImdnError('<imdn xmlns="urn:ietf:params:xml:ns:imdn"><datetime>2008-04-04T12:16:49Z</datetime><display-notification><status><displayed/></status></display-notification></imdn>', 'missing-element');
  assertImdnError('<imdn xmlns="urn:ietf:params:xml:ns:imdn"><message-id>m</message-id><display-notification><status><displayed/></status></display-notification></imdn>', 'missing-element');
  assertImdnError(wrap(''), 'missing-element');
  assertImdnError(wrap('<message-id>again</message-id><display-notification><status><displayed/></status></display-notification>'), 'duplicate-element');
  assertImdnError(wrap('<display-notification><status><displayed/></status></display-notification><delivery-notification><status><delivered/></status></delivery-notification>'), 'duplicate-element');
  assertImdnError(wrap('<delivery-notification><status><displayed/></status></delivery-notification>'), 'invalid-status');
  assertImdnError(wrap('<display-notification><status><displayed/><error/></status></display-notification>'), 'invalid-status');
  assertImdnError(wrap('<display-notification></display-notification>'), 'invalid-status');
  assertImdnError(wrap('<bogus/>'), 'unknown-element');
  assertImdnError(wrap('<display-notification><status><displayed/></status></display-notification>').replace('2008-04-04T12:16:49Z', 'yesterday'), 'invalid-value');
  assertImdnError('<!DOCTYPE imdn [<!ENTITY x "y">]><imdn xmlns="urn:ietf:params:xml:ns:imdn"/>', 'xml');
  assertImdnError(wrap(`<subject>${'x'.repeat(20_000)}</subject>`), 'xml');
  assertImdnError('<imdn xmlns="urn:ietf:params:xml:ns:imdn">' + '<a>'.repeat(20) + '</a>'.repeat(20) + '</imdn>', 'xml');
});

test('RFC 5438 §7: buildImdn refuses what it cannot write', () => {
  const base: Imdn = { messageId: 'm', dateTime: '2008-04-04T12:16:49Z', notification: { kind: 'delivery', status: 'delivered' } };
  for (const bad of [
    { ...base, messageId: '' },
    { ...base, dateTime: 'now' },
    { ...base, subject: 'bell\x07' },
    { ...base, notification: { kind: 'display', status: 'delivered' } as unknown as ImdnNotification },
  ]) {
    assert.throws(() => buildImdn(bad), (e: unknown) => e instanceof ImdnError && e.code === 'invalid-input');
  }
});
