/** SDP for MSRP sessions: the session-description codec, the MSRP media description, MSRP URIs, a=fingerprint. */
export * from './sdp.js';
export * from './msrp-uri.js';
export * from './msrp-offer.js';
export * from './fingerprint.js';
