/**
 * The INVITE the History Function sends to the conference factory (seed 1.2.1 and 1.3).
 *
 * - 1.3-2: Request-URI = the Conference-factory-URI; 1.3-5: the History Type
 *   uri-parameter is carried on to it.
 * - 1.3-3: From = the initiator's SIP URI (the Authenticated Originator); we assert it
 *   with P-Asserted-Identity, being in the trust domain (RFC 3325 §9.1), and copy the
 *   REFER's Referred-By (RFC 3892 §3).
 * - 1.2.1-1/4: Accept-Contact `*;+g.oma.sip-im;explicit` (RFC 3841 §10, RFC 3840 feature tag).
 * - 1.2.1-2: User-Agent with the IM release version (added by the UserAgent).
 * - 1.2.1-3: Allow with our methods; 1.2.1-5: Supported: timer; 1.2.1-6: Session-Expires
 *   with refresher=uac and Min-SE (RFC 4028 §7.1).
 * - 1.2.1-7 / 1.3-4: Content-Type multipart/mixed (RFC 2046 §5.1) holding the SDP offer
 *   for MSRP (RFC 3264, RFC 4975 §8) and the RFC 5366 URI list of the IM users with
 *   Content-Disposition: recipient-list; Require: recipient-list-invite (RFC 5366 §4.1).
 * - Contact carries the IM feature tag (RFC 3840 §9) so the focus knows what we are.
 */
import type { SipRequest } from '../sip/message/message.js';
import { formatUri, type SipUri } from '../sip/message/headers/uri.js';
import { formatMultipart, makeBoundary } from '../sip/message/headers/multipart.js';
import type { Param } from '../sip/message/headers/scan.js';
import { buildResourceLists } from '../xml/resource-lists.js';
import { IM_FEATURE_TAG } from './policy.js';
import type { ImUser } from './refer.js';

export interface InviteParams {
  factoryUri: string;
  /** History Type uri-parameters from the REFER Request-URI, carried on (1.3-5). */
  historyParams: readonly Param[];
  initiator: SipUri;
  imUsers: readonly ImUser[];
  sdpOffer: string;
  /** Methods for Allow (1.2.1-3). */
  allow: readonly string[];
  /** Option tags for Supported; must include 'timer' (1.2.1-5). */
  supported: readonly string[];
  /** Session-Expires / Min-SE header pairs (1.2.1-6). */
  sessionTimerHeaders: readonly (readonly [string, string])[];
  /** Our Contact URI (without the feature tag). */
  contactUri: string;
  /** The REFER's Referred-By, if it had one. */
  referredBy: string | undefined;
}

export const IM_ACCEPT_CONTACT = `*;${IM_FEATURE_TAG};explicit`;

/** Request-URI of the INVITE: the factory URI with the History Type parameters appended. */
export function inviteRequestUri(factoryUri: string, historyParams: readonly Param[]): string {
  const extra = historyParams.map((p) => (p.value === null ? `;${p.name}` : `;${p.name}=${p.value}`)).join('');
  return factoryUri + extra;
}

export function buildFactoryInvite(create: (method: string, uri: string, from: string, to: string) => SipRequest, p: InviteParams): SipRequest {
  const initiator = formatUri({ ...p.initiator, params: [], headers: [] });
  const req = create('INVITE', inviteRequestUri(p.factoryUri, p.historyParams), `<${initiator}>`, `<${p.factoryUri}>`);
  req.append('p-asserted-identity', `<${initiator}>`);
  if (p.referredBy !== undefined) req.append('referred-by', p.referredBy);
  req.append('accept-contact', IM_ACCEPT_CONTACT);
  req.append('contact', `<${p.contactUri}>;${IM_FEATURE_TAG}`);
  req.append('allow', p.allow.join(', '));
  req.append('supported', p.supported.join(', '));
  req.append('require', 'recipient-list-invite');
  for (const [name, value] of p.sessionTimerHeaders) req.append(name, value);
  const boundary = makeBoundary();
  req.append('content-type', `multipart/mixed;boundary=${boundary}`);
  req.body = formatMultipart(
    [
      { headers: [{ name: 'Content-Type', value: 'application/sdp' }], body: Buffer.from(p.sdpOffer, 'utf8') },
      {
        headers: [
          { name: 'Content-Type', value: 'application/resource-lists+xml' },
          { name: 'Content-Disposition', value: 'recipient-list' },
        ],
        body: Buffer.from(buildResourceLists(p.imUsers.map((u) => ({ ...u })), { copyControl: true }), 'utf8'),
      },
    ],
    boundary,
  );
  return req;
}
