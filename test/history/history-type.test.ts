// Seed 1.1.2-2: the History Filename from the History Type uri-parameter; 1.3-5 carry-on;
// spec-digest: the filename is a name, never a path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filenameProblem, HistoryTypeError, readHistoryType } from '../../src/history/history-type.js';
import { parseUri } from '../../src/sip/message/headers/uri.js';
import { inviteRequestUri } from '../../src/history/originate.js';

test('seed 1.1.2-2: history=session;filename=weekly-sync gives type and name', () => {
  const h = readHistoryType(parseUri('sip:history@example.net;history=session;filename=weekly-sync'));
  assert.equal(h.type, 'session');
  assert.equal(h.filename, 'weekly-sync');
  assert.deepEqual(h.raw, [
    { name: 'history', value: 'session' },
    { name: 'filename', value: 'weekly-sync' },
  ]);
});

test('seed 1.1.2-2: the filename is optional; a missing type defaults to session; %-escapes are decoded', () => {
  assert.equal(readHistoryType(parseUri('sip:history@example.net;history=session')).filename, undefined);
  assert.equal(readHistoryType(parseUri('sip:history@example.net')).type, 'session');
  assert.equal(readHistoryType(parseUri('sip:history@example.net;filename=Team%20sync%20%C3%A9t%C3%A9')).filename, 'Team sync été');
});

test('spec-digest: an unknown History Type is refused', () => {
  assert.throws(() => readHistoryType(parseUri('sip:history@example.net;history=everything')), HistoryTypeError);
  assert.throws(() => readHistoryType(parseUri('sip:history@example.net;history')), /without a value/);
});

test('spec-digest: a History Filename that is a path or has control characters is refused', () => {
  const bad = ['../etc/passwd', 'a/b', 'a\\b', '..', '.hidden', 'x\u0000y', 'tab\there', '', 'a'.repeat(129), 'what?', 'trailing '];
  for (const name of bad) assert.notEqual(filenameProblem(name), undefined, JSON.stringify(name));
  for (const name of ['weekly-sync', 'Team sync été', 'a'.repeat(128), 'notes_2026-11-25', '会议记录']) {
    assert.equal(filenameProblem(name), undefined, name);
  }
  assert.throws(() => readHistoryType(parseUri('sip:history@example.net;filename=..%2Fsecret')), /path separator|\.\./);
  assert.throws(() => readHistoryType(parseUri('sip:history@example.net;filename=a%00b')), /control/);
  assert.throws(() => readHistoryType(parseUri('sip:history@example.net;filename=%FF%FE')), /UTF-8/);
});

test('seed 1.3-5: the History Type parameter is carried on to the INVITE Request-URI as written', () => {
  const h = readHistoryType(parseUri('sip:history@example.net;history=session;filename=Team%20sync'));
  assert.equal(inviteRequestUri('sip:conf-factory@example.net', h.raw), 'sip:conf-factory@example.net;history=session;filename=Team%20sync');
});
