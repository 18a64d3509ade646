import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatNameAddr, isSipUri, parseReferTo } from '../../../../src/sip/message/headers/index.js';
import { assertParseError } from './helpers.js';

test('RFC 3515 §2.1, seed 1.1.2: method uri-parameter of the Refer-To URI', () => {
  const r = parseReferTo('<sip:conf-factory@example.com;method=INVITE>');
  assert.equal(r.method, 'INVITE');
  assert.deepEqual(r.embeddedHeaders, []);
  assert.equal(parseReferTo('<sip:conf-factory@example.com>').method, undefined);
  assert.equal(parseReferTo('<sip:bob@example.com;method=BYE>').method, 'BYE');
});

test('RFC 3515 §2.1, RFC 3261 §19.1.1: embedded headers are unescaped', () => {
  const r = parseReferTo('"Bob" <sips:bob@biloxi.example.net?Replaces=12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994&Accept-Contact=*%3B%2Bg.oma.sip-im>;x=1');
  assert.equal(r.target.displayName, 'Bob');
  assert.deepEqual(r.embeddedHeaders, [
    { name: 'Replaces', value: '12345@192.168.118.3;to-tag=12345;from-tag=5FFE-3994' },
    { name: 'Accept-Contact', value: '*;+g.oma.sip-im' },
  ]);
  assert.deepEqual(r.target.params, [{ name: 'x', value: '1' }]);
  assert.ok(isSipUri(r.target.uri));
  assert.equal(r.target.uri.headers[0]!.value, '12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994');
});

test('RFC 3515 §2.1: bare addr-spec, its parameters are refer-params', () => {
  const r = parseReferTo('sip:conf@example.com;method=INVITE');
  assert.equal(r.method, undefined);
  assert.deepEqual(r.target.params, [{ name: 'method', value: 'INVITE' }]);
});

test('RFC 5368 §4: a cid: Refer-To parses as an absolute URI', () => {
  const r = parseReferTo('<cid:cn35t8jf02@example.com>');
  assert.deepEqual(r.target.uri, { scheme: 'cid', opaque: 'cn35t8jf02@example.com' });
  assert.equal(r.method, undefined);
  assert.equal(formatNameAddr(r.target), '<cid:cn35t8jf02@example.com>');
});

test('RFC 3515 §2.1: one value only; malformed values rejected', () => {
  for (const bad of ['', '<sip:a@example.com>, <sip:b@example.com>', 'sip:a@example.com?Replaces=x', '<sip:a@example.com;method>', '<sip:a@example.com;method=IN:VITE>', '"open <sip:a@example.com>']) {
    assertParseError(() => parseReferTo(bad));
  }
});
