/**
 * The HistoryStore contract (src/store/types.ts), as one suite every backend runs:
 * storeContract('sqlite', () => SqliteStore.open(...)). Seed clauses: 1.1.1-3/4 and 1.3
 * (Allow, Contact, all SIP headers, kept in order), 1.2.1 (every response), 1.3-5 (the
 * conference event package, RFC 4575), the user plane (RFC 4975 MSRP / RFC 3862 CPIM).
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  NoSuchHistoryError,
  SNIPPET_CLOSE,
  SNIPPET_OPEN,
  type HistoryStore,
  type NewHistory,
  type NewMessage,
  type StoredHeader,
} from '../../src/store/types.js';

export type StoreFactory = () => Promise<HistoryStore>;

let clock = 1_700_000_000_000;

export function newHistory(over: Partial<NewHistory> = {}): NewHistory {
  return {
    name: 'weekly-sync',
    type: 'session',
    owner: 'sip:alice@example.net',
    conferenceFactory: 'sip:conf-factory@example.net',
    imUsers: ['sip:bob@example.net', 'sip:carol@example.net'],
    referCallId: 'refer-1@example.net',
    clientAllow: ['INVITE', 'ACK', 'BYE', 'REFER', 'NOTIFY'],
    clientContact: '<sip:alice@192.0.2.1:5060>;+g.oma.sip-im',
    referHeaders: [
      { name: 'Via', value: 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1' },
      { name: 'Via', value: 'SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK2' },
      { name: 'From', value: '<sip:alice@example.net>;tag=1' },
    ],
    createdAt: clock++,
    ...over,
  };
}

export function textMessage(text: string, over: Partial<NewMessage> = {}): NewMessage {
  return { at: clock++, sender: 'sip:alice@example.net', recipients: [], contentType: 'text/plain;charset=UTF-8', body: Buffer.from(text, 'utf8'), ...over };
}

export function cpimMessage(text: string, innerType = 'text/plain; charset=utf-8'): Buffer {
  return Buffer.from(
    'From: <sip:bob@example.net>\r\nTo: <sip:conf@example.net>\r\nDateTime: 2024-01-01T10:00:00Z\r\nNS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: 34jk324j\r\n\r\n' +
      `Content-Type: ${innerType}\r\n\r\n${text}`,
    'utf8',
  );
}

async function rejectsNoHistory(p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof NoSuchHistoryError);
}

export function storeContract(name: string, open: StoreFactory): void {
  describe(`HistoryStore contract: ${name}`, () => {
    let store: HistoryStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    test('createHistory returns the record as given, in state inviting; getHistory returns it again', async () => {
      const input = newHistory();
      const rec = await store.createHistory(input);
      assert.equal(typeof rec.id, 'string');
      assert.ok(rec.id.length > 0);
      assert.deepEqual(rec, { ...input, id: rec.id, state: 'inviting' });
      assert.deepEqual(await store.getHistory(rec.id), rec);
      assert.equal(await store.getHistory('no-such-id'), undefined);
      const other = await store.createHistory(newHistory());
      assert.notEqual(other.id, rec.id);
    });

    test('instance: kept when given, absent when not; listHistories filters by it', async () => {
      const a = await store.createHistory(newHistory({ instance: 'hf-1:5060' }));
      const b = await store.createHistory(newHistory({ instance: 'hf-2:5060' }));
      const none = await store.createHistory(newHistory());
      assert.equal(a.instance, 'hf-1:5060');
      assert.equal((await store.getHistory(b.id))?.instance, 'hf-2:5060');
      assert.ok(!('instance' in none), 'absent stays absent');
      assert.ok(!('instance' in (await store.getHistory(none.id))!));
      await store.updateHistory(a.id, { state: 'active' });
      assert.deepEqual((await store.listHistories({ instance: 'hf-1:5060' })).map((h) => h.id), [a.id]);
      assert.deepEqual((await store.listHistories({ instance: 'hf-1:5060', state: 'inviting' })).map((h) => h.id), []);
      assert.deepEqual((await store.listHistories({ instance: 'hf-2:5060', state: 'inviting' })).map((h) => h.id), [b.id]);
      assert.deepEqual(await store.listHistories({ instance: 'hf-3:5060' }), []);
    });

    test('stored records are copies: mutating inputs or results changes nothing', async () => {
      const input = newHistory();
      const rec = await store.createHistory(input);
      input.imUsers.push('sip:mallory@example.net');
      rec.referHeaders.pop();
      const again = await store.getHistory(rec.id);
      assert.deepEqual(again?.imUsers, ['sip:bob@example.net', 'sip:carol@example.net']);
      assert.equal(again?.referHeaders.length, 3);
    });

    test('updateHistory sets the patched fields (seed 1.2.1, 1.3) and rejects an unknown id', async () => {
      const rec = await store.createHistory(newHistory());
      await store.updateHistory(rec.id, { sessionCallId: 'inv-1@hf', conferenceUri: '<sip:conf-1@focus.example.net>;isfocus' });
      await store.updateHistory(rec.id, { serverAllow: ['INVITE', 'BYE', 'SUBSCRIBE'] });
      await store.updateHistory(rec.id, { state: 'active', startedAt: 10, sessionHeaders: [{ name: 'Contact', value: '<sip:conf-1@focus>;isfocus' }] });
      await store.updateHistory(rec.id, { state: 'ended', endedAt: 20, endReason: 'BYE from focus' });
      await store.updateHistory(rec.id, {});
      assert.deepEqual(await store.getHistory(rec.id), {
        ...rec,
        state: 'ended',
        sessionCallId: 'inv-1@hf',
        conferenceUri: '<sip:conf-1@focus.example.net>;isfocus',
        serverAllow: ['INVITE', 'BYE', 'SUBSCRIBE'],
        sessionHeaders: [{ name: 'Contact', value: '<sip:conf-1@focus>;isfocus' }],
        startedAt: 10,
        endedAt: 20,
        endReason: 'BYE from focus',
      });
      await rejectsNoHistory(store.updateHistory('no-such-id', { state: 'failed' }));
      await rejectsNoHistory(store.updateHistory('no-such-id', {}));
    });

    test('listHistories: oldest first, filtered by owner and state, limited', async () => {
      const a = await store.createHistory(newHistory({ createdAt: 300 }));
      const b = await store.createHistory(newHistory({ createdAt: 100, owner: 'sip:bob@example.net' }));
      const c = await store.createHistory(newHistory({ createdAt: 200 }));
      await store.updateHistory(c.id, { state: 'active' });
      const ids = async (f?: Parameters<HistoryStore['listHistories']>[0]): Promise<string[]> => (await store.listHistories(f)).map((h) => h.id);
      assert.deepEqual(await ids(), [b.id, c.id, a.id]);
      assert.deepEqual(await ids({ owner: 'sip:alice@example.net' }), [c.id, a.id]);
      assert.deepEqual(await ids({ state: 'inviting' }), [b.id, a.id]);
      assert.deepEqual(await ids({ owner: 'sip:alice@example.net', state: 'active' }), [c.id]);
      assert.deepEqual(await ids({ limit: 2 }), [b.id, c.id]);
      assert.deepEqual(await ids({ owner: 'sip:nobody@example.net' }), []);
    });

    test('header lists keep order, duplicates, case and exotic values (seed 1.3-4: all SIP headers)', async () => {
      const headers: StoredHeader[] = [
        { name: 'Via', value: 'SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKa' },
        { name: 'via', value: 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKb' },
        { name: 'Subject', value: 'Grüße, 日本語, "quoted", \\ backslash' },
        { name: 'X-Empty', value: '' },
        { name: 'Via', value: 'SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKc' },
      ];
      const rec = await store.createHistory(newHistory({ referHeaders: headers }));
      await store.updateHistory(rec.id, { sessionHeaders: [...headers].reverse() });
      const got = await store.getHistory(rec.id);
      assert.deepEqual(got?.referHeaders, headers);
      assert.deepEqual(got?.sessionHeaders, [...headers].reverse());
    });

    test('SIP events and conference notifications come back in arrival order (seed 1.2.1, 1.3-5)', async () => {
      const rec = await store.createHistory(newHistory());
      const other = await store.createHistory(newHistory());
      const events = [180, 183, 200].map((code, i) => ({
        at: 1000 + i,
        direction: 'in' as const,
        summary: `SIP/2.0 ${code} X`,
        headers: [{ name: 'Allow', value: 'INVITE, BYE' }, { name: 'Contact', value: `<sip:f${i}@x>` }],
      }));
      for (const ev of events) await store.addSipEvent(rec.id, ev);
      await store.addSipEvent(other.id, { at: 1, direction: 'out', summary: 'INVITE sip:f@x SIP/2.0', headers: [] });
      assert.deepEqual(await store.sipEvents(rec.id), events);
      assert.equal((await store.sipEvents(other.id))[0]?.direction, 'out');
      const notes = ['<conference-info version="1" state="full"/>', '<conference-info version="2" state="partial">ü</conference-info>'].map((body, i) => ({
        at: 2000 + i,
        contentType: 'application/conference-info+xml',
        body,
      }));
      for (const n of notes) await store.addConferenceNotification(rec.id, n);
      assert.deepEqual(await store.conferenceNotifications(rec.id), notes);
      assert.deepEqual(await store.sipEvents('no-such-id'), []);
      assert.deepEqual(await store.conferenceNotifications('no-such-id'), []);
      await rejectsNoHistory(store.addSipEvent('no-such-id', events[0]!));
      await rejectsNoHistory(store.addConferenceNotification('no-such-id', notes[0]!));
    });

    test('writes apply in call order and reads see writes not yet awaited', async () => {
      const rec = await store.createHistory(newHistory());
      const pending = [
        store.addMessage(rec.id, textMessage('one')),
        store.updateHistory(rec.id, { state: 'active' }),
        store.addMessage(rec.id, textMessage('two')),
      ];
      assert.deepEqual(
        (await store.messages(rec.id)).map((m) => m.body.toString()),
        ['one', 'two'],
      );
      assert.equal((await store.getHistory(rec.id))?.state, 'active');
      assert.deepEqual(await Promise.all(pending), [1, undefined, 2]);
    });

    test('messages: seq 1..n per history in arrival order; bodies byte-exact; optional fields kept or absent', async () => {
      const rec = await store.createHistory(newHistory());
      const other = await store.createHistory(newHistory());
      const binary = Buffer.concat([Buffer.from([0, 0xff, 0xfe, 0x80, 0x00, 0x0d, 0x0a]), randomBytes(4096)]);
      const full: NewMessage = {
        at: 5000,
        sender: 'sip:bob@example.net',
        recipients: ['sip:alice@example.net', 'sip:carol@example.net'],
        contentType: 'message/cpim',
        body: cpimMessage('hello'),
        imdnMessageId: '34jk324j',
        msrpMessageId: 'msrp-4711',
        cpimHeaders: [
          { name: 'From', value: '<sip:bob@example.net>' },
          { name: 'To', value: '<sip:conf@example.net>' },
          { name: 'imdn.Message-ID', value: '34jk324j' },
        ],
      };
      const bare: NewMessage = { at: 5001, sender: 'sip:carol@example.net', recipients: [], contentType: 'image/png', body: binary };
      const empty: NewMessage = { at: 5002, sender: 'sip:carol@example.net', recipients: [], contentType: 'text/plain', body: Buffer.alloc(0) };
      assert.equal(await store.addMessage(rec.id, full), 1);
      assert.equal(await store.addMessage(other.id, textMessage('elsewhere')), 1);
      assert.equal(await store.addMessage(rec.id, bare), 2);
      assert.equal(await store.addMessage(rec.id, empty), 3);
      const got = await store.messages(rec.id);
      assert.deepEqual(got, [
        { ...full, seq: 1 },
        { ...bare, seq: 2 },
        { ...empty, seq: 3 },
      ]);
      assert.ok(Buffer.isBuffer(got[1]!.body));
      assert.ok(got[1]!.body.equals(binary));
      assert.ok(!('imdnMessageId' in got[1]!), 'absent optional fields stay absent');
      assert.deepEqual((await store.messages(other.id)).map((m) => m.seq), [1]);
    });

    test('messages: paging with afterSeq and limit; unknown history', async () => {
      const rec = await store.createHistory(newHistory());
      for (let i = 1; i <= 10; i++) await store.addMessage(rec.id, textMessage(`m${i}`));
      const seqs = async (q: Parameters<HistoryStore['messages']>[1]): Promise<number[]> => (await store.messages(rec.id, q)).map((m) => m.seq);
      assert.deepEqual(await seqs({ afterSeq: 7 }), [8, 9, 10]);
      assert.deepEqual(await seqs({ limit: 3 }), [1, 2, 3]);
      assert.deepEqual(await seqs({ afterSeq: 4, limit: 2 }), [5, 6]);
      assert.deepEqual(await seqs({ afterSeq: 10 }), []);
      assert.deepEqual(await seqs({ limit: 0 }), []);
      assert.deepEqual(await store.messages('no-such-id'), []);
      await rejectsNoHistory(store.addMessage('no-such-id', textMessage('x')));
    });

    test('messages: the stored body is a copy of the caller buffer', async () => {
      const rec = await store.createHistory(newHistory());
      const body = Buffer.from('original');
      const p = store.addMessage(rec.id, textMessage('', { body }));
      body.write('MUTATED!');
      await p;
      assert.equal((await store.messages(rec.id))[0]?.body.toString(), 'original');
    });

    test('roster events in arrival order; participants follow them (RFC 4575 joins, leaves, status)', async () => {
      const rec = await store.createHistory(newHistory());
      const events = [
        { at: 10, kind: 'joined' as const, user: 'sip:bob@example.net', displayName: 'Bob', endpoint: 'sip:bob@192.0.2.5', method: 'dialed-in' },
        { at: 11, kind: 'joined' as const, user: '"Carol" <sip:carol@EXAMPLE.net;transport=tcp>' },
        { at: 12, kind: 'status' as const, user: 'sip:bob@example.net', status: 'on-hold' },
        { at: 13, kind: 'left' as const, user: 'sip:carol@example.net', method: 'departed', reason: 'BYE' },
        { at: 14, kind: 'status' as const, user: 'sip:dave@example.net', status: 'alerting', displayName: 'Dave' },
      ];
      for (const e of events) await store.addRosterEvent(rec.id, e);
      assert.deepEqual(await store.rosterEvents(rec.id), events);
      assert.deepEqual(await store.participants(rec.id), [
        { user: 'sip:bob@example.net', displayName: 'Bob', present: true, status: 'on-hold', joinedAt: 10, joiningMethod: 'dialed-in', lastEventAt: 12 },
        {
          user: '"Carol" <sip:carol@EXAMPLE.net;transport=tcp>',
          present: false,
          status: 'disconnected',
          joinedAt: 11,
          leftAt: 13,
          disconnectionMethod: 'departed',
          disconnectionReason: 'BYE',
          lastEventAt: 13,
        },
        { user: 'sip:dave@example.net', displayName: 'Dave', present: false, status: 'alerting', lastEventAt: 14 },
      ]);
      // Carol comes back: present again, first join time kept, leftAt cleared.
      await store.addRosterEvent(rec.id, { at: 20, kind: 'joined', user: 'sip:carol@example.net' });
      const carol = (await store.participants(rec.id))[1];
      assert.equal(carol?.present, true);
      assert.equal(carol?.joinedAt, 11);
      assert.equal(carol?.leftAt, undefined);
      assert.equal(carol?.status, 'connected');
      assert.deepEqual(await store.rosterEvents('no-such-id'), []);
      assert.deepEqual(await store.participants('no-such-id'), []);
      await rejectsNoHistory(store.addRosterEvent('no-such-id', events[0]!));
    });

    describe('searchMessages (full text over text/* and CPIM-wrapped text)', () => {
      let h1: string;
      let h2: string;
      beforeEach(async () => {
        h1 = (await store.createHistory(newHistory({ owner: 'sip:alice@example.net', imUsers: ['sip:bob@example.net'] }))).id;
        h2 = (await store.createHistory(newHistory({ owner: 'sip:zoe@example.org', imUsers: ['sip:yann@example.org'] }))).id;
        await store.addMessage(h1, textMessage('The quarterly report is ready for review'));
        await store.addMessage(h1, textMessage('Grüße aus München, ça va très bien'));
        await store.addMessage(h1, { ...textMessage(''), contentType: 'message/cpim', body: cpimMessage('Reporting from the CPIM wrapper') });
        await store.addMessage(h1, textMessage('日本語のテキスト and emoji 🎉 party'));
        await store.addMessage(h1, { ...textMessage(''), contentType: 'image/png', body: Buffer.from('report report report') });
        await store.addMessage(h1, { ...textMessage(''), contentType: 'message/cpim', body: cpimMessage('<isComposing/> report', 'application/im-iscomposing+xml') });
        await store.addMessage(h2, textMessage('another report, in another history', { sender: 'sip:zoe@example.org' }));
        await store.addMessage(h2, textMessage('latin-1 caf\u00e9', { contentType: 'text/plain; charset=ISO-8859-1', body: Buffer.from('latin-1 caf\u00e9', 'latin1') }));
      });
      const found = async (text: string, extra: Omit<Parameters<HistoryStore['searchMessages']>[0], 'text'> = {}): Promise<string[]> =>
        (await store.searchMessages({ text, ...extra })).map((h) => `${h.historyId === h1 ? 'h1' : 'h2'}#${h.seq}`).sort();

      test('words: every word must occur, case-insensitively; non-text bodies are not indexed', async () => {
        assert.deepEqual(await found('report'), ['h1#1', 'h2#1']);
        assert.deepEqual(await found('REPORT ready'), ['h1#1']);
        assert.deepEqual(await found('report missing'), []);
        assert.deepEqual(await found('"report is ready"'), ['h1#1']);
        assert.deepEqual(await found('"ready report"'), []);
      });

      test('prefix: word* matches words starting with it', async () => {
        assert.deepEqual(await found('report*'), ['h1#1', 'h1#3', 'h2#1']);
        assert.deepEqual(await found('quart* rev*'), ['h1#1']);
      });

      test('UTF-8 text: diacritics optional, CJK runs, other charsets decoded', async () => {
        assert.deepEqual(await found('münchen'), ['h1#2']);
        assert.deepEqual(await found('MUNCHEN'), ['h1#2']);
        assert.deepEqual(await found('grusse'), [], 'no ß -> ss expansion (as FTS5 unicode61)');
        assert.deepEqual(await found('grüße tres'), ['h1#2']);
        assert.deepEqual(await found('日本語のテキスト'), ['h1#4']);
        assert.deepEqual(await found('日本*'), ['h1#4']);
        assert.deepEqual(await found('café'), ['h2#2']);
      });

      test('CPIM-wrapped text is searchable, the wrapper headers are not', async () => {
        assert.deepEqual(await found('wrapper'), ['h1#3']);
        assert.deepEqual(await found('34jk324j'), []);
        assert.deepEqual(await found('iscomposing'), []);
      });

      test('hits carry history, seq, time, sender and a snippet with the match marked', async () => {
        const [hit] = await store.searchMessages({ text: 'quarterly' });
        assert.ok(hit);
        assert.equal(hit.historyId, h1);
        assert.equal(hit.seq, 1);
        assert.equal(hit.sender, 'sip:alice@example.net');
        assert.equal(typeof hit.at, 'number');
        assert.ok(hit.snippet.includes(`${SNIPPET_OPEN}quarterly${SNIPPET_CLOSE}`), hit.snippet);
        assert.ok(hit.snippet.includes('report'), hit.snippet);
      });

      test('no hits: unknown words, empty or punctuation-only queries, FTS syntax is just text', async () => {
        assert.deepEqual(await found('zzzz'), []);
        assert.deepEqual(await found(''), []);
        assert.deepEqual(await found('   '), []);
        assert.deepEqual(await found('"" * - ( ) :'), []);
        assert.deepEqual(await found('report AND NOT OR NEAR(x) col:report'), []);
        assert.deepEqual(await found('report', { limit: 0 }), []);
      });

      test('filters: owner, participant (the visibility rule), limit', async () => {
        assert.deepEqual(await found('report', { owner: 'sip:zoe@example.org' }), ['h2#1']);
        assert.deepEqual(await found('report', { participant: 'sip:bob@example.net' }), ['h1#1']);
        assert.deepEqual(await found('report', { participant: '<sip:yann@EXAMPLE.org>' }), ['h2#1']);
        assert.deepEqual(await found('report', { participant: 'sip:mallory@example.net' }), []);
        assert.equal((await store.searchMessages({ text: 'report*', limit: 2 })).length, 2);
      });

      test('hits come newest first (arrival order across histories)', async () => {
        await store.addMessage(h1, textMessage('a late report'));
        const hits = await store.searchMessages({ text: 'report*' });
        assert.deepEqual(
          hits.map((h) => `${h.historyId === h1 ? 'h1' : 'h2'}#${h.seq}`),
          ['h1#7', 'h2#1', 'h1#3', 'h1#1'],
        );
        assert.deepEqual((await store.searchMessages({ text: 'report*', limit: 2 })).map((h) => h.seq), [7, 1]);
      });
    });

    test('historiesVisibleTo: owner, invited IM users and roster participants; AORs compared as AORs', async () => {
      const a = await store.createHistory(newHistory({ owner: 'sip:alice@example.net', imUsers: ['sip:bob@example.net'], createdAt: 1 }));
      const b = await store.createHistory(newHistory({ owner: 'sip:bob@example.net', imUsers: [], createdAt: 2 }));
      const c = await store.createHistory(newHistory({ owner: 'sip:carol@example.net', imUsers: ['sip:dave@example.net'], createdAt: 3 }));
      await store.addRosterEvent(c.id, { at: 1, kind: 'joined', user: 'sip:erin@example.net' });
      const ids = async (aor: string): Promise<string[]> => (await store.historiesVisibleTo(aor)).map((h) => h.id);
      assert.deepEqual(await ids('sip:alice@example.net'), [a.id]);
      assert.deepEqual(await ids('sip:bob@example.net'), [a.id, b.id]);
      assert.deepEqual(await ids('"Bob" <sip:bob@Example.NET;transport=tls>'), [a.id, b.id]);
      assert.deepEqual(await ids('sip:dave@example.net'), [c.id]);
      assert.deepEqual(await ids('sip:erin@example.net'), [c.id]);
      assert.deepEqual(await ids('sip:mallory@example.net'), []);
      assert.deepEqual(await ids('sip:Bob@example.net'), [], 'the user part is case-sensitive (RFC 3261 §19.1.4)');
      const full = (await store.historiesVisibleTo('sip:erin@example.net'))[0];
      assert.deepEqual(full, await store.getHistory(c.id));
    });

    test('deleteHistory removes the history and everything recorded in it', async () => {
      const rec = await store.createHistory(newHistory({ imUsers: ['sip:bob@example.net'] }));
      const keep = await store.createHistory(newHistory({ imUsers: ['sip:bob@example.net'] }));
      await store.addSipEvent(rec.id, { at: 1, direction: 'in', summary: 'SIP/2.0 200 OK', headers: [] });
      await store.addConferenceNotification(rec.id, { at: 1, contentType: 'application/conference-info+xml', body: '<x/>' });
      await store.addMessage(rec.id, textMessage('doomed words'));
      await store.addMessage(keep.id, textMessage('kept words'));
      await store.addRosterEvent(rec.id, { at: 1, kind: 'joined', user: 'sip:erin@example.net' });
      assert.equal(await store.deleteHistory(rec.id), true);
      assert.equal(await store.deleteHistory(rec.id), false);
      assert.equal(await store.getHistory(rec.id), undefined);
      assert.deepEqual(await store.sipEvents(rec.id), []);
      assert.deepEqual(await store.conferenceNotifications(rec.id), []);
      assert.deepEqual(await store.messages(rec.id), []);
      assert.deepEqual(await store.rosterEvents(rec.id), []);
      assert.deepEqual(await store.participants(rec.id), []);
      assert.deepEqual((await store.searchMessages({ text: 'words' })).map((h) => h.historyId), [keep.id]);
      assert.deepEqual((await store.historiesVisibleTo('sip:bob@example.net')).map((h) => h.id), [keep.id]);
      assert.deepEqual(await store.historiesVisibleTo('sip:erin@example.net'), []);
      assert.deepEqual((await store.listHistories()).map((h) => h.id), [keep.id]);
      await rejectsNoHistory(store.addMessage(rec.id, textMessage('too late')));
    });
  });
}
