/**
 * The transaction user: the facade the application (the History Function, the simulated IM
 * network, tests) uses to send and receive SIP.
 *
 * RFC 3261 §8.1 (UAC: building requests, §8.1.3 processing responses, 408/503 synthesised
 * on timeout/transport error), §8.2 (UAS checks, validate.ts), §9.2 (CANCEL: 200 to the
 * CANCEL, 487 to the INVITE; 481 when nothing matches), §11 (OPTIONS), §12 (dialogs:
 * 481 for unknown ones, 500 for an old CSeq), §13.2.2.4 (ACK for every 2xx, also
 * retransmitted ones; a 2xx from a second fork is ACKed and BYEd), §13.3.1.4 (the UAS
 * retransmits its 2xx until the ACK, T1 doubling to T2, and BYEs after 64*T1), §15.1.2
 * (BYE ends the dialog).
 */
import { systemClock, type Clock } from '../clock.js';
import { SipRequest, SipResponse, type SipMessage } from '../message/message.js';
import { checkRequest, type UasProfile } from '../message/validate.js';
import { utf8Bytes } from '../message/serialize.js';
import { TransactionLayer, type ServerTransaction } from '../transaction/layer.js';
import { ClientInviteTransaction } from '../transaction/client-invite.js';
import { createResponse } from '../transaction/build.js';
import { randomHex } from '../../random.js';
import { resolveTimerConfig, type TimerConfig } from '../transaction/timers.js';
import { TimerQueues } from '../transaction/context.js';
import type { Destination, Transport, TransportName } from '../transport/types.js';
import { responseDestination } from '../transport/received.js';
import { silentLogger, type TransportLogger } from '../transport/config.js';
import { Dialog, dialogKey, newTag } from '../dialog/dialog.js';
import { IncomingRequest, type IncomingHost, type ResponseOptions } from './incoming.js';
import { Pending2xx, type Pending2xxHost } from './pending-2xx.js';
import { resolveUri } from './resolve.js';

export interface UserAgentOptions {
  transport: Transport;
  profile: UasProfile;
  /** Server header value (§20.35), e.g. "IM-serv/OMA1.0 im-history/0.1.0". */
  serverHeader: string;
  /** User-Agent header value for requests we originate (§20.41). */
  userAgentHeader: string;
  /** User part of our Contact. */
  contactUser?: string;
  /** Host to put in Via/Contact instead of the listening address (NAT, 0.0.0.0 binds). */
  advertisedHost?: string;
  /** Port to put in Via/Contact per transport instead of the listening port (a NAT or port mapping in front of us). */
  advertisedPorts?: Partial<Record<TransportName, number>>;
  outboundProxy?: Destination;
  clock?: Clock;
  timers?: Partial<TimerConfig>;
  logger?: TransportLogger;
  maxServerTransactions?: number;
  /** Server transactions one source IP address may hold; beyond, its new requests get 503 + Retry-After. */
  maxServerTransactionsPerSource?: number;
  maxClientTransactions?: number;
  /** A new out-of-dialog request that passed the §8.2 checks (OPTIONS is answered here). */
  onRequest?(req: IncomingRequest): void;
  /** A request inside one of our dialogs (BYE is answered here, then reported). */
  onDialogRequest?(dialog: Dialog, req: IncomingRequest): void;
  onDialogTerminated?(dialog: Dialog, reason: string): void;
  /** A CANCEL that ended an INVITE the application had not answered (§9.2). */
  onCancelled?(invite: IncomingRequest): void;
}

export type DialogRequestHandler = (dialog: Dialog, req: IncomingRequest) => void;

export interface RequestOptions {
  headers?: readonly (readonly [string, string])[];
  body?: Buffer | string;
  contentType?: string;
  onProvisional?(res: SipResponse): void;
  /** Send here instead of resolving the Request-URI / next hop. */
  destination?: Destination;
  /** INVITE only: aborting sends CANCEL (RFC 3261 §9.1; held until a provisional response arrives). */
  signal?: AbortSignal;
}

