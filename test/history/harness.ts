// A loopback IM network for History Function tests: the History Function itself, a
// conference focus (answers the factory INVITE, takes the conference SUBSCRIBE, sends
// conference-info NOTIFYs) and an IM client (sends the REFER, collects NOTIFYs).
import { pino } from 'pino';
import { createTransports, type SipTransports } from '../../src/sip/transport/index.js';
import { UserAgent, type UserAgentOptions } from '../../src/sip/ua/user-agent.js';
import type { IncomingRequest } from '../../src/sip/ua/incoming.js';
import { Dialog } from '../../src/sip/dialog/dialog.js';
import { HistoryFunction, HISTORY_PROFILE } from '../../src/history/function.js';
import { SignallingOnlyUserPlane } from '../../src/history/user-plane.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { HistoryStore } from '../../src/store/types.js';
import { parseConfig } from '../../src/config.js';
import { systemClock } from '../../src/sip/clock.js';
import type { SipRequest, SipResponse } from '../../src/sip/message/message.js';
import { buildMsrpOffer } from '../../src/sdp/msrp-offer.js';
import { buildResourceLists } from '../../src/xml/resource-lists.js';

export interface Node {
  ua: UserAgent;
  transports: SipTransports;
  port: number;
  close(): Promise<void>;
}

export async function startNode(opts: Omit<UserAgentOptions, 'transport' | 'serverHeader' | 'userAgentHeader'> & { serverHeader?: string; userAgentHeader?: string }): Promise<Node> {
  const late: { ua?: UserAgent } = {};
  const transports = await createTransports({ udp: [{ address: '127.0.0.1', port: 0 }] }, { message: (m) => late.ua?.receive(m), parseError: () => undefined });
  const ua = new UserAgent({ serverHeader: 'test', userAgentHeader: 'test', ...opts, transport: transports });
  late.ua = ua;
  return {
    ua,
    transports,
    port: transports.listening[0]!.port,
    async close() {
      await ua.close();
      await transports.close();
    },
  };
}

export const CONFERENCE_INFO = (version: number, state: 'full' | 'partial', users: string[]) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:conf1@127.0.0.1" state="${state}" version="${version}">\n` +
  `<users>${users.map((u) => `<user entity="${u}" state="full"><endpoint entity="${u}"><status>connected</status></endpoint></user>`).join('')}</users>\n</conference-info>\n`;

/** A conference focus: records what it received and plays its part of the flow. */
export class Focus {
  invites: SipRequest[] = [];
  subscribes: SipRequest[] = [];
  byes = 0;
  inviteDialog: Dialog | undefined;
  readonly inviteDialogs = new Set<Dialog>();
  /** Status to answer INVITEs with (200 by default; 0 = keep ringing). */
  answer = 200;
  cancelled = 0;
  sessionExpires = '1800;refresher=uac';
  node!: Node;

  async start(): Promise<this> {
    this.node = await startNode({
      profile: { methods: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'SUBSCRIBE', 'NOTIFY', 'UPDATE'], optionTags: ['timer', 'recipient-list-invite'] },
      serverHeader: 'IM-serv/OMA1.0 test-focus',
      onRequest: (inc) => this.onRequest(inc),
      onDialogTerminated: (d, why) => {
        if (this.inviteDialogs.has(d) && why === 'BYE received') this.byes++;
      },
      onCancelled: () => this.cancelled++,
    });
    return this;
  }

  get uri(): string {
    return `sip:factory@127.0.0.1:${this.node.port}`;
  }

  private onRequest(inc: IncomingRequest): void {
    const req = inc.request;
    if (req.method === 'INVITE') {
      this.invites.push(req);
      inc.respond(180);
      if (this.answer === 0) return;
      if (this.answer !== 200) return void inc.respond(this.answer);
      const port = this.node.port;
      const sdp = buildMsrpOffer({ address: '127.0.0.1', port: 7394, path: `msrp://127.0.0.1:7394/focus${this.invites.length};tcp`, acceptTypes: ['message/cpim'], acceptWrappedTypes: ['*'], setup: 'passive', sessionId: 1 });
      this.inviteDialog = inc.accept({
        body: sdp,
        contentType: 'application/sdp',
        headers: [
          ['contact', `<sip:conf${this.invites.length}@127.0.0.1:${port}>;isfocus`],
          ['allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, SUBSCRIBE, NOTIFY, UPDATE'],
          ['session-expires', this.sessionExpires],
          ['require', 'timer'],
          ['supported', 'timer'],
        ],
      });
      this.inviteDialogs.add(this.inviteDialog);
      return;
    }
    if (req.method === 'SUBSCRIBE') {
      this.subscribes.push(req);
      const expires = req.get('expires') ?? '3600';
      const res = inc.respond(200, { headers: [['expires', expires], ['contact', `<sip:conf1@127.0.0.1:${this.node.port}>`]] });
      if (expires === '0') return;
      const dialog = Dialog.asUas(req, res);
      this.node.ua.addDialog(dialog);
      this.node.ua.setDialogHandler(dialog, (_d, i) => {
        // A refresh or the unsubscribe of our subscription.
        const exp = i.request.get('expires') ?? '3600';
        i.respond(200, { headers: [['expires', exp]] });
        void this.node.ua.sendInDialog(dialog, 'NOTIFY', {
          headers: [['event', 'conference'], ['subscription-state', exp === '0' ? 'terminated;reason=timeout' : `active;expires=${exp}`]],
          body: CONFERENCE_INFO(2, 'full', ['sip:alice@example.net', 'sip:bob@example.net']),
          contentType: 'application/conference-info+xml',
        });
      });
      void this.node.ua.sendInDialog(dialog, 'NOTIFY', {
        headers: [['event', 'conference'], ['subscription-state', `active;expires=${expires}`]],
        body: CONFERENCE_INFO(1, 'full', ['sip:alice@example.net', 'sip:bob@example.net']),
        contentType: 'application/conference-info+xml',
      });
      return;
    }
    inc.respond(405);
  }

  /** The focus ends the conference. */
  async bye(): Promise<SipResponse | undefined> {
    if (this.inviteDialog === undefined) return undefined;
    return this.node.ua.sendInDialog(this.inviteDialog, 'BYE');
  }
}

