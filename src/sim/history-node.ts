/**
 * A History Function with its own SIP stack and MSRP endpoint on loopback, for the demo
 * and end-to-end tests: the same wiring `im-history serve` uses, with ports chosen by the OS.
 */
import type { Logger } from 'pino';
import { parseConfig } from '../config.js';
import { createTransports, type SipTransports } from '../sip/transport/index.js';
import { UserAgent } from '../sip/ua/user-agent.js';
import { MsrpEndpoint } from '../msrp/endpoint.js';
import type { MsrpLimitsInput } from '../msrp/config.js';
import { HistoryFunction, HISTORY_PROFILE } from '../history/function.js';
import { MsrpUserPlane } from '../history/msrp-user-plane.js';
import type { HistoryStore } from '../store/types.js';
import { systemClock, type Clock } from '../sip/clock.js';
import type { TlsOptions } from '../sip/transport/config.js';
import type { MsrpTlsConfig } from '../msrp/tls.js';

/** SIP over TLS (a listener on 127.0.0.1) and msrps toward the focus, as `serve` wires them. */
export interface HistoryNodeTls {
  sip: TlsOptions;
  msrp: Omit<MsrpTlsConfig, 'listen'>;
}

export interface HistoryNode {
  fn: HistoryFunction;
  ua: UserAgent;
  userPlane: MsrpUserPlane;
  transports: SipTransports;
  msrp: MsrpEndpoint;
  uri: string;
  close(): Promise<void>;
}

export interface HistoryNodeOptions {
  /** The port to advertise for the UDP listener (a fault-injecting relay in front of it in tests). */
  udpFront?: (realPort: number) => Promise<number>;
  /** MSRP endpoint limits (tests: short timeouts). */
  msrpLimits?: MsrpLimitsInput;
  /** Drives every timer of the node (SIP transactions and transports, session timer, MSRP); default the system clock. */
  clock?: Clock;
  /** SIP over TLS and msrps, as `serve` wires them. */
  tls?: HistoryNodeTls;
}

export async function startHistoryNode(
  store: HistoryStore,
  history: Record<string, unknown>,
  logger: Logger,
  sip: Record<string, unknown> = {},
  options: HistoryNodeOptions = {},
): Promise<HistoryNode> {
  const clock = options.clock ?? systemClock;
  const tls = options.tls;
  const config = parseConfig({ history: { ...history, msrp: { address: '127.0.0.1', port: 1 } }, sip });
  const late: { fn?: HistoryFunction } = {};
  const transports: SipTransports = await createTransports(
    {
      udp: [{ address: '127.0.0.1', port: 0 }],
      tcp: [{ address: '127.0.0.1', port: 0 }],
      ...(tls !== undefined ? { tls: [{ address: '127.0.0.1', port: 0 }], tlsOptions: tls.sip } : {}),
      logger,
      clock,
      limits: {
        maxConnections: config.sip.limits.maxConnections,
        maxConnectionsPerIp: config.sip.limits.maxConnectionsPerIp,
        idleTimeoutMs: config.sip.limits.idleTimeoutMs,
        messageTimeoutMs: config.sip.limits.messageTimeoutMs,
      },
    },
    { message: (m) => ua.receive(m), parseError: () => undefined },
  );
  const udpPort = transports.listening.find((l) => l.transport === 'UDP')!.port;
  const advertised = options.udpFront === undefined ? udpPort : await options.udpFront(udpPort);
  const ua: UserAgent = new UserAgent({
    transport: transports,
    ...(advertised !== udpPort ? { advertisedPorts: { UDP: advertised } } : {}),
    timers: config.sip.timers,
    clock,
    profile: HISTORY_PROFILE,
    serverHeader: config.sip.releaseToken,
    userAgentHeader: config.sip.releaseToken,
    contactUser: 'history',
    logger,
    maxServerTransactions: config.sip.maxServerTransactions,
    ...(config.sip.maxServerTransactionsPerSource !== undefined ? { maxServerTransactionsPerSource: config.sip.maxServerTransactionsPerSource } : {}),
    maxClientTransactions: config.sip.maxClientTransactions,
    onRequest: (inc) => late.fn?.handleRequest(inc),
    onDialogTerminated: (d, why) => late.fn?.dialogTerminated(d, why),
  });
  const msrp = await MsrpEndpoint.create({
    listen: { address: '127.0.0.1', port: 0 },
    limits: { maxSessions: config.history.maxSessions, ...config.history.msrp.limits, ...options.msrpLimits },
    clock,
    logger,
    ...(tls !== undefined ? { tls: tls.msrp } : {}),
  });
  const userPlane = new MsrpUserPlane({
    endpoint: msrp, store, host: '127.0.0.1', acceptTypes: config.history.msrp.acceptTypes, log: logger, ...(tls !== undefined ? { tls: true } : {}),
  });
  const fn = new HistoryFunction({ ua, store, userPlane, config: config.history, clock, logger });
  late.fn = fn;
  return {
    fn,
    ua,
    userPlane,
    transports,
    msrp,
    uri: `sip:history@127.0.0.1:${advertised}`,
    async close() {
      await fn.close();
      await ua.close();
      await msrp.close();
      await transports.close();
    },
  };
}