export interface InviteResult {
  response: SipResponse;
  /** Present when the INVITE succeeded (2xx): confirmed and ACKed. */
  dialog?: Dialog;
}

export class UserAgent implements IncomingHost {
  readonly layer: TransactionLayer;
  readonly dialogs = new Map<string, Dialog>();
  readonly serverHeader: string;
  readonly allowHeader: string;
  /** Body types we take, for Accept in answers to OPTIONS (§11.2). */
  readonly acceptHeader: string;
  /** The extra header fields of the 200 to OPTIONS (§11.2), the same for every request. */
  private readonly optionsAnswer: ResponseOptions;
  private readonly clock: Clock;
  private readonly timers: TimerConfig;
  private readonly log: TransportLogger;
  /** UAS 2xx responses waiting for their ACK (§13.3.1.4), by dialog key. */
  private readonly pendingAck = new Map<string, Pending2xx>();
  private readonly pendingHost: Pending2xxHost;
  private readonly incomingInvites = new WeakMap<ServerTransaction, IncomingRequest>();
  private readonly dialogHandlers = new Map<string, DialogRequestHandler>();
  private readonly orphanHandlers = new Set<(incoming: IncomingRequest) => boolean>();

  constructor(private readonly opts: UserAgentOptions) {
    this.clock = opts.clock ?? systemClock;
    this.timers = resolveTimerConfig(opts.timers);
    this.pendingHost = {
      transport: opts.transport,
      timers: this.timers,
      queues: new TimerQueues(this.clock),
      noAck: (dialog) => {
        this.pendingAck.delete(dialog.key);
        this.log.warn({ callId: dialog.id.callId }, 'no ACK for 2xx within 64*T1: sending BYE (RFC 3261 13.3.1.4)');
        void this.sendInDialog(dialog, 'BYE');
      },
      resendFailed: (dialog, err) => this.log.error({ callId: dialog.id.callId, err: String(err) }, '2xx retransmission failed'),
    };
    this.log = opts.logger ?? silentLogger;
    this.serverHeader = opts.serverHeader;
    this.allowHeader = ['ACK', 'CANCEL', ...opts.profile.methods.filter((m) => m !== 'ACK' && m !== 'CANCEL')].join(', ');
    this.acceptHeader = opts.profile.contentTypes?.['INVITE']?.join(', ') ?? 'application/sdp';
    this.optionsAnswer = { headers: [['accept', this.acceptHeader], ['supported', opts.profile.optionTags.join(', ')]] };
    this.layer = new TransactionLayer({
      transport: opts.transport,
      clock: this.clock,
      timers: opts.timers,
      via: (dest) => this.sentBy(dest.transport),
      onRequest: (req, tx) => this.onLayerRequest(req, tx),
      onStrayResponse: (res) => this.onStrayResponse(res),
      maxServerTransactions: opts.maxServerTransactions,
      maxServerTransactionsPerSource: opts.maxServerTransactionsPerSource,
      maxClientTransactions: opts.maxClientTransactions,
    });
  }

  /** Responses dropped because their top Via was not ours (§18.1.2). */
  misroutedResponses = 0;

  /** Hand a message from the transport to the UA. */
  receive(msg: SipMessage): void {
    if (!msg.isRequest() && !this.isOurVia(msg)) {
      // §18.1.2: a response whose top Via sent-by is not what we inserted is discarded.
      this.misroutedResponses++;
      this.log.debug({ via: msg.get('via') }, 'response with a foreign top Via discarded (RFC 3261 18.1.2)');
      return;
    }
    this.layer.receive(msg);
  }

