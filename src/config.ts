/**
 * Configuration: one JSON file validated with a schema, every field defaulted so the
 * embedded defaults run with no file at all (SIP on 127.0.0.1:5060 UDP+TCP).
 * A bad file is refused at start with the exact field and reason.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { isIP } from 'node:net';
import { DEFAULT_RELEASE_TOKEN } from './version.js';
import { isSipUri, parseUri } from './sip/message/headers/uri.js';

const sipUri = z.string().refine(
  (s) => {
    try {
      return isSipUri(parseUri(s));
    } catch {
      return false;
    }
  },
  { message: 'must be a SIP or SIPS URI' },
);

const peer = z.string().refine(
  (s) => {
    const [addr, bits, ...rest] = s.split('/');
    if (rest.length > 0 || addr === undefined) return false;
    const family = isIP(addr);
    if (family === 0) return false;
    return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
  },
  { message: 'must be an IP address or CIDR block' },
);

/** PEM files for TLS (read and checked at start-up by tls-files.ts, which names the path on error). */
const tlsFiles = {
  /** Our certificate (chain), PEM. */
  certFile: z.string().min(1),
  /** Its private key, PEM (unencrypted). */
  keyFile: z.string().min(1),
  /** Trust anchors (PEM) for the peers' certificates; empty = the system's (Node's) roots. */
  caFiles: z.array(z.string().min(1)).default([]),
};

