/**
 * The load generator's fast path for bench/record-peer.ts "push": MSRP SENDs (RFC 4975 §7.1)
 * written straight to the sockets of already open sessions, their 200s read by a small
 * scanner, so the generator's own CPU stays out of the History Function's way on a shared
 * 2-core machine (as sipp, not a full stack, is the SIP benches' load generator).
 *
 * What goes on the wire is what MsrpSession.send would write for a one-chunk message: start
 * line with a fresh transaction id, To-Path (the History Function's path), From-Path (ours),
 * a fresh Message-ID, Byte-Range 1-N/N, Content-Type, the body, the end-line with `$`. The
 * History Function parses, checks and answers each one exactly as any other SEND.
 *
 * While a push runs it owns each connection's 'data' event (the session's own MsrpConnection
 * listener is set aside and put back afterwards, at a frame boundary: the push ends only when
 * every SEND has its response). Writes made in one tick go out together (cork/uncork).
 */
import type { Socket } from 'node:net';
import type { MsrpSession } from '../../src/msrp/session.js';

type Listener = (chunk: Buffer) => void;

/** One taken-over connection: frames out, responses matched to their transaction ids. */
class LeanConnection {
  private readonly socket: Socket;
  private readonly saved: Listener[];
  private readonly waiting = new Map<string, (status: number) => void>();
  private acc = '';
  private corked = false;
  private readonly onData = (chunk: Buffer): void => this.read(chunk);

  constructor(socket: Socket) {
    this.socket = socket;
    this.saved = socket.listeners('data') as Listener[];
    socket.removeAllListeners('data');
    socket.on('data', this.onData);
    socket.once('close', this.onClose);
  }

  /** A closed connection answers nothing more: what waits fails (status 0). */
  private readonly onClose = (): void => {
    for (const done of this.waiting.values()) done(0);
    this.waiting.clear();
  };

  write(frame: string, tid: string, done: (status: number) => void): void {
    if (this.socket.destroyed) return done(0);
    this.waiting.set(tid, done);
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(frame, 'latin1');
  }

  /** Responses only come back (no Success-Report asked for): start line, headers, end-line. */
  private read(chunk: Buffer): void {
    this.acc += chunk.toString('latin1');
    let at = 0;
    for (;;) {
      const eol = this.acc.indexOf('\r\n', at);
      if (eol < 0) break;
      // "MSRP <tid> <code>[ comment]"
      const sp1 = this.acc.indexOf(' ', at);
      const sp2 = this.acc.indexOf(' ', sp1 + 1);
      const tid = this.acc.slice(sp1 + 1, sp2);
      const endLine = `-------${tid}`;
      const end = this.acc.indexOf(endLine, eol);
      if (end < 0 || end + endLine.length + 3 > this.acc.length) break;
      const status = Number(this.acc.slice(sp2 + 1, sp2 + 4));
      at = end + endLine.length + 3; // flag + CRLF
      const done = this.waiting.get(tid);
      this.waiting.delete(tid);
      done?.(status);
    }
    this.acc = this.acc.slice(at);
  }

  debugState(): string {
    return `${this.waiting.size} waiting, unread ${JSON.stringify(this.acc.slice(0, 300))}`;
  }

  get idle(): boolean {
    return this.waiting.size === 0 && this.acc.length === 0;
  }

  /** Hands the socket back to its MsrpConnection (call only when idle). */
  release(): void {
    this.socket.removeListener('data', this.onData);
    this.socket.removeListener('close', this.onClose);
    for (const l of this.saved) this.socket.on('data', l);
  }
}

export interface LeanSender {
  /** Sends one message/cpim body; resolves with the response status. */
  send(session: MsrpSession, body: Buffer): Promise<number>;
  /** Gives every connection back to the MSRP stack. */
  release(): void;
}

/** Takes over the connections of `sessions` (all open) for a push. */
export function leanSender(sessions: readonly MsrpSession[]): LeanSender {
  const byConn = new Map<unknown, LeanConnection>();
  const of = new Map<MsrpSession, { lean: LeanConnection; head: string }>();
  let seq = 0;
  const prefix = `p${process.pid.toString(36)}x`;
  for (const s of sessions) {
    const conn = s.connection;
    if (conn === undefined) throw new Error('session has no connection');
    let lean = byConn.get(conn);
    if (lean === undefined) {
      // The MsrpConnection's socket is private to the MSRP stack; the bench borrows it.
      lean = new LeanConnection((conn as unknown as { socket: Socket }).socket);
      byConn.set(conn, lean);
    }
    of.set(s, { lean, head: `\r\nTo-Path: ${s.peerPath!.join(' ')}\r\nFrom-Path: ${s.localUri}\r\nMessage-ID: ` });
  }
  return {
    send(session, body) {
      const o = of.get(session);
      if (o === undefined) return Promise.reject(new Error('session not taken over'));
      const id = prefix + (seq++).toString(36);
      const n = body.length;
      const frame = `MSRP ${id} SEND${o.head}${id}\r\nByte-Range: 1-${n}/${n}\r\nContent-Type: message/cpim\r\n\r\n${body.toString('latin1')}\r\n-------${id}$\r\n`;
      return new Promise((resolve) => o.lean.write(frame, id, resolve));
    },
    release() {
      for (const lean of byConn.values()) {
        if (!lean.idle) throw new Error(`lean push released with responses outstanding: ${lean.debugState()}`);
        lean.release();
      }
    },
  };
}