  private isOurVia(res: SipResponse): boolean {
    let top;
    try {
      top = res.topVia();
    } catch {
      return true; // unreadable: let the transaction layer count it as malformed
    }
    if (top === undefined) return true;
    const host = top.host.startsWith('[') ? top.host.slice(1, -1) : top.host;
    return this.opts.transport.listening.some((l) => {
      const ours = this.opts.advertisedHost ?? l.address;
      return ours.toLowerCase() === host.toLowerCase() && (top.port ?? 5060) === (this.opts.advertisedPorts?.[l.transport] ?? l.port);
    });
  }

  // ---------------------------------------------------------------- UAC side

  /** A new out-of-dialog request (§8.1.1): fresh Call-ID, From tag and CSeq. */
  createRequest(method: string, uri: string, from: string, to: string): SipRequest {
    const req = new SipRequest(method, uri);
    req.append('max-forwards', '70');
    req.append('to', to);
    req.append('from', `${from};tag=${newTag()}`);
    req.append('call-id', `${randomHex(12)}@im-history`);
    req.append('cseq', `${1 + (parseInt(randomHex(2), 16) % 10000)} ${method}`);
    return req;
  }

  /** Our Contact for a request going out on `transport`. */
  contactFor(transport: TransportName): string {
    const { host, port } = this.sentBy(transport);
    const user = this.opts.contactUser !== undefined ? `${this.opts.contactUser}@` : '';
    // RFC 5630 §3.1.3: a TLS Contact is a sips: URI (transport=tls is deprecated).
    const tp = transport === 'UDP' || transport === 'TLS' ? '' : `;transport=${transport.toLowerCase()}`;
    const scheme = transport === 'TLS' ? 'sips' : 'sip';
    return `<${scheme}:${user}${host.includes(':') ? `[${host}]` : host}:${port}${tp}>`;
  }

  localContact(req: SipRequest): string {
    const t = req.source?.transport ?? 'UDP';
    // The listeners and advertised addresses are fixed once the UA runs: one string per transport.
    let c = this.localContacts.get(t);
    if (c === undefined) {
      c = this.contactFor(t);
      this.localContacts.set(t, c);
    }
    return c;
  }

  private readonly localContacts = new Map<TransportName, string>();

  /** Send a non-INVITE request; resolves with the final response (408/503 synthesised, §8.1.3.1). */
  async request(req: SipRequest, options: RequestOptions = {}): Promise<SipResponse> {
    if (req.method === 'INVITE') return (await this.invite(req, options)).response;
    const dest = await this.prepare(req, options);
    return new Promise((resolve) => {
      this.layer.sendRequest(req, dest, {
        onProvisional: (res) => options.onProvisional?.(res),
        onFinal: (res) => resolve(res),
        onTimeout: () => resolve(synthetic(req, 408, 'Request Timeout')),
        onTransportError: () => resolve(synthetic(req, 503, 'Service Unavailable')),
      });
    });
  }

