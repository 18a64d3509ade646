/** The RFC 4575 conference event package: conference-info parsing and the roster kept from notifications. */
export * from './types.js';
export * from './conference-info.js';
export * from './merge.js';
export * from './roster.js';
export * from './xs-datetime.js';
