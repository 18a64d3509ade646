/**
 * Writing RFC 4575 conference-info documents for the simulated focus: a full state on a new
 * subscription, partial states (version + 1) when a user joins or leaves (RFC 4575 §4.6).
 */
import { escapeXmlAttr, escapeXmlText } from '../xml/safe-xml.js';

export interface SimUser {
  entity: string;
  displayName?: string;
  status: 'connected' | 'disconnected' | 'alerting' | 'dialing-out';
  joinedAt?: number;
  leftAt?: number;
  disconnectionMethod?: 'departed' | 'booted' | 'failed' | 'busy';
}

function userXml(u: SimUser, state: 'full' | 'partial' | 'deleted'): string {
  if (state === 'deleted') return `<user entity="${escapeXmlAttr(u.entity)}" state="deleted"/>`;
  const name = u.displayName !== undefined ? `<display-text>${escapeXmlText(u.displayName)}</display-text>` : '';
  const joining =
    u.joinedAt !== undefined
      ? `<joining-method>dialed-out</joining-method><joining-info><when>${new Date(u.joinedAt).toISOString()}</when></joining-info>`
      : '';
  const leaving =
    u.leftAt !== undefined
      ? `<disconnection-method>${u.disconnectionMethod ?? 'departed'}</disconnection-method><disconnection-info><when>${new Date(u.leftAt).toISOString()}</when></disconnection-info>`
      : '';
  return (
    `<user entity="${escapeXmlAttr(u.entity)}" state="${state}">${name}` +
    `<endpoint entity="${escapeXmlAttr(u.entity)}" state="full"><status>${u.status}</status>${joining}${leaving}</endpoint></user>`
  );
}

export function conferenceInfo(entity: string, version: number, state: 'full' | 'partial', users: readonly SimUser[], deleted: readonly SimUser[] = []): string {
  const active = users.filter((u) => u.status === 'connected').length;
  const desc = state === 'full' ? `<conference-state><user-count>${active}</user-count><active>true</active></conference-state>` : '';
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="${escapeXmlAttr(entity)}" state="${state}" version="${version}">` +
    desc +
    `<users>${users.map((u) => userXml(u, state)).join('')}${deleted.map((u) => userXml(u, 'deleted')).join('')}</users>` +
    `</conference-info>\n`
  );
}
