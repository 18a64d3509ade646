/**
 * Configuration: one JSON file validated with a schema, every field defaulted so the
 * embedded defaults run with no file at all (SIP on 127.0.0.1:5060 UDP+TCP).
 * A bad file is refused at start with the exact field and reason.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_RELEASE_TOKEN } from './version.js';

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
        limits: z
          .object({
            maxHeaderBytes: z.number().int().positive().default(16 * 1024),
            maxHeaders: z.number().int().positive().default(256),
            maxBodyBytes: z.number().int().positive().default(256 * 1024),
            maxConnections: z.number().int().positive().default(1024),
            idleTimeoutMs: z.number().int().positive().default(60_000),
          })
          .default({}),
      })
      .strict()
      .default({}),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;

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

export function loadConfig(path: string | undefined): Config {
  if (path === undefined) return parseConfig({});
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
  return parseConfig(json);
}
