/**
 * SIP dialogs: state, route set, CSeq, remote target (RFC 3261 §12).
 *
 * §12.1.1 (UAS side) and §12.1.2 (UAC side) create a dialog from a request and the
 * response that carries a To tag (1xx -> early, 2xx -> confirmed); §12.2.1.1 builds
 * requests inside it (loose and strict routing); §12.2.2 checks the CSeq of requests
 * received in it and refreshes the remote target (§12.2: INVITE/UPDATE re-INVITE, RFC 6665
 * §4.1.2.2 / §4.2.1 for SUBSCRIBE/NOTIFY); §13.2.2.4 builds the ACK for a 2xx.
 * Pure: no timers, no sockets.
 */
import { randomHex, randomUint32 } from '../../random.js';
import { SipRequest, type SipResponse } from '../message/message.js';
import { parseNameAddrList, formatNameAddr, type NameAddr } from '../message/headers/name-addr.js';
import { formatUri, isSipUri, type Uri } from '../message/headers/uri.js';
import { getParam } from '../message/headers/scan.js';

export type DialogState = 'early' | 'confirmed' | 'terminated';
export type DialogRole = 'uac' | 'uas';

export interface DialogId {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
}

export function dialogKey(id: DialogId): string {
  // join builds one flat string; a template literal builds a rope that every Map lookup
  // would first have to flatten (a runtime call, on each ACK and BYE).
  return [id.callId, id.localTag, id.remoteTag].join('\u0000');
}

/** A random tag for From/To (§19.3: at least 32 bits of randomness). */
export function newTag(): string {
  return randomHex(8);
}

/** Methods that refresh the remote target when they succeed inside a dialog. */
const TARGET_REFRESH = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY']);

export class Dialog {
  state: DialogState;
  readonly id: DialogId;
  /** Route set as name-addr strings, in the order they go into Route headers. */
  routeSet: string[];
  localSeq: number;
  remoteSeq: number | undefined;
  readonly secure: boolean;
  // The URIs as text, or the parsed URI they are formatted from when first read: a UAS that
  // never sends inside the dialog never formats them. (Parsed URIs are not changed in place.)
  private remoteTargetValue: string | Uri;
  private localUriValue: string | Uri;
  private remoteUriValue: string | Uri;
  /** Our Contact, as a name-addr, for requests we send inside the dialog. */
  localContact: string;

  private constructor(init: {
    role: DialogRole;
    state: DialogState;
    id: DialogId;
    routeSet: string[];
    remoteTarget: string | Uri;
    localSeq: number;
    remoteSeq: number | undefined;
    localUri: string | Uri;
    remoteUri: string | Uri;
    secure: boolean;
    localContact: string;
  }) {
    this.role = init.role;
    this.state = init.state;
    const { callId, localTag, remoteTag } = init.id;
    const key = dialogKey(init.id);
    this.keyText = key;
    // The id's parts are read back from the key. Those taken from a received message are
    // slices of its whole header text, which they would keep alive as long as the dialog.
    this.id = {
      callId: key.slice(0, callId.length),
      localTag: key.slice(callId.length + 1, callId.length + 1 + localTag.length),
      remoteTag: key.slice(key.length - remoteTag.length),
    };
    this.routeSet = init.routeSet;
    this.remoteTargetValue = init.remoteTarget;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.localUriValue = init.localUri;
    this.remoteUriValue = init.remoteUri;
    this.secure = init.secure;
    this.localContact = init.localContact;
  }

  readonly role: DialogRole;

  /** Where requests inside the dialog go (§12.1.1: the peer's Contact; refreshed by target refreshes). */
  get remoteTarget(): string {
    const v = this.remoteTargetValue;
    return typeof v === 'string' ? v : (this.remoteTargetValue = formatUri(v));
  }

  set remoteTarget(v: string) {
    this.remoteTargetValue = v;
  }

  /** Our URI: the From of requests we send inside the dialog (§12.2.1.1). */
  get localUri(): string {
    const v = this.localUriValue;
    return typeof v === 'string' ? v : (this.localUriValue = formatUri(v));
  }

  /** The peer's URI: the To of requests we send inside the dialog (§12.2.1.1). */
  get remoteUri(): string {
    const v = this.remoteUriValue;
    return typeof v === 'string' ? v : (this.remoteUriValue = formatUri(v));
  }

  /** The dialog's index key (dialogKey of its id, which never changes: built once). */
  get key(): string {
    return this.keyText;
  }

  private readonly keyText: string;

  /** §12.1.2: the UAC's dialog from the request it sent and a response with a To tag. */
  static asUac(request: SipRequest, response: SipResponse): Dialog {
    const remoteTag = response.toTag();
    const localTag = request.fromTag();
    if (remoteTag === undefined || localTag === undefined) throw new Error('dialog needs From and To tags');
    const contact = firstContact(response);
    return new Dialog({
      role: 'uac',
      state: response.status < 200 ? 'early' : 'confirmed',
      id: { callId: request.callId(), localTag, remoteTag },
      routeSet: routesOf(response.getAll('record-route')).reverse(),
      remoteTarget: contact ?? request.uri,
      localSeq: request.cseq().seq,
      remoteSeq: undefined,
      localUri: formatUri(request.from().uri),
      remoteUri: formatUri(request.to().uri),
      secure: request.requestUri().scheme === 'sips',
      localContact: request.get('contact') ?? '',
    });
  }

