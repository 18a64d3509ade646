/**
 * The embedded default HistoryStore: one SQLite file (WAL), run by SqliteEngine
 * (sqlite-engine.ts: schema, crash safety, group commit, FTS5 search).
 *
 * By default the engine runs on a worker thread of its own: better-sqlite3 is synchronous
 * and most of a message's cost is native SQLite work (the row, the (history, seq) index,
 * the FTS5 postings, the commit), which would otherwise take the event loop from the SIP
 * and MSRP stacks. The caller's thread only hands the call to a MessagePort, taken at call
 * time so callers may reuse their buffers at once (addMessage calls are encoded into one
 * binary buffer per event-loop turn, sqlite-batch.ts; others are cloned); the worker takes in
 * every call waiting, commits their writes in one transaction, and answers. Calls run in
 * call order, so a read sees every write issued before it. `thread: 'inline'` runs the
 * engine on the caller's thread instead (tools, debugging); the semantics are the same.
 *
 * A write's promise resolves after its transaction committed (see sqlite-engine.ts for
 * why WAL with synchronous=NORMAL survives kill -9): answer MSRP 200 after addMessage.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { SqliteEngine, type SqliteEngineOptions } from './sqlite-engine.js';
import { asBuffer, fromWire, type Call, type StoreMethod, type WorkerHello, type WorkerInit } from './sqlite-protocol.js';
import { forEachReply, MessageBatchWriter, type ReplyBatch } from './sqlite-batch.js';
import type { WriteQueueStats } from './write-queue.js';
import {
  StoreClosedError,
  StoreOverloadedError,
  type ConferenceNotification,
  type HistoryFilter,
  type HistoryPatch,
  type HistoryRecord,
  type HistoryStore,
  type MessageQuery,
  type NewHistory,
  type NewMessage,
  type Participant,
  type RosterEvent,
  type SearchHit,
  type SearchQuery,
  type SipEvent,
  type StoredMessage,
} from './types.js';

export interface SqliteStoreOptions extends SqliteEngineOptions {
  /** 'worker' (default): the database work runs on a thread of its own; 'inline': on the caller's thread. */
  thread?: 'worker' | 'inline';
  /** Most calls waiting for the store (worker) or writes waiting for a transaction (inline) before StoreOverloadedError; default 100000. */
  maxQueued?: number;
}

type Engine = Record<StoreMethod, (...args: unknown[]) => unknown>;
type Result<M extends StoreMethod> = Awaited<ReturnType<SqliteEngine[M]>>;

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

const DEFAULT_MAX_QUEUED = 100_000;

const WORKER_REFUSED_FLAGS = ['--input-type', '--expose-gc', '--max-semi-space-size', '--max-old-space-size', '--max_semi_space_size', '--max_old_space_size'];

export class SqliteStore implements HistoryStore {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closing: Promise<void> | undefined;
  private dead: Error | undefined;

  private constructor(
    private readonly engine: SqliteEngine | undefined,
    private readonly worker: Worker | undefined,
    private readonly port: MessagePort | undefined,
    private readonly maxQueued: number,
  ) {
    port?.on('message', (replies: ReplyBatch) => this.onReplies(replies));
  }

  /** Opens (creating the directory and file when missing) and migrates; ':memory:' for a throwaway database. */
  static async open(path: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    const { thread, ...engineOptions } = options;
    if (thread === 'inline') return new SqliteStore(SqliteEngine.open(path, engineOptions), undefined, undefined, 0);
    const { port1, port2 } = new MessageChannel();
    const init: WorkerInit & { port: MessagePort } = {
      path,
      // The caller's side enforces maxQueued: it is where calls wait.
      options: { ...engineOptions, maxQueued: Number.MAX_SAFE_INTEGER },
      port: port2,
    };
    const worker = new Worker(new URL('./sqlite-worker.js', import.meta.url), {
      workerData: init,
      transferList: [port2],
      // The worker is a module file: a host started with --input-type (node -e) must not pass that on.
      // Workers refuse some process-wide flags (ERR_WORKER_INVALID_EXEC_ARGV): --expose-gc and the
      // heap sizes (a worker's heap is set by resourceLimits), e.g. `node --max-semi-space-size=32`.
      execArgv: process.execArgv.filter((a) => !WORKER_REFUSED_FLAGS.some((f) => a.startsWith(f))),
    });
    const hello = await new Promise<WorkerHello>((resolve, reject) => {
      port1.once('message', (m: WorkerHello) => resolve(m));
      worker.once('error', reject);
      // A worker that failed to open posts its error and ends at once: its 'exit' can overtake
      // the delivery of that message, so look for it on the port before calling it a crash.
      worker.once('exit', (code) => {
        const queued = receiveMessageOnPort(port1);
        if (queued !== undefined) resolve(queued.message as WorkerHello);
        else reject(new Error(`store worker exited (${code}) while opening ${path}`));
      });
    });
    worker.removeAllListeners('error').removeAllListeners('exit');
    if (!hello.ready) {
      await worker.terminate();
      throw fromWire(hello.error);
    }
    const store = new SqliteStore(undefined, worker, port1, options.maxQueued ?? DEFAULT_MAX_QUEUED);
    worker.on('error', (e) => store.fail(e));
    worker.on('exit', (code) => store.fail(new Error(`store worker exited (${code})`)));
    // Only calls in flight keep the process alive (port ref'd while pending), never an idle store.
    worker.unref();
    port1.unref();
    return store;
  }

