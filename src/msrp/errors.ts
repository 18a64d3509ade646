/**
 * Typed MSRP errors (design.md convention 4).
 *
 * MsrpParseError carries the MSRP status a request with this fault is answered with
 * (RFC 4975 §10: 400 for a request that cannot be understood, 413 for a message we will
 * not take) and whether the byte stream can still be framed: a fatal error means the
 * end-line of the broken frame cannot be found any more, so the connection must close.
 */

export type MsrpParseErrorCode =
  | 'bad-start-line'
  | 'bad-transaction-id'
  | 'bad-method'
  | 'bad-header'
  | 'too-many-headers'
  | 'header-too-large'
  | 'body-too-large'
  | 'end-line-mismatch'
  | 'response-with-body'
  | 'missing-header'
  | 'bad-header-value'
  | 'bad-byte-range'
  | 'bad-status'
  | 'bad-path'
  | 'incomplete'
  | 'trailing-bytes';

export class MsrpParseError extends Error {
  override readonly name = 'MsrpParseError';
  constructor(
    message: string,
    readonly code: MsrpParseErrorCode,
    /** Offset into the input (the stream offset for the stream parser) where the fault was found. */
    readonly offset = 0,
    /** The MSRP status a request with this fault is answered with. */
    readonly status = 400,
    /** True when the stream cannot be resynchronised and the connection must close. */
    readonly fatal = false,
  ) {
    super(message);
  }
}

export type MsrpSendErrorCode = 'rejected' | 'timeout' | 'closed' | 'not-open' | 'backpressure' | 'connect-failed' | 'unsupported';

/** A send, connect or transaction that did not succeed. */
export class MsrpSendError extends Error {
  override readonly name = 'MsrpSendError';
  constructor(
    message: string,
    readonly code: MsrpSendErrorCode,
    /** The MSRP status that ended it: the peer's response code, or 408 for a local timeout (RFC 4975 §7.1.1). */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A message that cannot be written as valid MSRP (bad token, CRLF in a value, end-line in the body). */
export class MsrpSerializeError extends Error {
  override readonly name = 'MsrpSerializeError';
}
