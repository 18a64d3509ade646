/**
 * The SIP message model: Request and Response with ordered header fields.
 *
 * RFC 3261 §7 (message structure), §7.3 (header fields: order of fields with the same
 * name is significant, names case-insensitive, compact forms), §20 (header table).
 *
 * Header values are kept as the unfolded text read off the wire and parsed into
 * structures only when asked (design.md convention 5); parsed values are cached per
 * header name and dropped when that header is changed. Names are keyed by their
 * lower-cased long form (names.ts).
 */
import { normalizeHeaderName } from './names.js';
import { parseVia, type Via } from './headers/via.js';
import { parseCSeq } from './headers/cseq.js';
import { parseNameAddr, parseContact, type NameAddr } from './headers/name-addr.js';
import { parseUri, type Uri } from './headers/uri.js';
import { getParam } from './headers/scan.js';
import { parseContentType, type ContentType } from './headers/content-type.js';

export interface HeaderField {
  /** Lower-cased long form (compact forms expanded). */
  name: string;
  /** Value with line folding replaced by a space, surrounding whitespace trimmed. */
  value: string;
}

export interface CSeq {
  seq: number;
  method: string;
}

/** Where a received message came from; set by the transport layer. */
export interface MessageSource {
  transport: 'UDP' | 'TCP' | 'TLS';
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** Stream connection id, for sending responses back on the same connection (§18.2.2). */
  connectionId?: string;
}

abstract class SipMessageBase {
  readonly headers: HeaderField[];
  body: Buffer;
  /** SIP version as written on the start line (e.g. "SIP/2.0"). */
  version = 'SIP/2.0';
  /** Set for received messages. */
  source?: MessageSource;
  private cache: Map<string, unknown> | undefined;

  constructor(headers: HeaderField[] = [], body: Buffer = EMPTY) {
    this.headers = headers;
    this.body = body;
  }

  abstract isRequest(): this is SipRequest;

  /** First value of the header (any spelling, compact or long), or undefined. */
  get(name: string): string | undefined {
    const n = normalizeHeaderName(name);
    for (const h of this.headers) if (h.name === n) return h.value;
    return undefined;
  }

  /** Values of every field with that name, in order. */
  getAll(name: string): string[] {
    const n = normalizeHeaderName(name);
    const out: string[] = [];
    for (const h of this.headers) if (h.name === n) out.push(h.value);
    return out;
  }

  /** All fields of a list header joined as one comma-separated value (§7.3.1). */
  joined(name: string): string | undefined {
    const all = this.getAll(name);
    return all.length === 0 ? undefined : all.join(', ');
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  count(name: string): number {
    const n = normalizeHeaderName(name);
    let c = 0;
    for (const h of this.headers) if (h.name === n) c++;
    return c;
  }

  /** Replace every field of that name with one field (appended where the first one was). */
  set(name: string, value: string): this {
    const n = normalizeHeaderName(name);
    const i = this.headers.findIndex((h) => h.name === n);
    this.removeAll(n);
    if (i < 0 || i > this.headers.length) this.headers.push({ name: n, value });
    else this.headers.splice(i, 0, { name: n, value });
    return this;
  }

  append(name: string, value: string): this {
    const n = normalizeHeaderName(name);
    this.invalidate(n);
    this.headers.push({ name: n, value });
    return this;
  }

  /** Insert before the first field of that name (e.g. a new top Via, §8.1.1.7), else first. */
  prepend(name: string, value: string): this {
    const n = normalizeHeaderName(name);
    this.invalidate(n);
    const i = this.headers.findIndex((h) => h.name === n);
    this.headers.splice(i < 0 ? 0 : i, 0, { name: n, value });
    return this;
  }

  remove(name: string): this {
    this.removeAll(normalizeHeaderName(name));
    return this;
  }

  /** Elements of a token-list header (Allow, Supported, Require...) across all its fields. */
  tokens(name: string): string[] {
    const out: string[] = [];
    for (const v of this.getAll(name)) {
      for (const part of v.split(',')) {
        const t = part.trim();
        if (t.length > 0) out.push(t);
      }
    }
    return out;
  }

  // ---- structured accessors (parsed on first use, cached; they throw ParseError) ----

  via(): Via[] {
    return this.cached('via', () => {
      const v = this.joined('via');
      return v === undefined ? [] : parseVia(v);
    });
  }

  topVia(): Via | undefined {
    return this.via()[0];
  }

  cseq(): CSeq {
    return this.cached('cseq', () => parseCSeq(this.required('cseq')));
  }

  callId(): string {
    return this.required('call-id');
  }

  from(): NameAddr {
    return this.cached('from', () => parseNameAddr(this.required('from')));
  }

  to(): NameAddr {
    return this.cached('to', () => parseNameAddr(this.required('to')));
  }

  fromTag(): string | undefined {
    return tagOf(this.from());
  }

  toTag(): string | undefined {
    return tagOf(this.to());
  }

  /** Contact header: '*' or the list of contacts (empty when absent). */
  contact(): '*' | NameAddr[] {
    return this.cached('contact', () => {
      const v = this.joined('contact');
      return v === undefined ? [] : parseContact(v);
    });
  }

  contentType(): ContentType | undefined {
    return this.cached('content-type', () => {
      const v = this.get('content-type');
      return v === undefined ? undefined : parseContentType(v);
    });
  }

  protected cached<T>(name: string, make: () => T): T {
    if (this.cache === undefined) this.cache = new Map();
    if (this.cache.has(name)) return this.cache.get(name) as T;
    const v = make();
    this.cache.set(name, v);
    return v;
  }

  protected invalidate(name: string): void {
    this.cache?.delete(name);
  }

  private required(name: string): string {
    const v = this.get(name);
    if (v === undefined) throw new MissingHeaderError(name);
    return v;
  }

  private removeAll(n: string): void {
    this.invalidate(n);
    for (let i = this.headers.length - 1; i >= 0; i--) if (this.headers[i]!.name === n) this.headers.splice(i, 1);
  }
}

function tagOf(n: NameAddr): string | undefined {
  const t = getParam(n.params, 'tag');
  return t === null || t === undefined ? undefined : t;
}

export class MissingHeaderError extends Error {
  override readonly name = 'MissingHeaderError';
  constructor(readonly header: string) {
    super(`missing ${header} header`);
  }
}

export class SipRequest extends SipMessageBase {
  constructor(
    public method: string,
    /** Request-URI as text; requestUri() parses it. */
    private uriText: string,
    headers?: HeaderField[],
    body?: Buffer,
  ) {
    super(headers, body);
  }

  isRequest(): this is SipRequest {
    return true;
  }

  get uri(): string {
    return this.uriText;
  }

  set uri(v: string) {
    this.uriText = v;
    this.invalidate('request-uri');
  }

  requestUri(): Uri {
    return this.cached('request-uri', () => parseUri(this.uriText));
  }
}

export class SipResponse extends SipMessageBase {
  constructor(
    public status: number,
    public reason: string,
    headers?: HeaderField[],
    body?: Buffer,
  ) {
    super(headers, body);
  }

  isRequest(): this is SipRequest {
    return false;
  }
}

export type SipMessage = SipRequest | SipResponse;

export const EMPTY: Buffer = Buffer.alloc(0);