/** An IM client: sends REFERs and answers the NOTIFYs of their implicit subscriptions. */
export class Client {
  notifies: SipRequest[] = [];
  node!: Node;

  async start(): Promise<this> {
    this.node = await startNode({ profile: { methods: ['OPTIONS', 'NOTIFY', 'BYE'], optionTags: [] } });
    this.node.ua.addOrphanHandler((inc) => {
      if (inc.request.method !== 'NOTIFY') return false;
      this.notifies.push(inc.request);
      inc.respond(200);
      return true;
    });
    return this;
  }

  refer(target: string, o: { referTo: string; pai?: string | null; acceptContact?: string | null; users?: string[]; extra?: [string, string][] }): Promise<SipResponse> {
    const ua = this.node.ua;
    const req = ua.createRequest('REFER', target, '<sip:alice@example.net>', `<${target.replace(/;.*$/, '')}>`);
    req.append('refer-to', o.referTo);
    if (o.pai !== null) req.append('p-asserted-identity', o.pai ?? '<sip:alice@example.net>');
    if (o.acceptContact !== null) req.append('accept-contact', o.acceptContact ?? '*;+g.oma.sip-im');
    req.append('contact', `<sip:alice@127.0.0.1:${this.node.port}>;+g.oma.sip-im`);
    req.append('allow', 'INVITE, ACK, CANCEL, BYE, REFER, NOTIFY, MESSAGE, OPTIONS');
    for (const [n, v] of o.extra ?? []) req.append(n, v);
    const users = o.users ?? ['sip:bob@example.net', 'sip:carol@example.net'];
    return ua.request(req, {
      body: buildResourceLists(users.map((uri) => ({ uri }))),
      contentType: 'application/resource-lists+xml',
    });
  }
}

export interface HfNode<S extends HistoryStore = MemoryStore> extends Node {
  fn: HistoryFunction;
  store: S;
}

export interface HfOptions<S extends HistoryStore> {
  store?: S;
  instanceId?: string;
  sharedStore?: boolean;
}

export async function startHistoryFunction<S extends HistoryStore = MemoryStore>(history: Record<string, unknown>, opts: HfOptions<S> = {}): Promise<HfNode<S>> {
  const config = parseConfig({ history });
  const logger = pino({ level: process.env.TEST_LOG ?? 'silent' });
  const store = opts.store ?? (new MemoryStore() as unknown as S);
  const late: { fn?: HistoryFunction } = {};
  const node = await startNode({
    profile: HISTORY_PROFILE,
    serverHeader: config.sip.releaseToken,
    userAgentHeader: config.sip.releaseToken,
    contactUser: 'history',
    logger,
    onRequest: (inc) => late.fn?.handleRequest(inc),
    onDialogTerminated: (d, why) => late.fn?.dialogTerminated(d, why),
  });
  const fn = new HistoryFunction({
    ua: node.ua,
    store,
    userPlane: new SignallingOnlyUserPlane({ address: '127.0.0.1', port: 2855, acceptTypes: config.history.msrp.acceptTypes }),
    config: config.history,
    clock: systemClock,
    logger,
    ...(opts.instanceId !== undefined ? { instanceId: opts.instanceId } : {}),
    ...(opts.sharedStore !== undefined ? { sharedStore: opts.sharedStore } : {}),
  });
  late.fn = fn;
  return { ...node, fn, store, close: async () => { await fn.close(); await node.close(); } };
}

export async function waitFor(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
