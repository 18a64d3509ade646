#!/usr/bin/env node
/**
 * The `im-history` command. `serve` runs the server on embedded defaults (or a config file).
 */
import { Command, Option } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ConfigError, effectiveInstanceId, loadConfig, redactedConfig, type Config } from '../config.js';
import { startSipStack } from '../sip/stack.js';
import { VERSION } from '../version.js';
import { HistoryFunction, HISTORY_PROFILE } from '../history/function.js';
import { MsrpUserPlane } from '../history/msrp-user-plane.js';
import { SqliteStore } from '../store/sqlite.js';
import { openStore, probeStore } from '../store/open.js';
import { SchemaTooNewError, StoreOpenError } from '../store/types.js';
import { MsrpEndpoint } from '../msrp/endpoint.js';
import { systemClock } from '../sip/clock.js';
import { runDemo } from './demo.js';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server.js';
import { createMetrics } from '../api/metrics.js';
import { addHistoryCommands, CliError } from './histories.js';
import { loadTlsFiles } from '../tls-files.js';

function parseListen(value: string): { address: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value);
  if (m === null || Number(m[2]) > 65535) throw new ConfigError(`expected HOST:PORT, got "${value}"`);
  return { address: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

async function serve(opts: { config?: string; udp?: string[]; tcp?: string[]; tls?: string[]; logLevel?: string }): Promise<void> {
  const config: Config = loadConfig(opts.config);
  if (opts.udp !== undefined) config.sip.udp = opts.udp.map(parseListen);
  if (opts.tcp !== undefined) config.sip.tcp = opts.tcp.map(parseListen);
  if (opts.tls !== undefined) {
    if (config.sip.tlsCertificates === undefined) throw new ConfigError('--tls needs sip.tlsCertificates in the configuration');
    config.sip.tls = opts.tls.map(parseListen);
  }
  const logger = pino({ level: opts.logLevel ?? config.logLevel });
  // Certificate files are read and checked before anything listens (exit 2 with path and reason).
  const tls = loadTlsFiles(config);
  for (const w of tls.warnings) logger.warn(w);
  const late: { fn?: HistoryFunction } = {};
  const stack = await startSipStack(config.sip, logger, {
    profile: HISTORY_PROFILE,
    contactUser: 'history',
    onRequest: (inc) => late.fn?.handleRequest(inc),
    onDialogTerminated: (d, why) => late.fn?.dialogTerminated(d, why),
  }, tls.sip);
  const instanceId = effectiveInstanceId(config);
  const { store, backend, shared, where } = await openStore(config.store, {
    onIdleError: (e) => logger.warn({ err: e.message }, 'PostgreSQL connection lost while idle (the pool opens a new one)'),
  });
  logger.info({ backend, where, instance: instanceId }, 'history store open');
  const msrp = await MsrpEndpoint.create({
    listen: { address: config.history.msrp.address, port: config.history.msrp.port },
    limits: { maxSessions: config.history.maxSessions, ...config.history.msrp.limits },
    logger,
    ...(tls.msrp !== undefined ? { tls: tls.msrp } : {}),
  });
  logger.info({ address: msrp.address, port: msrp.port, ...(msrp.tlsPort !== undefined ? { msrpsPort: msrp.tlsPort } : {}) }, 'MSRP listening');
  const metrics = createMetrics();
  const fn = new HistoryFunction({
    metrics,
    ua: stack.ua,
    store,
    userPlane: new MsrpUserPlane({
      endpoint: msrp,
      store,
      host: config.history.msrp.address,
      acceptTypes: config.history.msrp.acceptTypes,
      log: logger,
      timeWrite: (op, w) => metrics.timeStoreWrite(op, w),
      onRecorded: () => metrics.messagesRecorded.inc(),
      tls: config.history.msrp.tls.enabled,
    }),
    config: config.history,
    clock: systemClock,
    logger,
    instanceId,
    sharedStore: shared,
  });
  late.fn = fn;
  await fn.closeAbandoned();
  metrics.trackActiveSessions(() => fn.sessions.size);
  metrics.trackRetransmissions(() => stack.ua.layer.stats.retransmissionsSent);
  let api: FastifyInstance | undefined;
  let shuttingDown = false;
  if (config.api.enabled) {
    let tokens = config.api.tokens;
    if (tokens.length === 0) {
      const token = randomBytes(24).toString('base64url');
      tokens = [{ token, aor: '*' }];
      logger.warn({ token }, 'no api.tokens configured: generated an operator token for this run');
    }
    api = buildApi({
      store,
      tokens,
      metrics: metrics.registry,
      metricsAuth: config.api.metricsAuth,
      logger,
      ready: () => !shuttingDown,
      live: () => [...fn.sessions].map((s) => s.live()),
    });
    await api.listen({ host: config.api.address, port: config.api.port });
    const bound = api.server.address();
    logger.info({ address: config.api.address, port: typeof bound === 'object' && bound !== null ? bound.port : config.api.port }, 'HTTP API and viewer listening');
  }
  if (config.history.conferenceFactories.some((f) => /^sips:|;transport=tls/i.test(f))) {
    if (tls.sip === undefined) logger.warn('a conference factory is a sips:/TLS URI but sip.tlsCertificates is not set: INVITEs to it will fail');
    else if (config.sip.tls.length === 0) logger.warn('a conference factory is a sips:/TLS URI but no sip.tls listener is configured: the focus cannot send in-dialog requests back over TLS');
  }
  if (config.history.conferenceFactories.length === 0) {
    logger.warn('no conference factories configured (history.conferenceFactories): every REFER will be refused with 403');
  }
  for (const l of stack.transports.listening) logger.info({ transport: l.transport, address: l.address, port: l.port }, 'SIP listening');
  logger.info({ version: VERSION, server: config.sip.releaseToken }, 'im-history started');
  const stop = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    shuttingDown = true;
    await fn.close();
    await api?.close();
    await msrp.close();
    await store.close();
    await stack.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

const program = new Command();
program
  .name('im-history')
  .description('OMA SIMPLE IM History Function: records IM sessions into named histories')
  .version(VERSION);

program
  .command('serve')
  .description('run the SIP server (embedded defaults: SIP on 127.0.0.1:5060 UDP and TCP)')
  .option('-c, --config <file>', 'JSON configuration file')
  .option('--udp <host:port...>', 'SIP UDP listen address(es), overriding the config')
  .option('--tcp <host:port...>', 'SIP TCP listen address(es), overriding the config')
  .option('--tls <host:port...>', 'SIP TLS listen address(es), overriding the config (needs sip.tlsCertificates)')
  .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
  .action(serve);

program
  .command('demo')
  .description('run a whole recorded IM session on loopback (History Function, focus, three IM clients) and print the history')
  .option('-v, --verbose', 'show the simulated network and the server log')
  .option('--db <file>', 'keep the recorded history in this SQLite file (default: a temporary one, removed afterwards)')
  .action(async (o: { verbose?: boolean; db?: string }) => {
    const tmp = o.db === undefined ? mkdtempSync(join(tmpdir(), 'im-history-demo-')) : undefined;
    const store = await SqliteStore.open(o.db ?? join(tmp!, 'demo.db'));
    const text = await runDemo(store, { verbose: o.verbose === true, out: (s) => process.stdout.write(s) });
    process.stdout.write('\n' + text);
    await store.close();
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
    else process.stdout.write(`\nStored in ${o.db}\n`);
    process.exit(0);
  });

program
  .command('check-config')
  .description('validate a configuration file (and the TLS certificate files it names) and print the effective configuration')
  .argument('<file>', 'JSON configuration file')
  .option('--store', 'also connect to the configured store and report its schema version (changes nothing)')
  .action(async (file: string, o: { store?: boolean }) => {
    const config = loadConfig(file);
    for (const w of loadTlsFiles(config).warnings) console.error(`im-history: warning: ${w}`);
    const shown = redactedConfig(config);
    shown.instance.id = effectiveInstanceId(config);
    console.log(JSON.stringify(shown, null, 2));
    // On stderr, so that stdout stays the JSON of the effective configuration.
    if (o.store === true) console.error(await probeStore(config.store));
  });

addHistoryCommands(program);

program.parseAsync().catch((e: unknown) => {
  if (e instanceof ConfigError || e instanceof CliError || e instanceof StoreOpenError || e instanceof SchemaTooNewError) {
    console.error(`im-history: ${e.message}`);
    process.exit(2);
  }
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'EADDRINUSE' || err.code === 'EACCES') {
    console.error(`im-history: cannot listen: ${err.message}`);
    process.exit(1);
  }
  console.error(e);
  process.exit(1);
});
