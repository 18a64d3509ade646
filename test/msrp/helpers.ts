// Loopback helpers for MSRP tests: raw TCP peers that speak bytes and read frames with our
// parser, and an event waiter with a time limit.
import net from 'node:net';
import type { EventEmitter } from 'node:events';
import { MsrpStreamParser } from '../../src/msrp/parse.js';
import type { MsrpMessage } from '../../src/msrp/message.js';

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The next `event` from an emitter, or a rejection after `ms`. */
export function next<T>(em: EventEmitter, event: string, ms = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      em.off(event, on);
      reject(new Error(`no ${event} within ${ms} ms`));
    }, ms);
    const on = (v: T): void => {
      clearTimeout(timer);
      resolve(v);
    };
    em.once(event, on);
  });
}

/** Frames read from a socket, waited for one at a time. */
export class FrameReader {
  readonly frames: MsrpMessage[] = [];
  private readonly parser = new MsrpStreamParser();
  private waiters: (() => void)[] = [];
  private taken = 0;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      for (const ev of this.parser.push(d)) if (ev.kind === 'message') this.frames.push(ev.message);
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    });
  }

  async next(ms = 3000): Promise<MsrpMessage> {
    const until = Date.now() + ms;
    while (this.taken >= this.frames.length) {
      if (Date.now() > until) throw new Error(`no frame within ${ms} ms`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.frames[this.taken++]!;
  }

  write(s: string | Buffer): void {
    this.socket.write(s);
  }
}

export function rawConnect(port: number): Promise<FrameReader> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(new FrameReader(s)));
    s.once('error', reject);
  });
}

/** A TCP listener handing each accepted connection to the test as a FrameReader. */
export async function rawServer(): Promise<{ port: number; accepted: FrameReader[]; close(): Promise<void> }> {
  const accepted: FrameReader[] = [];
  const server = net.createServer((s) => accepted.push(new FrameReader(s)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return {
    port: typeof a === 'object' && a !== null ? a.port : 0,
    accepted,
    close: () =>
      new Promise<void>((r) => {
        for (const f of accepted) f.socket.destroy();
        server.close(() => r());
      }),
  };
}

/** Polls until cond() holds (bounded). */
export async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await delay(10);
  }
}
