// Loopback peers and event recorders for the transport tests; every wait is bounded.
import dgram from 'node:dgram';
import net from 'node:net';
import type { MessageSource, SipMessage } from '../../../src/sip/message/message.js';
import type { MessageParseError } from '../../../src/sip/message/parse.js';
import type { TransportEvents } from '../../../src/sip/transport/types.js';

export const WAIT_MS = 3000;

/** Poll until check() returns a value (not undefined), or fail after ms. */
export async function waitFor<T>(what: string, check: () => T | undefined, ms = WAIT_MS): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface Recorder extends TransportEvents {
  messages: SipMessage[];
  errors: { error: MessageParseError; source: MessageSource }[];
  nextMessage(n?: number): Promise<SipMessage>;
}

/**
 * TransportEvents that remember everything. nextMessage() waits for the first message not yet
 * returned by it; nextMessage(n) for the n-th (1-based) and moves the cursor past it.
 */
export function recorder(): Recorder {
  const messages: SipMessage[] = [];
  let cursor = 0;
  const errors: { error: MessageParseError; source: MessageSource }[] = [];
  return {
    messages,
    errors,
    message: (m) => messages.push(m),
    parseError: (error, source) => errors.push({ error, source }),
    nextMessage: async (n = cursor + 1) => {
      const m = await waitFor(`message #${n}`, () => messages[n - 1]);
      cursor = Math.max(cursor, n);
      return m;
    },
  };
}

/** A request as text with a correct Content-Length. */
export function request(opts: {
  method?: string;
  via: string;
  callId?: string;
  cseq?: number;
  body?: string;
  extra?: string[];
}): string {
  const method = opts.method ?? 'OPTIONS';
  const body = opts.body ?? '';
  return [
    `${method} sip:bob@example.com SIP/2.0`,
    `Via: ${opts.via}`,
    'Max-Forwards: 70',
    'From: <sip:alice@example.com>;tag=a1',
    'To: <sip:bob@example.com>',
    `Call-ID: ${opts.callId ?? 'call-1@example.com'}`,
    `CSeq: ${opts.cseq ?? 1} ${method}`,
    ...(opts.extra ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

export function response(opts: { status?: number; via: string; callId?: string; cseq?: string }): string {
  return [
    `SIP/2.0 ${opts.status ?? 200} OK`,
    `Via: ${opts.via}`,
    'From: <sip:alice@example.com>;tag=a1',
    'To: <sip:bob@example.com>;tag=b2',
    `Call-ID: ${opts.callId ?? 'call-1@example.com'}`,
    `CSeq: ${opts.cseq ?? '1 OPTIONS'}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

export interface UdpPeer {
  socket: dgram.Socket;
  port: number;
  received: { data: Buffer; port: number; address: string }[];
  next(n?: number): Promise<{ data: Buffer; port: number; address: string }>;
  sendTo(text: string | Buffer, port: number, address: string): Promise<void>;
  close(): Promise<void>;
}

export async function udpPeer(address: string): Promise<UdpPeer> {
  const socket = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
  const received: UdpPeer['received'] = [];
  let cursor = 0;
  socket.on('message', (data, rinfo) => received.push({ data, port: rinfo.port, address: rinfo.address }));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => resolve());
  });
  return {
    socket,
    port: socket.address().port,
    received,
    next: async (n = cursor + 1) => {
      const d = await waitFor(`datagram #${n}`, () => received[n - 1]);
      cursor = Math.max(cursor, n);
      return d;
    },
    sendTo: (text, port, addr) =>
      new Promise((resolve, reject) => socket.send(Buffer.from(text), port, addr, (e) => (e ? reject(e) : resolve()))),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

export interface TcpPeer {
  socket: net.Socket;
  /** Everything received so far, as latin1 text. */
  text(): string;
  waitText(what: string, pred: (text: string) => boolean): Promise<string>;
  /** Resolves when the other side has closed (FIN or reset). */
  waitClosed(): Promise<true>;
  write(data: string | Buffer): Promise<void>;
  close(): void;
}

export function wrapSocket(socket: net.Socket): TcpPeer {
  let buf = '';
  let done = false;
  socket.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
  });
  socket.on('error', () => undefined);
  const fin = (): void => {
    done = true;
  };
  socket.once('end', fin);
  socket.once('close', fin);
  return {
    socket,
    text: () => buf,
    waitText: (what, pred) => waitFor(what, () => (pred(buf) ? buf : undefined)),
    waitClosed: () => waitFor('the connection to close', () => (done ? true : undefined)),
    write: (data) => new Promise((resolve, reject) => socket.write(data, (e) => (e ? reject(e) : resolve()))),
    close: () => socket.destroy(),
  };
}

export async function tcpConnect(address: string, port: number): Promise<TcpPeer> {
  const socket = net.connect({ host: address, port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return wrapSocket(socket);
}

/** A raw TCP server that records the connections it accepts. */
export async function tcpServer(address: string): Promise<{ port: number; peers: TcpPeer[]; close(): Promise<void> }> {
  const peers: TcpPeer[] = [];
  const server = net.createServer((s) => peers.push(wrapSocket(s)));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port: 0 }, () => resolve());
  });
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('no address');
  return {
    port: a.port,
    peers,
    close: () =>
      new Promise((resolve) => {
        for (const p of peers) p.close();
        server.close(() => resolve());
      }),
  };
}

/** Whether ::1 can be bound here (UDP and TCP); IPv6 tests skip with a message if not. */
export async function ipv6Loopback(): Promise<boolean> {
  try {
    const p = await udpPeer('::1');
    await p.close();
    const s = await tcpServer('::1');
    await s.close();
    return true;
  } catch {
    return false;
  }
}

export const NO_IPV6 = 'IPv6 loopback ::1 is not available on this machine';

/** Count non-overlapping occurrences. */
export function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}
