// Test harness for the transaction layer: a FakeClock, a Transport that records what is sent
// (and can be told to fail), and builders for requests/responses as they arrive off the wire.
import { FakeClock } from '../../../src/sip/clock.js';
import type { MessageSource, SipMessage, SipRequest, SipResponse } from '../../../src/sip/message/message.js';
import { parseMessage } from '../../../src/sip/message/parse.js';
import { serialize } from '../../../src/sip/message/serialize.js';
import { isReliable, type Destination, type Transport, type TransportName } from '../../../src/sip/transport/types.js';
import {
  TransactionLayer,
  type ServerTransaction,
  type TransactionLayerOptions,
} from '../../../src/sip/transaction/layer.js';

export interface Sent {
  msg: SipMessage;
  dest: Destination;
  at: number;
  text: string;
}

export class FakeTransport implements Transport {
  readonly listening = [];
  readonly sent: Sent[] = [];
  /** When set, send() rejects with what it returns (undefined: succeed). */
  failWith: ((msg: SipMessage, dest: Destination) => Error | undefined) | undefined;

  constructor(private readonly clock: FakeClock) {}

  send(msg: SipMessage, dest: Destination): Promise<void> {
    this.sent.push({ msg, dest, at: this.clock.now(), text: serialize(msg).toString('utf8') });
    const err = this.failWith?.(msg, dest);
    return err === undefined ? Promise.resolve() : Promise.reject(err);
  }

  isReliable(t: TransportName): boolean {
    return isReliable(t);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  requests(method?: string): SipRequest[] {
    const out: SipRequest[] = [];
    for (const s of this.sent) if (s.msg.isRequest() && (method === undefined || s.msg.method === method)) out.push(s.msg);
    return out;
  }

  responses(status?: number): SipResponse[] {
    const out: SipResponse[] = [];
    for (const s of this.sent) if (!s.msg.isRequest() && (status === undefined || s.msg.status === status)) out.push(s.msg);
    return out;
  }

  /** Send times of the entries matching `pred`. */
  times(pred: (m: SipMessage) => boolean): number[] {
    return this.sent.filter((s) => pred(s.msg)).map((s) => s.at);
  }
}

export interface Harness {
  clock: FakeClock;
  transport: FakeTransport;
  layer: TransactionLayer;
  requests: Array<{ req: SipRequest; tx: ServerTransaction | undefined }>;
  stray: SipResponse[];
}

export const LOCAL = { host: '192.0.2.10', port: 5060 };

export function harness(opts: Partial<TransactionLayerOptions> = {}): Harness {
  const clock = new FakeClock();
  const transport = new FakeTransport(clock);
  const requests: Harness['requests'] = [];
  const stray: SipResponse[] = [];
  const layer = new TransactionLayer({
    transport,
    clock,
    via: () => ({ host: LOCAL.host, port: LOCAL.port }),
    onRequest: (req, tx) => requests.push({ req, tx }),
    onStrayResponse: (res) => stray.push(res),
    ...opts,
  });
  return { clock, transport, layer, requests, stray };
}

/** A FakeClock that records the delay of every clock timer set on it (one per FIFO queue armed). */
export function countingClock(): { clock: FakeClock; set: number[] } {
  const clock = new FakeClock();
  const set: number[] = [];
  const setTimer = clock.setTimer.bind(clock);
  clock.setTimer = (ms, fn) => {
    set.push(ms);
    return setTimer(ms, fn);
  };
  return { clock, set };
}

/** Let rejected sends reach their handlers (promise callbacks run as microtasks). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

export const UDP_PEER: Destination = { transport: 'UDP', address: '192.0.2.20', port: 5060 };
export const TCP_PEER: Destination = { transport: 'TCP', address: '192.0.2.20', port: 5060 };

/** A request for the layer to send (no Via: the layer inserts it). */
export function outgoing(method: string, extra: string[] = []): SipRequest {
  const lines = [
    `${method} sip:bob@example.com SIP/2.0`,
    'Max-Forwards: 70',
    'To: Bob <sip:bob@example.com>',
    'From: Alice <sip:alice@example.org>;tag=a1',
    'Call-ID: call-1@example.org',
    `CSeq: 1 ${method}`,
    ...extra,
  ];
  return parseMessage(lines.join('\r\n') + '\r\n\r\n') as SipRequest;
}

export interface IncomingOptions {
  branch?: string;
  /** Full Via value(s), replacing the default built from `branch`. */
  via?: string;
  toTag?: string;
  fromTag?: string;
  cseq?: number;
  cseqMethod?: string;
  uri?: string;
  source?: Partial<MessageSource>;
  extra?: string[];
}

const PEER_SOURCE: MessageSource = {
  transport: 'UDP',
  localAddress: '192.0.2.10',
  localPort: 5060,
  remoteAddress: '192.0.2.30',
  remotePort: 5070,
};

/** A request as the transport delivers it (with a source). */
export function incoming(method: string, o: IncomingOptions = {}): SipRequest {
  const via = o.via ?? `SIP/2.0/UDP 192.0.2.30:5070;branch=${o.branch ?? 'z9hG4bKclient1'}`;
  const lines = [
    `${method} ${o.uri ?? 'sip:service@192.0.2.10'} SIP/2.0`,
    `Via: ${via}`,
    'Max-Forwards: 70',
    `To: <sip:service@192.0.2.10>${o.toTag === undefined ? '' : ';tag=' + o.toTag}`,
    `From: <sip:carol@example.net>;tag=${o.fromTag ?? 'c1'}`,
    'Call-ID: in-call-1@example.net',
    `CSeq: ${o.cseq ?? 1} ${o.cseqMethod ?? method}`,
    ...(o.extra ?? []),
  ];
  const req = parseMessage(lines.join('\r\n') + '\r\n\r\n') as SipRequest;
  req.source = { ...PEER_SOURCE, ...o.source };
  return req;
}

/** A response to `req` as it would come back over the wire (Via, From, To, Call-ID, CSeq copied). */
export function responseTo(req: SipRequest, status: number, toTag?: string, extra: string[] = []): SipResponse {
  const lines = [`SIP/2.0 ${status} Reason`];
  for (const v of req.getAll('via')) lines.push(`Via: ${v}`);
  const to = req.get('to') ?? '';
  lines.push(`To: ${to}${toTag !== undefined && req.toTag() === undefined ? ';tag=' + toTag : ''}`);
  lines.push(`From: ${req.get('from') ?? ''}`);
  lines.push(`Call-ID: ${req.get('call-id') ?? ''}`);
  lines.push(`CSeq: ${req.get('cseq') ?? ''}`);
  lines.push(...extra);
  const res = parseMessage(lines.join('\r\n') + '\r\n\r\n') as SipResponse;
  res.source = { ...PEER_SOURCE, remoteAddress: '192.0.2.20', remotePort: 5060 };
  return res;
}

/** A response built by the TU (no source). */
export function tuResponse(req: SipRequest, status: number, toTag?: string): SipResponse {
  const res = responseTo(req, status, toTag);
  delete res.source;
  return res;
}

export function isMethod(method: string): (m: SipMessage) => boolean {
  return (m) => m.isRequest() && m.method === method;
}

export function isStatus(status: number): (m: SipMessage) => boolean {
  return (m) => !m.isRequest() && m.status === status;
}

/** Differences between consecutive numbers. */
export function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}
