/**
 * multipart bodies (RFC 2046 §5.1.1; used by SIP per RFC 5621, e.g. an INVITE with SDP and
 * a resource-lists part, RFC 5366 §3): byte-exact framing on Buffers.
 *
 *   multipart-body := [preamble CRLF] dash-boundary transport-padding CRLF body-part
 *                     *encapsulation close-delimiter transport-padding [CRLF epilogue]
 *   delimiter := CRLF dash-boundary; body-part := MIME-part-headers [CRLF *OCTET]
 *
 * The CRLF before a delimiter belongs to the delimiter, so a part body keeps every octet it
 * had, NULs and bare LFs included (RFC 4475 §3.1.1.11). Preamble and epilogue are ignored.
 */
import { randomHex } from '../../../random.js';
import { ParseError } from '../errors.js';
import { isToken } from './scan.js';
import { mediaType, parseContentType } from './content-type.js';

export interface MultipartHeader {
  name: string;
  value: string;
}

export interface MultipartPart {
  headers: MultipartHeader[];
  /** A view into the parsed buffer (no copy). */
  body: Buffer;
}

const CRLF = Buffer.from('\r\n', 'latin1');
const CLOSE = Buffer.from('--\r\n', 'latin1');

/** bcharsnospace := DIGIT / ALPHA / "'" / "(" / ")" / "+" / "_" / "," / "-" / "." / "/" / ":" / "=" / "?" */
function isBcharNoSpace(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) || "'()+_,-./:=?".includes(String.fromCharCode(c));
}

/** boundary := 0*69<bchars> bcharsnospace (RFC 2046 §5.1.1): 1 to 70 chars, no trailing space. */
export function isValidBoundary(boundary: string): boolean {
  const n = boundary.length;
  if (n < 1 || n > 70 || !isBcharNoSpace(boundary.charCodeAt(n - 1))) return false;
  for (let i = 0; i < n - 1; i++) {
    const c = boundary.charCodeAt(i);
    if (c !== 0x20 && !isBcharNoSpace(c)) return false;
  }
  return true;
}

function fail(message: string, offset: number, status = 400): never {
  throw new ParseError(message, offset, status);
}

/**
 * Splits a multipart body into its parts. Throws ParseError on an invalid boundary, a
 * missing first boundary or close-delimiter, malformed part headers, or more than
 * `maxParts` parts (413: a limit, not a syntax error).
 */
export function parseMultipart(body: Buffer, boundary: string, maxParts = 64): MultipartPart[] {
  if (!isValidBoundary(boundary)) fail('invalid multipart boundary', 0);
  const dash = Buffer.from('--' + boundary, 'latin1');
  const delim = Buffer.from('\r\n--' + boundary, 'latin1');
  let p: number;
  if (body.subarray(0, dash.length).equals(dash)) {
    p = dash.length;
  } else {
    const first = body.indexOf(delim);
    if (first < 0) fail('multipart boundary not found', 0);
    p = first + delim.length;
  }
  const parts: MultipartPart[] = [];
  for (;;) {
    if (body[p] === 0x2d && body[p + 1] === 0x2d) {
      if (parts.length === 0) fail('multipart body without parts', p);
      return parts;
    }
    while (body[p] === 0x20 || body[p] === 0x09) p++;
    if (body[p] !== 0x0d || body[p + 1] !== 0x0a) fail('expected CRLF after multipart boundary', p);
    const start = p + 2;
    const next = body.indexOf(delim, start);
    if (next < 0) fail('missing multipart close-delimiter', start);
    if (parts.length >= maxParts) fail(`more than ${maxParts} multipart parts`, start, 413);
    parts.push(parsePart(body, start, next));
    p = next + delim.length;
  }
}

/** body-part := MIME-part-headers [CRLF *OCTET], over body[start, end). */
function parsePart(body: Buffer, start: number, end: number): MultipartPart {
  if (body[start] === 0x0d && body[start + 1] === 0x0a) return { headers: [], body: body.subarray(start + 2, end) };
  const rel = body.subarray(start, end).indexOf('\r\n\r\n', 0, 'latin1');
  const headEnd = rel < 0 ? end : start + rel;
  return {
    headers: parsePartHeaders(body.toString('utf8', start, headEnd), start),
    body: rel < 0 ? body.subarray(end, end) : body.subarray(headEnd + 4, end),
  };
}

/** MIME-part-headers: RFC 822-style fields with folding, names as written, values unfolded and trimmed. */
function parsePartHeaders(text: string, offset: number): MultipartHeader[] {
  const headers: MultipartHeader[] = [];
  // Headers without a body still end in the CRLF of their last line.
  const lines = text.split('\r\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    const c = line.charCodeAt(0);
    if ((c === 0x20 || c === 0x09) && headers.length > 0) {
      const last = headers[headers.length - 1]!;
      last.value = (last.value + ' ' + line.trim()).trim();
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trimEnd();
    if (!isToken(name)) fail('malformed multipart part header', offset);
    headers.push({ name, value: line.slice(colon + 1).trim() });
  }
  for (const h of headers) {
    if (/[\r\n\0]/.test(h.value)) fail('control character in multipart part header', offset);
  }
  return headers;
}

/**
 * Builds a multipart body: each part is its header lines, an empty line and its body;
 * ends with the close-delimiter and a CRLF. Throws RangeError on an invalid boundary, a
 * header that would break framing, or a part that contains the delimiter.
 */
export function formatMultipart(parts: readonly MultipartPart[], boundary: string): Buffer {
  if (!isValidBoundary(boundary)) throw new RangeError(`invalid multipart boundary ${JSON.stringify(boundary)}`);
  if (parts.length === 0) throw new RangeError('a multipart body needs at least one part');
  const dash = Buffer.from('--' + boundary, 'latin1');
  const delim = Buffer.from('\r\n--' + boundary, 'latin1');
  const chunks: Buffer[] = [dash, CRLF];
  parts.forEach((part, k) => {
    let head = '';
    for (const h of part.headers) {
      if (!isToken(h.name) || /[\r\n\0]/.test(h.value)) throw new RangeError(`invalid part header ${JSON.stringify(h.name)}`);
      head += `${h.name}: ${h.value}\r\n`;
    }
    const encoded = Buffer.concat([Buffer.from(head + '\r\n', 'utf8'), part.body]);
    if (encoded.indexOf(delim) >= 0 || encoded.subarray(0, dash.length).equals(dash)) {
      throw new RangeError(`part ${k} contains the boundary delimiter`);
    }
    chunks.push(encoded, delim, k === parts.length - 1 ? CLOSE : CRLF);
  });
  return Buffer.concat(chunks);
}

/** A random boundary of safe bchars, long enough never to occur in a part by chance. */
export function makeBoundary(): string {
  return 'imh-' + randomHex(18);
}

/**
 * The lower-cased media type (`type/subtype`) of a part's Content-Type, or undefined when it
 * has none or it is unreadable; the one way callers pick a part (SDP, resource-lists...).
 */
export function partMediaType(part: MultipartPart): string | undefined {
  const ct = part.headers.find((h) => h.name.toLowerCase() === 'content-type')?.value;
  if (ct === undefined) return undefined;
  try {
    return mediaType(parseContentType(ct));
  } catch {
    return undefined;
  }
}
