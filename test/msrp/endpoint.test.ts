// Two MSRP endpoints on 127.0.0.1 (RFC 4975 §5.4, §7; RFC 6135 setup and connection reuse).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MsrpEndpoint } from '../../src/msrp/endpoint.js';
import { MsrpSendError } from '../../src/msrp/errors.js';
import type { MsrpLimitsInput } from '../../src/msrp/config.js';
import type { MsrpSession, ReceivedMessage, ReceivedReport } from '../../src/msrp/session.js';
import { next, until } from './helpers.js';

const T = { timeout: 10_000 };

interface Pair {
  a: MsrpEndpoint;
  b: MsrpEndpoint;
  close(): Promise<void>;
}

async function pair(limitsB?: MsrpLimitsInput): Promise<Pair> {
  const a = await MsrpEndpoint.create({ listen: { address: '127.0.0.1', port: 0 } });
  const b = await MsrpEndpoint.create({ listen: { address: '127.0.0.1', port: 0 }, ...(limitsB ? { limits: limitsB } : {}) });
  return { a, b, close: async () => { await a.close(); await b.close(); } };
}

/** A active, B passive, bound and open. */
async function sessions(p: Pair): Promise<{ sa: MsrpSession; sb: MsrpSession }> {
  const sa = p.a.createSession({ localUriHost: '127.0.0.1' });
  const sb = p.b.createSession({ localUriHost: '127.0.0.1' });
  sb.accept(sa.localPathUris);
  await Promise.all([sa.connect(sb.localPathUris), sb.opened()]);
  return { sa, sb };
}

