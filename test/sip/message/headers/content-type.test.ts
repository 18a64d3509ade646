import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatAccept, formatContentType, getParamUnquoted, mediaType, parseAccept, parseContentType,
} from '../../../../src/sip/message/headers/index.js';
import { assertParseError } from './helpers.js';

test('RFC 3261 §20.15: Content-Type application/sdp', () => {
  const ct = parseContentType('application/sdp');
  assert.deepEqual(ct, { type: 'application', subtype: 'sdp', params: [] });
  assert.equal(mediaType(ct), 'application/sdp');
});

test('RFC 4475 §3.1.1.11 mpart01: multipart boundary parameter', () => {
  const ct = parseContentType('multipart/mixed;boundary=7a9cbec02ceef655');
  assert.equal(mediaType(ct), 'multipart/mixed');
  assert.equal(getParamUnquoted(ct.params, 'Boundary'), '7a9cbec02ceef655');
});

test('RFC 2045 §5.1: case-insensitive type, LWS around "/", quoted parameter values', () => {
  const ct = parseContentType(' Multipart / Related ; type="application/sdp" ; boundary="simple boundary" ');
  assert.equal(mediaType(ct), 'multipart/related');
  assert.equal(getParamUnquoted(ct.params, 'boundary'), 'simple boundary');
  assert.equal(getParamUnquoted(ct.params, 'type'), 'application/sdp');
  assert.equal(mediaType(parseContentType('Application/Unknownformat')), 'application/unknownformat');
  assert.equal(mediaType(parseContentType('message/cpim')), 'message/cpim');
});

test('RFC 3261 §25.1: malformed Content-Type values are rejected', () => {
  for (const bad of ['', 'application', 'application/', '/sdp', 'application/sdp/x', 'application/sdp;', 'application/sdp;charset',
    'text/plain;charset="utf-8', '*/*', 'text/*', 'application/sdp, text/plain', 'appli cation/sdp']) {
    assertParseError(() => parseContentType(bad));
  }
});

test('RFC 3261 §20.15: formatContentType round-trips', () => {
  for (const s of ['application/sdp', 'multipart/mixed;boundary="a b"', 'text/plain;charset=UTF-8']) {
    const ct = parseContentType(s);
    assert.equal(formatContentType(ct), s);
    assert.deepEqual(parseContentType(formatContentType(ct)), ct);
  }
});

test('RFC 4475 §3.1.1.9 semiuri and §3.3.15 sdp01: Accept lists', () => {
  const list = parseAccept('application/sdp, application/pkcs7-mime,        multipart/mixed, multipart/signed,        message/sip, message/sipfrag');
  assert.deepEqual(list.map(mediaType), ['application/sdp', 'application/pkcs7-mime', 'multipart/mixed', 'multipart/signed', 'message/sip', 'message/sipfrag']);
  assert.deepEqual(parseAccept('text/nobodyKnowsThis').map(mediaType), ['text/nobodyknowsthis']);
});

test('RFC 3261 §20.1: empty Accept, wildcards and q values', () => {
  assert.deepEqual(parseAccept('  '), []);
  const list = parseAccept('*/*;q=0.1, text/*;level=1, application/conference-info+xml;q=1');
  assert.deepEqual(list.map((r) => [mediaType(r), r.q]), [['*/*', 0.1], ['text/*', undefined], ['application/conference-info+xml', 1]]);
  for (const bad of ['*/sdp', 'text/plain;q=2', 'text/plain;q', 'text/plain,', ',text/plain']) assertParseError(() => parseAccept(bad));
  assert.equal(formatAccept(list), '*/*;q=0.1, text/*;level=1, application/conference-info+xml;q=1');
  assert.equal(formatAccept([{ ...list[0]!, q: 0.5 }]), '*/*;q=0.5');
});
