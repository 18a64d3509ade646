/**
 * The boundary between the History Function's control plane and its user plane (seed 1.3
 * "on 200 ... interact with the User Plane"): the SDP offer we put in the INVITE to the
 * conference factory (RFC 4975 §8 MSRP offer), what to do with the focus's answer, and the
 * end of the session.
 *
 * `SignallingOnlyUserPlane` offers a well-formed MSRP media line (a fresh session-id of 80+
 * bits in the path, RFC 4975 §14.1) and checks the answer, but does not yet carry MSRP:
 * the MSRP stack that records messages arrives with issue 4 and implements this interface.
 */
import { randomBase64url } from '../random.js';
import { buildMsrpOffer, parseMsrpAnswer } from '../sdp/msrp-offer.js';

export interface UserPlane {
  /** Our SDP offer for a new recorded session. */
  offer(historyId: string): Promise<string>;
  /**
   * The focus's SDP answer arrived on the 2xx; throws when it is unusable. `lost` is called
   * (at most once) if the media session fails later on its own — not after close() — so the
   * control plane can end the SIP session (RFC 4975 §5.4).
   */
  answer(historyId: string, sdp: Buffer, lost?: (reason: string) => void): Promise<void>;
  /** Send a message into the session (playback); resolves when the peer took it. */
  send(historyId: string, contentType: string, body: Buffer): Promise<void>;
  /** The session is over (BYE, failure, shutdown). */
  close(historyId: string): Promise<void>;
}

export interface SignallingOnlyConfig {
  address: string;
  port: number;
  acceptTypes: readonly string[];
}

export class SignallingOnlyUserPlane implements UserPlane {
  private readonly paths = new Map<string, string>();

  constructor(private readonly cfg: SignallingOnlyConfig) {}

  async offer(historyId: string): Promise<string> {
    const sessionId = randomBase64url(12);
    const host = this.cfg.address.includes(':') ? `[${this.cfg.address}]` : this.cfg.address;
    const path = `msrp://${host}:${this.cfg.port}/${sessionId};tcp`;
    this.paths.set(historyId, path);
    return buildMsrpOffer({
      address: this.cfg.address,
      port: this.cfg.port,
      path,
      acceptTypes: this.cfg.acceptTypes,
      acceptWrappedTypes: ['*'],
      setup: 'active',
      sessionId: Date.now(),
    });
  }

  async answer(_historyId: string, sdp: Buffer): Promise<void> {
    const media = parseMsrpAnswer(sdp.toString('utf8'));
    if (media.port === 0) throw new Error('the focus rejected the MSRP stream (port 0)');
  }

  async send(): Promise<void> {
    throw new Error('no MSRP in a signalling-only user plane');
  }

  async close(historyId: string): Promise<void> {
    this.paths.delete(historyId);
  }
}
