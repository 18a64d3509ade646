/**
 * Typed parse errors for the SIP message layer (design.md convention 4).
 *
 * A ParseError carries the offset where parsing stopped (relative to the string or
 * buffer handed to the parser) and the SIP status a UAS should answer with when the
 * error is in a request (RFC 3261 §8.2, §21.4.1: 400 unless a more specific code fits).
 */
export class ParseError extends Error {
  override readonly name = 'ParseError';
  constructor(
    message: string,
    /** Offset into the parsed input where the problem was found. */
    readonly offset = 0,
    /** Status code to answer a request carrying this error with (400, 505, ...). */
    readonly status = 400,
  ) {
    super(message);
  }
}
