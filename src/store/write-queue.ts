/**
 * Group commit for a synchronous database (better-sqlite3): writes issued in the same
 * turn of the event loop — e.g. the MSRP SENDs of many sessions read in one poll phase —
 * run in one transaction, and each write's promise settles only after that transaction
 * has committed. One commit per batch instead of one per message is what makes the
 * throughput target reachable: the commit (WAL append, and fsync with synchronous=FULL) is
 * the per-transaction cost, the rows themselves are cheap.
 *
 * - Order: writes run in call order, in one queue, whatever their kind.
 * - Scheduling: the first write of a batch schedules a flush with setImmediate, so writes
 *   from the rest of the current I/O phase join it; a flush commits at most maxBatch
 *   writes and yields to the event loop before the next batch.
 * - Failure isolation: if a batch throws (one bad write, e.g. an unknown history), it is
 *   rolled back and its writes rerun one per transaction, so only the bad one rejects.
 * - Limits: more than maxQueued writes waiting is StoreOverloadedError, never unbounded
 *   memory (design.md §Conventions 8).
 */
import { StoreClosedError, StoreOverloadedError } from './types.js';

export interface WriteQueueOptions {
  /** Most writes in one transaction. */
  maxBatch: number;
  /** Most writes waiting for a transaction. */
  maxQueued: number;
}

export interface WriteQueueStats {
  /** Transactions committed (batches and isolated reruns). */
  commits: number;
  /** Writes completed, successfully or not. */
  writes: number;
  /** Batches rolled back and rerun one write per transaction. */
  rollbacks: number;
  largestBatch: number;
}

interface Pending {
  op: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class WriteQueue {
  private queue: Pending[] = [];
  private scheduled = false;
  private closed = false;
  private readonly stats: WriteQueueStats = { commits: 0, writes: 0, rollbacks: 0, largestBatch: 0 };

  /**
   * @param transaction runs fn in one transaction: commits if fn returns, rolls back and rethrows if it throws.
   * @param rolledBack called after any rollback, so caches of uncommitted state can be dropped.
   */
  constructor(
    private readonly transaction: (fn: () => void) => void,
    private readonly rolledBack: () => void,
    private readonly opts: WriteQueueOptions,
  ) {}

  enqueue<T>(op: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new StoreClosedError());
    if (this.queue.length >= this.opts.maxQueued) return Promise.reject(new StoreOverloadedError(this.queue.length));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.onImmediate);
      }
    });
  }

  get length(): number {
    return this.queue.length;
  }

  /** Runs every queued write now (before a read, and on close). */
  drain(): void {
    while (this.queue.length > 0) this.runBatch();
  }

  /** Drains, then refuses further writes. */
  close(): void {
    this.drain();
    this.closed = true;
  }

  snapshot(): WriteQueueStats {
    return { ...this.stats };
  }

  private readonly onImmediate = (): void => {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    this.runBatch();
    if (this.queue.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.onImmediate);
    }
  };

  private runBatch(): void {
    const batch = this.queue.splice(0, this.opts.maxBatch);
    const results: unknown[] = new Array<unknown>(batch.length);
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    try {
      this.transaction(() => {
        for (let i = 0; i < batch.length; i++) results[i] = batch[i]!.op();
      });
    } catch (e) {
      this.rolledBack();
      if (batch.length === 1) {
        this.stats.writes++;
        batch[0]!.reject(e);
      } else {
        this.stats.rollbacks++;
        for (const p of batch) this.runAlone(p);
      }
      return;
    }
    this.stats.commits++;
    this.stats.writes += batch.length;
    for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]);
  }

  private runAlone(p: Pending): void {
    let result: unknown;
    this.stats.writes++;
    try {
      this.transaction(() => {
        result = p.op();
      });
    } catch (e) {
      this.rolledBack();
      p.reject(e);
      return;
    }
    this.stats.commits++;
    p.resolve(result);
  }
}
