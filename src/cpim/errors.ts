/**
 * Typed errors of the Message/CPIM (RFC 3862) and IMDN (RFC 5438) codecs
 * (design.md convention 4): a code a caller can switch on, and the byte offset into
 * the body where the problem was found, so a log line can point at it.
 */
export type CpimErrorCode =
  | 'too-large'
  | 'truncated'
  | 'too-many-headers'
  | 'header-too-long'
  | 'folded-header'
  | 'invalid-header'
  | 'invalid-header-name'
  | 'invalid-parameter'
  | 'encoding'
  | 'invalid-address'
  | 'invalid-date-time'
  | 'duplicate-header'
  | 'invalid-ns'
  | 'invalid-require'
  | 'invalid-imdn-header'
  | 'invalid-mime-header'
  | 'invalid-input';

export class CpimError extends Error {
  override readonly name = 'CpimError';
  constructor(
    message: string,
    readonly code: CpimErrorCode,
    /** Byte offset into the parsed body of the line at fault, when parsing. */
    readonly offset?: number,
    options?: { cause?: unknown },
  ) {
    super(offset !== undefined ? `${message} (at byte ${offset})` : message, options);
  }
}
