// Kamailio (Debian package "kamailio") as the SIP load balancer in front of several History
// Function instances: the dispatcher module spreads initial requests round-robin, probes
// every instance with OPTIONS, and a failure_route moves a request that timed out (or was
// refused 503) to the next instance. Used by test/interop/dispatcher.test.ts and bench/scale.ts.
//
// Dialogs are not record-routed: the instance that answered a REFER is reached directly at
// its Contact for the rest of the dialog, so the balancer only ever sees initial requests
// (the choice and its reasons are in docs/scaling.md).
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const KAMAILIO_MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules/';

export interface DispatcherOptions {
  /** UDP port Kamailio listens on (127.0.0.1). */
  port: number;
  /** The instances: host:port of each one's SIP UDP listener. */
  instances: string[];
  /** tm fr_timer: how long a branch may stay unanswered before failover (ms). */
  branchTimeoutMs?: number;
  /** Seconds between OPTIONS probes of each instance. */
  pingIntervalS?: number;
  /** Kamailio's log level (1 = errors and notices, 2 = info, 3 = debug). */
  debug?: number;
  children?: number;
  /** Also listen on TCP (same port). Default: UDP only. */
  tcp?: boolean;
  /** How Kamailio reaches the instances (default udp). */
  instanceTransport?: 'udp' | 'tcp';
}

/** The routing script: balance initial requests, fail over on timeout or 503. */
export function dispatcherConfig(o: DispatcherOptions, listFile: string): string {
  return `#!KAMAILIO
debug=${o.debug ?? 2}
log_stderror=yes
children=${o.children ?? 2}
auto_aliases=no
${o.tcp === true ? `tcp_children=${o.children ?? 2}\nlisten=tcp:127.0.0.1:${o.port}\n# A burst of requests onto a connection still being set up must not overflow its queue.\ntcp_conn_wq_max=4194304\ntcp_wq_max=67108864` : 'disable_tcp=yes'}
disable_sctp=yes
listen=udp:127.0.0.1:${o.port}
mpath="${KAMAILIO_MODULES}"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "dispatcher.so"
modparam("tm", "fr_timer", ${o.branchTimeoutMs ?? 2000})
modparam("tm", "fr_inv_timer", 60000)
modparam("dispatcher", "list_file", "${listFile}")
modparam("dispatcher", "flags", 2)
modparam("dispatcher", "ds_ping_method", "OPTIONS")
modparam("dispatcher", "ds_ping_from", "sip:dispatcher@127.0.0.1:${o.port}")
modparam("dispatcher", "ds_ping_interval", ${o.pingIntervalS ?? 1})
modparam("dispatcher", "ds_probing_mode", 1)
modparam("dispatcher", "ds_probing_threshold", 1)
modparam("dispatcher", "ds_inactive_threshold", 1)
modparam("dispatcher", "ds_ping_reply_codes", "class=2")

request_route {
    if (!mf_process_maxfwd_header("10")) {
        sl_send_reply("483", "Too Many Hops");
        exit;
    }
    # A retransmission of a request in progress is absorbed here, before it could be
    # dispatched (and advance the round-robin) again.
    if (t_precheck_trans()) {
        t_check_trans();
        exit;
    }
    t_check_trans();
    if (is_method("CANCEL")) {
        if (t_check_trans()) t_relay();
        exit;
    }
    if (has_totag()) {
        # Not record-routed, so in-dialog requests reach the instance directly; one that
        # comes here anyway is relayed by its Request-URI.
        t_relay();
        exit;
    }
    if (is_method("ACK")) {
        t_check_trans();
        exit;
    }
    if (!ds_select_dst("1", "4")) {
        xlog("L_WARN", "no History Function instance available for $rm from $fu\\n");
        send_reply("503", "Service Unavailable");
        exit;
    }
    xlog("L_INFO", "dispatch $rm $ci to $du\\n");
    t_on_failure("FAILOVER");
    if (!t_relay()) sl_reply_error();
    exit;
}

failure_route[FAILOVER] {
    if (t_is_canceled()) exit;
    if (t_branch_timeout() && !t_branch_replied()) {
        xlog("L_WARN", "instance $du did not answer $rm $ci: marked inactive\\n");
        ds_mark_dst("ip");
    } else if (!t_check_status("503")) {
        exit;
    }
    if (ds_next_dst()) {
        xlog("L_INFO", "failover $rm $ci to $du\\n");
        t_on_failure("FAILOVER");
        t_relay();
        exit;
    }
}
`;
}

export interface Dispatcher {
  proc: ChildProcess;
  port: number;
  log(): string;
  stop(): Promise<void>;
}

/** Start Kamailio as the dispatcher; resolves once it answers on its port. Killed by PID in stop(). */
export async function startDispatcher(o: DispatcherOptions, limitMs = 120_000): Promise<Dispatcher> {
  const dir = mkdtempSync(join(tmpdir(), 'kamailio-ds-'));
  mkdirSync(join(dir, 'run'));
  const listFile = join(dir, 'dispatcher.list');
  writeFileSync(listFile, o.instances.map((hp) => `1 sip:${hp}${o.instanceTransport === 'tcp' ? ';transport=tcp' : ''}\n`).join(''));
  writeFileSync(join(dir, 'kamailio.cfg'), dispatcherConfig(o, listFile));
  const proc = spawn('kamailio', ['-f', join(dir, 'kamailio.cfg'), '-DD', '-E', '-Y', join(dir, 'run'), '-m', '64', '-M', '8'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (d: Buffer) => {
    log += d.toString();
    if (log.length > 1_000_000) log = log.slice(-500_000);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const hardLimit = setTimeout(() => proc.kill('SIGKILL'), limitMs);
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
    clearTimeout(hardLimit);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await answers(o.port, 10_000);
  } catch (e) {
    await stop();
    throw new Error(`kamailio did not start: ${(e as Error).message}\n${log.slice(-3000)}`);
  }
  return { proc, port: o.port, log: () => log, stop };
}

/** Kamailio answers an OPTIONS with Max-Forwards: 0 itself (483), without dispatching it. */
async function answers(port: number, ms: number): Promise<void> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const local = sock.address().port;
  try {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const got = new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), 200);
        sock.once('message', () => {
          clearTimeout(t);
          resolve(true);
        });
      });
      const branch = `z9hG4bK-probe-${Date.now()}`;
      sock.send(
        `OPTIONS sip:probe@127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${local};branch=${branch}\r\n` +
          `Max-Forwards: 0\r\nFrom: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:probe@127.0.0.1>\r\nCall-ID: ${branch}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
        port,
        '127.0.0.1',
      );
      if (await got) return;
    }
    throw new Error(`no answer on udp 127.0.0.1:${port} within ${ms} ms`);
  } finally {
    sock.close();
  }
}
