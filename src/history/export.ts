/**
 * Export of a recorded history to a file below a configured root, as a readable transcript
 * or as JSON (issue 4). The History Filename is data, never a path: the file name is built
 * from it with everything but letters, digits, '-', '_' and '.' replaced, prefixed by the
 * history id, and the final path is checked to lie inside the root (design: "the filename
 * never escapes that root"). Files are written to a temporary name and renamed, so a reader
 * never sees half a file.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { HistoryStore } from '../store/types.js';
import { formatTranscript } from './transcript.js';

export type ExportFormat = 'text' | 'json';

export class ExportError extends Error {
  override readonly name = 'ExportError';
}

/** A file name made from a History Filename: safe characters only, bounded length. */
export function safeFileStem(name: string): string {
  const stem = name.normalize('NFKC').replace(/[^\p{L}\p{N}_.-]+/gu, '_').replace(/^[._]+/, '').slice(0, 80);
  return stem.length === 0 ? 'history' : stem;
}

/** The path an export goes to, guaranteed inside `root`. */
export function exportPath(root: string, id: string, name: string, format: ExportFormat): string {
  const base = resolve(root);
  const file = `${safeFileStem(name)}-${id.replace(/[^0-9a-f-]/gi, '').slice(0, 36)}.${format === 'json' ? 'json' : 'txt'}`;
  const full = resolve(base, file);
  if (!full.startsWith(base + sep)) throw new ExportError(`export path escapes the export root: ${full}`);
  return full;
}

export async function exportHistory(store: HistoryStore, id: string, root: string, format: ExportFormat): Promise<string> {
  const history = await store.getHistory(id);
  if (history === undefined) throw new ExportError(`no history ${id}`);
  const [messages, participants] = await Promise.all([store.messages(id), store.participants(id)]);
  const path = exportPath(root, history.id, history.name, format);
  let content: string;
  if (format === 'text') content = formatTranscript({ history, messages, participants });
  else {
    const [rosterEvents, sipEvents] = await Promise.all([store.rosterEvents(id), store.sipEvents(id)]);
    content =
      JSON.stringify(
        {
          history,
          participants,
          rosterEvents,
          sipEvents,
          messages: messages.map((m) => ({
            ...m,
            body: m.contentType.toLowerCase().startsWith('text/') ? m.body.toString('utf8') : undefined,
            bodyBase64: m.contentType.toLowerCase().startsWith('text/') ? undefined : m.body.toString('base64'),
          })),
        },
        null,
        2,
      ) + '\n';
  }
  await mkdir(resolve(root), { recursive: true });
  const tmp = join(resolve(root), `.${process.pid}-${Date.now()}.tmp`);
  await writeFile(tmp, content, { mode: 0o640 });
  await rename(tmp, path);
  return path;
}
