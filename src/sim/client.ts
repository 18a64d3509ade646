/**
 * A scripted IM client for the loopback IM network: answers the focus's INVITE (MSRP
 * answer, RFC 4975 §8, connecting as the active side, RFC 6135), sends messages as
 * message/cpim (RFC 3862) with an imdn.Message-ID (RFC 5438), keeps what it receives, and
 * can ask the History Function for a recorded session with a REFER (seed 1.1).
 */
import type { UserAgent } from '../sip/ua/user-agent.js';
import type { IncomingRequest } from '../sip/ua/incoming.js';
import type { SipResponse } from '../sip/message/message.js';
import type { MsrpEndpoint } from '../msrp/endpoint.js';
import type { MsrpSession } from '../msrp/session.js';
import { answerSetup, buildMsrpOffer, parseMsrpOffer } from '../sdp/msrp-offer.js';
import { buildCpim, newImdnMessageId } from '../cpim/serialize.js';
import { parseCpim } from '../cpim/parse.js';
import { buildResourceLists } from '../xml/resource-lists.js';

export interface Received {
  from: string;
  text: string;
}

export class SimClient {
  session: MsrpSession | undefined;
  conference: string | undefined;
  readonly received: Received[] = [];
  readonly notifies: string[] = [];
  /** The same NOTIFYs with their Subscription-State (RFC 6665 §8.2.3). */
  readonly notifyStates: { state: string; body: string }[] = [];

  constructor(
    readonly aor: string,
    readonly displayName: string,
    readonly ua: UserAgent,
    readonly msrp: MsrpEndpoint,
    private readonly host: string,
  ) {
    // NOTIFYs of the REFER's implicit subscription (RFC 3515 §2.4.4) arrive outside any dialog we keep.
    ua.addOrphanHandler((inc) => {
      if (inc.request.method !== 'NOTIFY') return false;
      this.notifies.push(inc.request.body.toString('utf8').trim());
      this.notifyStates.push({ state: inc.request.get('subscription-state') ?? '', body: inc.request.body.toString('utf8').trim() });
      inc.respond(200);
      return true;
    });
  }

  /** Wire as the UserAgent's onRequest. */
  handleRequest(inc: IncomingRequest): void {
    if (inc.request.method !== 'INVITE') return void inc.respond(405);
    let offer;
    try {
      offer = parseMsrpOffer(inc.request.body.toString('utf8'));
    } catch {
      return void inc.respond(488);
    }
    const setup = answerSetup(offer.setup);
    const session = this.msrp.createSession({ localUriHost: this.host, acceptTypes: ['message/cpim', 'text/plain'] });
    session.on('message', (m) => {
      try {
        const c = parseCpim(m.body);
        this.received.push({ from: c.from?.uri ?? '?', text: Buffer.from(c.content).toString('utf8') });
      } catch {
        this.received.push({ from: m.fromPath.at(-1) ?? '?', text: m.body.toString('utf8') });
      }
    });
    this.session = session;
    this.conference = inc.request.get('contact')?.replace(/^.*<|>.*$/g, '');
    inc.accept({
      contentType: 'application/sdp',
      body: buildMsrpOffer({ address: this.host, port: this.msrp.port ?? 9, path: session.localUri, acceptTypes: ['message/cpim', 'text/plain'], acceptWrappedTypes: ['*'], setup, sessionId: Date.now() }),
    });
    void session.start(offer.path, setup, offer.setup).catch(() => undefined);
  }

  /** Say something to the conference. */
  async say(text: string): Promise<void> {
    if (this.session === undefined) throw new Error(`${this.aor} is not in a conference`);
    await this.session.opened();
    const body = buildCpim({
      from: { uri: this.aor, displayName: this.displayName },
      to: [{ uri: this.conference ?? 'sip:anonymous@anonymous.invalid' }],
      dateTime: new Date(),
      imdn: { messageId: newImdnMessageId() },
      contentType: 'text/plain;charset=utf-8',
      body: text,
    });
    await this.session.send('message/cpim', body);
  }

  /** Ask the History Function to set up and record a session with these IM users (seed 1.1). */
  refer(historyUri: string, factory: string, users: readonly string[]): Promise<SipResponse> {
    const req = this.ua.createRequest('REFER', historyUri, `"${this.displayName}" <${this.aor}>`, `<${historyUri.replace(/;.*$/, '')}>`);
    req.append('refer-to', `<${factory}>`);
    req.append('p-asserted-identity', `"${this.displayName}" <${this.aor}>`);
    req.append('accept-contact', '*;+g.oma.sip-im');
    req.append('allow', 'INVITE, ACK, CANCEL, BYE, REFER, NOTIFY, MESSAGE, OPTIONS');
    req.append('contact', `${this.ua.contactFor('UDP')};+g.oma.sip-im`);
    return this.ua.request(req, { body: buildResourceLists(users.map((uri) => ({ uri }))), contentType: 'application/resource-lists+xml' });
  }
}
