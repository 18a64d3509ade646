/**
 * The IM network side of bench/record.ts, in a process of its own so the History Function's
 * RSS is measured alone. One SIP UserAgent (TCP + UDP on 127.0.0.1, ports from the OS) and
 * one MSRP endpoint play two roles:
 *
 * - IM clients: REFERs to the History Function (P-Asserted-Identity <sip:userK@example.net>,
 *   Accept-Contact *;+g.oma.sip-im, a resource-lists body naming one IM user), the REFER
 *   subscription's sipfrag NOTIFYs answered 200 (orphan handler).
 * - A cheap conference focus: the factory INVITE gets 200 with a passive MSRP answer, no
 *   dial-out (the History Function is the only participant); the conference SUBSCRIBE gets
 *   200 and one full NOTIFY naming the History Function as connected.
 *
 * Protocol with the parent: JSON lines. stdout: {"ready":{factory}} once listening, then one
 * reply per command. stdin commands:
 *   {"cmd":"sessions","hf":uri,"count":n,"inflight":k,"rate":r,"timeoutMs":t} ramps n more recorded
 *     sessions (at most k REFERs not yet up at once, r REFERs/s at most); a session is up when the History
 *     Function's MSRP connection is bound to it and our conference NOTIFY got its 200.
 *   {"cmd":"push","sessions":s,"ms":t,"window":w,"bodyBytes":b[,"stack":true]} the focus sends
 *     message/cpim on s open sessions, w SENDs in flight per session, for t ms. Each CPIM text
 *     starts with "t=<ms since epoch, sub-ms>;" so the parent can time send -> persisted. The
 *     SENDs are written by bench/lib/lean-push.ts (pre-framed, a cheap load generator) unless
 *     "stack" asks for MsrpSession.send.
 *   {"cmd":"exit"}
 */
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { createTransports } from '../src/sip/transport/index.js';
import { UserAgent } from '../src/sip/ua/user-agent.js';
import type { IncomingRequest } from '../src/sip/ua/incoming.js';
import { Dialog } from '../src/sip/dialog/dialog.js';
import type { SipRequest } from '../src/sip/message/message.js';
import { getParamUnquoted } from '../src/sip/message/headers/scan.js';
import { parseMultipart } from '../src/sip/message/headers/multipart.js';
import { MsrpEndpoint } from '../src/msrp/endpoint.js';
import type { MsrpSession } from '../src/msrp/session.js';
import { answerSetup, buildMsrpOffer, parseMsrpOffer } from '../src/sdp/msrp-offer.js';
import { conferenceInfo } from '../src/sim/conference-info.js';
import { buildCpim, newImdnMessageId } from '../src/cpim/serialize.js';
import { buildResourceLists } from '../src/xml/resource-lists.js';
import { leanSender } from './lib/lean-push.js';

const HOST = '127.0.0.1';
const ACCEPT = ['message/cpim', 'text/plain', 'message/imdn+xml'];
const WORDS = 'the report meeting agenda review quarterly budget team release plan status update deadline coffee lunch tomorrow'.split(' ');

interface Conf {
  id: string;
  uri: string;
  user: number;
  session: MsrpSession;
  msrpOpen: boolean;
  notified: boolean;
  up: boolean;
}

const out = (o: unknown): void => void process.stdout.write(JSON.stringify(o) + '\n');

const late: { ua?: UserAgent } = {};
const transports = await createTransports(
  { udp: [{ address: HOST, port: 0 }], tcp: [{ address: HOST, port: 0 }] },
  { message: (m) => late.ua?.receive(m), parseError: () => undefined },
);
const tcpPort = transports.listening.find((l) => l.transport === 'TCP')!.port;
const ua = new UserAgent({
  transport: transports,
  profile: { methods: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'SUBSCRIBE', 'NOTIFY', 'UPDATE', 'REFER'], optionTags: ['timer', 'recipient-list-invite'] },
  serverHeader: 'IM-serv/OMA1.0 bench-focus',
  userAgentHeader: 'IM-client/OMA1.0 bench-client',
  contactUser: 'focus',
  maxServerTransactions: 1_000_000,
  onRequest: (inc) => onRequest(inc),
});
late.ua = ua;
const msrp = await MsrpEndpoint.create({ listen: { address: HOST, port: 0 }, limits: { maxSessions: 1_000_000, maxPendingWriteBytes: 64 * 1024 * 1024 } });

const confs = new Map<string, Conf>();
const upList: Conf[] = [];
let confSeq = 0;
let upCount = 0;
let failures = 0;
const errors = new Map<string, number>();
const noteError = (what: string): void => void errors.set(what, (errors.get(what) ?? 0) + 1);
let onUp: (() => void) | undefined;

