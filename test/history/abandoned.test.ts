// Start-up clean-up (HistoryFunction.closeAbandoned): histories a crash left 'inviting' or
// 'active' are closed with a reason; on a shared store (PostgreSQL, several instances) only
// the instance's own (test/store/pg.test.ts runs the same against a real shared server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../src/store/memory.js';
import { newHistory } from '../store/contract.js';
import { startHistoryFunction } from './harness.js';

async function seed(store: MemoryStore): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const [name, instance, state] of [
    ['mine-active', 'hf-a', 'active'],
    ['mine-inviting', 'hf-a', 'inviting'],
    ['mine-ended', 'hf-a', 'ended'],
    ['theirs-active', 'hf-b', 'active'],
    ['nobody-active', undefined, 'active'],
  ] as const) {
    const h = await store.createHistory(newHistory({ name, ...(instance !== undefined ? { instance } : {}) }));
    if (state !== 'inviting') await store.updateHistory(h.id, { state });
    ids[name] = h.id;
  }
  return ids;
}

async function states(store: MemoryStore, ids: Record<string, string>): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {};
  for (const [name, id] of Object.entries(ids)) out[name] = (await store.getHistory(id))?.state;
  return out;
}

test('a store of its own (SQLite file): every open history was abandoned, whoever recorded it', async () => {
  const store = new MemoryStore();
  const ids = await seed(store);
  const hf = await startHistoryFunction({}, { store, instanceId: 'hf-a' });
  try {
    assert.equal(await hf.fn.closeAbandoned(), 4);
    assert.deepEqual(await states(store, ids), {
      'mine-active': 'ended',
      'mine-inviting': 'failed',
      'mine-ended': 'ended',
      'theirs-active': 'ended',
      'nobody-active': 'ended',
    });
  } finally {
    await hf.close();
  }
});

test('a shared store: only this instance\'s own open histories are closed; the others\' are live', async () => {
  const store = new MemoryStore();
  const ids = await seed(store);
  const hf = await startHistoryFunction({}, { store, instanceId: 'hf-a', sharedStore: true });
  try {
    assert.equal(await hf.fn.closeAbandoned('restarted'), 2);
    assert.deepEqual(await states(store, ids), {
      'mine-active': 'ended',
      'mine-inviting': 'failed',
      'mine-ended': 'ended',
      'theirs-active': 'active',
      'nobody-active': 'active',
    });
    assert.equal((await store.getHistory(ids['mine-active']!))?.endReason, 'restarted');
  } finally {
    await hf.close();
  }
  const anonymous = await startHistoryFunction({}, { store, sharedStore: true });
  try {
    await assert.rejects(anonymous.fn.closeAbandoned(), /needs the instance id/);
  } finally {
    await anonymous.close();
  }
});
