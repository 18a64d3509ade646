/**
 * The simulated focus's user plane: one MSRP session per participant leg, and every
 * message received on one leg relayed to all the others (an MSRP "switch", RFC 4975 used
 * as OMA IM conferences use it). The focus is passive on every leg (RFC 6135): the
 * History Function and the IM clients connect to it. An msrps offer (a History Function with
 * TLS) gets an msrps leg on the TLS listener with our a=fingerprint, and the offer's
 * a=fingerprint is what the connecting side's certificate must match (RFC 4975 §14.1).
 */
import { answerSetup, buildMsrpOffer, parseMsrpAnswer, parseMsrpOffer } from '../sdp/msrp-offer.js';
import type { MsrpEndpoint } from '../msrp/endpoint.js';
import type { MsrpSession } from '../msrp/session.js';
import type { FocusMedia } from './focus.js';

const ACCEPT = ['message/cpim', 'text/plain', 'message/imdn+xml'];

export class MsrpFocusMedia implements FocusMedia {
  private readonly legs = new Map<string, Map<string, MsrpSession>>();
  relayed = 0;
  /** Called when a leg answered 200 to a relayed message (tests: what the recorder acknowledged). */
  onAcked: ((user: string, body: Buffer) => void) | undefined;

  constructor(
    private readonly endpoint: MsrpEndpoint,
    private readonly host: string,
    private readonly log?: (msg: string) => void,
    /** Port to write in our URIs and m= lines instead of the listener's (a relay in front of it in tests). */
    private readonly advertisedPort?: number,
  ) {}

  async answer(conf: string, user: string, offer: string): Promise<string> {
    const o = parseMsrpOffer(offer);
    const setup = answerSetup(o.setup);
    // An msrps offer (the History Function with TLS) gets an msrps leg with our a=fingerprint.
    const tls = o.path[0]!.toLowerCase().startsWith('msrps:') && this.endpoint.fingerprint !== undefined;
    const session = this.leg(conf, user, tls);
    session.peerFingerprints = o.fingerprints;
    void session.start(o.path, setup, o.setup).catch((e: unknown) => this.log?.(`MSRP leg ${user}: ${String(e)}`));
    return this.sdp(session, setup);
  }

  async offer(conf: string, user: string): Promise<string> {
    return this.sdp(this.leg(conf, user), 'actpass');
  }

  async answered(conf: string, user: string, answer: string): Promise<void> {
    const session = this.legs.get(conf)?.get(user);
    if (session === undefined) return;
    const a = parseMsrpAnswer(answer);
    void session.start(a.path, 'actpass', a.setup).catch((e: unknown) => this.log?.(`MSRP leg ${user}: ${String(e)}`));
  }

  remove(conf: string, user: string): void {
    const legs = this.legs.get(conf);
    legs?.get(user)?.close('left the conference');
    legs?.delete(user);
    if (legs !== undefined && legs.size === 0) this.legs.delete(conf);
  }

  private leg(conf: string, user: string, tls = false): MsrpSession {
    let legs = this.legs.get(conf);
    if (legs === undefined) {
      legs = new Map();
      this.legs.set(conf, legs);
    }
    const session = this.endpoint.createSession({ localUriHost: this.host, acceptTypes: ACCEPT, tls, ...(!tls && this.advertisedPort !== undefined ? { port: this.advertisedPort } : {}) });
    legs.set(user, session);
    const all = legs;
    session.on('message', (m) => {
      for (const [other, s] of all) {
        if (other === user || s.state !== 'open') continue;
        this.relayed++;
        void s
          .send(m.contentType ?? 'text/plain', m.body)
          .then(() => this.onAcked?.(other, m.body))
          .catch((e: unknown) => this.log?.(`relay to ${other} failed: ${String(e)}`));
      }
    });
    session.on('error', (e) => this.log?.(`MSRP ${user}: ${e.message}`));
    return session;
  }

  private sdp(session: MsrpSession, setup: 'active' | 'passive' | 'actpass'): string {
    const tls = session.localUriParsed.scheme === 'msrps';
    const fingerprint = tls ? this.endpoint.fingerprint : undefined;
    return buildMsrpOffer({
      ...(fingerprint !== undefined ? { fingerprint } : {}),
      address: this.host,
      port: (tls ? this.endpoint.tlsPort : (this.advertisedPort ?? this.endpoint.port)) ?? 9,
      path: session.localUri,
      acceptTypes: ACCEPT,
      acceptWrappedTypes: ['*'],
      setup,
      sessionId: Date.now(),
    });
  }
}
