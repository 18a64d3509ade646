import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  featureValues, formatAcceptContact, getParam, hasFeatureTag, parseAcceptContact, parseRejectContact,
} from '../../../../src/sip/message/headers/index.js';
import { assertParseError } from './helpers.js';

test('RFC 3841 §10, seed 1.2: *;+g.oma.sip-im;explicit', () => {
  const v = parseAcceptContact('*;+g.oma.sip-im;explicit');
  assert.deepEqual(v, [{ featureParams: [{ name: '+g.oma.sip-im', value: null }], require: false, explicit: true }]);
  assert.ok(hasFeatureTag(v, '+g.oma.sip-im'));
  assert.ok(hasFeatureTag(v, '+G.OMA.SIP-IM'));
  assert.ok(!hasFeatureTag(v, '+g.oma.sip-im-large-message'));
  assert.equal(formatAcceptContact(v), '*;+g.oma.sip-im;explicit');
});

test('RFC 3841 §10, seed 1.1.1-2: a request without the IM feature tag is detectable', () => {
  assert.ok(!hasFeatureTag(parseAcceptContact('*;audio;require'), '+g.oma.sip-im'));
  assert.ok(!hasFeatureTag([], '+g.oma.sip-im'));
});

test('RFC 3840 §9: quoted tag-value lists with commas, require and explicit in any order', () => {
  const v = parseAcceptContact(' * ; +g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel,urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session" ; require ; explicit , *;mobility="mobile";methods="INVITE,BYE"');
  assert.equal(v.length, 2);
  assert.ok(v[0]!.require && v[0]!.explicit);
  assert.ok(hasFeatureTag(v, '+g.3gpp.icsi-ref'));
  assert.deepEqual(featureValues(getParam(v[0]!.featureParams, '+g.3gpp.icsi-ref')!), [
    'urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel', 'urn%3Aurn-7%3A3gpp-service.ims.icsi.oma.cpm.session',
  ]);
  assert.deepEqual(featureValues(getParam(v[1]!.featureParams, 'methods')!), ['INVITE', 'BYE']);
  assert.deepEqual(featureValues('"<urn:uuid:0,1>"'), ['urn:uuid:0,1']);
  assert.deepEqual(featureValues(null), []);
});

test('RFC 3841 §10: Reject-Contact shares the grammar', () => {
  assert.deepEqual(parseRejectContact('*;actor="msg-taker";video'), [
    { featureParams: [{ name: 'actor', value: '"msg-taker"' }, { name: 'video', value: null }], require: false, explicit: false },
  ]);
});

test('RFC 3841 §10: malformed values and duplicates are rejected', () => {
  for (const bad of ['', '+g.oma.sip-im', '*;', '*;explicit;explicit', '*;require;REQUIRE', '*;explicit=1', '*;audio;audio',
    '*;+g.oma.sip-im="unterminated', '*,', '* x', 'sip:a@example.com']) {
    assertParseError(() => parseAcceptContact(bad));
  }
});

test('RFC 3841 §10: formatAcceptContact round-trips', () => {
  for (const s of ['*;+g.oma.sip-im;explicit', '*;+g.3gpp.icsi-ref="a,b";require;explicit, *;audio']) {
    const v = parseAcceptContact(s);
    assert.equal(formatAcceptContact(v), s);
    assert.deepEqual(parseAcceptContact(formatAcceptContact(v)), v);
  }
});