  /**
   * §12.1.1: the UAS's dialog from the request received and the response we send (with our
   * To tag). `localTag`, when the caller knows it, is that tag: the response's To is then
   * not parsed back.
   */
  static asUas(request: SipRequest, response: SipResponse, localTag: string | undefined = response.toTag()): Dialog {
    const remoteTag = request.fromTag();
    if (localTag === undefined || remoteTag === undefined) throw new Error('dialog needs From and To tags');
    return new Dialog({
      role: 'uas',
      state: response.status < 200 ? 'early' : 'confirmed',
      id: { callId: request.callId(), localTag, remoteTag },
      routeSet: routesOf(request.getAll('record-route')),
      remoteTarget: firstContactUri(request) ?? request.from().uri,
      localSeq: 0,
      remoteSeq: request.cseq().seq,
      localUri: request.to().uri,
      remoteUri: request.from().uri,
      secure: request.requestUri().scheme === 'sips',
      localContact: response.get('contact') ?? '',
    });
  }

  /** A later response on the UAC side: an early dialog becomes confirmed on 2xx; targets refresh. */
  updateFromResponse(response: SipResponse): void {
    if (response.status >= 200 && response.status < 300) {
      if (this.state === 'early') {
        this.state = 'confirmed';
        // §12.1.2: the route set is fixed by the 2xx, recompute it.
        if (this.role === 'uac') this.routeSet = routesOf(response.getAll('record-route')).reverse();
      }
      const c = firstContact(response);
      if (c !== undefined && TARGET_REFRESH.has(response.cseq().method)) this.remoteTarget = c;
    }
  }

  /**
   * §12.2.2: check a request received inside the dialog. Returns false when its CSeq is
   * lower than the last one (the caller answers 500, §12.2.2), true otherwise; refreshes
   * the remote target for target-refresh requests.
   */
  receiveRequest(request: SipRequest): boolean {
    const { seq } = request.cseq();
    if (request.method !== 'ACK' && request.method !== 'CANCEL') {
      if (this.remoteSeq !== undefined && seq < this.remoteSeq) return false;
      this.remoteSeq = seq;
    }
    if (TARGET_REFRESH.has(request.method)) {
      const c = firstContact(request);
      if (c !== undefined) this.remoteTarget = c;
    }
    return true;
  }

  /**
   * §12.2.1.1: a new request inside the dialog (Via is the transaction layer's). ACK
   * reuses the CSeq number of the INVITE it acknowledges (§13.2.2.4); everything else
   * takes the next local sequence number.
   */
  createRequest(method: string, opts: { cseq?: number; maxForwards?: number } = {}): SipRequest {
    let seq: number;
    if (opts.cseq !== undefined) seq = opts.cseq;
    else {
      this.localSeq = this.localSeq === 0 ? randomSeq() : this.localSeq + 1;
      seq = this.localSeq;
    }
    const { requestUri, routes } = this.routing();
    const req = new SipRequest(method, requestUri);
    req.append('max-forwards', String(opts.maxForwards ?? 70));
    req.append('to', `<${this.remoteUri}>;tag=${this.id.remoteTag}`);
    req.append('from', `<${this.localUri}>;tag=${this.id.localTag}`);
    req.append('call-id', this.id.callId);
    req.append('cseq', `${seq} ${method}`);
    for (const r of routes) req.append('route', r);
    if (this.localContact !== '' && method !== 'ACK' && method !== 'CANCEL') req.append('contact', this.localContact);
    return req;
  }

  /** §13.2.2.4: the ACK for a 2xx to the INVITE with this CSeq number. */
  createAck(inviteSeq: number): SipRequest {
    return this.createRequest('ACK', { cseq: inviteSeq });
  }

  /** Where a request in this dialog goes first: the first route, else the remote target. */
  nextHop(): string {
    const first = this.routeSet[0];
    if (first === undefined) return this.remoteTarget;
    return formatUri(parseNameAddrList(first)[0]!.uri);
  }

  private routing(): { requestUri: string; routes: string[] } {
    const first = this.routeSet[0];
    if (first === undefined) return { requestUri: this.remoteTarget, routes: [] };
    const firstUri = parseNameAddrList(first)[0]!.uri;
    if (isLooseRouter(firstUri)) return { requestUri: this.remoteTarget, routes: [...this.routeSet] };
    // Strict routing (§12.2.1.1): the first route becomes the Request-URI and the remote
    // target goes to the end of the Route set.
    const stripped = { ...(firstUri as object) } as Uri;
    return { requestUri: formatUri(stripped), routes: [...this.routeSet.slice(1), `<${this.remoteTarget}>`] };
  }
}

function isLooseRouter(u: Uri): boolean {
  return isSipUri(u) && getParam(u.params, 'lr') !== undefined;
}

function routesOf(values: string[]): string[] {
  const out: string[] = [];
  for (const v of values) for (const na of parseNameAddrList(v)) out.push(formatNameAddr(na));
  return out;
}

function firstContact(msg: SipRequest | SipResponse): string | undefined {
  const uri = firstContactUri(msg);
  return uri === undefined ? undefined : formatUri(uri);
}

function firstContactUri(msg: SipRequest | SipResponse): Uri | undefined {
  const c = msg.contact();
  if (c === '*' || c.length === 0) return undefined;
  return (c[0] as NameAddr).uri;
}

function randomSeq(): number {
  // §8.1.1.5: any initial value below 2^31.
  return 1 + (randomUint32() % 0x7fff_0000);
}
