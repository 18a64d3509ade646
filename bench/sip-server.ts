/**
 * bench/sip-server: im-history's SIP core as a standalone UAS for bench/transactions.
 *
 *   node dist/bench/sip-server.js --port N [--transport udp|tcp] [--address 127.0.0.1]
 *                                 [--max-server-transactions N]
 *
 * It runs the UserAgent of src/sip/ua on the systemClock, exactly as test/interop/sipp-core
 * starts one: OPTIONS is answered by the UA itself (RFC 3261 §11.2), an INVITE is accepted
 * with a 200 + SDP (the UA retransmits it until the ACK, §13.3.1.4), BYE ends the dialog
 * (§15.1.2), anything else gets 405. Nothing is logged per message.
 *
 * stdout protocol (one JSON object per line, so a parent can read it):
 *   READY {"transport":"udp","address":"127.0.0.1","port":N,"pid":P,"maxServerTransactions":M}
 *   STATS {...}   on SIGUSR2, and once more on SIGTERM/SIGINT just before exiting
 * STATS holds the transaction layer's counters (ua.layer.stats: retransmissions sent and
 * absorbed, timeouts, 503s over the limit, live transactions), INVITEs accepted, BYEs
 * received, dialogs still open, and the process's own CPU time and memory.
 *
 * --recv-buffer BYTES is an experiment: it sets SO_RCVBUF on the UDP socket, which the
 * transport does not do (so it runs with net.core.rmem_default, 208 KB here); the kernel
 * caps the value at net.core.rmem_max.
 *
 * SIGTERM/SIGINT end the process with process.exit(0), so `node --cpu-prof` writes its
 * profile. maxServerTransactions defaults to 1,000,000 here (the server's default is 10,000):
 * a non-INVITE server transaction over UDP stays in Completed for Timer J = 64*T1 = 32 s
 * (§17.2.2), so at R OPTIONS/s about 32*R transactions are alive at once, and 10,000 would
 * cap a sustained rate at ~312/s with 503s beyond.
 */
import dgram from 'node:dgram';
import { createTransports, type SipTransports } from '../src/sip/transport/index.js';
import { UserAgent } from '../src/sip/ua/user-agent.js';

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n';
const SERVER = 'IM-serv/OMA1.0 im-history/bench';

interface Args {
  port: number;
  address: string;
  transport: 'udp' | 'tcp';
  maxServerTransactions: number;
  /** Experiment only: SO_RCVBUF for the UDP socket (the transport leaves the OS default). */
  recvBuffer: number | undefined;
}

function usage(msg: string): never {
  process.stderr.write(`sip-server: ${msg}\nusage: sip-server --port N [--transport udp|tcp] [--address A] [--max-server-transactions N] [--recv-buffer BYTES]\n`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { port: -1, address: '127.0.0.1', transport: 'udp', maxServerTransactions: 1_000_000, recvBuffer: undefined };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) usage(`${flag} needs a value`);
      return v;
    };
    const int = (v: string, min: number): number => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) usage(`${flag}: bad number ${v}`);
      return n;
    };
    switch (flag) {
      case '--port':
        a.port = int(value(), 0);
        break;
      case '--address':
        a.address = value();
        break;
      case '--transport': {
        const t = value().toLowerCase();
        if (t !== 'udp' && t !== 'tcp') usage(`--transport must be udp or tcp, got ${t}`);
        a.transport = t;
        break;
      }
      case '--max-server-transactions':
        a.maxServerTransactions = int(value(), 1);
        break;
      case '--recv-buffer':
        a.recvBuffer = int(value(), 1024);
        break;
      default:
        usage(`unknown argument ${flag}`);
    }
  }
  if (a.port < 0 || a.port > 65_535) usage('--port is required (0 = any free port)');
  return a;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.recvBuffer !== undefined) {
    // An experiment, not the shipped configuration: src/sip/transport/udp.ts creates its
    // socket with dgram.createSocket and no recvBufferSize, so it gets net.core.rmem_default.
    const original = dgram.createSocket.bind(dgram) as (o: dgram.SocketOptions) => dgram.Socket;
    const size = args.recvBuffer;
    (dgram as { createSocket: unknown }).createSocket = (o: dgram.SocketType | dgram.SocketOptions) =>
      original({ ...(typeof o === 'string' ? { type: o } : o), recvBufferSize: size });
  }
  const late: { ua?: UserAgent } = {};
  const listen = [{ address: args.address, port: args.port }];
  const transports: SipTransports = await createTransports(
    args.transport === 'udp' ? { udp: listen } : { tcp: listen },
    { message: (m) => late.ua?.receive(m), parseError: () => undefined },
  );
  let invites = 0;
  let byes = 0;
  const ended = new Map<string, number>();
  const ua = new UserAgent({
    transport: transports,
    profile: { methods: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS'], optionTags: ['timer'] },
    serverHeader: SERVER,
    userAgentHeader: SERVER,
    maxServerTransactions: args.maxServerTransactions,
    onRequest: (req) => {
      if (req.request.method !== 'INVITE') return void req.respond(405);
      invites++;
      req.accept({ body: SDP, contentType: 'application/sdp' });
    },
    onDialogTerminated: (_d, why) => {
      if (why === 'BYE received') byes++;
      else ended.set(why, (ended.get(why) ?? 0) + 1);
    },
  });
  late.ua = ua;

  const recvBufferSize = (): number | undefined => {
    const t = transports.udp as unknown as { sockets?: { socket: dgram.Socket }[] } | undefined;
    try {
      return t?.sockets?.[0]?.socket.getRecvBufferSize();
    } catch {
      return undefined;
    }
  };
  const stats = () => {
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    return {
      layer: ua.layer.stats,
      invitesAccepted: invites,
      byesReceived: byes,
      openDialogs: ua.dialogs.size,
      /** Dialogs that ended other than by a received BYE, by reason. */
      dialogsEndedOtherwise: Object.fromEntries(ended),
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      rssBytes: mem.rss,
      recvBufferBytes: recvBufferSize(),
      heapUsedBytes: mem.heapUsed,
    };
  };
  const print = (): void => void process.stdout.write(`STATS ${JSON.stringify(stats())}\n`);

  let closing = false;
  const shutdown = (): void => {
    if (closing) return;
    closing = true;
    print();
    // Bounded: the parent kills by PID anyway if this hangs.
    const hard = setTimeout(() => process.exit(0), 1000);
    hard.unref();
    void ua
      .close()
      .then(() => transports.close())
      .finally(() => process.exit(0));
  };
  process.on('SIGUSR2', print);
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  const l = transports.listening[0];
  if (l === undefined) throw new Error('no listener bound');
  process.stdout.write(
    `READY ${JSON.stringify({ transport: args.transport, address: l.address, port: l.port, pid: process.pid, maxServerTransactions: args.maxServerTransactions })}\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`sip-server: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
