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

  /** Start bench/record-peer.js (beside this file's directory) as a child process. */
  static start(): RecordPeer {
    const peerPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'record-peer.js');
    return new RecordPeer(spawn(process.execPath, [peerPath], { stdio: ['pipe', 'pipe', 'inherit'] }));
  }

  ask(cmd: Record<string, unknown>): Promise<PeerReply> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.child.stdin!.write(JSON.stringify(cmd) + '\n');
    });
  }
}
