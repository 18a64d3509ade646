/**
 * The loopback IM network: a conference focus and scripted IM clients, each with its own
 * SIP stack and MSRP endpoint on 127.0.0.1 ephemeral ports. Used by `im-history demo` and
 * the end-to-end tests, against the real History Function.
 *
 * With `tls` the focus also listens for SIP over TLS and msrps (the factory URI is then a
 * sips: URI and the conference URIs too); the clients stay on UDP and cleartext MSRP.
 */
import { createTransports, type SipTransports } from '../sip/transport/index.js';
import { UserAgent } from '../sip/ua/user-agent.js';
import type { IncomingRequest } from '../sip/ua/incoming.js';
import type { Dialog } from '../sip/dialog/dialog.js';
import type { Destination } from '../sip/transport/types.js';
import { MsrpEndpoint } from '../msrp/endpoint.js';
import { ConferenceFocus } from './focus.js';
import { MsrpFocusMedia } from './msrp-media.js';
import { SimClient } from './client.js';
import { uriTransport } from '../sip/ua/resolve.js';
import type { TlsOptions } from '../sip/transport/config.js';
import type { MsrpTlsConfig } from '../msrp/tls.js';

/** Certificates for a TLS-capable focus: SIP over TLS and msrps (listeners are added on HOST). */
export interface SimTls {
  sip: TlsOptions;
  msrp: Omit<MsrpTlsConfig, 'listen'>;
}

const HOST = '127.0.0.1';

/**
 * Where a stack's UDP port is reached from the others: given the real port, the port to
 * advertise in Via/Contact (a fault-injecting relay in front of it in tests). Default: itself.
 */
export type SipFront = (name: string, realPort: number) => Promise<number>;

interface Stack {
  ua: UserAgent;
  transports: SipTransports;
  msrp: MsrpEndpoint;
  port: number;
}

async function stack(
  name: string,
  methods: string[],
  handlers: { onRequest: (inc: IncomingRequest) => void; onDialogTerminated?: (d: Dialog, why: string) => void },
  tls?: SimTls,
  front?: SipFront,
): Promise<Stack> {
  const late: { ua?: UserAgent } = {};
  const transports = await createTransports(
    { udp: [{ address: HOST, port: 0 }], ...(tls !== undefined ? { tls: [{ address: HOST, port: 0 }], tlsOptions: tls.sip } : {}) },
    { message: (m) => late.ua?.receive(m), parseError: () => undefined },
  );
  const realPort = transports.listening[0]!.port;
  const port = front === undefined ? realPort : await front(name, realPort);
  const ua = new UserAgent({
    transport: transports,
    // RFC 5366 §4.1: the factory INVITE carries Require: recipient-list-invite.
    profile: { methods, optionTags: ['timer', 'recipient-list-invite'] },
    serverHeader: `IM-serv/OMA1.0 sim-${name}`,
    userAgentHeader: `IM-client/OMA1.0 sim-${name}`,
    contactUser: name,
    ...(port !== realPort ? { advertisedPorts: { UDP: port } } : {}),
    ...handlers,
  });
  late.ua = ua;
  const msrp = await MsrpEndpoint.create({
    listen: { address: HOST, port: 0 },
    ...(tls !== undefined ? { tls: { ...tls.msrp, listen: { address: HOST, port: 0 } } } : {}),
  });
  return { ua, transports, msrp, port };
}

export class SimNetwork {
  readonly clients = new Map<string, SimClient>();
  private readonly stacks: Stack[] = [];
  focus!: ConferenceFocus;
  focusMedia!: MsrpFocusMedia;
  factoryUri = '';

  constructor(
    private readonly log?: (msg: string) => void,
    private readonly front?: SipFront,
    /** The same for the focus's MSRP listener (a TCP relay in front of it in tests). */
    private readonly msrpFront?: SipFront,
  ) {}

  /** Start the focus and one client per AOR (`sip:alice@example.net`, display name). */
  async start(users: readonly { aor: string; name: string }[], opts: { tls?: SimTls } = {}): Promise<this> {
    const late: { focus?: ConferenceFocus } = {};
    const f = await stack('focus', ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'SUBSCRIBE', 'NOTIFY', 'UPDATE'], {
      onRequest: (inc) => late.focus?.handleRequest(inc),
      onDialogTerminated: (d, why) => late.focus?.dialogTerminated(d, why),
    }, opts.tls, this.front);
    this.stacks.push(f);
    const msrpPort = f.msrp.port ?? 0;
    const msrpAdvertised = this.msrpFront === undefined ? msrpPort : await this.msrpFront('focus', msrpPort);
    this.focusMedia = new MsrpFocusMedia(f.msrp, HOST, this.log, msrpAdvertised !== msrpPort ? msrpAdvertised : undefined);
    const tlsPort = f.transports.tls?.listening[0]?.port;
    const hostport = `${HOST}:${tlsPort ?? f.port}`;
    this.focus = new ConferenceFocus({
      ua: f.ua, hostport, uriScheme: tlsPort !== undefined ? 'sips' : 'sip', media: this.focusMedia, locate: (aor) => this.locate(aor), ...(this.log ? { log: this.log } : {}),
    });
    late.focus = this.focus;
    this.factoryUri = `${tlsPort !== undefined ? 'sips' : 'sip'}:factory@${hostport}`;
    for (const u of users) {
      const lateClient: { c?: SimClient } = {};
      // The Contact's user part: the AOR's (a display name may hold spaces, not valid in a URI).
      const s = await stack(/^sips?:([^@;]+)@/.exec(u.aor)?.[1] ?? 'user', ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'NOTIFY'], { onRequest: (inc) => lateClient.c?.handleRequest(inc) }, undefined, this.front);
      this.stacks.push(s);
      const c = new SimClient(u.aor, u.name, s.ua, s.msrp, HOST);
      lateClient.c = c;
      this.clients.set(u.aor, c);
    }
    return this;
  }

  client(aor: string): SimClient {
    const c = this.clients.get(aor);
    if (c === undefined) throw new Error(`no sim client ${aor}`);
    return c;
  }

  /** Where a user's AOR is reached: the client's SIP listener. */
  locate(aor: string): Destination | undefined {
    const c = this.clients.get(aor.replace(/;.*$/, ''));
    if (c === undefined) return undefined;
    const contact = c.ua.contactFor('UDP');
    const { transport, host, port } = uriTransport(contact.slice(1, contact.indexOf('>')));
    return { transport, address: host, port };
  }

  async close(): Promise<void> {
    for (const s of this.stacks) {
      await s.ua.close();
      await s.msrp.close();
      await s.transports.close();
    }
  }
}
