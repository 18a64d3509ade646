// RFC 3420 message/sipfrag as RFC 3515 §2.4.5 uses it: the Status-Line fragment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSipfragStatus, sipfrag, SIPFRAG_CONTENT_TYPE } from '../../../src/sip/events/index.js';

test('RFC 3420 / RFC 3515 §2.4.5 sipfrag() is exactly the Status-Line with CRLF', () => {
  assert.equal(sipfrag(100, 'Trying'), 'SIP/2.0 100 Trying\r\n');
  assert.equal(sipfrag(200, 'OK'), 'SIP/2.0 200 OK\r\n');
  assert.equal(sipfrag(603, 'Declined by policy'), 'SIP/2.0 603 Declined by policy\r\n');
  assert.equal(SIPFRAG_CONTENT_TYPE, 'message/sipfrag;version=2.0');
});

test('RFC 3261 §25.1 a Reason-Phrase with CR/LF cannot add lines to the fragment', () => {
  assert.equal(sipfrag(486, 'Busy\r\nX-Evil: 1'), 'SIP/2.0 486 Busy  X-Evil: 1\r\n');
  assert.throws(() => sipfrag(99, 'x'), RangeError);
  assert.throws(() => sipfrag(700, 'x'), RangeError);
  assert.throws(() => sipfrag(200.5, 'x'), RangeError);
});

test('RFC 3420 §2 parseSipfragStatus reads the first line only and rejects non-status fragments', () => {
  assert.deepEqual(parseSipfragStatus('SIP/2.0 180 Ringing\r\n'), { version: 'SIP/2.0', status: 180, reason: 'Ringing' });
  assert.deepEqual(parseSipfragStatus(Buffer.from('SIP/2.0 200 OK\r\nContact: <sip:a@b>\r\n\r\n')), {
    version: 'SIP/2.0', status: 200, reason: 'OK',
  });
  assert.deepEqual(parseSipfragStatus('SIP/2.0 503 \r\n'), { version: 'SIP/2.0', status: 503, reason: '' });
  assert.equal(parseSipfragStatus('INVITE sip:b@example.com SIP/2.0\r\n'), undefined);
  assert.equal(parseSipfragStatus('SIP/2.0 2000 OK\r\n'), undefined);
  assert.equal(parseSipfragStatus(''), undefined);
  for (const [s, r] of [[100, 'Trying'], [487, 'Request Terminated']] as const) {
    assert.deepEqual(parseSipfragStatus(sipfrag(s, r)), { version: 'SIP/2.0', status: s, reason: r });
  }
});
