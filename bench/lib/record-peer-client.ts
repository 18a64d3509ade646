// The parent's end of bench/record-peer.ts (JSON lines over the child's stdin/stdout), shared
// by bench/record.ts and bench/scale.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PeerReply {
  [k: string]: unknown;
  errors?: Record<string, number>;
}

export class RecordPeer {
  private readonly waiting: ((r: PeerReply) => void)[] = [];
  readonly ready: Promise<{ factory: string; pid: number }>;

  constructor(readonly child: ChildProcess) {
    const rl = createInterface({ input: child.stdout! });
    let first: ((r: { factory: string; pid: number }) => void) | undefined;
    this.ready = new Promise((resolve) => (first = resolve));
    rl.on('line', (line) => {
      const r = JSON.parse(line) as PeerReply & { ready?: { factory: string; pid: number } };
      if (r.ready !== undefined) return first?.(r.ready);
      this.waiting.shift()?.(r);
    });
  }

  /**
   * Start bench/record-peer.js (beside this file's directory) as a child process.
   * RECORD_PEER_NODE_ARGS (space-separated) are node flags for the peer alone, for diagnosis:
   * e.g. "--cpu-prof --cpu-prof-dir=/tmp/peer" (NODE_OPTIONS refuses --cpu-prof).
   */
  static start(): RecordPeer {
    const peerPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'record-peer.js');
    const nodeArgs = (process.env.RECORD_PEER_NODE_ARGS ?? '').split(' ').filter((a) => a.length > 0);
    return new RecordPeer(spawn(process.execPath, [...nodeArgs, peerPath], { stdio: ['pipe', 'pipe', 'inherit'] }));
  }

  ask(cmd: Record<string, unknown>): Promise<PeerReply> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.child.stdin!.write(JSON.stringify(cmd) + '\n');
    });
  }
}
