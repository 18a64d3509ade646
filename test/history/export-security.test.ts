// Issue 6: the History Filename is validated where it enters (seed 1.1.2-2, the REFER
// Request-URI) and turned into a safe file name where it leaves (export below a configured
// root). Hostile names — path separators, '..', NUL and other control or bidi characters,
// very long names, Windows device names — are refused or give a generated name, and the
// file always lands in the root as a regular file: a symlink planted in the root (at the
// final name or at the temporary name the export writes first) is never written through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { exportHistory, exportPath, safeFileStem } from '../../src/history/export.js';
import { filenameProblem } from '../../src/history/history-type.js';
import { MemoryStore } from '../../src/store/memory.js';

async function history(store: MemoryStore, name: string) {
  const h = await store.createHistory({
    name, type: 'session', owner: 'sip:alice@example.net', conferenceFactory: 'sip:f@x', imUsers: ['sip:bob@example.net'],
    referCallId: 'c', clientAllow: [], clientContact: undefined, referHeaders: [], createdAt: Date.parse('2026-11-25T10:00:00Z'),
  });
  await store.addMessage(h.id, { at: Date.parse('2026-11-25T10:00:01Z'), sender: 'sip:alice@example.net', recipients: [], contentType: 'text/plain', body: Buffer.from('hello') });
  return h;
}

function dirs(): { parent: string; root: string; outside: string } {
  const parent = mkdtempSync(join(tmpdir(), 'export-sec-'));
  const root = join(parent, 'root');
  const outside = join(parent, 'outside.txt');
  writeFileSync(outside, 'precious\n');
  return { parent, root, outside };
}

test('seed 1.1.2-2: History Filenames with separators, "..", NUL, control, bidi or line-separator characters, or too long are refused', () => {
  const bad = [
    'a/b', 'a\\b', '/abs', '..', '../x', 'x/..', 'a..b', 'x\u0000y', 'x\u0007', 'x\u001b[31m', 'x\u007f', 'x\u0085y', 'line\nbreak', 'cr\rx',
    'evil\u202Etxt.exe', 'zero\u200Bwidth', 'bom\uFEFF', 'ls\u2028x', 'ps\u2029x', 'a'.repeat(129), '会'.repeat(129),
  ];
  for (const name of bad) assert.notEqual(filenameProblem(name), undefined, JSON.stringify(name));
  // Names that are fine as *names* (they never become a path unchanged).
  for (const name of ['CON', 'nul', 'COM1', 'LPT9.txt', 'aux', 'weekly sync', '会'.repeat(128), 'Ωμέγα', 'emoji 🎉', 'dev 👩\u200D💻', 'نامه\u200Cها']) {
    assert.equal(filenameProblem(name), undefined, name);
  }
});

test('export file names: Windows device names, dots and long multi-byte names give a safe name under 255 bytes', () => {
  const id = '9f1c2d3e-0000-4000-8000-000000000000';
  for (const name of ['CON', 'con', 'NUL.txt', 'aux.tar.gz', 'COM1', 'lpt9', 'PRN.', 'Com³']) {
    const file = basename(exportPath('/srv/exports', id, name, 'text'));
    const base = file.split('.')[0]!.toUpperCase();
    assert.doesNotMatch(base, /^(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])$/, file);
    assert.doesNotMatch(safeFileStem(name).split('.')[0]!.toUpperCase(), /^(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])$/, name);
  }
  for (const name of ['会'.repeat(128), '𝐀'.repeat(128), 'a' + '𝐀'.repeat(127), 'é'.repeat(128), 'x'.repeat(128)]) {
    const file = basename(exportPath('/srv/exports', id, name, 'json'));
    assert.ok(Buffer.byteLength(file) <= 255, `${Buffer.byteLength(file)} bytes: ${file}`);
    assert.ok(!file.includes('\uFFFD') && !/[\uD800-\uDFFF]/.test(file), `no broken surrogate pair: ${JSON.stringify(file)}`);
    assert.ok(file.endsWith(`-${id}.json`), file);
  }
});

test('a long multi-byte History Filename exports (no ENAMETOOLONG)', async () => {
  const store = new MemoryStore();
  const { parent, root } = dirs();
  try {
    for (const name of ['会'.repeat(128), 'a' + '𝐀'.repeat(127)]) {
      const h = await history(store, name);
      const path = await exportHistory(store, h.id, root, 'json');
      assert.equal(dirname(path), root);
      assert.equal((JSON.parse(readFileSync(path, 'utf8')) as { history: { name: string } }).history.name, name);
    }
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test('a symlink at the final file name in the root is replaced, not written through', async () => {
  const store = new MemoryStore();
  const { parent, root, outside } = dirs();
  try {
    const h = await history(store, 'weekly');
    const target = exportPath(root, h.id, h.name, 'text');
    await exportHistory(store, h.id, root, 'text'); // creates the root
    rmSync(target);
    symlinkSync(outside, target);
    const path = await exportHistory(store, h.id, root, 'text');
    assert.equal(path, target);
    assert.equal(readFileSync(outside, 'utf8'), 'precious\n', 'the file outside the root is untouched');
    assert.ok(lstatSync(path).isFile(), 'the export is a regular file, not the link');
    assert.match(readFileSync(path, 'utf8'), /hello/);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test('a symlink planted at the temporary name is not followed (the temporary file is created exclusively)', async (t) => {
  const store = new MemoryStore();
  const { parent, root, outside } = dirs();
  try {
    const h = await history(store, 'weekly');
    await exportHistory(store, h.id, root, 'text');
    // Freeze the clock and plant links at every temporary name an export could choose from
    // the pid and the time alone (what the first version used).
    const now = Date.now();
    t.mock.method(Date, 'now', () => now);
    for (const name of [`.${process.pid}-${now}.tmp`, `.${process.pid}-${now}`]) symlinkSync(outside, join(root, name));
    const path = await exportHistory(store, h.id, root, 'text');
    assert.equal(readFileSync(outside, 'utf8'), 'precious\n', 'the file outside the root is untouched');
    assert.ok(lstatSync(path).isFile());
    assert.equal(dirname(path), root);
    // No temporary file is left behind (the planted links are still there, untouched).
    assert.deepEqual(readdirSync(root).filter((f) => f.endsWith('.tmp') && lstatSync(join(root, f)).isFile()), []);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test('the export path never leaves the root, whatever the name', () => {
  const root = '/srv/exports';
  const names = ['../../etc/passwd', '/etc/passwd', '..\\..\\x', 'C:\\Windows\\x', '\u0000', '.', '..', '...', '.ssh/authorized_keys', '~/x', '$HOME', '%2e%2e%2f', '\u2025\u2215x', '．．／x'];
  for (const name of names) {
    const p = exportPath(root, '9f1c2d3e-0000-4000-8000-000000000000', name, 'text');
    assert.equal(dirname(p), root, `${JSON.stringify(name)} -> ${p}`);
    assert.ok(!basename(p).startsWith('.'), p);
  }
});