  /** Send an INVITE (initial, or a re-INVITE built by a dialog); ACKs every 2xx (§13.2.2.4). */
  async invite(req: SipRequest, options: RequestOptions = {}, existing?: Dialog): Promise<InviteResult> {
    const dest = await this.prepare(req, options);
    return new Promise((resolve) => {
      let dialog: Dialog | undefined = existing;
      let ack: SipRequest | undefined;
      let ackDest: Destination = dest;
      let settled = false;
      const finish = (r: InviteResult) => {
        if (!settled) {
          settled = true;
          resolve(r);
        }
      };
      const early = new Map<string, Dialog>();
      const dropEarly = (keep?: string) => {
        for (const [tag, d] of early) if (tag !== keep) this.dialogs.delete(d.key);
        early.clear();
      };
      const tx = this.layer.sendRequest(req, dest, {
        onProvisional: (res) => {
          // §12.1.2: a 1xx with a To tag creates an early dialog (one per remote tag).
          const tag = res.toTag();
          if (existing === undefined && res.status > 100 && tag !== undefined && !early.has(tag)) {
            const d = Dialog.asUac(req, res);
            early.set(tag, d);
            this.dialogs.set(d.key, d);
          }
          options.onProvisional?.(res);
        },
        onFinal: (res) => {
          if (res.status >= 300) {
            dropEarly();
            return finish({ response: res });
          }
          if (dialog === undefined) {
            const tag = res.toTag();
            dialog = tag === undefined ? undefined : early.get(tag);
            if (dialog !== undefined) dialog.updateFromResponse(res);
            else dialog = Dialog.asUac(req, res);
            dropEarly(tag);
            this.dialogs.set(dialog.key, dialog);
          } else if (existing === undefined && res.toTag() !== dialog.id.remoteTag) {
            // A second fork answered (§13.2.2.4): ACK it, then end that dialog with BYE.
            const other = Dialog.asUac(req, res);
            void this.ackAndBye(other, req.cseq().seq);
            return;
          } else dialog.updateFromResponse(res);
          if (ack === undefined) {
            ack = dialog.createAck(req.cseq().seq);
            void this.nextHop(dialog).then((d) => {
              ackDest = d;
              this.sendAck(ack!, ackDest);
            });
          } else this.sendAck(ack, ackDest); // retransmitted 2xx: same ACK again
          finish({ response: res, dialog });
        },
        onTimeout: () => {
          dropEarly();
          finish({ response: synthetic(req, 408, 'Request Timeout') });
        },
        onTransportError: () => {
          dropEarly();
          finish({ response: synthetic(req, 503, 'Service Unavailable') });
        },
      });
      const signal = options.signal;
      if (signal !== undefined && tx instanceof ClientInviteTransaction) {
        // The INVITE then ends with 487 (or, if a 2xx crossed the CANCEL, with that 2xx).
        const cancel = () => void this.layer.sendCancel(tx, { onFinal: () => undefined });
        if (signal.aborted) cancel();
        else signal.addEventListener('abort', cancel, { once: true });
      }
    });
  }

  /** Send a request inside a dialog (§12.2.1.1); BYE terminates the dialog (§15.1.1). */
  async sendInDialog(dialog: Dialog, method: string, options: RequestOptions = {}): Promise<SipResponse> {
    const req = dialog.createRequest(method);
    if (method === 'BYE') this.endDialog(dialog, 'BYE sent');
    const dest = options.destination ?? (await this.nextHop(dialog));
    const opts = { ...options, destination: dest };
    const res = method === 'INVITE' ? (await this.invite(req, opts, dialog)).response : await this.request(req, opts);
    // §12.2.1.2: 481 or 408 to any request inside a dialog ends it.
    if (res.status === 481 || res.status === 408) this.endDialog(dialog, `${res.status} to ${method}`);
    return res;
  }

  async close(): Promise<void> {
    for (const p of this.pendingAck.values()) p.stop();
    this.pendingAck.clear();
  }

  // ---------------------------------------------------------------- UAS side

  sendOnTransaction(tx: ServerTransaction, res: SipResponse): void {
    // Once answered, a CANCEL only gets its 200 (§9.2): the IncomingRequest (and with it the
    // parsed INVITE) need not live on for the transaction's Timer L / H.
    if (res.status >= 200 && tx.method === 'INVITE') this.incomingInvites.delete(tx);
    tx.respond(res);
  }

  /** §13.3.1.4: retransmit the 2xx until the ACK; BYE if it never comes. */
  startInviteDialog(dialog: Dialog, req: SipRequest, res: SipResponse, dest: Destination | undefined = responseDestination(req)): void {
    // A re-INVITE's 2xx replaces any earlier one still waiting for its ACK. An INVITE without
    // a To tag makes a dialog with a To tag just drawn: nothing can be waiting under its key.
    if (req.toTag() !== undefined) this.stopRetransmitting(dialog.key);
    this.dialogs.set(dialog.key, dialog);
    this.pendingAck.set(dialog.key, new Pending2xx(this.pendingHost, dialog, res, dest, this.layer.sentBytes(res)));
  }

