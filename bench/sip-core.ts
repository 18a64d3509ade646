/**
 * bench/sip-core: the CPU our SIP core spends per OPTIONS and per INVITE dialog call, with
 * no sockets: the bytes sipp sends are handed to the UDP transport's receive path (parse,
 * §18.2.1 stamp, transaction layer, UserAgent) and the responses are serialized but not
 * sent. Time is a virtual clock moved forward 1/rate per call, so the RFC 3261 timers run as
 * under that load (Timer J and RFC 6026 Timer L keep 32 s of transactions alive) while the
 * loop itself runs as fast as the CPU allows.
 *
 *   node [--expose-gc] dist/bench/sip-core.js [--calls=N] [--rate=R] [--runs=K] [--only=options|invite]
 *
 * What it is for: bench/transactions measures the whole path over loopback UDP, where a
 * run takes minutes and the kernel's share moves with the load. This one isolates our own
 * per-message work, so two builds can be compared in seconds (run it on each, same flags).
 * CPU is process.cpuUsage() (all threads: V8's GC helpers included) over the timed calls,
 * after a warm-up of one fifth of them; the table shows the median of K runs and their
 * spread. The harness's own share (building the datagrams sipp would send, reading our To
 * tag back from the 200) is measured apart and shown in its own row.
 *
 * For INVITE dialogs a column splits the main thread's time between the INVITE (with the
 * dialog and the 2xx), the ACK and the BYE (hrtime around each, medians of the runs; GC
 * helper threads are not in it, so the three add up to less than the CPU column).
 *
 * With --expose-gc, a last column gives the heap left per live server transaction after a
 * full GC (what 32 s of Timer J / Timer L state costs in memory), median of the runs.
 *
 * Call shapes are sipp's: the OPTIONS of bench/sipp/options-uac.xml and the INVITE, ACK and
 * BYE of sipp's built-in `uac` scenario.
 */
import { parseDatagram } from '../src/sip/message/parse.js';
import { acceptMessage, type Inbound } from '../src/sip/transport/inbound.js';
import { silentLogger } from '../src/sip/transport/config.js';
import type { Clock, TimerHandle } from '../src/sip/clock.js';
import type { MessageSource, SipMessage } from '../src/sip/message/message.js';
import type { Destination, Transport } from '../src/sip/transport/types.js';
import { UserAgent } from '../src/sip/ua/user-agent.js';

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n';
const SERVER = 'IM-serv/OMA1.0 im-history/bench';
const LOCAL = { address: '127.0.0.1', port: 5060 };
const PEER = { address: '127.0.0.1', port: 5061 };

/** Virtual time with a binary heap of timers (cancelled ones are skipped when they surface). */
class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  private heap: { at: number; seq: number; fn: () => void; live: boolean }[] = [];

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const e = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, live: true };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
    return {
      // Like clearTimeout, let go of the callback (and all it holds) at once.
      cancel: () => {
        e.live = false;
        e.fn = NOOP;
      },
    };
  }

  advanceTo(t: number): void {
    const h = this.heap;
    while (h.length > 0 && h[0]!.at <= t) {
      const top = h[0]!;
      const last = h.pop()!;
      if (h.length > 0) {
        h[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < h.length && before(h[l]!, h[m]!)) m = l;
          if (r < h.length && before(h[r]!, h[m]!)) m = r;
          if (m === i) break;
          [h[i], h[m]] = [h[m]!, h[i]!];
          i = m;
        }
      }
      if (!top.live) continue;
      this.t = Math.max(this.t, top.at);
      top.fn();
    }
    this.t = Math.max(this.t, t);
  }
}

const NOOP = (): void => undefined;

function before(a: { at: number; seq: number }, b: { at: number; seq: number }): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** A Transport that serializes (the layer does) and keeps only the last datagram. */
class NullTransport implements Transport {
  readonly listening = [{ transport: 'UDP' as const, ...LOCAL }];
  last: Buffer = Buffer.alloc(0);
  sent = 0;

  send(_msg: SipMessage, _dest: Destination): Promise<void> {
    this.sent++;
    return Promise.resolve();
  }

  sendBytes(bytes: Buffer): void {
    this.sent++;
    this.last = bytes;
  }

  isReliable(): boolean {
    return false;
  }

  async close(): Promise<void> {}
}

interface Harness {
  clock: VirtualClock;
  transport: NullTransport;
  deliver(bytes: Buffer): void;
  ua: UserAgent;
}

