// A seeded UDP fault injector for tests (issue 6: this kernel has no netem, so loss,
// duplication and reordering are made here, in user space, on loopback).
//
// Every real endpoint (a SIP stack's UDP socket) is registered with add(name, realPort) and
// gets a stand-in socket in the proxy. An endpoint advertises its stand-in port (Via, Contact)
// and peers address it there. A datagram arriving at endpoint B's stand-in from endpoint A's
// real socket is forwarded to B's real socket from A's stand-in, so B sees it come from A's
// stand-in and answers there (RFC 3581 rport) — every datagram between registered endpoints
// crosses the proxy both ways. Datagrams from unregistered sources are dropped and counted.
//
// Faults, each decided per datagram by a seeded PRNG (mulberry32), so a failing run can be
// replayed with its seed: loss (dropped), duplicate (sent twice), reorder (held back for a
// random delay so later datagrams overtake it). Counters say what was done.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
// mulberry32, the seeded PRNG the fuzzers use: fault decisions replay from FAULT_SEED.
import { mulberry32 } from '../fuzz/engine.js';

export interface FaultSettings {
  /** Probability a datagram is dropped. */
  loss: number;
  /** Probability a (not dropped) datagram is sent twice. */
  duplicate: number;
  /** Probability a datagram is held back by a random delay in [1, maxDelayMs] ms. */
  reorder: number;
  maxDelayMs: number;
  seed: number;
}

export interface FaultCounts {
  received: number;
  forwarded: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  unknownSource: number;
}

interface Endpoint {
  name: string;
  realPort: number;
  standIn: Socket;
  standInPort: number;
}


const HOST = '127.0.0.1';

export class UdpFaultProxy {
  readonly counts: FaultCounts = { received: 0, forwarded: 0, dropped: 0, duplicated: 0, reordered: 0, unknownSource: 0 };
  /** Per direction ("alice->history"), the same counters. */
  readonly byLink = new Map<string, FaultCounts>();
  /** Dropped datagrams by link and first token ("history->focus BYE", "focus->history SIP/2.0"). */
  readonly droppedKinds = new Map<string, number>();
  private readonly endpoints: Endpoint[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Endpoints that no longer receive (some) datagrams: a peer that stopped answering. */
  private readonly silenced = new Map<string, (datagram: Buffer) => boolean>();
  private readonly random: () => number;
  private settings: FaultSettings;
  private closed = false;

  constructor(settings: FaultSettings) {
    this.settings = { ...settings };
    this.random = mulberry32(settings.seed);
  }

  /** Change the fault rates (e.g. none while a session is set up, then faults). */
  set(s: Partial<Omit<FaultSettings, 'seed'>>): void {
    this.settings = { ...this.settings, ...s };
  }

  /**
   * From now on every datagram to `name` (or those `which` picks, e.g. NOTIFY requests) is
   * dropped and counted as dropped: the peer stops answering.
   */
  silence(name: string, which: (datagram: Buffer) => boolean = () => true): void {
    this.silenced.set(name, which);
  }

  /** Register an endpoint's real UDP port; returns the stand-in port its peers must use. */
  async add(name: string, realPort: number): Promise<number> {
    const standIn = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      standIn.once('error', reject);
      standIn.bind(0, HOST, () => {
        standIn.off('error', reject);
        resolve();
      });
    });
    const ep: Endpoint = { name, realPort, standIn, standInPort: standIn.address().port };
    standIn.on('message', (msg, rinfo) => this.onMessage(ep, msg, rinfo));
    standIn.on('error', () => undefined);
    this.endpoints.push(ep);
    return ep.standInPort;
  }

  private link(from: string, to: string): FaultCounts {
    const k = `${from}->${to}`;
    let c = this.byLink.get(k);
    if (c === undefined) {
      c = { received: 0, forwarded: 0, dropped: 0, duplicated: 0, reordered: 0, unknownSource: 0 };
      this.byLink.set(k, c);
    }
    return c;
  }

  private onMessage(to: Endpoint, msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return;
    this.counts.received++;
    const from = this.endpoints.find((e) => e.realPort === rinfo.port && (rinfo.address === HOST || rinfo.address === '::ffff:127.0.0.1'));
    if (from === undefined) {
      this.counts.unknownSource++;
      return;
    }
    const link = this.link(from.name, to.name);
    link.received++;
    const s = this.settings;
    if (this.silenced.get(to.name)?.(msg) === true || this.random() < s.loss) {
      this.counts.dropped++;
      link.dropped++;
      const kind = `${from.name}->${to.name} ${msg.subarray(0, Math.max(0, msg.indexOf(0x20))).toString('latin1')}`;
      this.droppedKinds.set(kind, (this.droppedKinds.get(kind) ?? 0) + 1);
      return;
    }
    const copies = this.random() < s.duplicate ? 2 : 1;
    if (copies === 2) {
      this.counts.duplicated++;
      link.duplicated++;
    }
    for (let i = 0; i < copies; i++) {
      if (this.random() < s.reorder) {
        this.counts.reordered++;
        link.reordered++;
        const ms = 1 + Math.floor(this.random() * s.maxDelayMs);
        const t = setTimeout(() => {
          this.timers.delete(t);
          this.forward(from, to, msg, link);
        }, ms);
        this.timers.add(t);
      } else this.forward(from, to, msg, link);
    }
  }

  private forward(from: Endpoint, to: Endpoint, msg: Buffer, link: FaultCounts): void {
    if (this.closed) return;
    this.counts.forwarded++;
    link.forwarded++;
    from.standIn.send(msg, to.realPort, HOST);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all(this.endpoints.map((e) => new Promise<void>((resolve) => e.standIn.close(() => resolve()))));
  }
}
