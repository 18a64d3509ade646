/**
 * The message/imdn+xml body of an Instant Message Disposition Notification (RFC 5438 §7,
 * with its XML schema): which message (message-id, its CPIM DateTime as datetime), for whom
 * (recipient-uri, original-recipient-uri), an optional subject, and exactly one of
 * delivery-notification (delivered / failed / forbidden / error), display-notification
 * (displayed / forbidden / error) or processing-notification (processed / stored /
 * forbidden / error), each holding <status> with one status element.
 *
 * Parsing goes through the hardened XML reader (no DTDs, size and depth limits).
 * Elements of other namespaces are the schema's extension points and are skipped; an
 * unknown element of the IMDN namespace, a repeated one, a missing message-id/datetime,
 * a datetime that is not RFC 3339, or not exactly one notification is an ImdnError.
 */
import {
  childElements, escapeXmlText, isXmlText, parseXml, textContent, XmlError, type SafeXmlOptions, type XmlElement,
} from '../xml/safe-xml.js';
import { parseRfc3339 } from './datetime.js';

export const IMDN_XML_NS = 'urn:ietf:params:xml:ns:imdn';
export const IMDN_CONTENT_TYPE = 'message/imdn+xml';

export type DeliveryStatus = 'delivered' | 'failed' | 'forbidden' | 'error';
export type DisplayStatus = 'displayed' | 'forbidden' | 'error';
export type ProcessingStatus = 'processed' | 'stored' | 'forbidden' | 'error';

export type ImdnNotification =
  | { kind: 'delivery'; status: DeliveryStatus }
  | { kind: 'display'; status: DisplayStatus }
  | { kind: 'processing'; status: ProcessingStatus };

export interface Imdn {
  messageId: string;
  /** RFC 3339, the DateTime of the message this notification is about. */
  dateTime: string;
  recipientUri?: string;
  originalRecipientUri?: string;
  subject?: string;
  notification: ImdnNotification;
}

export interface ParsedImdn extends Imdn {
  dateTimeMs: number;
}

export type ImdnErrorCode = 'xml' | 'not-imdn' | 'missing-element' | 'duplicate-element' | 'unknown-element' | 'invalid-value' | 'invalid-status' | 'invalid-input';

