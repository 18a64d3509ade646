/**
 * bench/node-floor: the least a Node.js UAS can do per message, for bench/transactions to
 * measure beside im-history (the "Node floor" column). It is NOT a SIP implementation: no
 * parser, no validation, no transactions, no dialogs, no timers. Each datagram is read as
 * latin1 text; OPTIONS, INVITE and BYE get a 200 built by copying the Via, From, To (plus a
 * To tag when it has none), Call-ID and CSeq lines (INVITE: with a Contact and an SDP body);
 * ACK and anything else is dropped. Sends go through dgram with a lookup that hands the
 * address straight back (as src/sip/transport/udp.ts does for IP literals) and an error
 * callback, as the transport's do.
 *
 * What it shows: the rate Node's dgram path (one recvmsg, one 'message' callback, one
 * sendmsg per datagram) sustains on this machine with sipp as the peer. The gap between it
 * and im-history is our own per-message work; the gap between it and the sipp UAS is Node.
 *
 *   node dist/bench/node-floor.js --port N [--address 127.0.0.1] [--recv-buffer BYTES]
 *
 * stdout: READY {"port":N,"pid":P} once bound.
 */
import dgram from 'node:dgram';

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n';

function usage(msg: string): never {
  process.stderr.write(`node-floor: ${msg}\nusage: node-floor --port N [--address A] [--recv-buffer BYTES]\n`);
  process.exit(2);
}

function args(argv: readonly string[]): { port: number; address: string; recvBuffer: number | undefined } {
  const a = { port: -1, address: '127.0.0.1', recvBuffer: undefined as number | undefined };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const v = argv[++i];
    if (v === undefined) usage(`${flag} needs a value`);
    if (flag === '--port') a.port = Number(v);
    else if (flag === '--address') a.address = v;
    else if (flag === '--recv-buffer') a.recvBuffer = Number(v);
    else usage(`unknown argument ${flag}`);
  }
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65_535) usage('--port is required (0 = any free port)');
  return a;
}

/** The whole header line `name: ...\r\n` (long form, as sipp writes it), or ''. */
function line(text: string, name: string): string {
  const i = text.indexOf(`\r\n${name}:`);
  if (i < 0) return '';
  const e = text.indexOf('\r\n', i + 2);
  return e < 0 ? '' : text.slice(i + 2, e + 2);
}

const o = args(process.argv.slice(2));
const socket = dgram.createSocket({
  type: 'udp4',
  ...(o.recvBuffer !== undefined ? { recvBufferSize: o.recvBuffer } : {}),
  lookup: ((address: string, _family: number, cb: (err: Error | null, a: string, f: number) => void) => cb(null, address, 4)) as never,
});
/** A To tag that is the same for every copy of a call's requests (FNV-1a of its Call-ID line). */
function tagOf(callId: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < callId.length; i++) h = Math.imul(h ^ callId.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

socket.on('message', (buf, rinfo) => {
  const text = buf.toString('latin1');
  const invite = text.startsWith('INVITE ');
  if (!invite && !text.startsWith('OPTIONS ') && !text.startsWith('BYE ')) return;
  const callId = line(text, 'Call-ID');
  let to = line(text, 'To');
  // A retransmitted INVITE must get the same 200 (sipp compares it with the first one).
  if (to !== '' && !to.includes(';tag=')) to = `${to.slice(0, -2)};tag=f${tagOf(callId)}\r\n`;
  let res = `SIP/2.0 200 OK\r\n${line(text, 'Via')}${line(text, 'From')}${to}${callId}${line(text, 'CSeq')}`;
  res += invite
    ? `Contact: <sip:${o.address}:${port}>\r\nContent-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`
    : 'Content-Length: 0\r\n\r\n';
  socket.send(Buffer.from(res, 'latin1'), rinfo.port, rinfo.address, (err) => {
    if (err) process.stderr.write(`send: ${err.message}\n`);
  });
});
let port = 0;
socket.bind(o.port, o.address, () => {
  port = socket.address().port;
  process.stdout.write(`READY ${JSON.stringify({ port, pid: process.pid })}\n`);
});
const stop = (): void => void socket.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
