/** A store (MemoryStore unless given) with two histories and the tokens of their users, for the API tests. */
import { MemoryStore } from '../../src/store/memory.js';
import type { HistoryRecord, HistoryStore, NewHistory } from '../../src/store/types.js';
import type { ApiToken } from '../../src/api/auth.js';

export const TOKENS = {
  alice: 'alice-token-0123456789abcdef',
  bob: 'bob-token-0123456789abcdef',
  dave: 'dave-token-0123456789abcdef',
  operator: 'operator-token-0123456789abcdef',
} as const;

export const TOKEN_TABLE: ApiToken[] = [
  { token: TOKENS.alice, aor: 'sip:alice@example.net' },
  { token: TOKENS.bob, aor: '"Bob" <sip:bob@Example.net>' },
  { token: TOKENS.dave, aor: 'sip:dave@example.net' },
  { token: TOKENS.operator, aor: '*' },
];

export const T0 = Date.UTC(2024, 4, 6, 9, 0, 0);

function newHistory(over: Partial<NewHistory>): NewHistory {
  return {
    name: 'weekly-sync',
    type: 'session',
    owner: 'sip:alice@example.net',
    conferenceFactory: 'sip:conf-factory@example.net',
    imUsers: ['sip:bob@example.net', 'sip:carol@example.net'],
    referCallId: 'refer-1@example.net',
    clientAllow: ['INVITE', 'ACK', 'BYE', 'REFER', 'NOTIFY'],
    clientContact: '<sip:alice@192.0.2.1:5060>;+g.oma.sip-im',
    referHeaders: [{ name: 'From', value: '<sip:alice@example.net>;tag=1' }],
    createdAt: T0,
    ...over,
  };
}

export interface Sample {
  store: HistoryStore;
  weekly: HistoryRecord;
  dave: HistoryRecord;
}

export const WEEKLY_MESSAGES = [
  { sender: 'sip:alice@example.net', text: 'Good morning, weekly sync starts now' },
  { sender: 'sip:bob@example.net', text: 'The release candidate is ready <script>alert(1)</script>' },
  { sender: 'sip:carol@example.net', text: 'Great, I will test it today' },
  { sender: 'sip:alice@example.net', text: 'Thanks all, bye' },
];

export async function sampleStore(store: HistoryStore = new MemoryStore()): Promise<Sample> {
  const weekly = await store.createHistory(newHistory({ name: 'weekly-sync/../../etc "passwd"' }));
  await store.updateHistory(weekly.id, { state: 'active', startedAt: T0 + 1000, conferenceUri: 'sip:conf-1@example.net' });
  await store.addRosterEvent(weekly.id, { at: T0 + 1000, kind: 'joined', user: 'sip:alice@example.net', displayName: 'Alice' });
  await store.addRosterEvent(weekly.id, { at: T0 + 2000, kind: 'joined', user: 'sip:bob@example.net', displayName: 'Bob' });
  await store.addRosterEvent(weekly.id, { at: T0 + 3000, kind: 'joined', user: 'sip:carol@example.net' });
  let at = T0 + 10_000;
  for (const m of WEEKLY_MESSAGES) {
    await store.addMessage(weekly.id, { at: (at += 1000), sender: m.sender, recipients: [], contentType: 'text/plain', body: Buffer.from(m.text) });
  }
  await store.addMessage(weekly.id, {
    at: (at += 1000),
    sender: 'sip:bob@example.net',
    recipients: [],
    contentType: 'image/png',
    body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]),
  });
  await store.addRosterEvent(weekly.id, { at: T0 + 60_000, kind: 'left', user: 'sip:carol@example.net', method: 'departed' });

  const dave = await store.createHistory(
    newHistory({ name: 'dave-private', owner: 'sip:dave@example.net', imUsers: ['sip:erin@example.net'], createdAt: T0 + 5000 }),
  );
  await store.updateHistory(dave.id, { state: 'ended', startedAt: T0 + 6000, endedAt: T0 + 9000 });
  await store.addMessage(dave.id, { at: T0 + 7000, sender: 'sip:dave@example.net', recipients: [], contentType: 'text/plain', body: Buffer.from('the secret release plan') });
  return { store, weekly, dave };
}

export const auth = (who: keyof typeof TOKENS): { authorization: string } => ({ authorization: `Bearer ${TOKENS[who]}` });
