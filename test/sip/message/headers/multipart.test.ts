import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  formatMultipart, getParamUnquoted, isValidBoundary, makeBoundary, parseContentType, parseMultipart,
  type MultipartPart,
} from '../../../../src/sip/message/headers/index.js';
import { assertParseError } from './helpers.js';

// The 553-octet body of RFC 4475 §3.1.1.11 (mpart01), byte for byte.
const MPART01_BODY = Buffer.from(
  'LS03YTljYmVjMDJjZWVmNjU1DQpDb250ZW50LVR5cGU6IHRleHQvcGxhaW4NCkNvbnRlbnQtVHJhbnNmZXItRW5jb2Rpbmc6IGJp' +
  'bmFyeQ0KDQpIZWxsbw0KLS03YTljYmVjMDJjZWVmNjU1DQpDb250ZW50LVR5cGU6IGFwcGxpY2F0aW9uL29jdGV0LXN0cmVhbQ0K' +
  'Q29udGVudC1UcmFuc2Zlci1FbmNvZGluZzogYmluYXJ5DQoNCjCCAVIGCSqGSIb3DQEHAqCCAUMwggE/AgEBMQkwBwYFKw4DAhow' +
  'CwYJKoZIhvcNAQcBMYIBIDCCARwCAQEwfDBwMQswCQYDVQQGEwJVUzETMBEGA1UECBMKQ2FsaWZvcm5pYTERMA8GA1UEBxMIU2Fu' +
  'IEpvc2UxDjAMBgNVBAoTBXNpcGl0MSkwJwYDVQQLEyBTaXBpdCBUZXN0IENlcnRpZmljYXRlIEF1dGhvcml0eQIIAZUAcQIzARMw' +
  'BwYFKw4DAhowDQYJKoZIhvcNAQEBBQAEgYCO9Gb5SPBSLdLll46dlarp8v4VoGZZcWKS6NoqqNg1CmjO/648vSv/FnXd1WSOWT3W' +
  'RyjyYiD36UF0njMNmhXtq9uT0QxCEC57conSnMDJri77x8DP+RcvOwJ+T8An4VRt5LaqOrs+ZszLXdbGS4ODFJy45v8YLZRP5Xtl' +
  'vJnQBQ0KLS03YTljYmVjMDJjZWVmNjU1LS0NCg==',
  'base64',
);

function part(headers: Array<[string, string]>, body: string | Buffer): MultipartPart {
  return { headers: headers.map(([name, value]) => ({ name, value })), body: Buffer.isBuffer(body) ? body : Buffer.from(body) };
}

test('RFC 4475 §3.1.1.11 mpart01: binary part with NUL and bare LF octets, byte-exact', () => {
  assert.equal(MPART01_BODY.length, 553);
  const boundary = getParamUnquoted(parseContentType('multipart/mixed;boundary=7a9cbec02ceef655').params, 'boundary')!;
  const parts = parseMultipart(MPART01_BODY, boundary);
  assert.equal(parts.length, 2);
  assert.deepEqual(parts[0]!.headers, [{ name: 'Content-Type', value: 'text/plain' }, { name: 'Content-Transfer-Encoding', value: 'binary' }]);
  assert.equal(parts[0]!.body.toString('latin1'), 'Hello');
  const bin = parts[1]!;
  assert.equal(bin.headers[0]!.value, 'application/octet-stream');
  assert.equal(bin.body.length, 342);
  assert.equal(createHash('sha256').update(bin.body).digest('hex'), '497d8aa37a725cd80bbaa56cd17050d32daf8fcfeb6c59dfc8f79e5a4549e054');
  assert.ok(bin.body.includes(0));
  assert.ok(bin.body.some((b, k) => b === 0x0a && bin.body[k - 1] !== 0x0d));
  assert.deepEqual(parseMultipart(formatMultipart(parts, boundary), boundary), parts);
});

test('RFC 2046 §5.1.1: preamble and epilogue are ignored, padding after the boundary allowed', () => {
  const body = Buffer.from('This is the preamble.\r\n--b1 \t\r\nContent-Type: text/plain\r\n\r\none\r\n--b1\r\n\r\ntwo\r\n\r\n--b1--  \r\nepilogue\r\n--b1\r\nnot a part');
  const parts = parseMultipart(body, 'b1');
  assert.deepEqual(parts.map((p) => p.body.toString()), ['one', 'two\r\n']);
  assert.deepEqual(parts[1]!.headers, []);
});

