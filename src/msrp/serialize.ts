/**
 * Writing MSRP frames (RFC 4975 §7.1, §7.2, §9), byte-exact:
 *
 *   "MSRP" SP transact-id SP method CRLF            (or status-code [SP comment])
 *   To-Path: ... CRLF  From-Path: ... CRLF  *(header CRLF)
 *   [CRLF body CRLF]                                 (content-stuff; Content-Type last)
 *   "-------" transact-id flag CRLF
 *
 * §7.1: the end-line "MUST NOT" occur in the body; if it would, "the sender MUST choose a new
 * transaction identifier" — buildRequest does that, serializeMsrp refuses to write it.
 * §7.2: a response goes to the previous hop only: its To-Path is the first URI of the
 * request's From-Path and its From-Path the URI of the responder, and it has no body.
 * §7.1.2: a REPORT carries Message-ID, Byte-Range and Status, no Success-Report or
 * Failure-Report, and no body.
 */
import { MsrpSerializeError } from './errors.js';
import { newTransactionId } from './ids.js';
import {
  formatByteRange, formatStatus, getHeader, isIdent,
  type ByteRange, type ContinuationFlag, type MsrpHeader, type MsrpMessage, type MsrpRequest, type MsrpResponse, type MsrpStatus,
} from './message.js';

/** Comments for the codes of RFC 4975 §10 and RFC 4976 (the IANA registry's descriptions). */
const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Unintelligible',
  401: 'Unauthorized',
  403: 'Action-not-allowed',
  408: 'Transaction-did-not-complete-in-allotted-time',
  413: 'Stop-sending-message',
  415: 'MIME-not-understood',
  423: 'Parameter-out-of-bounds',
  481: 'Session-does-not-exist',
  501: 'Request-method-not-understood',
  506: 'Session-already-bound',
};

export function reasonPhrase(code: number): string {
  return REASONS[code] ?? (code >= 200 && code < 300 ? 'OK' : 'Failure');
}

const HEADER_NAME = /^[A-Za-z][A-Za-z0-9!#$%&'*+\-.^_`|~]*$/;

function checkValue(what: string, v: string): void {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw new MsrpSerializeError(`control character in ${what}`);
  }
}

export function serializeMsrp(msg: MsrpMessage): Buffer {
  if (!isIdent(msg.transactionId)) throw new MsrpSerializeError(`invalid transaction id ${JSON.stringify(msg.transactionId)}`);
  let head: string;
  if (msg.kind === 'request') {
    if (!/^[A-Z]+$/.test(msg.method)) throw new MsrpSerializeError(`invalid method ${JSON.stringify(msg.method)}`);
    head = `MSRP ${msg.transactionId} ${msg.method}\r\n`;
  } else {
    if (!Number.isInteger(msg.code) || msg.code < 0 || msg.code > 999) throw new MsrpSerializeError(`invalid status code ${msg.code}`);
    if (msg.comment !== undefined) checkValue('comment', msg.comment);
    head = `MSRP ${msg.transactionId} ${String(msg.code).padStart(3, '0')}${msg.comment === undefined ? '' : ' ' + msg.comment}\r\n`;
  }
  for (const h of msg.headers) {
    if (!HEADER_NAME.test(h.name)) throw new MsrpSerializeError(`invalid header name ${JSON.stringify(h.name)}`);
    checkValue(h.name, h.value);
    head += `${h.name}: ${h.value}\r\n`;
  }
  const endLine = `-------${msg.transactionId}${msg.continuation}\r\n`;
  if (msg.kind === 'response' || msg.body === undefined) return Buffer.from(head + endLine, 'utf8');
  if (msg.body.indexOf(`-------${msg.transactionId}`, 0, 'latin1') >= 0) {
    throw new MsrpSerializeError(`the body contains the end-line of transaction ${msg.transactionId}`);
  }
  return Buffer.concat([Buffer.from(head + '\r\n', 'utf8'), msg.body, Buffer.from('\r\n' + endLine, 'latin1')]);
}

export interface RequestSpec {
  method: string;
  toPath: readonly string[];
  fromPath: readonly string[];
  /** Header fields after the paths (Message-ID, Byte-Range, ...), in the order given. */
  headers?: readonly MsrpHeader[];
  /** With a body, written last before it as §9's content-stuff requires. */
  contentType?: string;
  body?: Buffer;
  continuation?: ContinuationFlag;
  /** Normally generated (64+ random bits, §7.1); a given one must not occur in the body. */
  transactionId?: string;
}

export function buildRequest(spec: RequestSpec): MsrpRequest {
  if (spec.toPath.length === 0 || spec.fromPath.length === 0) throw new MsrpSerializeError('To-Path and From-Path need at least one URI');
  if (spec.body !== undefined && spec.contentType === undefined) throw new MsrpSerializeError('a body needs a Content-Type (RFC 4975 §7.1)');
  let tid = spec.transactionId ?? newTransactionId();
  while (spec.transactionId === undefined && spec.body !== undefined && spec.body.indexOf(`-------${tid}`, 0, 'latin1') >= 0) {
    tid = newTransactionId();
  }
  const headers: MsrpHeader[] = [
    { name: 'To-Path', value: spec.toPath.join(' ') },
    { name: 'From-Path', value: spec.fromPath.join(' ') },
    ...(spec.headers ?? []),
  ];
  if (spec.contentType !== undefined) headers.push({ name: 'Content-Type', value: spec.contentType });
  const req: MsrpRequest = { kind: 'request', transactionId: tid, method: spec.method, headers, continuation: spec.continuation ?? '$' };
  if (spec.body !== undefined) req.body = spec.body;
  return req;
}

/**
 * The response to a request (§7.2): same transaction id, To-Path = the previous hop (first
 * URI of the request's From-Path), From-Path = the responder (`responder`, by default the
 * first URI of the request's To-Path, which is where it was addressed).
 */
export function buildResponse(
  req: { transactionId: string; headers: readonly MsrpHeader[] },
  code: number,
  comment: string | undefined = reasonPhrase(code),
  responder?: string,
): MsrpResponse {
  const from = getHeader(req, 'From-Path');
  const to = getHeader(req, 'To-Path');
  if (from === undefined || to === undefined) throw new MsrpSerializeError('cannot answer a request without To-Path and From-Path');
  const res: MsrpResponse = {
    kind: 'response',
    transactionId: req.transactionId,
    code,
    headers: [
      { name: 'To-Path', value: from.split(' ')[0]! },
      { name: 'From-Path', value: responder ?? to.split(' ')[0]! },
    ],
    continuation: '$',
  };
  if (comment !== undefined && comment !== '') res.comment = comment;
  return res;
}

export interface ReportSpec {
  /** The From-Path of the SEND being reported on (§7.1.2), so it retraces the relays. */
  toPath: readonly string[];
  fromPath: readonly string[];
  messageId: string;
  byteRange: ByteRange;
  status: MsrpStatus;
}

export function buildReport(spec: ReportSpec): MsrpRequest {
  return buildRequest({
    method: 'REPORT',
    toPath: spec.toPath,
    fromPath: spec.fromPath,
    headers: [
      { name: 'Message-ID', value: spec.messageId },
      { name: 'Byte-Range', value: formatByteRange(spec.byteRange) },
      { name: 'Status', value: formatStatus(spec.status) },
    ],
  });
}
