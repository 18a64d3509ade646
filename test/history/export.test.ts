// Issue 4: export of a history below a configured root, as transcript and JSON; the History
// Filename never becomes a path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportHistory, exportPath, safeFileStem } from '../../src/history/export.js';
import { MemoryStore } from '../../src/store/memory.js';

async function sample(store: MemoryStore, name: string) {
  const h = await store.createHistory({
    name, type: 'session', owner: 'sip:alice@example.net', conferenceFactory: 'sip:f@x', imUsers: ['sip:bob@example.net'],
    referCallId: 'c', clientAllow: [], clientContact: undefined, referHeaders: [], createdAt: Date.parse('2026-11-25T10:00:00Z'),
  });
  await store.addMessage(h.id, { at: Date.parse('2026-11-25T10:00:01Z'), sender: 'sip:alice@example.net', recipients: [], contentType: 'text/plain', body: Buffer.from('hello\nworld') });
  await store.addMessage(h.id, { at: Date.parse('2026-11-25T10:00:02Z'), sender: 'sip:bob@example.net', recipients: [], contentType: 'image/png', body: Buffer.from([0x89, 0x50, 0x4e, 0x47]) });
  return h;
}

test('issue 4: a hostile History Filename cannot leave the export root', () => {
  const root = '/srv/exports';
  for (const name of ['../../etc/passwd', '/abs/path', '..', 'a\\..\\b', '\u0000x', '.hidden', 'C:\\evil']) {
    const p = exportPath(root, '9f1c2d3e-0000-4000-8000-000000000000', name, 'text');
    assert.ok(p.startsWith('/srv/exports/'), p);
    assert.equal(p.slice('/srv/exports/'.length).includes('/'), false, p);
  }
  assert.equal(safeFileStem('weekly sync: été/2026'), 'weekly_sync_été_2026');
  assert.equal(safeFileStem('...'), 'history');
});

test('issue 4: text export is the transcript; JSON keeps text as text and binary as base64', async () => {
  const store = new MemoryStore();
  const h = await sample(store, '../weekly-sync');
  const root = mkdtempSync(join(tmpdir(), 'export-'));
  const txt = await exportHistory(store, h.id, root, 'text');
  const js = await exportHistory(store, h.id, root, 'json');
  assert.deepEqual(readdirSync(root).sort(), [js, txt].map((p) => p.slice(root.length + 1)).sort());
  const text = readFileSync(txt, 'utf8');
  assert.match(text, /History "\.\.\/weekly-sync"/);
  assert.match(text, /\[2026-11-25 10:00:01Z\] sip:alice@example\.net: hello\n {4}world/);
  assert.match(text, /sip:bob@example\.net: \[image\/png, 4 bytes\]/);
  const json = JSON.parse(readFileSync(js, 'utf8')) as { messages: { body?: string; bodyBase64?: string }[] };
  assert.equal(json.messages[0]!.body, 'hello\nworld');
  assert.equal(json.messages[1]!.bodyBase64, Buffer.from([0x89, 0x50, 0x4e, 0x47]).toString('base64'));
  await assert.rejects(exportHistory(store, 'no-such-id', root, 'text'), /no history/);
});
