// A TCP relay for fault tests: listens on a loopback port, forwards every accepted connection
// to a target port, and can cut a connection in the middle of a message: when the bytes going
// one way contain a marker, only the bytes before it are forwarded and then both sockets are
// reset (RST, Node's socket.resetAndDestroy()), as a peer crash or a middlebox would.
import net, { type Server, type Socket } from 'node:net';

export type Direction = 'toTarget' | 'toClient';

interface Pair {
  client: Socket;
  target: Socket;
}

interface Cut {
  direction: Direction;
  marker: Buffer;
  resolve(info: { forwardedBeforeMarker: number }): void;
}

const HOST = '127.0.0.1';

export class TcpFaultRelay {
  readonly pairs = new Set<Pair>();
  resets = 0;
  accepted = 0;
  private cut: Cut | undefined;
  private readonly holes = new Set<Direction>();
  /** Bytes dropped by blackhole(). */
  swallowed = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly targetPort: number,
  ) {}

  static async start(targetPort: number): Promise<TcpFaultRelay> {
    const holder: { relay?: TcpFaultRelay } = {};
    const server = net.createServer((s) => holder.relay?.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, HOST, () => resolve());
    });
    const a = server.address();
    const relay = new TcpFaultRelay(server, typeof a === 'object' && a !== null ? a.port : 0, targetPort);
    holder.relay = relay;
    return relay;
  }

  /**
   * The next time `marker` shows up in bytes going `direction`, forward what precedes it and
   * reset both sides. Resolves when done.
   */
  resetAt(direction: Direction, marker: string): Promise<{ forwardedBeforeMarker: number }> {
    return new Promise((resolve) => {
      this.cut = { direction, marker: Buffer.from(marker), resolve };
    });
  }

  /** From now on bytes going `direction` are read and dropped: the peer seems to stop answering. */
  blackhole(direction: Direction): void {
    this.holes.add(direction);
  }

  private accept(client: Socket): void {
    this.accepted++;
    const target = net.connect({ host: HOST, port: this.targetPort });
    const pair: Pair = { client, target };
    this.pairs.add(pair);
    const tails: Record<Direction, Buffer> = { toTarget: Buffer.alloc(0), toClient: Buffer.alloc(0) };
    const pump = (from: Socket, to: Socket, dir: Direction): void => {
      from.on('data', (chunk: Buffer) => {
        if (this.holes.has(dir)) {
          this.swallowed += chunk.length;
          return;
        }
        const cut = this.cut;
        if (cut !== undefined && cut.direction === dir) {
          const seen = Buffer.concat([tails[dir], chunk]);
          const at = seen.indexOf(cut.marker);
          if (at >= 0) {
            const fromChunk = Math.max(0, at - tails[dir].length);
            this.cut = undefined;
            const reset = (): void => {
              this.resets++;
              client.resetAndDestroy();
              target.resetAndDestroy();
              cut.resolve({ forwardedBeforeMarker: fromChunk });
            };
            if (fromChunk > 0) to.write(chunk.subarray(0, fromChunk), () => setTimeout(reset, 20));
            else reset();
            return;
          }
          tails[dir] = seen.subarray(Math.max(0, seen.length - cut.marker.length + 1));
        }
        to.write(chunk);
      });
    };
    client.pause();
    target.once('connect', () => client.resume());
    pump(client, target, 'toTarget');
    pump(target, client, 'toClient');
    const end = (): void => {
      this.pairs.delete(pair);
      if (!client.destroyed) client.destroy();
      if (!target.destroyed) target.destroy();
    };
    client.on('error', end);
    target.on('error', end);
    client.on('close', end);
    target.on('close', end);
  }

  async close(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.target.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
