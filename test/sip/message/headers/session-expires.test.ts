import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatMinSE, formatSessionExpires, parseMinSE, parseSessionExpires,
} from '../../../../src/sip/message/headers/index.js';
import { assertParseError } from './helpers.js';

test('RFC 4028 §4, seed 1.2: Session-Expires with refresher=uac', () => {
  assert.deepEqual(parseSessionExpires('1800;refresher=uac'), { deltaSeconds: 1800, refresher: 'uac', params: [{ name: 'refresher', value: 'uac' }] });
  assert.equal(parseSessionExpires(' 4000 ; Refresher = UAS ').refresher, 'uas');
  assert.deepEqual(parseSessionExpires('90'), { deltaSeconds: 90, params: [] });
});

test('RFC 4028 §4: malformed Session-Expires values are rejected', () => {
  for (const bad of ['', 'x', '1800;refresher', '1800;refresher=both', '1800;refresher=uac;refresher=uas', '-1', '1800 1', '99999999999']) {
    assertParseError(() => parseSessionExpires(bad));
  }
});

test('RFC 4028 §5: Min-SE', () => {
  assert.equal(parseMinSE('90'), 90);
  assert.equal(parseMinSE(' 120 ;ext=1'), 120);
  assert.equal(formatMinSE(90), '90');
  assertParseError(() => parseMinSE('ninety'));
});

test('RFC 4028 §4: formatSessionExpires round-trips and applies the refresher field', () => {
  const v = parseSessionExpires('1800;refresher=uac;x=1');
  assert.equal(formatSessionExpires(v), '1800;refresher=uac;x=1');
  assert.deepEqual(parseSessionExpires(formatSessionExpires(v)), v);
  assert.equal(formatSessionExpires({ deltaSeconds: 1800, refresher: 'uac', params: [] }), '1800;refresher=uac');
  assert.equal(formatSessionExpires({ ...v, refresher: 'uas' }), '1800;refresher=uas;x=1');
});
