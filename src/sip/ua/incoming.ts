/**
 * A request received by the UA, with the means to answer it (RFC 3261 §8.2.6).
 *
 * Every response gets the request's Via/From/To/Call-ID/CSeq (§8.2.6.2), one To tag per
 * request for all its non-100 responses (§8.2.6.2, §12.1.1), the Server header (§20.35)
 * and, on 405/501/2xx-to-OPTIONS, Allow (§20.5). Accepting an INVITE creates the dialog
 * (§12.1.1) and hands the 2xx to the UA for end-to-end retransmission (§13.3.1.4).
 */
import { createResponse } from '../transaction/build.js';
import type { ServerTransaction } from '../transaction/layer.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { utf8Bytes } from '../message/serialize.js';
import { Dialog, newTag } from '../dialog/dialog.js';
import type { Destination } from '../transport/types.js';

export interface ResponseOptions {
  reason?: string;
  headers?: readonly (readonly [string, string])[];
  body?: Buffer | string;
  contentType?: string;
}

/** What IncomingRequest needs from its UA. */
export interface IncomingHost {
  readonly serverHeader: string;
  readonly allowHeader: string;
  localContact(req: SipRequest): string;
  sendOnTransaction(tx: ServerTransaction, res: SipResponse): void;
  /** `dest`: where the 2xx goes, when the caller knows it (else from the request's Via). */
  startInviteDialog(dialog: Dialog, req: SipRequest, res: SipResponse, dest?: Destination): void;
}

export class IncomingRequest {
  private tag: string | undefined;
  private finalSent = false;

  constructor(
    private readonly host: IncomingHost,
    readonly request: SipRequest,
    readonly transaction: ServerTransaction,
  ) {}

  /** The To tag our responses carry (generated once, §8.2.6.2). */
  get toTag(): string {
    this.tag ??= this.request.toTag() ?? newTag();
    return this.tag;
  }

  get answered(): boolean {
    return this.finalSent;
  }

  /** Build a response to this request without sending it. */
  build(status: number, opts: ResponseOptions = {}): SipResponse {
    const res = createResponse(this.request, status, opts.reason, status === 100 ? undefined : this.toTag);
    res.append('server', this.host.serverHeader);
    if (status === 405 || status === 501 || (this.request.method === 'OPTIONS' && status < 300)) {
      res.append('allow', this.host.allowHeader);
    }
    for (const [name, value] of opts.headers ?? []) res.append(name, value);
    if (opts.body !== undefined) {
      res.body = typeof opts.body === 'string' ? utf8Bytes(opts.body) : opts.body;
      if (opts.contentType !== undefined) res.set('content-type', opts.contentType);
    }
    return res;
  }

  /** Send a response; a second final response is refused (§17.2). */
  respond(status: number, opts: ResponseOptions = {}): SipResponse {
    if (this.finalSent) throw new Error(`${this.request.method} already has a final response`);
    const res = this.build(status, opts);
    if (status >= 200) this.finalSent = true;
    this.host.sendOnTransaction(this.transaction, res);
    return res;
  }

  /**
   * Answer an INVITE with a 2xx and create the dialog (§12.1.1, §13.3.1.4): the UA
   * retransmits the 2xx until the ACK arrives, and sends BYE if it never does.
   */
  accept(opts: ResponseOptions & { status?: number } = {}): Dialog {
    if (this.request.method !== 'INVITE') throw new Error('accept() is for INVITE; use respond()');
    if (this.finalSent) throw new Error('INVITE already has a final response');
    const res = this.build(opts.status ?? 200, opts);
    if (!res.has('contact')) res.append('contact', this.host.localContact(this.request));
    this.finalSent = true;
    // build() gave the response this To tag (or kept the request's, which is the same).
    const dialog = Dialog.asUas(this.request, res, this.toTag);
    // Sent first, so the retransmission schedule can keep the bytes sent, not the message.
    this.host.sendOnTransaction(this.transaction, res);
    this.host.startInviteDialog(dialog, this.request, res, this.transaction.responseDestination);
    return dialog;
  }
}
