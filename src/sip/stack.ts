/**
 * Start a SIP stack from configuration: transports bound, transaction layer and user agent
 * wired, so that the application only deals with the UserAgent facade.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { createTransports, type SipTransports, type TlsOptions } from './transport/index.js';
import { UserAgent, type UserAgentOptions } from './ua/user-agent.js';

export interface SipStack {
  ua: UserAgent;
  transports: SipTransports;
  close(): Promise<void>;
}

export async function startSipStack(
  config: Config['sip'],
  logger: Logger,
  app: Omit<UserAgentOptions, 'transport' | 'serverHeader' | 'userAgentHeader' | 'timers' | 'logger' | 'maxServerTransactions' | 'maxServerTransactionsPerSource' | 'maxClientTransactions'>,
  /** Certificates read from config.tlsCertificates (src/tls-files.ts); needed for config.tls listeners and sips: targets. */
  tlsOptions?: TlsOptions,
): Promise<SipStack> {
  const late: { ua?: UserAgent } = {};
  const transports = await createTransports(
    {
      udp: config.udp,
      tcp: config.tcp,
      tls: config.tls,
      ...(tlsOptions !== undefined ? { tlsOptions } : {}),
      logger,
      limits: {
        maxConnections: config.limits.maxConnections,
        idleTimeoutMs: config.limits.idleTimeoutMs,
        tlsHandshakeTimeoutMs: config.limits.tlsHandshakeTimeoutMs,
        messageTimeoutMs: config.limits.messageTimeoutMs,
        maxConnectionsPerIp: config.limits.maxConnectionsPerIp,
        udpRecvBufferBytes: config.limits.udpRecvBufferBytes,
        udpSendBufferBytes: config.limits.udpSendBufferBytes,
        parse: { maxHeaderBytes: config.limits.maxHeaderBytes, maxHeaders: config.limits.maxHeaders, maxBodyBytes: config.limits.maxBodyBytes },
      },
    },
    {
      message: (m) => late.ua?.receive(m),
      parseError: (err, src) => logger.debug({ remote: `${src.remoteAddress}:${src.remotePort}`, transport: src.transport, err: err.message }, 'unparseable SIP message'),
    },
  );
  const ua = new UserAgent({
    ...app,
    transport: transports,
    serverHeader: config.releaseToken,
    userAgentHeader: config.releaseToken,
    timers: config.timers,
    logger,
    maxServerTransactions: config.maxServerTransactions,
    ...(config.maxServerTransactionsPerSource !== undefined ? { maxServerTransactionsPerSource: config.maxServerTransactionsPerSource } : {}),
    maxClientTransactions: config.maxClientTransactions,
    ...(config.advertisedHost !== undefined ? { advertisedHost: config.advertisedHost } : {}),
  });
  late.ua = ua;
  return {
    ua,
    transports,
    async close() {
      await ua.close();
      await transports.close();
    },
  };
}
