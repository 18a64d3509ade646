/**
 * The History Type uri-parameter of the REFER Request-URI and its filename attribute
 * (seed 1.1.2-2: "extract the IM History Filename from the value of the filename attribute
 * in the Request-URI History Type uri-parameter"; 1.3-5: carry the parameter on to the
 * INVITE). spec-digest.md settles the form: `;history=<type>;filename=<name>` on the
 * Request-URI, e.g. `sip:history@example.net;history=session;filename=weekly-sync`.
 *
 * The filename is a *name*, never a path: it is stored as data under a generated id and
 * only ever reaches a file system through the export code, below a configured root.
 */
import { getParam } from '../sip/message/headers/scan.js';
import { isSipUri, unescape, type Uri } from '../sip/message/headers/uri.js';

/**
 * `session`: record the IM session the REFER sets up. `playback` (beyond the seed, issue 4):
 * set up a session and play a stored history, named by `filename`, into it.
 */
export const HISTORY_TYPES = ['session', 'playback'] as const;
export type HistoryType = (typeof HISTORY_TYPES)[number];

export const MAX_FILENAME_LENGTH = 128;

export interface HistoryTypeParam {
  type: HistoryType;
  /** The History Filename, unescaped and validated; undefined when not given. */
  filename: string | undefined;
  /** The uri-parameters to carry on to the INVITE's Request-URI, as written. */
  raw: { name: string; value: string | null }[];
}

export class HistoryTypeError extends Error {
  override readonly name = 'HistoryTypeError';
}

/**
 * Why a History Filename is refused, or undefined when it is a good name: no path
 * separators, no dot-dot, no NUL, control, format (bidi, zero-width) or line-separator
 * characters (ZWJ/ZWNJ, which emoji and Persian need, excepted), no leading dot or space,
 * at most MAX_FILENAME_LENGTH characters, valid Unicode.
 */
export function filenameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if ([...name].length > MAX_FILENAME_LENGTH) return `is longer than ${MAX_FILENAME_LENGTH} characters`;
  if (name.includes('\uFFFD')) return 'is not valid UTF-8';
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'contains control characters';
  // Format characters (bidi overrides such as U+202E, zero-width ones, BOM) and the line and
  // paragraph separators would make a name display as something else (issue 6).
  if (/[\p{Cf}\u2028\u2029]/u.test(name.replace(/[\u200c\u200d]/g, ''))) return 'contains invisible or bidi control characters';
  if (/[/\\]/.test(name)) return 'contains a path separator';
  if (name === '.' || name === '..' || name.includes('..')) return 'contains ".."';
  if (/^[.\s]|\s$/.test(name)) return 'starts with a dot or space, or ends with a space';
  if (/[<>:"|?*]/.test(name)) return 'contains one of < > : " | ? *';
  return undefined;
}

/** Read the History Type parameter of a Request-URI; throws HistoryTypeError for a bad one. */
export function readHistoryType(uri: Uri, defaultType: HistoryType = 'session'): HistoryTypeParam {
  if (!isSipUri(uri)) throw new HistoryTypeError('Request-URI is not a SIP URI');
  const typeRaw = getParam(uri.params, 'history');
  const fileRaw = getParam(uri.params, 'filename');
  if (typeRaw === null) throw new HistoryTypeError('history parameter without a value');
  const type = typeRaw === undefined ? defaultType : unescape(typeRaw).toLowerCase();
  if (!(HISTORY_TYPES as readonly string[]).includes(type)) throw new HistoryTypeError(`unknown History Type "${clip(type)}"`);
  let filename: string | undefined;
  if (fileRaw !== undefined) {
    if (fileRaw === null) throw new HistoryTypeError('filename attribute without a value');
    filename = unescape(fileRaw);
    const problem = filenameProblem(filename);
    if (problem !== undefined) throw new HistoryTypeError(`History Filename ${problem}`);
  }
  if (type === 'playback' && filename === undefined) throw new HistoryTypeError('playback needs the filename of the history to play');
  const raw = uri.params.filter((p) => ['history', 'filename'].includes(p.name.toLowerCase()));
  return { type: type as HistoryType, filename, raw };
}

function clip(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 40 ? clean.slice(0, 40) + '…' : clean;
}
