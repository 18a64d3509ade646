// Paths with relays (RFC 4976 §6, §7; RFC 4975 §7.2 hop-by-hop responses): a minimal relay
// built here from the parser and serializer pops itself off the To-Path, pushes itself onto
// the From-Path, answers SENDs itself and forwards on the connection the next hop came from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { MsrpEndpoint } from '../../src/msrp/endpoint.js';
import { getHeader, failureReportOf, type MsrpRequest } from '../../src/msrp/message.js';
import { MsrpStreamParser } from '../../src/msrp/parse.js';
import { buildResponse, serializeMsrp } from '../../src/msrp/serialize.js';
import { shouldRespond } from '../../src/msrp/connection.js';
import { parseMsrpUri } from '../../src/sdp/msrp-uri.js';
import type { ReceivedMessage, ReceivedReport } from '../../src/msrp/session.js';
import { next } from './helpers.js';

interface TestRelay {
  uri: string;
  forwarded: { to: string; from: string }[];
  close(): Promise<void>;
}

async function startRelay(): Promise<TestRelay> {
  const sockets = new Set<net.Socket>();
  /** Next hop URI -> the socket it is reachable on (learnt from the From-Path of its requests). */
  const byUri = new Map<string, net.Socket>();
  const forwarded: { to: string; from: string }[] = [];
  let uri = '';

  const attach = (s: net.Socket): void => {
    sockets.add(s);
    const parser = new MsrpStreamParser();
    s.on('data', (d: Buffer) => {
      for (const ev of parser.push(d)) if (ev.kind === 'message' && ev.message.kind === 'request') void onRequest(s, ev.message);
    });
    s.on('error', () => undefined);
  };

  const onRequest = async (s: net.Socket, req: MsrpRequest): Promise<void> => {
    const to = (getHeader(req, 'To-Path') ?? '').split(' ');
    const from = (getHeader(req, 'From-Path') ?? '').split(' ');
    if (to[0] !== uri || to.length < 2) {
      s.write(serializeMsrp(buildResponse(req, 481, undefined, uri)));
      return;
    }
    byUri.set(from[0]!, s);
    if (shouldRespond(req.method, failureReportOf(req), 200)) s.write(serializeMsrp(buildResponse(req, 200, 'OK', uri)));
    const headers = req.headers.map((h) => {
      const n = h.name.toLowerCase();
      if (n === 'to-path') return { name: h.name, value: to.slice(1).join(' ') };
      if (n === 'from-path') return { name: h.name, value: [uri, ...from].join(' ') };
      return h;
    });
    forwarded.push({ to: to.slice(1).join(' '), from: [uri, ...from].join(' ') });
    let out = byUri.get(to[1]!);
    if (out === undefined || out.destroyed) {
      const u = parseMsrpUri(to[1]!);
      out = await new Promise<net.Socket>((resolve) => {
        const c = net.connect({ host: u.host, port: u.port ?? 2855 }, () => resolve(c));
      });
      attach(out);
      byUri.set(to[1]!, out);
    }
    out.write(serializeMsrp({ ...req, headers }));
  };

  const server = net.createServer(attach);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  uri = `msrp://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/relaySess1;tcp`;
  return {
    uri,
    forwarded,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

test('RFC 4976 §6: through a relay on our side — To-Path/From-Path lists in order, first hop connected, responses hop-by-hop, REPORT retraces the path', { timeout: 10_000 }, async () => {
  const relay = await startRelay();
  const a = await MsrpEndpoint.create({ listen: { address: '127.0.0.1', port: 0 } });
  const b = await MsrpEndpoint.create({ listen: { address: '127.0.0.1', port: 0 } });
  try {
    const sa = a.createSession({ localUriHost: '127.0.0.1', relays: [relay.uri] });
    const sb = b.createSession({ localUriHost: '127.0.0.1' });
    assert.deepEqual(sa.localPathUris, [relay.uri, sa.localUri]);
    sb.accept(sa.localPathUris);
    await Promise.all([sa.connect(sb.localPathUris), sb.opened()]);
    // A connected to the relay (its first hop), not to B.
    assert.equal(sa.connection?.remotePort, parseMsrpUri(relay.uri).port);
    assert.deepEqual(relay.forwarded[0], { to: sb.localUri, from: `${relay.uri} ${sa.localUri}` });

    const atB = next<ReceivedMessage>(sb, 'message');
    const report = next<ReceivedReport>(sa, 'report');
    const sent = await sa.send('text/plain', Buffer.alloc(6000, 0x41), { successReport: true, chunkSize: 2048 });
    const m = await atB;
    assert.equal(m.body.length, 6000);
    assert.deepEqual(m.fromPath, [relay.uri, sa.localUri]);
    const r = await report;
    assert.equal(r.messageId, sent.messageId);
    assert.deepEqual(r.fromPath, [relay.uri, sb.localUri]);

    const atA = next<ReceivedMessage>(sa, 'message');
    await sb.send('text/plain', Buffer.from('back through the relay'));
    const back = await atA;
    assert.equal(back.body.toString(), 'back through the relay');
    assert.deepEqual(back.fromPath, [relay.uri, sb.localUri]);
    assert.deepEqual(relay.forwarded[relay.forwarded.length - 1], { to: sa.localUri, from: `${relay.uri} ${sb.localUri}` });
  } finally {
    await a.close();
    await b.close();
    await relay.close();
  }
});

test('RFC 4976 §6 / RFC 4975 §7.3: a request that skipped the peer\'s relay (From-Path without it) is refused 481', { timeout: 10_000 }, async () => {
  const relay = await startRelay();
  const a = await MsrpEndpoint.create({ listen: { address: '127.0.0.1', port: 0 } });
  const b = await MsrpEndpoint.create({ listen: { address: '127.0.0.1', port: 0 } });
  try {
    const sa = a.createSession({ localUriHost: '127.0.0.1' });
    const sb = b.createSession({ localUriHost: '127.0.0.1' });
    // B believes A sits behind the relay; A connects directly.
    sb.accept([relay.uri, sa.localUri]);
    await assert.rejects(sa.connect(sb.localPathUris), (e: unknown) => (e as { status?: number }).status === 481);
  } finally {
    await a.close();
    await b.close();
    await relay.close();
  }
});
