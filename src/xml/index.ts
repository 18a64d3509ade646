/** XML for untrusted bodies: the safe parser and the RFC 4826 resource-lists format. */
export * from './safe-xml.js';
export * from './resource-lists.js';
