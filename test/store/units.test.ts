/** The store's pure parts: AOR keys, search text and query rules, roster folding, group commit. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { aorKey } from '../../src/store/aor.js';
import { ftsQuery, matchText, parseSearchText, searchableText } from '../../src/store/search-text.js';
import { applyRosterEvent } from '../../src/store/roster.js';
import { WriteQueue } from '../../src/store/write-queue.js';
import { StoreOverloadedError } from '../../src/store/types.js';
import { cpimMessage } from './contract.js';

describe('aorKey (RFC 3261 §19.1.4 comparison, reduced to an AOR)', () => {
  test('drops display name, brackets, parameters and headers; lower-cases scheme and host only', () => {
    const same = ['sip:bob@example.net', '"Bob" <sip:bob@Example.NET;transport=tcp>', '<SIP:bob@example.net?subject=x>', ' sip:bob@example.net;lr '];
    for (const a of same) assert.equal(aorKey(a), 'sip:bob@example.net', a);
    assert.notEqual(aorKey('sip:Bob@example.net'), aorKey('sip:bob@example.net'));
    assert.notEqual(aorKey('sips:bob@example.net'), aorKey('sip:bob@example.net'));
    assert.equal(aorKey('sip:bob@example.net:5070'), 'sip:bob@example.net:5070');
  });
  test("a user part with ';' is kept whole; tel: URIs lose only their parameters", () => {
    assert.equal(aorKey('sip:+1-555;phone-context=x@Example.net;user=phone'), 'sip:+1-555;phone-context=x@example.net');
    assert.equal(aorKey('TEL:+15551234;phone-context=example.net'), 'tel:+15551234');
  });
});

describe('searchableText', () => {
  const t = (ct: string, body: string | Buffer): string | undefined => searchableText(ct, typeof body === 'string' ? Buffer.from(body) : body);
  test('text/* bodies in their charset; other types are not searchable', () => {
    assert.equal(t('text/plain', 'hello'), 'hello');
    assert.equal(t('Text/HTML; charset="utf-8"', '<b>hi</b>'), '<b>hi</b>');
    assert.equal(t('text/plain; charset=iso-8859-1', Buffer.from([0x63, 0x61, 0x66, 0xe9])), 'café');
    assert.equal(t('text/plain; charset=no-such-charset', 'x'), 'x');
    assert.equal(t('image/png', 'hello'), undefined);
    assert.equal(t('application/im-iscomposing+xml', '<x/>'), undefined);
    assert.equal(t('garbage', 'hello'), undefined);
  });
  test('message/cpim (RFC 3862 §3): the inner content when it is text, LF-only line ends tolerated', () => {
    assert.equal(t('message/cpim', cpimMessage('inner text')), 'inner text');
    assert.equal(t('message/cpim', 'From: <sip:a@x>\n\nContent-Type: text/plain\n\nlf only'), 'lf only');
    assert.equal(t('message/cpim', cpimMessage('{}', 'application/json')), undefined);
    assert.equal(t('message/cpim', 'From: <sip:a@x>\r\n\r\nno blank line after the MIME headers'), undefined);
  });
  test('long text is cut at the limit', () => {
    assert.equal(searchableText('text/plain', Buffer.from('abcdef'), 3), 'abc');
  });
});

describe('search terms', () => {
  test('words, "phrases" and prefix* become quoted FTS5 phrases: no operator reaches FTS5', () => {
    assert.deepEqual(parseSearchText('Hello "big World" rep* "x y"*'), [
      { words: ['hello'], prefix: false },
      { words: ['big', 'world'], prefix: false },
      { words: ['rep'], prefix: true },
      { words: ['x', 'y'], prefix: true },
    ]);
    assert.equal(ftsQuery(parseSearchText('a OR b NOT c* NEAR(d e) col:f "')), '"a" "or" "b" "not" "c"* "near d" "e" "col f"');
    assert.deepEqual(parseSearchText(' * "" -- '), []);
  });
  test('matching folds case and diacritics; the snippet marks the matches', () => {
    const marks = { open: '[', close: ']', ellipsis: '…' };
    assert.equal(matchText('Grüße aus MÜNCHEN', parseSearchText('munchen'), marks), 'Grüße aus [MÜNCHEN]');
    assert.equal(matchText('one two three', parseSearchText('"two three"'), marks), 'one [two] [three]');
    assert.equal(matchText('one two three', parseSearchText('"three two"'), marks), undefined);
    assert.equal(matchText('a b c d e f g h', parseSearchText('g'), marks, 3), '…e f [g]…');
  });
});

describe('applyRosterEvent', () => {
  test('join, status, leave, re-join', () => {
    let p = applyRosterEvent(undefined, { at: 1, kind: 'joined', user: 'sip:b@x', displayName: 'B', method: 'dialed-in' });
    assert.deepEqual(p, { user: 'sip:b@x', displayName: 'B', present: true, status: 'connected', joinedAt: 1, joiningMethod: 'dialed-in', lastEventAt: 1 });
    p = applyRosterEvent(p, { at: 2, kind: 'status', user: 'sip:b@x', status: 'on-hold' });
    assert.equal(p.status, 'on-hold');
    assert.equal(p.present, true);
    p = applyRosterEvent(p, { at: 3, kind: 'left', user: 'sip:b@x', reason: 'timeout' });
    assert.deepEqual([p.present, p.status, p.leftAt, p.disconnectionReason], [false, 'disconnected', 3, 'timeout']);
    p = applyRosterEvent(p, { at: 4, kind: 'joined', user: 'sip:b@x' });
    assert.deepEqual([p.present, p.joinedAt, p.leftAt, p.displayName, p.lastEventAt], [true, 1, undefined, 'B', 4]);
  });
});

describe('WriteQueue (group commit)', () => {
  interface Fake {
    q: WriteQueue;
    /** What committed transactions kept, in order. */
    committed: string[];
    /** Writes per committed transaction. */
    txns: number[];
    write(v: string, fail?: boolean): Promise<string>;
  }

  function fake(): Fake {
    const committed: string[] = [];
    const txns: number[] = [];
    let open: string[] | undefined;
    const q = new WriteQueue(
      (fn) => {
        open = [];
        fn();
        committed.push(...open);
        txns.push(open.length);
        open = undefined;
      },
      () => undefined,
      { maxBatch: 3, maxQueued: 10 },
    );
    const write = (v: string, fail = false): Promise<string> =>
      q.enqueue(() => {
        if (fail) throw new Error(`bad ${v}`);
        open!.push(v);
        return v;
      });
    return { q, committed, txns, write };
  }

  test('writes of one turn commit together (at most maxBatch per transaction), in call order', async () => {
    const f = fake();
    const all = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((v) => f.write(v)));
    assert.deepEqual(all, ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(f.committed, ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(f.txns, [3, 2]);
    assert.deepEqual(f.q.snapshot(), { commits: 2, writes: 5, rollbacks: 0, largestBatch: 3 });
  });

  test('a failing write is isolated: its batch reruns one write per transaction', async () => {
    const f = fake();
    const r = await Promise.allSettled([f.write('a'), f.write('b', true), f.write('c')]);
    assert.deepEqual(r.map((x) => x.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.deepEqual(f.committed, ['a', 'c']);
    assert.equal(f.q.snapshot().rollbacks, 1);
  });

  test('over maxQueued: StoreOverloadedError without queueing', async () => {
    const f = fake();
    const calls = Array.from({ length: 12 }, (_, i) => f.write(String(i)));
    const r = await Promise.allSettled(calls);
    assert.equal(r.filter((x) => x.status === 'fulfilled').length, 10);
    assert.ok(r.slice(10).every((x) => x.status === 'rejected' && x.reason instanceof StoreOverloadedError));
  });
});
