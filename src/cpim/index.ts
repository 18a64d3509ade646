/** Message/CPIM (RFC 3862) with RFC 5438 IMDN headers, and the message/imdn+xml body. */
export * from './errors.js';
export * from './datetime.js';
export * from './headers.js';
export * from './parse.js';
export * from './serialize.js';
export * from './imdn.js';
