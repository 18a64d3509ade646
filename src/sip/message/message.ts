/**
 * The SIP message model: Request and Response with ordered header fields.
 *
 * RFC 3261 §7 (message structure), §7.3 (header fields: order of fields with the same
 * name is significant, names case-insensitive, compact forms), §20 (header table).
 *
 * Header values are kept as the unfolded text read off the wire and parsed into
 * structures only when asked (design.md convention 5); parsed values are cached per
 * header name and dropped when that header is changed. Names are keyed by their
 * lower-cased long form (names.ts). A parsed datagram keeps its head (WireText): fields
 * become HeaderField objects only when `headers` is read, and Via, From, To, Contact, CSeq
 * and Content-Type of the usual shapes are read from the bytes (headers/wire.ts), every
 * other value by the string parsers of headers/, which stay the reference.
 */
import { normalizeHeaderName } from './names.js';
import { parseVia, type Via } from './headers/via.js';
import { parseCSeq } from './headers/cseq.js';
import { parseNameAddr, parseContact, type NameAddr } from './headers/name-addr.js';
import { parseUri, type Uri } from './headers/uri.js';
import { getParam } from './headers/scan.js';
import { parseContentType, type ContentType } from './headers/content-type.js';
import { wireContentType, wireCSeq, wireNameAddr, wireVia } from './headers/wire.js';

/**
 * The received head of a parsed datagram (parse.ts), kept so header values are sliced only
 * when read and the structured accessors can read them from the bytes (headers/wire.ts).
 * `text` is the UTF-8 decoding of `bytes` from `off` on, one char per byte (text index k
 * is byte off + k). Field k is named names[k]; its value is text[spans[2k], spans[2k + 1])
 * when spans[2k] >= 0, else literals[-1 - spans[2k]] (a value that is not one range of the
 * text, e.g. a trimmed one). Once the fields are HeaderField objects, values[k] is the
 * value field k got, so a field whose value was replaced since is known not to be the bytes.
 */
export interface WireText {
  bytes: Uint8Array;
  off: number;
  text: string;
  names: string[];
  spans: number[];
  literals: string[];
  values: string[] | undefined;
}