test('RFC 4975 §6, §14.1: an ephemeral listener port is reported and written into session URIs with a 20-character session-id', T, async () => {
  const p = await pair();
  try {
    assert.ok((p.a.port ?? 0) > 0);
    const s = p.a.createSession({ localUriHost: '127.0.0.1' });
    assert.match(s.localUri, new RegExp(`^msrp://127\\.0\\.0\\.1:${p.a.port}/[A-Za-z0-9]{20};tcp$`));
    assert.equal(s.localPath, s.localUri);
    const v6 = p.a.createSession({ localUriHost: '::1', relays: ['msrp://relay.example.com:2855/r1;tcp'] });
    assert.match(v6.localUri, /^msrp:\/\/\[::1\]:\d+\/[A-Za-z0-9]{20};tcp$/);
    assert.equal(v6.localPath, `msrp://relay.example.com:2855/r1;tcp ${v6.localUri}`);
    const noListen = await MsrpEndpoint.create();
    assert.match(noListen.createSession({ localUriHost: 'hf.example.net' }).localUri, /^msrp:\/\/hf\.example\.net:9\//);
    await noListen.close();
  } finally {
    await p.close();
  }
});

test('RFC 4975 §5.4 / RFC 6135: the active side connects and binds with a bodiless SEND; messages flow both ways', T, async () => {
  const p = await pair();
  try {
    const { sa, sb } = await sessions(p);
    assert.equal(sa.state, 'open');
    assert.equal(sb.state, 'open');
    const atB = next<ReceivedMessage>(sb, 'message');
    const r = await sa.send('text/plain', Buffer.from('Hi, I am the History Function'));
    const m = await atB;
    assert.equal(m.body.toString(), 'Hi, I am the History Function');
    assert.equal(m.contentType, 'text/plain');
    assert.equal(m.messageId, r.messageId);
    assert.deepEqual(m.fromPath, [sa.localUri]);
    assert.deepEqual(m.toPath, [sb.localUri]);
    assert.equal(m.chunks, 1);
    const atA = next<ReceivedMessage>(sa, 'message');
    await sb.send('message/cpim', Buffer.from('From: <sip:bob@example.com>\r\n\r\nContent-Type: text/plain\r\n\r\nhello back'));
    const back = await atA;
    assert.equal(back.contentType, 'message/cpim');
    assert.match(back.body.toString(), /hello back$/);
  } finally {
    await p.close();
  }
});

test('RFC 4975 §5.1, §7.1.1: 100 KB sent in 2 KB chunks arrives whole (50 chunks), in both directions', T, async () => {
  const p = await pair();
  try {
    const { sa, sb } = await sessions(p);
    const body = Buffer.alloc(100 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff;
    const atB = next<ReceivedMessage>(sb, 'message');
    const sent = await sa.send('application/octet-stream', body, { chunkSize: 2048 });
    assert.equal(sent.chunks, 50);
    const m = await atB;
    assert.ok(m.body.equals(body));
    assert.equal(m.chunks, 50);
    const atA = next<ReceivedMessage>(sa, 'message');
    await sb.send('application/octet-stream', body, { chunkSize: 2048 });
    assert.ok((await atA).body.equals(body));
  } finally {
    await p.close();
  }
});

test('RFC 4975 §7.1.2: Success-Report: yes brings a REPORT with Status 000 200 covering the whole message', T, async () => {
  const p = await pair();
  try {
    const { sa, sb } = await sessions(p);
    const report = next<ReceivedReport>(sa, 'report');
    const body = Buffer.alloc(5000, 0x61);
    const sent = await sa.send('text/plain', body, { successReport: true });
    const r = await report;
    assert.equal(r.messageId, sent.messageId);
    assert.deepEqual(r.status, { namespace: 0, code: 200, comment: 'OK' });
    assert.deepEqual(r.byteRange, { start: 1, end: 5000, total: 5000 });
    assert.deepEqual(r.fromPath, [sb.localUri]);
  } finally {
    await p.close();
  }
});

test('RFC 6135 / RFC 4145 §4.1: start() connects or waits as the a=setup roles say (offer actpass, answer active)', T, async () => {
  const p = await pair();
  try {
    const offerer = p.a.createSession({ localUriHost: '127.0.0.1' });
    const answerer = p.b.createSession({ localUriHost: '127.0.0.1' });
    await Promise.all([
      offerer.start(answerer.localPathUris, 'actpass', 'active'),
      answerer.start(offerer.localPathUris, 'active', 'actpass'),
    ]);
    assert.equal(answerer.connection?.direction, 'outbound');
    assert.equal(offerer.connection?.direction, 'inbound');
  } finally {
    await p.close();
  }
});

test('RFC 4975 §5.4, RFC 6135 §4: sessions to the same peer share one connection; it closes after the last session', T, async () => {
  const p = await pair();
  try {
    const s1 = await sessions(p);
    const s2 = await sessions(p);
    assert.equal(s1.sa.connection, s2.sa.connection);
    assert.equal(p.a.connectionCount, 1);
    assert.equal(p.b.connectionCount, 1);
    const m2 = next<ReceivedMessage>(s2.sb, 'message');
    const m1 = next<ReceivedMessage>(s1.sb, 'message');
    await Promise.all([s1.sa.send('text/plain', Buffer.from('one')), s2.sa.send('text/plain', Buffer.from('two'))]);
    assert.equal((await m1).body.toString(), 'one');
    assert.equal((await m2).body.toString(), 'two');
    s1.sa.close();
    assert.equal(p.a.connectionCount, 1);
    const closedB = next<{ reason: string }>(s2.sb, 'closed');
    s2.sa.close();
    await until(() => p.a.connectionCount === 0);
    assert.match((await closedB).reason, /connection lost/);
  } finally {
    await p.close();
  }
});

test('RFC 4975 §5.4: a request that arrives before the SDP answer is held until accept(), then processed', T, async () => {
  const p = await pair();
  try {
    const sa = p.a.createSession({ localUriHost: '127.0.0.1' });
    const sb = p.b.createSession({ localUriHost: '127.0.0.1' });
    const connecting = sa.connect(sb.localPathUris);
    await until(() => p.b.connectionCount === 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(sb.state, 'new');
    sb.accept(sa.localPathUris);
    await connecting;
    assert.equal(sb.state, 'open');
  } finally {
    await p.close();
  }
});

test('RFC 4975 §10 (413): a message over the receiver\'s limit is refused and send() rejects with 413', T, async () => {
  const p = await pair({ reassembly: { maxMessageBytes: 4000 } });
  try {
    const { sa } = await sessions(p);
    await assert.rejects(sa.send('text/plain', Buffer.alloc(10_000, 0x62), { chunkSize: 1000 }), (e: unknown) => e instanceof MsrpSendError && e.status === 413);
    // the session is still usable for messages that fit
    await sa.send('text/plain', Buffer.from('small'));
  } finally {
    await p.close();
  }
});

test('RFC 4975 §8.6 (415): a Content-Type outside accept-types is refused', T, async () => {
  const p = await pair();
  try {
    const sa = p.a.createSession({ localUriHost: '127.0.0.1' });
    const sb = p.b.createSession({ localUriHost: '127.0.0.1', acceptTypes: ['message/cpim'] });
    sb.accept(sa.localPathUris);
    await sa.connect(sb.localPathUris);
    await assert.rejects(sa.send('text/html', Buffer.from('<b>x</b>')), (e: unknown) => e instanceof MsrpSendError && e.status === 415);
    await sa.send('message/cpim', Buffer.from('ok'));
  } finally {
    await p.close();
  }
});

test('RFC 4975 §5.4: when the connection drops, both sessions close and sends fail', T, async () => {
  const p = await pair();
  try {
    const { sa, sb } = await sessions(p);
    const closedA = next<{ reason: string }>(sa, 'closed');
    sb.connection?.destroy('test');
    assert.match((await closedA).reason, /connection lost/);
    assert.equal(sb.state, 'closed');
    await assert.rejects(sa.send('text/plain', Buffer.from('x')), (e: unknown) => e instanceof MsrpSendError && e.code === 'not-open');
    assert.equal(p.a.sessionCount + p.b.sessionCount, 0);
  } finally {
    await p.close();
  }
});

test('msrps (TLS) is refused with a clear error, not sent in cleartext', T, async () => {
  const p = await pair();
  try {
    const sa = p.a.createSession({ localUriHost: '127.0.0.1' });
    await assert.rejects(sa.connect(['msrps://127.0.0.1:2855/abc;tcp']), (e: unknown) => e instanceof MsrpSendError && e.code === 'unsupported');
    assert.equal(sa.state, 'closed');
  } finally {
    await p.close();
  }
});

test('sink: the 200 completing a message waits until the sink kept it; a refused message gets 403', T, async () => {
  const p = await pair();
  try {
    const { sa, sb } = await sessions(p);
    let release!: () => void;
    const kept: string[] = [];
    sb.sink = (m) => {
      if (m.body.toString() === 'refuse me') return Promise.reject(new Error('disk full'));
      return new Promise<void>((resolve) => {
        release = () => {
          kept.push(m.body.toString());
          resolve();
        };
      });
    };
    let acked = false;
    const sending = sa.send('text/plain', Buffer.from('keep me')).then(() => (acked = true));
    await until(() => release !== undefined);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(acked, false, 'no 200 before the sink resolved');
    release();
    await sending;
    assert.deepEqual(kept, ['keep me']);
    // A message the sink refuses reaches the sender as 403, never as a 200.
    await assert.rejects(sa.send('text/plain', Buffer.from('refuse me')), (e: unknown) => e instanceof MsrpSendError && e.status === 403);
  } finally {
    await p.close();
  }
});
