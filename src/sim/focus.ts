/**
 * A simulated conference focus for the loopback IM network (demo and tests).
 *
 * It plays the home network's IM Server: the conference factory (RFC 4579 §5.4: an INVITE
 * to the factory URI creates a conference; RFC 5366: the URI list part names whom to
 * invite), dials out to every listed user, answers the creator with `Contact: ...;isfocus`
 * (RFC 4579 §3), serves the conference event package (RFC 4575: full state on subscribe,
 * partial states with version + 1 on every join and leave) and mixes the user plane through
 * a `FocusMedia` (MSRP relay in the real demo). Ending a conference BYEs every participant.
 */
import { randomHex } from '../random.js';
import type { UserAgent } from '../sip/ua/user-agent.js';
import type { Destination } from '../sip/transport/types.js';
import type { IncomingRequest } from '../sip/ua/incoming.js';
import { Dialog } from '../sip/dialog/dialog.js';
import type { SipRequest } from '../sip/message/message.js';
import { getParamUnquoted } from '../sip/message/headers/scan.js';
import { parseMultipart, partMediaType } from '../sip/message/headers/multipart.js';
import { parseResourceLists } from '../xml/resource-lists.js';
import { conferenceInfo, type SimUser } from './conference-info.js';

/** The user plane of the focus: one call per participant leg. */
export interface FocusMedia {
  /** Our SDP answer to an offer from `user` (the creator's leg). */
  answer(conf: string, user: string, offer: string): Promise<string>;
  /** Our SDP offer to dial out to `user`. */
  offer(conf: string, user: string): Promise<string>;
  /** `user` answered our dial-out offer. */
  answered(conf: string, user: string, answer: string): Promise<void>;
  /** `user` left. */
  remove(conf: string, user: string): void;
}

interface Leg {
  user: SimUser;
  dialog: Dialog;
}

interface Watcher {
  dialog: Dialog;
  /** NOTIFYs go out one at a time so versions arrive in order (RFC 4575 §4.6). */
  queue: Promise<void>;
  /** RFC 4575 §4.6: the version counts the documents sent on this subscription. */
  version: number;
}

export class Conference {
  readonly legs = new Map<string, Leg>();
  readonly watchers = new Set<Watcher>();
  ended = false;

  constructor(
    readonly id: string,
    readonly uri: string,
  ) {}

  users(): SimUser[] {
    return [...this.legs.values()].map((l) => l.user);
  }
}

export interface FocusOptions {
  ua: UserAgent;
  /** Our host:port as seen by others, for the conference URIs. */
  hostport: string;
  /** 'sips' when hostport is a TLS listener (RFC 5630: the conference URI is then sips:). */
  uriScheme?: 'sip' | 'sips';
  media: FocusMedia;
  /** Location service: where an IM user's AOR is reached (the sim's registrar stand-in). */
  locate?: (aor: string) => Destination | undefined;
  log?: (msg: string) => void;
}

function sdpPart(req: SipRequest): { sdp: string; users: string[] } {
  const ct = req.contentType();
  if (ct === undefined) return { sdp: '', users: [] };
  if (ct.type === 'application' && ct.subtype === 'sdp') return { sdp: req.body.toString('utf8'), users: [] };
  const boundary = getParamUnquoted(ct.params, 'boundary');
  if (ct.type !== 'multipart' || boundary === undefined || boundary === null) return { sdp: '', users: [] };
  let sdp = '';
  let users: string[] = [];
  for (const p of parseMultipart(req.body, boundary)) {
    const type = partMediaType(p);
    if (type === 'application/sdp') sdp = p.body.toString('utf8');
    if (type === 'application/resource-lists+xml') users = parseResourceLists(p.body).entries.map((e) => e.uri);
  }
  return { sdp, users };
}

export class ConferenceFocus {
  readonly conferences = new Map<string, Conference>();

  constructor(private readonly o: FocusOptions) {}

  /** Wire as the UserAgent's onRequest. */
  handleRequest(inc: IncomingRequest): void {
    const req = inc.request;
    if (req.method === 'INVITE') return void this.onFactoryInvite(inc).catch((e: unknown) => this.fail(inc, e));
    if (req.method === 'SUBSCRIBE') return this.onSubscribe(inc);
    inc.respond(405);
  }

  /** Wire as the UserAgent's onDialogTerminated. */
  dialogTerminated(dialog: Dialog, reason: string): void {
    for (const conf of this.conferences.values()) {
      for (const [uri, leg] of conf.legs) {
        if (leg.dialog !== dialog || leg.user.status !== 'connected') continue;
        leg.user.status = 'disconnected';
        leg.user.leftAt = Date.now();
        leg.user.disconnectionMethod = reason === 'BYE received' ? 'departed' : 'failed';
        this.o.media.remove(conf.id, uri);
        this.publish(conf, [leg.user]);
        this.o.log?.(`${uri} left ${conf.uri}`);
      }
    }
  }