  createHistory(h: NewHistory): Promise<HistoryRecord> {
    return this.call('createHistory', [h]);
  }
  updateHistory(id: string, patch: HistoryPatch): Promise<void> {
    return this.call('updateHistory', [id, patch]);
  }
  addSipEvent(id: string, ev: SipEvent): Promise<void> {
    return this.call('addSipEvent', [id, ev]);
  }
  addConferenceNotification(id: string, n: ConferenceNotification): Promise<void> {
    return this.call('addConferenceNotification', [id, n]);
  }
  getHistory(id: string): Promise<HistoryRecord | undefined> {
    return this.call('getHistory', [id]);
  }
  listHistories(filter?: HistoryFilter): Promise<HistoryRecord[]> {
    return this.call('listHistories', [filter]);
  }
  sipEvents(id: string): Promise<SipEvent[]> {
    return this.call('sipEvents', [id]);
  }
  conferenceNotifications(id: string): Promise<ConferenceNotification[]> {
    return this.call('conferenceNotifications', [id]);
  }
  addMessage(historyId: string, m: NewMessage): Promise<number> {
    return this.call('addMessage', [historyId, m]);
  }
  async messages(historyId: string, q?: MessageQuery): Promise<StoredMessage[]> {
    const list = await this.call('messages', [historyId, q]);
    if (this.worker !== undefined) for (const m of list) m.body = asBuffer(m.body);
    return list;
  }
  addRosterEvent(historyId: string, e: RosterEvent): Promise<void> {
    return this.call('addRosterEvent', [historyId, e]);
  }
  rosterEvents(historyId: string): Promise<RosterEvent[]> {
    return this.call('rosterEvents', [historyId]);
  }
  participants(historyId: string): Promise<Participant[]> {
    return this.call('participants', [historyId]);
  }
  searchMessages(q: SearchQuery): Promise<SearchHit[]> {
    return this.call('searchMessages', [q]);
  }
  historiesVisibleTo(aor: string): Promise<HistoryRecord[]> {
    return this.call('historiesVisibleTo', [aor]);
  }
  deleteHistory(id: string): Promise<boolean> {
    return this.call('deleteHistory', [id]);
  }

  /** Problems found by SQLite's integrity_check and FTS5's own check; [] when the file is sound. */
  integrityCheck(): Promise<string[]> {
    return this.call('integrityCheck', []);
  }
  schemaVersion(): Promise<number> {
    return this.call('schemaVersion', []);
  }
  /** Group-commit counters: writes per commit is the batching actually achieved. */
  writeStats(): Promise<WriteQueueStats> {
    return this.call('writeStats', []);
  }

  /** Commits what is queued, checkpoints the WAL into the main file, closes (and ends the worker). Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.engine !== undefined) return this.engine.close();
    if (this.dead !== undefined) return;
    const exited = new Promise<void>((resolve) => this.worker?.once('exit', () => resolve()));
    // Keep the process alive until the worker has checkpointed, closed the file and ended.
    this.worker?.ref();
    await this.send('close', []);
    this.port?.close();
    await exited;
  }

  private call<M extends StoreMethod>(method: M, args: unknown[]): Promise<Result<M>> {
    if (this.closing !== undefined) return Promise.reject(new StoreClosedError());
    return this.send(method, args) as Promise<Result<M>>;
  }

  private send(method: StoreMethod, args: unknown[]): Promise<unknown> {
    if (this.engine !== undefined) {
      try {
        return Promise.resolve((this.engine as unknown as Engine)[method].apply(this.engine, args));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    if (this.dead !== undefined) return Promise.reject(this.dead);
    if (this.pending.size >= this.maxQueued) return Promise.reject(new StoreOverloadedError(this.pending.size));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (method === 'addMessage') {
        // The hot path: messages added during one turn of the event loop (every socket read
        // of the poll phase) travel as one port message, posted from setImmediate: one
        // wake-up of the worker and one binary buffer, transferred, instead of a clone per
        // message (sqlite-batch.ts). Each message is encoded now, so later changes to the
        // caller's buffer or arrays do not reach the store (the contract of every backend).
        const [historyId, m] = args as [string, NewMessage];
        if (this.batch.count === 0) setImmediate(this.flushBatch);
        this.batch.append(id, historyId, m);
      } else {
        // Anything else is cloned now, after the messages waiting in the batch (call order).
        this.flushBatch();
        this.port!.postMessage({ id, method, args } satisfies Call);
      }
      if (this.pending.size === 0) this.port!.ref();
      this.pending.set(id, { resolve, reject });
    });
  }

  private readonly batch = new MessageBatchWriter();
  private readonly flushBatch = (): void => {
    if (this.dead !== undefined) return;
    const b = this.batch.take();
    if (b !== undefined) this.port!.postMessage(b, [b.buffer]);
  };

  private onReplies(replies: ReplyBatch): void {
    forEachReply(replies, (id, value, error) => {
      const p = this.pending.get(id);
      if (p === undefined) return;
      this.pending.delete(id);
      if (error !== undefined) p.reject(fromWire(error));
      else p.resolve(value);
    });
    if (this.pending.size === 0) this.port?.unref();
  }

  private fail(e: Error): void {
    this.dead ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.port?.close();
  }
}
