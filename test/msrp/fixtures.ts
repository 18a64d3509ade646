// Example frames of RFC 4975 (§4 overview, §11 examples) and RFC 4976 (AUTH), CRLF line
// ends, byte counts in Byte-Range as the RFCs print them (some count loosely, which the
// parser and reassembly must tolerate).
export const crlf = (lines: string[]): string => lines.join('\r\n') + '\r\n';

/** RFC 4975 §4: Alice's first message to Bob. */
export const SEND_OVERVIEW = crlf([
  'MSRP a786hjs2 SEND',
  'To-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp',
  'From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp',
  'Message-ID: 87652491',
  'Byte-Range: 1-25/25',
  'Content-Type: text/plain',
  '',
  'Hey Bob, are you there?',
  '-------a786hjs2$',
]);

/** RFC 4975 §4: Bob's 200. */
export const OK_OVERVIEW = crlf([
  'MSRP a786hjs2 200 OK',
  'To-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp',
  'From-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp',
  '-------a786hjs2$',
]);

/** RFC 4975 §11.1 (basic IM session). */
export const SEND_BASIC = crlf([
  'MSRP d93kswow SEND',
  'To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp',
  'From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp',
  'Message-ID: 12339sdqwer',
  'Byte-Range: 1-16/16',
  'Content-Type: text/plain',
  '',
  "Hi, I'm Alice!",
  '-------d93kswow$',
]);

export const OK_BASIC = crlf([
  'MSRP d93kswow 200 OK',
  'To-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp',
  'From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp',
  '-------d93kswow$',
]);

/** RFC 4975 §11.4 (system message: no reports of any kind). */
export const SEND_SYSTEM = crlf([
  'MSRP d93kswow SEND',
  'To-Path: msrp://alicepc.example.com:8888/9di4eae923wzd;tcp',
  'From-Path: msrp://example.com:7777/iau39soe2843z;tcp',
  'Message-ID: 12339sdqwer',
  'Byte-Range: 1-37/37',
  'Failure-Report: no',
  'Success-Report: no',
  'Content-Type: text/plain',
  '',
  'This conference will end in 5 minutes',
  '-------d93kswow$',
]);

/** RFC 4975 §11.5 (positive report): the SEND asking for it and the REPORT. */
export const SEND_WITH_SUCCESS_REPORT = crlf([
  'MSRP d93kswow SEND',
  'To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp',
  'From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp',
  'Message-ID: 12339sdqwer',
  'Byte-Range: 1-106/106',
  'Success-Report: yes',
  'Failure-Report: no',
  'Content-Type: text/html',
  '',
  '<html><body>',
  '<p>Here is that important link...',
  '<a href="http://www.example.com/foobar">foobar</a>',
  '</p>',
  '</body></html>',
  '-------d93kswow$',
]);

export const REPORT_POSITIVE = crlf([
  'MSRP dkei38sd REPORT',
  'To-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp',
  'From-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp',
  'Message-ID: 12339sdqwer',
  'Byte-Range: 1-106/106',
  'Status: 000 200 OK',
  '-------dkei38sd$',
]);

/** RFC 4976 §5: an AUTH to a relay (no Message-ID, no body) and the relay's 200 with Use-Path. */
export const AUTH_RELAY = crlf([
  'MSRP 49fh AUTH',
  'To-Path: msrps://alice@intra.example.com;tcp',
  'From-Path: msrps://alice.example.com:9892/98cjs;tcp',
  '-------49fh$',
]);

export const AUTH_OK = crlf([
  'MSRP 49fh 200 OK',
  'To-Path: msrps://alice.example.com:9892/98cjs;tcp',
  'From-Path: msrps://relay.example.com:9000/jui787s2f;tcp',
  'Use-Path: msrps://relay.example.com:9000/jui787s2f;tcp',
  'Expires: 900',
  '-------49fh$',
]);

/** A chunked message (RFC 4975 §5.1, §7.1.1): two chunks, "+" then "$". */
export const CHUNK_1 = crlf([
  'MSRP 7443kd SEND',
  'To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp',
  'From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp',
  'Message-ID: 7443kdMsg',
  'Byte-Range: 1-10/20',
  'Content-Type: text/plain',
  '',
  '0123456789',
  '-------7443kd+',
]);

export const CHUNK_2 = crlf([
  'MSRP 8553le SEND',
  'To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp',
  'From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp',
  'Message-ID: 7443kdMsg',
  'Byte-Range: 11-20/20',
  'Content-Type: text/plain',
  '',
  'abcdefghij',
  '-------8553le$',
]);

/** RFC 4975 §7.1: an aborted chunk ("#"), end unknown ("*"). */
export const CHUNK_ABORT = crlf([
  'MSRP 9663mf SEND',
  'To-Path: msrp://bob.example.com:8888/9di4eae923wzd;tcp',
  'From-Path: msrp://alicepc.example.com:7777/iau39soe2843z;tcp',
  'Message-ID: abortedMsg',
  'Byte-Range: 1-*/*',
  'Content-Type: text/plain',
  '',
  'partial data',
  '-------9663mf#',
]);

export const ALL_EXAMPLES: Record<string, string> = {
  'RFC 4975 §4 SEND': SEND_OVERVIEW,
  'RFC 4975 §4 200': OK_OVERVIEW,
  'RFC 4975 §11.1 SEND': SEND_BASIC,
  'RFC 4975 §11.1 200': OK_BASIC,
  'RFC 4975 §11.4 SEND': SEND_SYSTEM,
  'RFC 4975 §11.5 SEND': SEND_WITH_SUCCESS_REPORT,
  'RFC 4975 §11.5 REPORT': REPORT_POSITIVE,
  'RFC 4976 AUTH': AUTH_RELAY,
  'RFC 4976 AUTH 200': AUTH_OK,
  'RFC 4975 §7.1 chunk +': CHUNK_1,
  'RFC 4975 §7.1 chunk $': CHUNK_2,
  'RFC 4975 §7.1 chunk #': CHUNK_ABORT,
};