export class ImdnError extends Error {
  override readonly name = 'ImdnError';
  constructor(message: string, readonly code: ImdnErrorCode, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const STATUSES: { [K in ImdnNotification['kind']]: readonly string[] } = {
  delivery: ['delivered', 'failed', 'forbidden', 'error'],
  display: ['displayed', 'forbidden', 'error'],
  processing: ['processed', 'stored', 'forbidden', 'error'],
};
const ELEMENT_KIND: Record<string, ImdnNotification['kind']> = {
  'delivery-notification': 'delivery',
  'display-notification': 'display',
  'processing-notification': 'processing',
};
const SIMPLE = ['message-id', 'datetime', 'recipient-uri', 'original-recipient-uri', 'subject'] as const;
type Simple = (typeof SIMPLE)[number];

function readStatus(el: XmlElement, kind: ImdnNotification['kind']): ImdnNotification {
  const statuses = childElements(el, IMDN_XML_NS, 'status');
  if (statuses.length !== 1) throw new ImdnError(`${el.local} must hold exactly one <status>`, 'invalid-status');
  const values = childElements(statuses[0]!, IMDN_XML_NS);
  const value = values[0]?.local;
  if (values.length !== 1 || value === undefined || !STATUSES[kind].includes(value)) {
    throw new ImdnError(`${el.local}: status must be one of ${STATUSES[kind].join(', ')}`, 'invalid-status');
  }
  // The includes() check above narrows value to the statuses of `kind`.
  return { kind, status: value } as ImdnNotification;
}

/** Parses a message/imdn+xml body. Throws ImdnError. */
export function parseImdn(xml: string | Uint8Array, options: SafeXmlOptions = {}): ParsedImdn {
  let root: XmlElement;
  try {
    root = parseXml(xml, { maxBytes: options.maxBytes ?? 16 * 1024, maxDepth: options.maxDepth ?? 8 });
  } catch (e) {
    if (e instanceof XmlError) throw new ImdnError(`imdn: ${e.message}`, 'xml', { cause: e });
    throw e;
  }
  if (root.ns !== IMDN_XML_NS || root.local !== 'imdn') throw new ImdnError(`root element is {${root.ns}}${root.local}, not {${IMDN_XML_NS}}imdn`, 'not-imdn');
  const simple = new Map<Simple, string>();
  let notification: ImdnNotification | undefined;
  for (const el of childElements(root, IMDN_XML_NS)) {
    const kind = ELEMENT_KIND[el.local];
    if (kind !== undefined) {
      if (notification) throw new ImdnError('more than one notification element', 'duplicate-element');
      notification = readStatus(el, kind);
    } else if ((SIMPLE as readonly string[]).includes(el.local)) {
      const name = el.local as Simple;
      if (simple.has(name)) throw new ImdnError(`<${name}> repeated`, 'duplicate-element');
      simple.set(name, textContent(el));
    } else {
      throw new ImdnError(`unknown element <${el.local}> in the IMDN namespace`, 'unknown-element');
    }
  }
  const messageId = simple.get('message-id');
  const dateTime = simple.get('datetime');
  if (messageId === undefined || messageId === '') throw new ImdnError('no <message-id>', 'missing-element');
  if (dateTime === undefined) throw new ImdnError('no <datetime>', 'missing-element');
  const dateTimeMs = parseRfc3339(dateTime);
  if (dateTimeMs === undefined) throw new ImdnError(`<datetime> ${JSON.stringify(dateTime.slice(0, 40))} is not RFC 3339`, 'invalid-value');
  if (!notification) throw new ImdnError('no delivery-, display- or processing-notification', 'missing-element');
  const out: ParsedImdn = { messageId, dateTime, dateTimeMs, notification };
  const recipient = simple.get('recipient-uri');
  const original = simple.get('original-recipient-uri');
  const subject = simple.get('subject');
  if (recipient !== undefined) out.recipientUri = recipient;
  if (original !== undefined) out.originalRecipientUri = original;
  if (subject !== undefined) out.subject = subject;
  return out;
}

function element(name: string, value: string): string {
  if (!isXmlText(value)) throw new ImdnError(`<${name}> holds characters XML cannot carry`, 'invalid-input');
  return `  <${name}>${escapeXmlText(value)}</${name}>\n`;
}

/** Writes a message/imdn+xml body (UTF-8, elements in schema order). Throws ImdnError 'invalid-input'. */
export function buildImdn(imdn: Imdn): string {
  if (imdn.messageId === '') throw new ImdnError('empty message-id', 'invalid-input');
  if (parseRfc3339(imdn.dateTime) === undefined) throw new ImdnError('datetime is not RFC 3339', 'invalid-input');
  const { kind, status } = imdn.notification;
  if (!STATUSES[kind]?.includes(status)) throw new ImdnError(`status ${status} is not allowed in a ${kind} notification`, 'invalid-input');
  let xml = '<?xml version="1.0" encoding="UTF-8"?>\n' + `<imdn xmlns="${IMDN_XML_NS}">\n`;
  xml += element('message-id', imdn.messageId) + element('datetime', imdn.dateTime);
  if (imdn.recipientUri !== undefined) xml += element('recipient-uri', imdn.recipientUri);
  if (imdn.originalRecipientUri !== undefined) xml += element('original-recipient-uri', imdn.originalRecipientUri);
  if (imdn.subject !== undefined) xml += element('subject', imdn.subject);
  xml += `  <${kind}-notification>\n    <status>\n      <${status}/>\n    </status>\n  </${kind}-notification>\n</imdn>\n`;
  return xml;
}