function wireValue(w: WireText, k: number): string {
  const start = w.spans[2 * k]!;
  return start >= 0 ? w.text.slice(start, w.spans[2 * k + 1]) : w.literals[-1 - start]!;
}

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
  /** undefined while the fields are still only in `wire` (see headers). */
  private fields: HeaderField[] | undefined;
  body: Buffer;
  /** SIP version as written on the start line (e.g. "SIP/2.0"). */
  version = 'SIP/2.0';
  /** Set for received messages. */
  source?: MessageSource;
  private cache: Map<string, unknown> | undefined;
  // The accessors every received request goes through keep their parse in a field of
  // their own: cheaper than a Map per message. undefined = not parsed yet.
  private viaCache: Via[] | undefined = undefined;
  private cseqCache: CSeq | undefined = undefined;
  private fromCache: NameAddr | undefined = undefined;
  private toCache: NameAddr | undefined = undefined;
  private contactCache: '*' | NameAddr[] | undefined = undefined;
  /** null: parsed, and there is no Content-Type. */
  private contentTypeCache: ContentType | null | undefined = undefined;
  private wire: WireText | undefined = undefined;

  constructor(headers: HeaderField[] = [], body: Buffer = EMPTY) {
    this.fields = headers;
    this.body = body;
  }

  /**
   * The header fields in order. A parsed datagram's fields become HeaderField objects only
   * when this is first read (design.md convention 5: values stay raw until asked for); the
   * accessors below do not need them.
   */
  get headers(): HeaderField[] {
    return this.fields ?? this.materialize();
  }

  /** For the parser: the fields are those of w (which the parser may still be filling). */
  adoptWire(w: WireText): void {
    this.wire = w;
    this.fields = undefined;
  }

  private materialize(): HeaderField[] {
    const w = this.wire!;
    const fields: HeaderField[] = [];
    const values: string[] = [];
    for (let k = 0; k < w.names.length; k++) {
      const value = wireValue(w, k);
      fields.push({ name: w.names[k]!, value });
      values.push(value);
    }
    w.values = values;
    this.fields = fields;
    return fields;
  }

  private size(): number {
    return this.fields !== undefined ? this.fields.length : this.wire!.names.length;
  }

  private nameAt(i: number): string {
    return this.fields !== undefined ? this.fields[i]!.name : this.wire!.names[i]!;
  }

  private valueAt(i: number): string {
    return this.fields !== undefined ? this.fields[i]!.value : wireValue(this.wire!, i);
  }

  abstract isRequest(): this is SipRequest;

  /** First value of the header (any spelling, compact or long), or undefined. */
  get(name: string): string | undefined {
    if (this.fields === undefined) {
      // Every name the parser stored is normalized, and a normalized name normalizes to
      // itself: a name found as given needs no normalizing (callers mostly pass that form).
      const i = this.indexOf(name);
      if (i >= 0) return this.valueAt(i);
    }
    return this.first(normalizeHeaderName(name));
  }

  /** First value of the header with this normalized name. */
  private first(n: string): string | undefined {
    const i = this.indexOf(n);
    return i < 0 ? undefined : this.valueAt(i);
  }

  /** Values of every field with that name, in order. */
  getAll(name: string): string[] {
    const n = normalizeHeaderName(name);
    const out: string[] = [];
    const size = this.size();
    for (let i = 0; i < size; i++) if (this.nameAt(i) === n) out.push(this.valueAt(i));
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
    const size = this.size();
    for (let i = 0; i < size; i++) if (this.nameAt(i) === n) c++;
    return c;
  }

  /**
   * Copies of the fields whose (normalized) name is in `names`, in order. Unlike filtering
   * `headers`, this leaves a parsed datagram's fields in its WireText.
   */
  fieldsNamed(names: ReadonlySet<string>): HeaderField[] {
    const out: HeaderField[] = [];
    const size = this.size();
    for (let i = 0; i < size; i++) {
      const name = this.nameAt(i);
      if (names.has(name)) out.push({ name, value: this.valueAt(i) });
    }
    return out;
  }

  /** Whether a field whose (normalized) name is in `names` occurs more than once. */
  hasRepeated(names: ReadonlySet<string>): boolean {
    // Compares each listed name with the fields before it: a message has a dozen or so
    // fields, and this runs on every request, so no array of the names seen is built.
    const size = this.size();
    for (let i = 1; i < size; i++) {
      const n = this.nameAt(i);
      if (!names.has(n)) continue;
      for (let j = 0; j < i; j++) if (this.nameAt(j) === n) return true;
    }
    return false;
  }

  /** Replace every field of that name with one field (appended where the first one was). */
  set(name: string, value: string): this {
    const n = normalizeHeaderName(name);
    const i = this.headers.findIndex((h) => h.name === n);
    if (i < 0) {
      this.invalidate(n);
      this.headers.push({ name: n, value });
      return this;
    }
    this.removeAll(n);
    if (i > this.headers.length) this.headers.push({ name: n, value });
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

  /**
   * Give the first field of this name a new value where it stands; false when there is none.
   * A parsed datagram's fields stay in its WireText (the new value becomes one of its
   * literals), so this does not build the HeaderField objects that `headers` would.
   */
  replaceFirst(name: string, value: string): boolean {
    const n = normalizeHeaderName(name);
    const i = this.indexOf(n);
    if (i < 0) return false;
    this.invalidate(n);
    if (this.fields !== undefined) {
      this.fields[i] = { name: n, value };
    } else {
      const w = this.wire!;
      w.spans[2 * i] = -1 - w.literals.length;
      w.literals.push(value);
    }
    return true;
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
    return (this.viaCache ??= this.parseAllVia());
  }

  /**
   * Every via-parm of every Via field, as parseVia reads them joined (§7.3.1). Each field is
   * parsed on its own, which spares building the joined text; on any error the joined text
   * is parsed instead, so errors (and their offsets) are those of the joined value.
   */
  private parseAllVia(): Via[] {
    let out: Via[] | undefined;
    let fields = 0;
    const size = this.size();
    for (let i = 0; i < size; i++) {
      if (this.nameAt(i) !== 'via') continue;
      fields++;
      const at = this.wireStart(i);
      const w = this.wire;
      const one = at < 0 ? undefined : wireVia(w!.bytes, w!.off, w!.text, at, w!.spans[2 * i + 1]!);
      if (one !== undefined) {
        if (out === undefined) out = [one];
        else out.push(one);
        continue;
      }
      let list: Via[];
      try {
        list = parseVia(this.valueAt(i));
      } catch (e) {
        if (fields === 1 && this.count('via') === 1) throw e;
        return parseVia(this.joined('via')!);
      }
      if (out === undefined) out = list;
      else for (let k = 0; k < list.length; k++) out.push(list[k]!);
    }
    return out ?? [];
  }

  /**
   * Where field i's value starts in wire.text while it is still the value the parser read
   * there (so the bytes hold exactly it; it ends at wire.spans[2i + 1]); else -1.
   */
  private wireStart(i: number): number {
    const w = this.wire;
    if (w === undefined) return -1;
    if (this.fields !== undefined && (w.values === undefined || i >= w.values.length || this.fields[i]!.value !== w.values[i])) {
      return -1;
    }
    const at = w.spans[2 * i]!;
    return at >= 0 ? at : -1;
  }

  /**
   * Where the value of the first field with this normalized name starts in wireBytes, while
   * it is still the received value (text and bytes then agree char for byte, up to the
   * value's length); -1 when there is no such field or it no longer is the received value.
   * For readers that scan bytes rather than a string (transport/received.ts).
   */
  wireOffset(n: string): number {
    const i = this.indexOf(n);
    const at = i < 0 ? -1 : this.wireStart(i);
    return at < 0 ? -1 : at + this.wire!.off;
  }

  /** The received datagram (or stream message) the fields are read from, if any. */
  get wireBytes(): Uint8Array | undefined {
    return this.wire?.bytes;
  }

  /** Index of the first field with this normalized name, or -1. */
  private indexOf(n: string): number {
    const size = this.size();
    for (let i = 0; i < size; i++) if (this.nameAt(i) === n) return i;
    return -1;
  }

  /**
   * Field i read by a wire.ts reader when its value is still the received bytes and of the
   * shape the reader takes, else by the string parser (the reference, which also throws).
   */
  private read<T>(i: number, fromWire: WireReader<T>, parse: (s: string) => T): T {
    const at = this.wireStart(i);
    if (at >= 0) {
      const w = this.wire!;
      const r = fromWire(w.bytes, w.off, w.text, at, w.spans[2 * i + 1]!);
      if (r !== undefined) return r;
    }
    return parse(this.valueAt(i));
  }

  /** The first via-parm (throws like via() when any Via is unreadable). */
  topVia(): Via | undefined {
    return this.via()[0];
  }

  cseq(): CSeq {
    return (this.cseqCache ??= this.read(this.requiredIndex('cseq'), wireCSeq, parseCSeq));
  }

  callId(): string {
    return this.required('call-id');
  }

  from(): NameAddr {
    return (this.fromCache ??= this.read(this.requiredIndex('from'), wireNameAddr, parseNameAddr));
  }

  to(): NameAddr {
    return (this.toCache ??= this.read(this.requiredIndex('to'), wireNameAddr, parseNameAddr));
  }

  fromTag(): string | undefined {
    return tagOf(this.from());
  }

  toTag(): string | undefined {
    return tagOf(this.to());
  }

  /** Contact header: '*' or the list of contacts (empty when absent). */
  contact(): '*' | NameAddr[] {
    if (this.contactCache === undefined) this.contactCache = this.parseContactField();
    return this.contactCache;
  }

  private parseContactField(): '*' | NameAddr[] {
    const i = this.indexOf('contact');
    if (i < 0) return [];
    // One field is its own joined value.
    if (this.count('contact') > 1) return parseContact(this.joined('contact')!);
    return this.read(i, wireContact, parseContact);
  }

  contentType(): ContentType | undefined {
    if (this.contentTypeCache === undefined) {
      const i = this.indexOf('content-type');
      this.contentTypeCache = i < 0 ? null : this.read(i, wireContentType, parseContentType);
    }
    return this.contentTypeCache ?? undefined;
  }

  protected cached<T>(name: string, make: () => T): T {
    if (this.cache === undefined) this.cache = new Map();
    if (this.cache.has(name)) return this.cache.get(name) as T;
    const v = make();
    this.cache.set(name, v);
    return v;
  }

  protected invalidate(name: string): void {
    switch (name) {
      case 'via':
        this.viaCache = undefined;
        break;
      case 'cseq':
        this.cseqCache = undefined;
        break;
      case 'from':
        this.fromCache = undefined;
        break;
      case 'to':
        this.toCache = undefined;
        break;
      case 'contact':
        this.contactCache = undefined;
        break;
      case 'content-type':
        this.contentTypeCache = undefined;
        break;
    }
    this.cache?.delete(name);
  }

  private requiredIndex(name: string): number {
    const i = this.indexOf(name);
    if (i < 0) throw new MissingHeaderError(name);
    return i;
  }

  private required(name: string): string {
    const v = this.first(name);
    if (v === undefined) throw new MissingHeaderError(name);
    return v;
  }

  private removeAll(n: string): void {
    this.invalidate(n);
    for (let i = this.headers.length - 1; i >= 0; i--) if (this.headers[i]!.name === n) this.headers.splice(i, 1);
  }
}

type WireReader<T> = (bytes: Uint8Array, off: number, text: string, start: number, end: number) => T | undefined;

/** A one-element Contact list read from the wire (wireNameAddr). */
function wireContact(bytes: Uint8Array, off: number, text: string, start: number, end: number): NameAddr[] | undefined {
  const na = wireNameAddr(bytes, off, text, start, end);
  return na === undefined ? undefined : [na];
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
    this.requestUriCache = undefined;
  }

  private requestUriCache: Uri | undefined = undefined;

  requestUri(): Uri {
    return (this.requestUriCache ??= parseUri(this.uriText));
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
