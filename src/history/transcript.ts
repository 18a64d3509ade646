/**
 * A recorded history as a person reads it: header (name, owner, conference, times),
 * participants, then every message with its time and sender, in arrival order.
 */
import type { HistoryRecord, StoredMessage } from '../store/types.js';

export interface TranscriptInput {
  history: HistoryRecord;
  messages: readonly StoredMessage[];
  participants?: readonly { user: string; displayName?: string; joinedAt?: number; leftAt?: number }[];
}

function time(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** Text bodies as text; anything else as a one-line description (never raw bytes). */
function bodyText(m: StoredMessage): string {
  const ct = m.contentType.toLowerCase();
  if (ct.startsWith('text/')) return m.body.toString('utf8').replace(/\r?\n/g, '\n    ');
  return `[${m.contentType}, ${m.body.length} bytes]`;
}

export function formatTranscript(t: TranscriptInput): string {
  const h = t.history;
  const lines = [
    `History "${h.name}" (${h.type}) — id ${h.id}`,
    `  owner:       ${h.owner}`,
    `  conference:  ${h.conferenceUri ?? '-'} (factory ${h.conferenceFactory})`,
    `  state:       ${h.state}${h.endReason !== undefined ? ` (${h.endReason})` : ''}`,
    `  started:     ${time(h.startedAt)}   ended: ${time(h.endedAt)}`,
    `  IM users:    ${h.imUsers.join(', ')}`,
  ];
  if (t.participants !== undefined && t.participants.length > 0) {
    lines.push('  participants:');
    for (const p of t.participants) lines.push(`    ${p.displayName ?? p.user} <${p.user}>  joined ${time(p.joinedAt)}  left ${time(p.leftAt)}`);
  }
  lines.push(`  messages:    ${t.messages.length}`, '');
  for (const m of t.messages) lines.push(`[${time(m.at)}] ${m.sender}: ${bodyText(m)}`);
  return lines.join('\n') + '\n';
}
