/**
 * Export of a recorded history to a file below a configured root, as a readable transcript
 * or as JSON (issue 4). The History Filename is data, never a path: the file name is built
 * from it with everything but letters, digits, '-', '_' and '.' replaced, prefixed by the
 * history id, and the final path is checked to lie inside the root (design: "the filename
 * never escapes that root"). The stem is at most MAX_STEM_BYTES of UTF-8 (whole characters),
 * so the file name stays far below the 255-byte NAME_MAX even for CJK or astral names, and a
 * Windows device name (CON, NUL, COM1, ... also before an extension) gets a '_' prefix, the
 * file being meant to travel. Files are written to a temporary name and renamed, so a reader
 * never sees half a file; the temporary name is random and created exclusively (O_EXCL,
 * which also refuses a symlink planted at that name), and rename() replaces a symlink at the
 * final name instead of writing through it (issue 6).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { HistoryStore } from '../store/types.js';
import { formatTranscript } from './transcript.js';

export type ExportFormat = 'text' | 'json';

export class ExportError extends Error {
  override readonly name = 'ExportError';
}

/** Longest stem, in UTF-8 bytes; with '-', the 36-character id and the extension: < 255. */
export const MAX_STEM_BYTES = 120;
/** Windows device names, reserved also with an extension ("NUL.txt"). */
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3])$/i;

/** A file name made from a History Filename: safe characters only, bounded length. */
export function safeFileStem(name: string): string {
  const clean = name.normalize('NFKC').replace(/[^\p{L}\p{N}_.-]+/gu, '_').replace(/^[._]+/, '');
  let stem = '';
  let bytes = 0;
  for (const ch of clean) {
    bytes += Buffer.byteLength(ch, 'utf8');
    if (bytes > MAX_STEM_BYTES) break;
    stem += ch;
  }
  if (stem.length === 0) return 'history';
  return WINDOWS_DEVICE.test(stem.split('.')[0]!) ? `_${stem}` : stem;
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
  const tmp = join(resolve(root), `.export-${randomBytes(12).toString('hex')}.tmp`);
  // 'wx': O_CREAT|O_EXCL — fails on anything already there, a symlink included.
  const file = await open(tmp, 'wx', 0o640);
  try {
    await file.writeFile(content);
    await file.close();
    await rename(tmp, path);
  } catch (e) {
    await file.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  return path;
}
