/**
 * How a roster event (RFC 4575-derived, see RosterEvent) changes a participant. Every
 * backend stores participants and applies this one rule to each event in arrival order,
 * so participants() is the fold of rosterEvents() over it.
 */
import type { Participant, RosterEvent } from './types.js';

export function applyRosterEvent(prev: Participant | undefined, e: RosterEvent): Participant {
  const p: Participant = prev === undefined ? { user: e.user, present: false, lastEventAt: e.at } : { ...prev, lastEventAt: e.at };
  if (e.displayName !== undefined) p.displayName = e.displayName;
  switch (e.kind) {
    case 'joined':
      p.present = true;
      p.status = e.status ?? 'connected';
      p.joinedAt ??= e.at;
      delete p.leftAt;
      if (e.method !== undefined) p.joiningMethod = e.method;
      break;
    case 'left':
      p.present = false;
      p.status = e.status ?? 'disconnected';
      p.leftAt = e.at;
      if (e.method !== undefined) p.disconnectionMethod = e.method;
      if (e.reason !== undefined) p.disconnectionReason = e.reason;
      break;
    case 'status':
      if (e.status !== undefined) p.status = e.status;
      break;
  }
  return p;
}
