/**
 * MSRP (RFC 4975) with relay paths (RFC 4976) and RFC 6135 connection setup: the user
 * plane the History Function records from. See endpoint.ts for the entry point.
 */
export * from './errors.js';
export * from './message.js';
export * from './ids.js';
export { DEFAULT_MSRP_PARSE_LIMITS, MsrpStreamParser, parseMsrpMessage, type MsrpParseLimits, type MsrpStreamEvent, type PartialFrame } from './parse.js';
export { buildReport, buildRequest, buildResponse, reasonPhrase, serializeMsrp, type ReportSpec, type RequestSpec } from './serialize.js';
export {
  chunkBody, DEFAULT_REASSEMBLY_LIMITS, Reassembler,
  type AssembledMessage, type ChunkOutcome, type IncomingChunk, type OutgoingChunk, type ReassemblyLimits,
} from './reassembly.js';
export { DEFAULT_MSRP_LIMITS, resolveMsrpLimits, silentMsrpLogger, type MsrpLimits, type MsrpLimitsInput, type MsrpLogger } from './config.js';
export { MsrpConnection, shouldRespond, type ResponseExpectation, type TransactionResult } from './connection.js';
export {
  MsrpSession,
  type MsrpSessionEvents, type MsrpSessionState, type ReceivedMessage, type ReceivedReport, type SendOptions, type SendResult,
} from './session.js';
export { MsrpEndpoint, type CreateSessionOptions, type MsrpEndpointConfig } from './endpoint.js';
export type { RelayBinding } from './relay-auth.js';
export { bindingSend, sendChunked, type ChunkedSend } from './transfer.js';