  private stopRetransmitting(key: string): void {
    const p = this.pendingAck.get(key);
    if (p === undefined) return;
    p.stop();
    this.pendingAck.delete(key);
  }

  private onLayerRequest(req: SipRequest, tx: ServerTransaction | undefined): void {
    if (req.method === 'ACK') {
      // The ACK for our 2xx (§13.3.1.4); ACKs for non-2xx never reach here.
      const key = this.keyOfIncoming(req);
      if (key !== undefined) {
        this.stopRetransmitting(key);
        const d = this.dialogs.get(key);
        if (d !== undefined) d.receiveRequest(req);
      }
      return;
    }
    if (tx === undefined) return;
    const incoming = new IncomingRequest(this, req, tx);
    const rejection = checkRequest(req, this.opts.profile);
    if (rejection !== undefined) {
      this.log.debug({ callId: safeCallId(req), status: rejection.status }, `rejected ${req.method}: ${rejection.reason}`);
      incoming.respond(rejection.status, { reason: rejection.reason, headers: rejection.headers.map((h) => [h.name, h.value] as const) });
      return;
    }
    if (req.method === 'CANCEL') return this.onCancel(incoming);
    if (req.method === 'INVITE') this.incomingInvites.set(tx, incoming);
    if (req.toTag() !== undefined) return this.onInDialog(incoming);
    if (req.method === 'OPTIONS') {
      // §11.2: what we would do with an INVITE, and our capabilities.
      incoming.respond(200, this.optionsAnswer);
      return;
    }
    if (this.opts.onRequest === undefined) return void incoming.respond(405);
    this.opts.onRequest(incoming);
  }

  /**
   * Route requests inside one dialog to `handler` instead of options.onDialogRequest
   * (e.g. a subscription's NOTIFYs, a session's re-INVITEs). Removed with the dialog.
   */
  setDialogHandler(dialog: Dialog, handler: DialogRequestHandler): void {
    this.dialogHandlers.set(dialog.key, handler);
  }

  /**
   * Register a handler for requests carrying a To tag but matching no dialog yet; it returns
   * true when it took the request. RFC 6665 §4.1.2.4: a NOTIFY may create the subscription's
   * dialog before the 2xx to the SUBSCRIBE arrives. Returns a function that unregisters it.
   */
  addOrphanHandler(handler: (incoming: IncomingRequest) => boolean): () => void {
    this.orphanHandlers.add(handler);
    return () => this.orphanHandlers.delete(handler);
  }

  /** Add a dialog created outside the INVITE flow (SUBSCRIBE, REFER, a NOTIFY). */
  addDialog(dialog: Dialog): void {
    this.dialogs.set(dialog.key, dialog);
  }

  /** End a dialog locally (no request is sent); reported through onDialogTerminated. */
  terminateDialog(dialog: Dialog, reason: string): void {
    this.endDialog(dialog, reason);
  }

  private onInDialog(incoming: IncomingRequest): void {
    const req = incoming.request;
    const key = this.keyOfIncoming(req);
    const dialog = key === undefined ? undefined : this.dialogs.get(key);
    if (dialog === undefined) {
      for (const h of this.orphanHandlers) if (h(incoming)) return;
      return void incoming.respond(481, { reason: 'Call/Transaction Does Not Exist' });
    }
    if (!dialog.receiveRequest(req)) return void incoming.respond(500, { reason: 'CSeq out of order' });
    if (req.method === 'BYE') {
      incoming.respond(200);
      this.endDialog(dialog, 'BYE received');
      return;
    }
    const handler = this.dialogHandlers.get(dialog.key) ?? this.opts.onDialogRequest;
    if (handler === undefined) return void incoming.respond(req.method === 'INVITE' ? 488 : 200);
    handler(dialog, incoming);
  }

