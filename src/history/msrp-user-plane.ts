/**
 * The History Function's user plane: one MSRP session per recorded IM session, every
 * message the focus relays to us stored in arrival order (seed 1.3-6, issue 4).
 *
 * RFC 4975 §8: our offer carries our MSRP URI in a=path; RFC 6135 / RFC 4145: we offer
 * `a=setup:active` and connect to the first URI of the focus's a=path. RFC 3862: a
 * message/cpim body is unwrapped for the record (sender from CPIM From, recipients from
 * To/cc, the inner Content-Type and content), keeping the CPIM headers and the RFC 5438
 * imdn.Message-ID. The store resolves addMessage only once the row is committed, and the MSRP
 * 200 for the chunk that completes a message waits for that: an acknowledged message is a
 * committed one (a failed write is answered 403).
 * RFC 4975 §5.4: a failed connection fails its sessions; we do not re-create the MSRP session
 * with a re-INVITE, so its loss is reported (answer's `lost`) and the SIP session is ended.
 */
import type { Logger } from 'pino';
import { buildMsrpOffer, parseMsrpAnswer } from '../sdp/msrp-offer.js';
import type { MsrpEndpoint } from '../msrp/endpoint.js';
import type { MsrpSession, ReceivedMessage } from '../msrp/session.js';
import { parseCpim } from '../cpim/parse.js';
import type { HistoryStore, NewMessage } from '../store/types.js';
import type { UserPlane } from './user-plane.js';

export interface MsrpUserPlaneOptions {
  endpoint: MsrpEndpoint;
  store: HistoryStore;
  /** Host written in our MSRP URI and c= line. */
  host: string;
  acceptTypes: readonly string[];
  log: Logger;
  /** Wraps each store write (metrics: im_history_store_write_seconds). */
  timeWrite?: <T>(op: string, write: () => Promise<T>) => Promise<T>;
  /** Called once per message committed (metrics: im_history_messages_recorded_total). */
  onRecorded?: () => void;
  /**
   * msrps toward the focus (RFC 4975 §14.1): our URI is msrps on the endpoint's TLS listener,
   * our SDP carries a=fingerprint of our certificate, the focus's a=fingerprint (when it sends
   * one) is what its certificate must match, and a cleartext msrp answer is refused.
   */
  tls?: boolean;
}

export class MsrpUserPlane implements UserPlane {
  private readonly sessions = new Map<string, MsrpSession>();
  /** Messages recorded, for metrics and tests. */
  recorded = 0;

  constructor(private readonly o: MsrpUserPlaneOptions) {}

  async offer(historyId: string): Promise<string> {
    const tls = this.o.tls === true;
    const session = this.o.endpoint.createSession({ localUriHost: this.o.host, acceptTypes: this.o.acceptTypes, tls });
    this.sessions.set(historyId, session);
    // The 200 for a message goes out only after it is committed (src/msrp/session.ts sink):
    // every message the focus saw acknowledged is in the store, even after a kill -9.
    session.sink = (m) => this.record(historyId, m);
    session.on('error', (e) => this.o.log.warn({ historyId, err: e.message }, 'MSRP session error'));
    const port = (tls ? this.o.endpoint.tlsPort : this.o.endpoint.port) ?? 9;
    const fingerprint = tls ? this.o.endpoint.fingerprint : undefined;
    return buildMsrpOffer({
      ...(fingerprint !== undefined ? { fingerprint } : {}),
      address: this.o.host,
      port,
      path: session.localUri,
      acceptTypes: this.o.acceptTypes,
      acceptWrappedTypes: ['*'],
      setup: 'active',
      sessionId: Date.now(),
    });
  }

  async answer(historyId: string, sdp: Buffer, lost?: (reason: string) => void): Promise<void> {
    const session = this.sessions.get(historyId);
    if (session === undefined) throw new Error(`no MSRP session for history ${historyId}`);
    const media = parseMsrpAnswer(sdp.toString('utf8'));
    if (media.port === 0) throw new Error('the focus rejected the MSRP stream (port 0)');
    if (this.o.tls === true && !media.path[0]!.toLowerCase().startsWith('msrps:')) {
      throw new Error(`the focus answered a cleartext MSRP path (${media.path[0]!}) but msrps is required`);
    }
    session.peerFingerprints = media.fingerprints;
    await session.start(media.path, 'active', media.setup);
    if (lost === undefined) return;
    // Closed by anything but our own close() (which forgets the session first): connection
    // reset, framing lost, endpoint shut down.
    const onClosed = ({ reason }: { reason: string }): void => {
      if (this.sessions.get(historyId) !== session) return;
      this.sessions.delete(historyId);
      this.o.log.warn({ historyId, reason }, 'MSRP session failed');
      lost(reason);
    };
    if (session.state === 'closed') onClosed({ reason: 'closed while opening' });
    else session.once('closed', onClosed);
  }

  async send(historyId: string, contentType: string, body: Buffer): Promise<void> {
    const session = this.sessions.get(historyId);
    if (session === undefined) throw new Error(`no MSRP session for history ${historyId}`);
    await session.opened();
    await session.send(contentType, body);
  }

  async close(historyId: string): Promise<void> {
    const s = this.sessions.get(historyId);
    this.sessions.delete(historyId);
    s?.close('session ended');
  }

  private async record(historyId: string, m: ReceivedMessage): Promise<void> {
    const msg: NewMessage = {
      at: Date.now(),
      sender: m.fromPath.at(-1) ?? '',
      recipients: [],
      contentType: m.contentType ?? 'application/octet-stream',
      body: m.body,
      msrpMessageId: m.messageId,
    };
    if ((m.contentType ?? '').toLowerCase().startsWith('message/cpim')) {
      try {
        const cpim = parseCpim(m.body);
        if (cpim.from !== undefined) msg.sender = cpim.from.uri;
        msg.recipients = [...cpim.to, ...cpim.cc].map((a) => a.uri);
        msg.contentType = cpim.contentType ?? 'text/plain';
        // A view of the received body: the store copies what it keeps at the call.
        msg.body = cpim.content;
        if (cpim.imdn.messageId !== undefined) msg.imdnMessageId = cpim.imdn.messageId;
        msg.cpimHeaders = cpim.headers.map((h) => ({ name: h.prefix !== undefined ? `${h.prefix}.${h.name}` : h.name, value: h.raw }));
      } catch (e) {
        this.o.log.warn({ historyId, err: String(e) }, 'message/cpim body not parseable: stored as received');
      }
    }
    try {
      const write = () => this.o.store.addMessage(historyId, msg);
      await (this.o.timeWrite !== undefined ? this.o.timeWrite('addMessage', write) : write());
      this.recorded++;
      this.o.onRecorded?.();
    } catch (e) {
      // The MSRP layer answers 403: the sender learns the message was not kept.
      this.o.log.error({ historyId, err: String(e) }, 'storing a message failed');
      throw e;
    }
  }
}