const HistorySchema = z
  .object({
    /** Our own SIP URI: the user part goes in our Contact. */
    identity: sipUri.default('sip:history@127.0.0.1'),
    /** Refer-To must name one of these (issue 6: no INVITE to anything else). */
    conferenceFactories: z.array(sipUri).default([]),
    /** Used when Refer-To is a cid: reference to a URI list (RFC 5368). */
    defaultConferenceFactory: sipUri.optional(),
    /** RFC 3325 trust domain: peers whose P-Asserted-Identity is believed (seed 1.1.1-1). */
    trustedPeers: z.array(peer).default(['127.0.0.1', '::1']),
    /** Seed 1.1.2-1 initiation policy: initiators of these domains are authorised. */
    trustedDomains: z.array(z.string().min(1)).default([]),
    /** AOR patterns with * (e.g. sip:*@example.net) authorised / refused. */
    allow: z.array(z.string().min(1)).default([]),
    deny: z.array(z.string().min(1)).default([]),
    /** Seed 1.1.2-1 adding policy: IM users per session. */
    maxImUsers: z.number().int().positive().default(100),
    /** Seed 1.1.1-1b: sessions at once before REFERs get 503. */
    maxSessions: z.number().int().positive().default(1000),
    retryAfterSeconds: z.number().int().positive().default(30),
    /** Lifetime of the REFER implicit subscription (RFC 3515 §2.4.4), seconds. */
    referExpires: z.number().int().positive().default(60),
    /** Seconds the factory INVITE may ring before we CANCEL it (RFC 3261 §9.1). */
    inviteTimeout: z.number().int().positive().default(60),
    /** Conference event package subscription (RFC 4575) Expires, seconds. */
    conferenceExpires: z.number().int().positive().default(3600),
    sessionTimer: z
      .object({
        sessionExpires: z.number().int().min(90).default(1800),
        minSE: z.number().int().min(90).default(90),
        method: z.enum(['auto', 'UPDATE', 'INVITE']).default('auto'),
      })
      .strict()
      .default({})
      .refine((t) => t.sessionExpires >= t.minSE, { message: 'sessionExpires must be >= minSE' }),
    msrp: z
      .object({
        address: z.string().min(1).default('127.0.0.1'),
        /** MSRP listen port (0 = any free port); our a=path URIs carry it. */
        port: z.number().int().min(0).max(65535).default(2855),
        acceptTypes: z.array(z.string().min(3)).default(['message/cpim', 'text/plain', 'message/imdn+xml']),
        /**
         * msrps toward the focus (RFC 4975 §14.1): our URI is msrps, our SDP carries
         * a=fingerprint, the focus's certificate must match its a=fingerprint or else chain to
         * caFiles and name its host. Certificate files default to sip.tlsCertificates'.
         */
        tls: z
          .object({
            enabled: z.boolean().default(false),
            /** msrps listen port on msrp.address; absent = none (we are the active side and connect out). */
            port: z.number().int().min(0).max(65535).optional(),
            certFile: tlsFiles.certFile.optional(),
            keyFile: tlsFiles.keyFile.optional(),
            caFiles: z.array(z.string().min(1)).optional(),
            /** false: accept any focus certificate when it sent no a=fingerprint. Lab only; logged as a warning. */
            verifyPeer: z.boolean().default(true),
            handshakeTimeoutMs: z.number().int().positive().default(10_000),
          })
          .strict()
          .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), { message: 'certFile and keyFile go together' })
          .default({}),
        limits: z
          .object({
            /** MSRP connections, inbound and outbound together. */
            maxConnections: z.number().int().positive().default(1024),
            /** Inbound MSRP connections from one IP address. */
            maxConnectionsPerIp: z.number().int().positive().default(64),
            /** A connection that has not completed the request/response it started within this long is closed (slow-loris). */
            messageTimeoutMs: z.number().int().positive().default(30_000),
            /** A connection carrying no session is closed after this long (RFC 4975 gives no figure). */
            unboundIdleTimeoutMs: z.number().int().positive().default(60_000),
            /** The responses of one event-loop turn in one write; false: one write each (Wireshark's MSRP dissector reads only a segment's first frame). */
            coalesceResponses: z.boolean().default(true),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
  })
  .strict()
  .refine((h) => h.defaultConferenceFactory === undefined || h.conferenceFactories.includes(h.defaultConferenceFactory), {
    message: 'defaultConferenceFactory must be one of conferenceFactories',
    path: ['defaultConferenceFactory'],
  });

const postgresUrl = z.string().refine(
  (s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'postgresql:' || u.protocol === 'postgres:';
    } catch {
      return false;
    }
  },
  { message: 'must be a postgresql://user:password@host:port/database URL' },
);

const listen = z.object({
  address: z.string().min(1),
  port: z.number().int().min(0).max(65535),
});

export const ConfigSchema = z
  .object({
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    sip: z
      .object({
        udp: z.array(listen).default([{ address: '127.0.0.1', port: 5060 }]),
        tcp: z.array(listen).default([{ address: '127.0.0.1', port: 5060 }]),
        /** SIP over TLS listeners (RFC 3261 §26.2.1, usually port 5061); need tlsCertificates. */
        tls: z.array(listen).default([]),
        /** Certificates and checks for SIP over TLS, listening and connecting (sips: / transport=tls targets). */
        tlsCertificates: z
          .object({
            ...tlsFiles,
            /** Mutual TLS: clients must present a certificate that chains to caFiles. */
            requestClientCert: z.boolean().default(false),
            /** false: accept any server certificate. Lab use only; logged as a warning at start and per connection. */
            verifyServer: z.boolean().default(true),
            minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
          })
          .strict()
          .optional(),
        /** Host written in Via/Contact when the bind address is not reachable as such. */
        advertisedHost: z.string().min(1).optional(),
        /** Server and User-Agent header value (seed 1.1.1 / 1.2.1: the IM release version). */
        releaseToken: z.string().min(1).default(DEFAULT_RELEASE_TOKEN),
        timers: z
          .object({
            T1: z.number().int().positive().default(500),
            T2: z.number().int().positive().default(4000),
            T4: z.number().int().positive().default(5000),
          })
          .default({}),
        maxServerTransactions: z.number().int().positive().default(10_000),
        /**
         * Server transactions one source IP address may hold before its new requests get a
         * stateless 503 + Retry-After (a flooding peer cannot fill the table for everyone).
         * Unset: maxServerTransactions. Keep it high where all traffic comes through one proxy.
         */
        maxServerTransactionsPerSource: z.number().int().positive().optional(),
        /** Our own INVITEs linger 64*T1 after their 2xx (RFC 6026 Timer M): size this for set-up rate x 32 s. */
        maxClientTransactions: z.number().int().positive().default(20_000),
        limits: z
          .object({
            maxHeaderBytes: z.number().int().positive().default(16 * 1024),
            maxHeaders: z.number().int().positive().default(256),
            maxBodyBytes: z.number().int().positive().default(256 * 1024),
            maxConnections: z.number().int().positive().default(1024),
            idleTimeoutMs: z.number().int().positive().default(60_000),
            /** TLS handshakes (in and out) not finished by then fail. */
            tlsHandshakeTimeoutMs: z.number().int().positive().default(10_000),
            /** A TCP connection that has not completed the message it started within this long is closed (slow-loris). */
            messageTimeoutMs: z.number().int().positive().default(30_000),
            /** Inbound TCP connections from one IP address; more are refused (besides maxConnections). */
            maxConnectionsPerIp: z.number().int().positive().default(128),
            /** UDP socket buffers: big enough to ride out GC pauses at load (docs/benchmarks.md). */
            udpRecvBufferBytes: z.number().int().min(0).default(4 * 1024 * 1024),
            udpSendBufferBytes: z.number().int().min(0).default(4 * 1024 * 1024),
          })
          .default({}),
      })
      .strict()
      .refine((s) => s.tls.length === 0 || s.tlsCertificates !== undefined, { message: 'TLS listeners need sip.tlsCertificates', path: ['tlsCertificates'] })
      .default({}),
    history: HistorySchema.default({}),
    api: z
      .object({
        enabled: z.boolean().default(true),
        address: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        /** Bearer tokens; aor '*' is the operator. With none, serve makes an operator token and logs it. */
        tokens: z.array(z.object({ token: z.string().min(16), aor: z.string().min(1) }).strict()).default([]),
        /** Ask for the operator token on /metrics too. */
        metricsAuth: z.boolean().default(false),
      })
      .strict()
      .default({}),
    /** This im-history process among several sharing one store (PostgreSQL). */
    instance: z
      .object({
        /**
         * Stamped on every history it records; at start-up it closes only its own histories
         * left open by a crash. Default: hostname:SIP port (effectiveInstanceId). Set a stable,
         * unique one per instance where hostnames change (containers).
         */
        id: z
          .string()
          .min(1)
          .max(200)
          .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
          .optional(),
      })
      .strict()
      .default({}),
    store: z
      .object({
        /** 'sqlite' (a file, one instance) or 'postgres' (a server several instances share). */
        backend: z.enum(['sqlite', 'postgres']).default('sqlite'),
        /** SQLite database file (created with its directory); ':memory:' keeps nothing. */
        path: z.string().min(1).default('./data/history.db'),
        /** 'normal' survives a process crash; 'full' also a power loss, at a cost (docs/benchmarks.md). */
        synchronous: z.enum(['normal', 'full']).default('normal'),
        postgres: z
          .object({
            /** postgresql://user:password@host:port/database (libpq-style parameters such as sslmode in the query). */
            url: postgresUrl.optional(),
            /** Schema for the tables (created when missing); default: the server's search_path. */
            schema: z
              .string()
              .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lower-case letters, digits and _, not starting with a digit')
              .optional(),
            /** Connections: one carries the write transaction, the others reads. */
            poolSize: z.number().int().min(2).max(1000).default(10),
            /** Writes waiting for a transaction before the store reports overload. */
            maxQueued: z.number().int().positive().default(100_000),
            /** Most writes committed in one transaction (group commit). */
            maxBatch: z.number().int().positive().max(10_000).default(1000),
            connectTimeoutMs: z.number().int().positive().default(5000),
            /** Server-side statement_timeout; 0 = none. */
            statementTimeoutMs: z.number().int().min(0).default(30_000),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({})
      .refine((st) => st.backend !== 'postgres' || st.postgres.url !== undefined, {
        message: 'store.backend "postgres" needs store.postgres.url',
        path: ['postgres', 'url'],
      }),
  })
  .strict()
  .refine(
    (c) => !c.history.msrp.tls.enabled || c.history.msrp.tls.certFile !== undefined || c.sip.tlsCertificates !== undefined,
    { message: 'msrps needs certFile/keyFile here or sip.tlsCertificates', path: ['history', 'msrp', 'tls'] },
  );

export type HistoryConfig = z.infer<typeof HistorySchema>;
export type Config = z.infer<typeof ConfigSchema>;

/** instance.id, else hostname:first SIP port (UDP, else TCP). */
export function effectiveInstanceId(config: Config): string {
  if (config.instance.id !== undefined) return config.instance.id;
  const port = config.sip.udp[0]?.port ?? config.sip.tcp[0]?.port ?? 5060;
  return `${hostname()}:${port}`;
}

/** The configuration as check-config prints it: the database password masked. */
export function redactedConfig(config: Config): Config {
  const copy = structuredClone(config);
  const url = copy.store.postgres.url;
  if (url !== undefined) {
    try {
      const u = new URL(url);
      if (u.password !== '') u.password = '***';
      copy.store.postgres.url = u.toString();
    } catch {
      // validated already
    }
  }
  return copy;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validate a parsed config object; errors name the field path and the reason. */
export function parseConfig(input: unknown): Config {
  const r = ConfigSchema.safeParse(input ?? {});
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return r.data;
}

/** Prefix of environment overrides: IM_HISTORY__history__maxSessions=500 sets history.maxSessions. */
export const ENV_PREFIX = 'IM_HISTORY__';

/**
 * Apply environment overrides to a parsed-JSON config object. The variable name is the
 * field path joined with "__"; the value is JSON when it parses as JSON, else a string
 * (so `IM_HISTORY__store__path=/var/lib/im-history/h.db` works unquoted).
 */
export function applyEnv(input: unknown, env: NodeJS.ProcessEnv = process.env): unknown {
  const root: Record<string, unknown> = input !== null && typeof input === 'object' ? structuredClone(input as Record<string, unknown>) : {};
  for (const [key, raw] of Object.entries(env)) {
    if (!key.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const path = key.slice(ENV_PREFIX.length).split('__').filter((p) => p.length > 0);
    if (path.length === 0 || path.some((p) => p === '__proto__' || p === 'constructor' || p === 'prototype')) {
      throw new ConfigError(`bad environment override ${key}`);
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    let node = root;
    for (const p of path.slice(0, -1)) {
      const next = node[p];
      if (next === undefined) node[p] = {};
      else if (next === null || typeof next !== 'object' || Array.isArray(next)) throw new ConfigError(`${key}: ${path.join('.')} is not an object in the configuration`);
      node = node[p] as Record<string, unknown>;
    }
    node[path.at(-1)!] = value;
  }
  return root;
}

export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  if (path === undefined) return parseConfig(applyEnv({}, env));
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseConfig(applyEnv(json, env));
}
