/**
 * The thread SqliteStore runs its SqliteEngine on. Each time calls arrive it takes in every
 * call already waiting on the port (receiveMessageOnPort), starts them in order, commits
 * the writes among them in one transaction (group commit across all sessions that wrote
 * meanwhile), and posts the replies back together once they have settled.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { SqliteEngine } from './sqlite-engine.js';
import { STORE_METHODS, toWire, type Call, type Reply, type WorkerHello, type WorkerInit } from './sqlite-protocol.js';
import { decodeMessageBatch, encodeReplies, isMessageBatch, type MessageBatch } from './sqlite-batch.js';

const { path, options, port } = workerData as WorkerInit & { port: MessagePort };
if (parentPort === null) throw new Error('sqlite-worker runs as a worker thread only');

function open(): SqliteEngine | undefined {
  try {
    return SqliteEngine.open(path, options);
  } catch (e) {
    // The caller gets the error; closing the port then ends this thread quietly.
    port.postMessage({ ready: false, error: toWire(e) } satisfies WorkerHello);
    port.close();
    return undefined;
  }
}

const methods = new Set<string>(STORE_METHODS);

function start(engine: SqliteEngine, c: Call): Promise<Reply> {
  if (!methods.has(c.method)) return Promise.resolve({ id: c.id, error: { name: 'Error', message: `no store method ${c.method}` } });
  const fn = (engine as unknown as Record<string, (...a: unknown[]) => unknown>)[c.method]!;
  let result: Promise<unknown>;
  try {
    result = Promise.resolve(fn.apply(engine, c.args));
  } catch (e) {
    result = Promise.reject(e);
  }
  return result.then(
    (value) => ({ id: c.id, value }),
    (e: unknown) => ({ id: c.id, error: toWire(e) }),
  );
}

const engine = open();
if (engine !== undefined) {
  port.postMessage({ ready: true } satisfies WorkerHello);
  // A port message is one call, or the addMessage calls one tick of the caller made, encoded
  // (sqlite.ts send, sqlite-batch.ts).
  const take = (m: Call | MessageBatch, into: Promise<Reply>[]): void => {
    if (isMessageBatch(m)) for (const c of decodeMessageBatch(m)) into.push(start(engine, c));
    else into.push(start(engine, m));
  };
  port.on('message', (first: Call | MessageBatch) => {
    const replies: Promise<Reply>[] = [];
    take(first, replies);
    for (let next = receiveMessageOnPort(port); next !== undefined; next = receiveMessageOnPort(port)) take(next.message as Call | MessageBatch, replies);
    engine.flush();
    // After 'close' the caller closes its end of the channel, which ends this thread.
    void Promise.all(replies).then((r) => port.postMessage(encodeReplies(r)));
  });
}
