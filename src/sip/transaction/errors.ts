/**
 * Typed errors of the transaction layer (design.md convention 4).
 *
 * Transport failures (RFC 3261 §17.1.4, §17.2.4, §18.4) reach the TU through the
 * transaction's onTransportError handler as a TransactionTransportError; the other classes
 * are thrown synchronously at the TU for misuse it can fix (a full table, a duplicate branch).
 */

/** The transport layer rejected a send; `cause` is what it rejected with. */
export class TransactionTransportError extends Error {
  override readonly name = 'TransactionTransportError';
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
  }

  static from(cause: unknown): TransactionTransportError {
    if (cause instanceof TransactionTransportError) return cause;
    const text = cause instanceof Error ? cause.message : String(cause);
    return new TransactionTransportError(`transport error: ${text}`, cause);
  }
}

/** A configured limit (design.md convention 8) would be exceeded. */
export class TransactionLimitError extends Error {
  override readonly name = 'TransactionLimitError';
  constructor(
    readonly limit: string,
    readonly value: number,
  ) {
    super(`${limit} (${value}) reached`);
  }
}

/** The TU asked for something the RFC forbids or the layer cannot do with this message. */
export class TransactionUsageError extends Error {
  override readonly name = 'TransactionUsageError';
}