test('RFC 2046 §5.1.1: folded part headers are unfolded; a part may have headers and no body', () => {
  const parts = parseMultipart(Buffer.from('--x\r\nContent-Type: application/resource-lists+xml;\r\n charset=UTF-8\r\nContent-Disposition: recipient-list\r\n--x--'), 'x');
  assert.deepEqual(parts[0]!.headers, [
    { name: 'Content-Type', value: 'application/resource-lists+xml; charset=UTF-8' },
    { name: 'Content-Disposition', value: 'recipient-list' },
  ]);
  assert.equal(parts[0]!.body.length, 0);
});

test('RFC 2046 §5.1.1: missing close-delimiter, missing boundary and bad headers are rejected', () => {
  assertParseError(() => parseMultipart(Buffer.from('--b\r\n\r\nbody\r\n--b\r\n\r\nmore'), 'b'));
  assertParseError(() => parseMultipart(Buffer.from('--b\r\n\r\nbody'), 'b'));
  assertParseError(() => parseMultipart(Buffer.from('--b\r\n\r\nbody\r\n--b'), 'b'));
  assertParseError(() => parseMultipart(Buffer.from('no boundary here'), 'b'));
  assertParseError(() => parseMultipart(Buffer.from('--b--'), 'b'));
  assertParseError(() => parseMultipart(Buffer.from('--bx\r\n\r\nbody\r\n--b--'), 'b'));
  assertParseError(() => parseMultipart(Buffer.from('--b\r\nno colon\r\n\r\nbody\r\n--b--'), 'b'));
  assertParseError(() => parseMultipart(Buffer.from('--b\r\nbad name: x\r\n\r\nbody\r\n--b--'), 'b'));
  assertParseError(() => parseMultipart(Buffer.from('--b\r\n\r\nbody\r\n--bjunk\r\n--b--'), 'b'));
});

test('RFC 2046 §5.1.1: boundary syntax (1..70 bchars, no trailing space)', () => {
  assert.ok(isValidBoundary('simple boundary'));
  assert.ok(isValidBoundary("'()+_,-./:=?"));
  assert.ok(isValidBoundary('a'.repeat(70)));
  for (const bad of ['', 'a'.repeat(71), 'trailing ', 'semi;colon', 'quote"', 'tab\t']) {
    assert.ok(!isValidBoundary(bad), bad);
    assertParseError(() => parseMultipart(Buffer.from('--x--'), bad));
    assert.throws(() => formatMultipart([part([], 'x')], bad), RangeError);
  }
});

test('RFC 2046 §5.1.1: the part-count cap answers 413', () => {
  const parts = Array.from({ length: 5 }, (_, k) => part([['Content-Type', 'text/plain']], `part ${k}`));
  const body = formatMultipart(parts, 'cap');
  assert.equal(parseMultipart(body, 'cap', 5).length, 5);
  assertParseError(() => parseMultipart(body, 'cap', 4), 413);
  const many = formatMultipart(Array.from({ length: 65 }, () => part([], 'x')), 'cap');
  assertParseError(() => parseMultipart(many, 'cap'), 413);
});

test('RFC 2046 §5.1.1, RFC 5366 §3: formatMultipart round-trips SDP + resource-lists parts', () => {
  const boundary = makeBoundary();
  assert.ok(isValidBoundary(boundary));
  assert.notEqual(makeBoundary(), boundary);
  const parts = [
    part([['Content-Type', 'application/sdp']], 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=message 7394 TCP/MSRP *\r\na=accept-types:message/cpim\r\na=path:msrp://192.0.2.1:7394/abc;tcp\r\n'),
    part([['Content-Type', 'application/resource-lists+xml'], ['Content-Disposition', 'recipient-list']], '<?xml version="1.0"?>\n<resource-lists/>'),
    part([], Buffer.from([0, 10, 13, 0x2d, 0x2d, 0xff])),
    part([['X-Empty', '']], Buffer.alloc(0)),
  ];
  const body = formatMultipart(parts, boundary);
  assert.ok(body.subarray(0, boundary.length + 2).equals(Buffer.from('--' + boundary)));
  assert.ok(body.toString('latin1').endsWith(`\r\n--${boundary}--\r\n`));
  assert.deepEqual(parseMultipart(body, boundary), parts);
});

test('RFC 2046 §5.1.1: formatMultipart refuses parts that would break framing', () => {
  assert.throws(() => formatMultipart([part([], 'a\r\n--bnd\r\nb')], 'bnd'), RangeError);
  assert.throws(() => formatMultipart([part([['X', 'a\r\nInjected: 1']], 'x')], 'bnd'), RangeError);
  assert.throws(() => formatMultipart([part([['Bad Name', 'v']], 'x')], 'bnd'), RangeError);
  assert.throws(() => formatMultipart([], 'bnd'), RangeError);
});