function harness(): Harness {
  const clock = new VirtualClock();
  const transport = new NullTransport();
  const late: { ua?: UserAgent } = {};
  const inbound: Inbound = {
    events: { message: (m) => late.ua?.receive(m), parseError: () => undefined },
    logger: silentLogger,
  };
  const ua = new UserAgent({
    transport,
    clock,
    profile: { methods: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS'], optionTags: ['timer'] },
    serverHeader: SERVER,
    userAgentHeader: SERVER,
    maxServerTransactions: 10_000_000,
    onRequest: (req) => {
      if (req.request.method !== 'INVITE') return void req.respond(405);
      req.accept({ body: SDP, contentType: 'application/sdp' });
    },
  });
  late.ua = ua;
  // What UdpTransport.receive does with a datagram from PEER.
  const deliver = (bytes: Buffer): void => {
    const source: MessageSource = {
      transport: 'UDP',
      localAddress: LOCAL.address,
      localPort: LOCAL.port,
      remoteAddress: PEER.address,
      remotePort: PEER.port,
      connectionId: `UDP:${LOCAL.address}:${LOCAL.port}`,
    };
    acceptMessage(inbound, parseDatagram(bytes), source, () => undefined);
  };
  return { clock, transport, deliver, ua };
}

const HOST = `${PEER.address}:${PEER.port}`;
const REMOTE = `${LOCAL.address}:${LOCAL.port}`;

function options(n: number): Buffer {
  return Buffer.from(
    `OPTIONS sip:history@${REMOTE} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${HOST};branch=z9hG4bK-${n}-1-0\r\n` +
      'Max-Forwards: 70\r\n' +
      `From: sipp <sip:sipp@${HOST}>;tag=4242SIPpTag00${n}\r\n` +
      `To: <sip:history@${REMOTE}>\r\n` +
      `Call-ID: ${n}-4242@127.0.0.1\r\n` +
      'CSeq: 1 OPTIONS\r\n' +
      `Contact: <sip:sipp@${HOST}>\r\n` +
      'Accept: application/sdp\r\n' +
      'Content-Length: 0\r\n\r\n',
    'latin1',
  );
}

const SIPP_SDP =
  'v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

function inDialog(method: string, n: number, branch: string, cseq: number, toTag: string | undefined, body = ''): Buffer {
  return Buffer.from(
    `${method} sip:service@${REMOTE} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${HOST};branch=${branch}\r\n` +
      `From: sipp <sip:sipp@${HOST}>;tag=4242SIPpTag00${n}\r\n` +
      `To: service <sip:service@${REMOTE}>${toTag === undefined ? '' : `;tag=${toTag}`}\r\n` +
      `Call-ID: ${n}-4242@127.0.0.1\r\n` +
      `CSeq: ${cseq} ${method}\r\n` +
      `Contact: sip:sipp@${HOST}\r\n` +
      'Max-Forwards: 70\r\n' +
      'Subject: Performance Test\r\n' +
      (body === '' ? '' : 'Content-Type: application/sdp\r\n') +
      `Content-Length: ${body.length}\r\n\r\n${body}`,
    'latin1',
  );
}

/** The To tag of our 200 (the harness reads it back as sipp does with [peer_tag_param]). */
function toTagOf(res: Buffer): string {
  const text = res.toString('latin1');
  const m = /\r\nTo:[^\r]*;tag=([^;\r]+)/i.exec(text);
  if (m === null || !text.startsWith('SIP/2.0 200')) throw new Error(`expected a 200 with a To tag, got: ${text.slice(0, 200)}`);
  return m[1]!;
}

type Scenario = 'options' | 'invite';

/** One call of the scenario; `real` false runs only the harness's own share. */
/** Main-thread nanoseconds spent in deliver() per INVITE, ACK and BYE of the timed calls. */
const split = { ns: [0, 0, 0], timing: false };

function timed(h: Harness, k: number, bytes: Buffer): void {
  if (!split.timing) return h.deliver(bytes);
  const t = process.hrtime.bigint();
  h.deliver(bytes);
  split.ns[k]! += Number(process.hrtime.bigint() - t);
}

function call(h: Harness | undefined, sc: Scenario, n: number): void {
  if (sc === 'options') {
    const b = options(n);
    if (h !== undefined) {
      h.deliver(b);
      if (h.transport.last[8] !== 0x32) throw new Error(`OPTIONS ${n}: no 200`);
    }
    return;
  }
  const invite = inDialog('INVITE', n, `z9hG4bK-${n}-1-0`, 1, undefined, SIPP_SDP);
  let tag = 'harness0';
  if (h !== undefined) {
    timed(h, 0, invite);
    tag = toTagOf(h.transport.last);
  } else toTagOf(Buffer.from(`SIP/2.0 200 OK\r\nTo: <sip:x@y>;tag=${tag}\r\n\r\n`));
  const ack = inDialog('ACK', n, `z9hG4bK-${n}-1-2`, 1, tag);
  const bye = inDialog('BYE', n, `z9hG4bK-${n}-2-0`, 2, tag);
  if (h !== undefined) {
    timed(h, 1, ack);
    timed(h, 2, bye);
    if (h.transport.last[8] !== 0x32) throw new Error(`BYE ${n}: no 200`);
  }
}

interface RunResult {
  /** CPU µs per call over the timed calls. */
  us: number;
  /** With --expose-gc: heap bytes per live server transaction after a full GC. */
  heapPerTx: number | undefined;
  /** INVITE dialogs: main-thread µs in the INVITE, the ACK and the BYE (GC helpers not included). */
  perMessage: number[];
}

function run(sc: Scenario, calls: number, rate: number, real: boolean): RunResult {
  const h = real ? harness() : undefined;
  const warm = Math.floor(calls / 5);
  let cpu0 = process.cpuUsage();
  split.ns = [0, 0, 0];
  split.timing = false;
  for (let n = 0; n < warm + calls; n++) {
    if (n === warm) {
      cpu0 = process.cpuUsage();
      split.timing = true;
    }
    h?.clock.advanceTo((n * 1000) / rate);
    call(h, sc, n);
  }
  const d = process.cpuUsage(cpu0);
  const gc = (globalThis as { gc?: () => void }).gc;
  let heapPerTx: number | undefined;
  if (h !== undefined && gc !== undefined) {
    // What a live server transaction (and what hangs on it) holds: the whole heap, after a
    // full GC, over the transactions alive (the rest of the heap is small beside them).
    gc();
    heapPerTx = process.memoryUsage().heapUsed / h.ua.layer.stats.activeServerTransactions;
  }
  split.timing = false;
  return { us: (d.user + d.system) / calls, heapPerTx, perMessage: split.ns.map((ns) => ns / 1000 / calls) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function main(): void {
  const arg = (name: string, dflt: number): number => {
    const a = process.argv.find((x) => x.startsWith(`--${name}=`));
    const v = a === undefined ? dflt : Number(a.slice(name.length + 3));
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
    return v;
  };
  const only = process.argv.find((x) => x.startsWith('--only='))?.slice(7);
  if (only !== undefined && only !== 'options' && only !== 'invite') throw new Error('--only is options or invite');
  const runs = arg('runs', 3);
  const gcExposed = (globalThis as { gc?: unknown }).gc !== undefined;
  const rows: string[][] = [['Scenario', 'calls/run', 'virtual rate', 'µs CPU per call (median)', 'runs', 'harness µs']];
  rows[0]!.push('main thread µs per INVITE / ACK / BYE');
  if (gcExposed) rows[0]!.push('heap bytes per live server transaction');
  for (const sc of ['options', 'invite'] as const) {
    if (only !== undefined && only !== sc) continue;
    const calls = arg('calls', sc === 'options' ? 300_000 : 100_000);
    const rate = arg('rate', sc === 'options' ? 15_000 : 4_000);
    const hs: number[] = [];
    for (let i = 0; i < 3; i++) hs.push(run(sc, calls, rate, false).us);
    const harnessOnly = median(hs);
    const xs: number[] = [];
    const heap: number[] = [];
    const split3: number[][] = [[], [], []];
    for (let i = 0; i < runs; i++) {
      const r = run(sc, calls, rate, true);
      xs.push(r.us);
      if (r.heapPerTx !== undefined) heap.push(r.heapPerTx);
      r.perMessage.forEach((us, k) => split3[k]!.push(us));
    }
    const row = [
      sc === 'options' ? 'OPTIONS' : 'INVITE dialog',
      String(calls),
      `${rate}/s`,
      (median(xs) - harnessOnly).toFixed(1),
      xs.map((x) => (x - harnessOnly).toFixed(1)).join(' '),
      harnessOnly.toFixed(1),
    ];
    row.push(sc === 'invite' ? split3.map((m) => median(m).toFixed(1)).join(' / ') : '-');
    if (gcExposed) row.push(median(heap).toFixed(0));
    rows.push(row);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((x, c) => x.padEnd(widths[c]!)).join('  '));
}

main();
