// Shared set-up for the events tests: UAs on loopback UDP, and a UA on a recording transport
// driven by a FakeClock (as test/sip/ua/user-agent.test.ts does).
import { createTransports } from '../../../src/sip/transport/index.js';
import { UserAgent, type UserAgentOptions } from '../../../src/sip/ua/user-agent.js';
import type { Clock } from '../../../src/sip/clock.js';
import { parseMessage } from '../../../src/sip/message/parse.js';
import { SipRequest, type SipMessage, type SipResponse } from '../../../src/sip/message/message.js';
import { createResponse } from '../../../src/sip/transaction/build.js';
import { serialize } from '../../../src/sip/message/serialize.js';
import type { Destination, ListenAddress, Transport, TransportName } from '../../../src/sip/transport/types.js';

export const PROFILE = {
  methods: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'SUBSCRIBE', 'NOTIFY', 'REFER'],
  optionTags: ['timer', 'norefersub'],
};

export interface LoopbackUa {
  ua: UserAgent;
  port: number;
  uri: string;
  close(): Promise<void>;
}

export async function startUa(extra: Partial<UserAgentOptions> = {}): Promise<LoopbackUa> {
  const late: { ua?: UserAgent } = {};
  const t = await createTransports(
    { udp: [{ address: '127.0.0.1', port: 0 }] },
    { message: (m) => late.ua?.receive(m), parseError: () => undefined },
  );
  const ua = new UserAgent({ transport: t, profile: PROFILE, serverHeader: 'test-server', userAgentHeader: 'test-ua', ...extra });
  late.ua = ua;
  const port = t.listening[0]!.port;
  return {
    ua,
    port,
    uri: `sip:127.0.0.1:${port}`,
    close: async () => {
      await ua.close();
      await t.close();
    },
  };
}

/** A transport that records what is sent and never delivers anything by itself. */
export class RecordingTransport implements Transport {
  sent: { msg: SipMessage; dest: Destination }[] = [];
  readonly listening: ListenAddress[] = [{ transport: 'UDP', address: '127.0.0.1', port: 5070 }];
  send(msg: SipMessage, dest: Destination): Promise<void> {
    this.sent.push({ msg, dest });
    return Promise.resolve();
  }
  isReliable(t: TransportName): boolean {
    return t !== 'UDP';
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  requests(method: string): SipRequest[] {
    return this.sent.map((s) => s.msg).filter((m): m is SipRequest => m.isRequest() && m.method === method);
  }
  responsesTo(req: SipRequest): SipResponse[] {
    const cseq = req.get('cseq');
    return this.sent
      .map((s) => s.msg)
      .filter((m): m is SipResponse => !m.isRequest() && m.callId() === req.callId() && m.get('cseq') === cseq);
  }
}

export function recordingUa(clock: Clock, extra: Partial<UserAgentOptions> = {}): { ua: UserAgent; t: RecordingTransport } {
  const t = new RecordingTransport();
  const ua = new UserAgent({ transport: t, clock, profile: PROFILE, serverHeader: 's', userAgentHeader: 'u', ...extra });
  return { ua, t };
}

const PEER = { transport: 'UDP' as const, localAddress: '127.0.0.1', localPort: 5070, remoteAddress: '127.0.0.1', remotePort: 5999 };

/** Answer a request the UA sent (as the peer at 127.0.0.1:5999 would). */
export function answer(
  ua: UserAgent,
  req: SipRequest,
  status: number,
  opts: { toTag?: string; headers?: [string, string][] } = {},
): SipResponse {
  const res = createResponse(req, status, undefined, opts.toTag);
  for (const [n, v] of opts.headers ?? []) res.append(n, v);
  const wire = parseMessage(serialize(res)) as SipResponse;
  wire.source = PEER;
  ua.receive(wire);
  return wire;
}

/** Deliver a request from the peer at 127.0.0.1:5999. */
export function inject(ua: UserAgent, text: string): SipRequest {
  const req = parseMessage(text) as SipRequest;
  req.source = PEER;
  ua.receive(req);
  return req;
}

let branch = 0;

/** A request from the peer, as text, with Via/Max-Forwards/Content-Length filled in. */
export function peerRequest(
  method: string,
  uri: string,
  headers: [string, string][],
  body = '',
): string {
  const lines = [`${method} ${uri} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKpeer${++branch}`, 'Max-Forwards: 70'];
  for (const [n, v] of headers) lines.push(`${n}: ${v}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return lines.join('\r\n') + '\r\n\r\n' + body;
}

export function flush(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

export async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