  private onCancel(cancel: IncomingRequest): void {
    const tx = this.layer.findInviteForCancel(cancel.request);
    if (tx === undefined) return void cancel.respond(481, { reason: 'Call/Transaction Does Not Exist' });
    // No IncomingRequest left: the INVITE was already answered (sendOnTransaction).
    const invite = this.incomingInvites.get(tx);
    cancel.respond(200);
    if (invite !== undefined && !invite.answered) {
      invite.respond(487, { reason: 'Request Terminated' });
      this.opts.onCancelled?.(invite);
    }
  }

  private onStrayResponse(res: SipResponse): void {
    // A 2xx retransmitted after the client transaction is gone (RFC 6026 Timer M over): ACK it again.
    if (res.status < 200 || res.status >= 300) return;
    let cseq;
    try {
      cseq = res.cseq();
    } catch {
      return;
    }
    if (cseq.method !== 'INVITE') return;
    const local = res.fromTag();
    const remote = res.toTag();
    if (local === undefined || remote === undefined) return;
    const dialog = this.dialogs.get(dialogKey({ callId: res.callId(), localTag: local, remoteTag: remote }));
    if (dialog === undefined) return;
    void this.nextHop(dialog).then((d) => this.sendAck(dialog.createAck(cseq.seq), d));
  }

  private endDialog(dialog: Dialog, reason: string): void {
    if (dialog.state === 'terminated') return;
    dialog.state = 'terminated';
    this.stopRetransmitting(dialog.key);
    this.dialogs.delete(dialog.key);
    this.dialogHandlers.delete(dialog.key);
    this.opts.onDialogTerminated?.(dialog, reason);
  }

  private async ackAndBye(dialog: Dialog, inviteSeq: number): Promise<void> {
    const dest = await this.nextHop(dialog);
    this.sendAck(dialog.createAck(inviteSeq), dest);
    const bye = dialog.createRequest('BYE');
    await this.request(bye, { destination: dest });
  }

  private sendAck(ack: SipRequest, dest: Destination): void {
    void this.layer.sendAck(ack, dest).catch((e: unknown) => this.log.warn({ err: String(e) }, 'ACK not sent'));
  }

  private async prepare(req: SipRequest, options: RequestOptions): Promise<Destination> {
    if (!req.has('user-agent')) req.append('user-agent', this.opts.userAgentHeader);
    for (const [name, value] of options.headers ?? []) req.append(name, value);
    if (options.body !== undefined) {
      req.body = typeof options.body === 'string' ? utf8Bytes(options.body) : options.body;
      if (options.contentType !== undefined) req.set('content-type', options.contentType);
    }
    const dest = options.destination ?? (await resolveUri(req.uri, this.opts.outboundProxy));
    if (!req.has('contact') && (req.method === 'INVITE' || req.method === 'SUBSCRIBE' || req.method === 'REFER')) {
      req.append('contact', this.contactFor(dest.transport));
    }
    return dest;
  }

  private nextHop(dialog: Dialog): Promise<Destination> {
    return resolveUri(dialog.nextHop(), this.opts.outboundProxy);
  }

  private keyOfIncoming(req: SipRequest): string | undefined {
    const local = req.toTag();
    const remote = req.fromTag();
    if (local === undefined || remote === undefined) return undefined;
    return dialogKey({ callId: req.callId(), localTag: local, remoteTag: remote });
  }

  private sentBy(transport: TransportName): { host: string; port: number; transport: TransportName } {
    const l = this.opts.transport.listening.find((a) => a.transport === transport) ?? this.opts.transport.listening[0];
    if (l === undefined) throw new Error('no listening transport');
    const host = this.opts.advertisedHost ?? l.address;
    return { host, port: this.opts.advertisedPorts?.[l.transport] ?? l.port, transport };
  }
}

function synthetic(req: SipRequest, status: number, reason: string): SipResponse {
  return createResponse(req, status, reason);
}

function safeCallId(req: SipRequest): string | undefined {
  return req.get('call-id');
}

export type { ResponseOptions };
export { IncomingRequest };