  /** End a conference: BYE to every leg, final NOTIFY to watchers. */
  async end(confId: string): Promise<void> {
    const conf = this.conferences.get(confId);
    if (conf === undefined || conf.ended) return;
    conf.ended = true;
    await Promise.all([...conf.watchers].map((w) => this.notify(conf, w, 'terminated;reason=noresource', 'partial', []).catch(() => undefined)));
    for (const leg of conf.legs.values()) if (leg.dialog.state !== 'terminated') await this.o.ua.sendInDialog(leg.dialog, 'BYE').catch(() => undefined);
    this.conferences.delete(confId);
  }

  private async onFactoryInvite(inc: IncomingRequest): Promise<void> {
    const req = inc.request;
    if (req.toTag() !== undefined) return void inc.respond(488);
    const { sdp, users } = sdpPart(req);
    const id = `conf-${randomHex(4)}`;
    const conf = new Conference(id, `${this.o.uriScheme ?? 'sip'}:${id}@${this.o.hostport}`);
    this.conferences.set(id, conf);
    // The creator's leg is whoever sent the INVITE (the History Function): its Contact names it.
    const creator = (req.get('contact') ?? req.get('from') ?? '').replace(/^[^<]*<|>.*$/g, '').replace(/;.*$/, '');
    inc.respond(180);
    const answer = await this.o.media.answer(id, creator, sdp);
    const dialog = inc.accept({
      body: answer,
      contentType: 'application/sdp',
      headers: [
        ['contact', `<${conf.uri}>;isfocus`],
        ['allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, SUBSCRIBE, NOTIFY, UPDATE'],
        ['supported', 'timer'],
        ...(req.has('session-expires') ? ([['session-expires', `${req.get('session-expires')!.split(';')[0]};refresher=uac`], ['require', 'timer']] as [string, string][]) : []),
      ],
    });
    conf.legs.set(creator, { user: { entity: creator, status: 'connected', joinedAt: Date.now() }, dialog });
    this.o.log?.(`${creator} created ${conf.uri}; inviting ${users.join(', ')}`);
    await Promise.all(users.map((u) => this.dialOut(conf, u)));
  }

  private async dialOut(conf: Conference, user: string): Promise<void> {
    const ua = this.o.ua;
    const leg: SimUser = { entity: user, status: 'alerting' };
    const inv = ua.createRequest('INVITE', user, `<${conf.uri}>`, `<${user}>`);
    inv.append('contact', `<${conf.uri}>;isfocus`);
    inv.append('accept-contact', '*;+g.oma.sip-im;explicit');
    const offer = await this.o.media.offer(conf.id, user);
    const destination = this.o.locate?.(user);
    const r = await ua.invite(inv, { body: offer, contentType: 'application/sdp', ...(destination !== undefined ? { destination } : {}) });
    if (r.response.status !== 200 || r.dialog === undefined || conf.ended) {
      this.o.log?.(`${user} did not join: ${r.response.status}`);
      return;
    }
    await this.o.media.answered(conf.id, user, r.response.body.toString('utf8'));
    leg.status = 'connected';
    leg.joinedAt = Date.now();
    conf.legs.set(user, { user: leg, dialog: r.dialog });
    this.o.log?.(`${user} joined ${conf.uri}`);
    this.publish(conf, [leg]);
  }

  private onSubscribe(inc: IncomingRequest): void {
    const req = inc.request;
    const conf = [...this.conferences.values()].find((c) => req.uri.startsWith(c.uri));
    if (conf === undefined) return void inc.respond(404);
    if ((req.get('event') ?? '').split(';')[0]?.trim() !== 'conference') return void inc.respond(489, { headers: [['allow-events', 'conference']] });
    const expires = req.get('expires') ?? '3600';
    const res = inc.respond(200, { headers: [['expires', expires], ['contact', `<${conf.uri}>`]] });
    if (expires === '0') return;
    const dialog = Dialog.asUas(req, res);
    this.o.ua.addDialog(dialog);
    const w: Watcher = { dialog, queue: Promise.resolve(), version: 0 };
    conf.watchers.add(w);
    this.o.ua.setDialogHandler(dialog, (_d, i) => {
      const exp = i.request.get('expires') ?? '3600';
      i.respond(200, { headers: [['expires', exp]] });
      if (exp === '0') conf.watchers.delete(w);
      void this.notify(conf, w, exp === '0' ? 'terminated;reason=timeout' : `active;expires=${exp}`, 'full', conf.users());
    });
    void this.notify(conf, w, `active;expires=${expires}`, 'full', conf.users());
  }

  private publish(conf: Conference, changed: SimUser[]): void {
    for (const w of conf.watchers) void this.notify(conf, w, 'active', 'partial', changed);
  }

  private notify(conf: Conference, w: Watcher, state: string, kind: 'full' | 'partial', users: SimUser[]): Promise<void> {
    const body = conferenceInfo(conf.uri, ++w.version, kind, users);
    w.queue = w.queue.then(async () => {
      const res = await this.o.ua.sendInDialog(w.dialog, 'NOTIFY', {
        headers: [['event', 'conference'], ['subscription-state', state]],
        body,
        contentType: 'application/conference-info+xml',
      });
      if (res.status >= 300) conf.watchers.delete(w);
    });
    return w.queue;
  }

  private fail(inc: IncomingRequest, e: unknown): void {
    this.o.log?.(`factory INVITE failed: ${String(e)}`);
    if (!inc.answered) inc.respond(500);
  }
}