// NOTIFYs of the REFERs' implicit subscriptions (RFC 3515 §2.4.4): just 200.
ua.addOrphanHandler((inc) => {
  if (inc.request.method !== 'NOTIFY') return false;
  inc.respond(200);
  return true;
});

function markUp(c: Conf): void {
  if (c.up || !c.msrpOpen || !c.notified) return;
  c.up = true;
  upCount++;
  upList.push(c);
  onUp?.();
}

function onRequest(inc: IncomingRequest): void {
  const m = inc.request.method;
  if (m === 'INVITE') return onFactoryInvite(inc);
  if (m === 'SUBSCRIBE') return onSubscribe(inc);
  inc.respond(405);
}

function sdpOf(req: SipRequest): string {
  const ct = req.contentType();
  if (ct === undefined) return '';
  if (ct.type === 'application' && ct.subtype === 'sdp') return req.body.toString('utf8');
  const boundary = getParamUnquoted(ct.params, 'boundary');
  if (ct.type !== 'multipart' || boundary === undefined || boundary === null) return '';
  for (const p of parseMultipart(req.body, boundary)) {
    const pct = p.headers.find((h) => h.name.toLowerCase() === 'content-type')?.value.toLowerCase() ?? '';
    if (pct.startsWith('application/sdp')) return p.body.toString('utf8');
  }
  return '';
}

function onFactoryInvite(inc: IncomingRequest): void {
  const req = inc.request;
  if (req.toTag() !== undefined) return void inc.respond(488);
  let offer;
  try {
    offer = parseMsrpOffer(sdpOf(req));
  } catch {
    noteError('bad SDP offer');
    return void inc.respond(488);
  }
  const id = `conf${++confSeq}`;
  const uri = `sip:${id}@${HOST}:${tcpPort};transport=tcp`;
  const user = Number(/user(\d+)@/.exec(req.get('p-asserted-identity') ?? req.get('from') ?? '')?.[1] ?? 0);
  const setup = answerSetup(offer.setup);
  const session = msrp.createSession({ localUriHost: HOST, acceptTypes: ACCEPT });
  const c: Conf = { id, uri, user, session, msrpOpen: false, notified: false, up: false };
  confs.set(id, c);
  session.on('open', () => {
    c.msrpOpen = true;
    markUp(c);
  });
  session.on('error', (e) => noteError(`msrp: ${e.message.slice(0, 60)}`));
  void session.start(offer.path, setup, offer.setup).catch((e: unknown) => noteError(`msrp start: ${String(e).slice(0, 60)}`));
  const se = req.get('session-expires');
  inc.accept({
    contentType: 'application/sdp',
    body: buildMsrpOffer({ address: HOST, port: msrp.port ?? 9, path: session.localUri, acceptTypes: ACCEPT, acceptWrappedTypes: ['*'], setup, sessionId: Date.now() }),
    headers: [
      ['contact', `<${uri}>;isfocus`],
      ['allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, SUBSCRIBE, NOTIFY, UPDATE'],
      ['supported', 'timer'],
      ...(se !== undefined ? ([['session-expires', `${se.split(';')[0]};refresher=uac`], ['require', 'timer']] as [string, string][]) : []),
    ],
  });
}

function onSubscribe(inc: IncomingRequest): void {
  const req = inc.request;
  const id = /^sips?:([^@;>]+)@/.exec(req.uri)?.[1];
  const c = id === undefined ? undefined : confs.get(id);
  if (c === undefined) return void inc.respond(404);
  if ((req.get('event') ?? '').split(';')[0]?.trim() !== 'conference') return void inc.respond(489, { headers: [['allow-events', 'conference']] });
  const expires = req.get('expires') ?? '3600';
  const res = inc.respond(200, { headers: [['expires', expires], ['contact', `<${c.uri}>`]] });
  if (expires === '0') return;
  const dialog = Dialog.asUas(req, res);
  ua.addDialog(dialog);
  ua.setDialogHandler(dialog, (_d, i) => void i.respond(200, { headers: [['expires', i.request.get('expires') ?? '3600']] }));
  const body = conferenceInfo(c.uri, 1, 'full', [{ entity: `sip:history@${HOST}`, status: 'connected', joinedAt: Date.now() }]);
  ua.sendInDialog(dialog, 'NOTIFY', { headers: [['event', 'conference'], ['subscription-state', `active;expires=${expires}`]], body, contentType: 'application/conference-info+xml' })
    .then((r) => {
      if (r.status !== 200) return noteError(`conference NOTIFY ${r.status}`);
      c.notified = true;
      markUp(c);
    })
    .catch((e: unknown) => noteError(`conference NOTIFY: ${String(e).slice(0, 60)}`));
}

let userSeq = 0;
async function refer(hf: string): Promise<void> {
  const k = ++userSeq;
  const aor = `sip:user${k}@example.net`;
  const target = `${hf.replace(/;.*$/, '')};transport=tcp;history=session;filename=bench-${k}`;
  const req = ua.createRequest('REFER', target, `<${aor}>`, `<${hf.replace(/;.*$/, '')}>`);
  req.append('refer-to', `<sip:factory@${HOST}:${tcpPort};transport=tcp>`);
  req.append('p-asserted-identity', `<${aor}>`);
  req.append('accept-contact', '*;+g.oma.sip-im');
  req.append('allow', 'INVITE, ACK, CANCEL, BYE, REFER, NOTIFY, MESSAGE, OPTIONS');
  req.append('contact', `${ua.contactFor('TCP')};+g.oma.sip-im`);
  const res = await ua.request(req, { body: buildResourceLists([{ uri: `sip:peer${k}@example.net` }]), contentType: 'application/resource-lists+xml' });
  if (res.status !== 202) {
    failures++;
    noteError(`REFER ${res.status} ${res.reason}`);
  }
}

async function sessions(hf: string, count: number, inflight: number, rate: number, timeoutMs: number): Promise<unknown> {
  const t0 = performance.now();
  const up0 = upCount;
  const failures0 = failures;
  let sent = 0;
  await new Promise<void>((resolve) => {
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearInterval(tick);
      onUp = undefined;
      resolve();
    };
    const deadline = setTimeout(finish, timeoutMs);
    const tick = setInterval(() => pump(), 10);
    const pump = (): void => {
      if (settled) return;
      const done = upCount - up0 + (failures - failures0);
      if (done >= count) return finish();
      // REFERs sent but neither up nor refused stay under `inflight`.
      // ... and REFERs go out at `rate` per second at most.
      const allowed = Math.min(count, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
      while (sent < allowed && sent - done < inflight) {
        sent++;
        void refer(hf)
          .catch((e: unknown) => {
            failures++;
            noteError(`REFER: ${String(e).slice(0, 60)}`);
          })
          .finally(pump);
      }
    };
    onUp = pump;
    pump();
  });
  return { up: upCount, sent, failed: failures - failures0, ms: performance.now() - t0, errors: Object.fromEntries(errors) };
}

function textOf(bytes: number, seed: number): string {
  let s = '';
  let x = seed * 7919 + 17;
  while (s.length < bytes) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    s += WORDS[x % WORDS.length] + ' ';
  }
  return s.slice(0, bytes);
}

async function push(n: number, ms: number, window: number, bodyBytes: number, stack: boolean): Promise<unknown> {
  const chosen = upList.filter((c) => c.session.state === 'open').slice(0, n);
  const texts = Array.from({ length: 64 }, (_, i) => textOf(bodyBytes, i));
  let sent = 0;
  let acked = 0;
  let failed = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const end = t0 + ms;
  // The lean sender (bench/lib/lean-push.ts) unless the command asks for the MSRP stack.
  const lean = stack ? undefined : leanSender(chosen.map((c) => c.session));
  const lane = async (c: Conf, lane: number): Promise<void> => {
    for (let i = 0; performance.now() < end; i++) {
      const body = buildCpim({
        from: { uri: `sip:user${c.user}@example.net` },
        to: [{ uri: c.uri }],
        dateTime: new Date(),
        imdn: { messageId: newImdnMessageId() },
        contentType: 'text/plain;charset=utf-8',
        body: `t=${(performance.timeOrigin + performance.now()).toFixed(3)}; ${texts[(lane + i) & 63]!}`,
      });
      sent++;
      try {
        if (lean === undefined) await c.session.send('message/cpim', body);
        else {
          const status = await lean.send(c.session, body);
          if (status !== 200) throw new Error(`SEND answered ${status}`);
        }
        acked++;
      } catch (e) {
        failed++;
        noteError(`SEND: ${String(e).slice(0, 60)}`);
        return;
      }
    }
  };
  await Promise.all(chosen.flatMap((c) => Array.from({ length: window }, (_, l) => lane(c, l))));
  lean?.release();
  return { sessions: chosen.length, sent, acked, failed, ms: performance.now() - t0, cpu: process.cpuUsage(cpu0), errors: Object.fromEntries(errors) };
}

out({ ready: { factory: `sip:factory@${HOST}:${tcpPort};transport=tcp`, pid: process.pid } });

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  const c = JSON.parse(line) as { cmd: string; hf: string; count: number; inflight: number; rate: number; timeoutMs: number; sessions: number; ms: number; window: number; bodyBytes: number; stack?: boolean };
  try {
    if (c.cmd === 'sessions') out(await sessions(c.hf, c.count, c.inflight, c.rate, c.timeoutMs));
    else if (c.cmd === 'push') out(await push(c.sessions, c.ms, c.window, c.bodyBytes, c.stack === true));
    else if (c.cmd === 'exit') break;
  } catch (e) {
    out({ error: String(e) });
  }
}
process.exit(0);
