/**
 * The HTTP API of im-history (fastify): read access to the recorded histories, the live
 * sessions, health/readiness, Prometheus metrics, an OpenAPI description, and the web
 * history viewer (static files in ./viewer, served at /).
 *
 * Authentication: `Authorization: Bearer <token>` on every /api/ route (auth.ts); a token
 * stands for a user's AOR or for the operator ('*'). 401 with `WWW-Authenticate: Bearer`
 * when the token is missing or unknown.
 *
 * Visibility (the rule of HistoryStore.historiesVisibleTo): a user sees only the histories
 * they own, were invited to or took part in — in the list, by id (404, never 403, for one
 * they cannot see, so ids do not leak), in search (participant filter) and in the live
 * sessions. The operator sees everything. DELETE is for the operator only (403 for users).
 *
 * Errors always have the shape `{ "error": { "code", "message" } }`; input is validated with
 * the route's JSON schema (fastify/ajv) and refused with 400.
 *
 * /healthz, /readyz, /openapi.json and the viewer need no token. /metrics needs none either by
 * default (scraped from the operator's network; keep the port off the public side), or the
 * operator token with `metricsAuth: true`.
 *
 * buildApi returns the instance without listening: the caller calls listen() and close().
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import type { Registry } from 'prom-client';
import { safeFileStem } from '../history/export.js';
import { formatTranscript } from '../history/transcript.js';
import {
  NoSuchHistoryError,
  StoreClosedError,
  StoreOverloadedError,
  type HistoryRecord,
  type HistoryState,
  type HistoryStore,
  type StoredMessage,
} from '../store/types.js';
import { TokenTable, type ApiToken, type Principal } from './auth.js';
import { buildOpenApi, type DocumentedRoute } from './openapi.js';

/** A session the History Function is recording now (GET /api/v1/sessions). */
export interface LiveSession {
  historyId: string;
  name: string;
  owner: string;
  state: HistoryState;
  /** Conference URI (IM Session Identity), once the focus answered. */
  conferenceUri?: string;
  startedAt?: number;
  /** Users the roster shows as present now. */
  participants?: string[];
  messages?: number;
}

export interface ApiOptions {
  store: HistoryStore;
  tokens: ApiToken[];
  /** The sessions being recorded now; [] when not given. */
  live?: () => LiveSession[] | Promise<LiveSession[]>;
  /** Exposed at GET /metrics (404 when not given). */
  metrics?: Registry;
  /** Require the operator token on /metrics (default false: open). */
  metricsAuth?: boolean;
  /** A pino (or pino-compatible) logger; none when not given. */
  logger?: FastifyBaseLogger;
  /** GET /readyz answers 200 while this returns true, else 503 (default: always ready). */
  ready?: () => boolean;
  /** Directory of the viewer's static files (default: src/api/viewer next to the build). */
  viewerDir?: string;
  /** Largest request body accepted (the API reads none; default 16 KiB). */
  bodyLimit?: number;
}

export const API_PREFIX = '/api/v1';
export const MAX_LIMIT = 1000;

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const CODE_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  503: 'unavailable',
};

function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

// ---- JSON schemas of the inputs ------------------------------------------------------

const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: 'History id' } },
} as const;

const limitSchema = (dflt: number) => ({ type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: dflt }) as const;

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
} as const;

// ---- Shapes of the outputs -----------------------------------------------------------

function summary(h: HistoryRecord): Record<string, unknown> {
  return {
    id: h.id,
    name: h.name,
    type: h.type,
    owner: h.owner,
    state: h.state,
    imUsers: h.imUsers,
    conferenceUri: h.conferenceUri,
    createdAt: h.createdAt,
    startedAt: h.startedAt,
    endedAt: h.endedAt,
    endReason: h.endReason,
  };
}

function isText(contentType: string): boolean {
  return contentType.trim().toLowerCase().startsWith('text/');
}

function messageView(m: StoredMessage): Record<string, unknown> {
  const { body, ...rest } = m;
  return isText(m.contentType) ? { ...rest, text: body.toString('utf8') } : { ...rest, bodyBase64: body.toString('base64'), size: body.length };
}

/** RFC 6266 Content-Disposition for a download named after a History Filename (never a path). */
export function contentDisposition(historyName: string, id: string, ext: string): string {
  // safeFileStem keeps letters, digits, '_', '.', '-'; dot runs go too, so no '..' reaches a client.
  const stem = `${safeFileStem(historyName).replace(/\.{2,}/g, '_')}-${id.replace(/[^0-9A-Za-z-]/g, '').slice(0, 36)}`;
  const ascii = stem.replace(/[^A-Za-z0-9_.-]/g, '_');
  const file = `${stem}.${ext}`;
  return `attachment; filename="${ascii}.${ext}"; filename*=UTF-8''${encodeURIComponent(file)}`;
}

// ---- Viewer files ----------------------------------------------------------------------

const VIEWER_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

const VIEWER_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The viewer's files: next to this module (if copied) or in src/api/viewer of the repository (from dist/src/api). */
function defaultViewerDir(): string {
  const candidates = [new URL('./viewer/', import.meta.url), new URL('../../../src/api/viewer/', import.meta.url)];
  for (const c of candidates) {
    try {
      readFileSync(new URL('index.html', c));
      return fileURLToPath(c);
    } catch {
      // try the next
    }
  }
  return fileURLToPath(candidates[1]!);
}

function loadViewer(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const { file } of Object.values(VIEWER_FILES)) {
    if (out.has(file)) continue;
    try {
      out.set(file, readFileSync(`${dir.replace(/\/$/, '')}/${file}`));
    } catch {
      // missing viewer file: that path answers 404
    }
  }
  return out;
}

// ---- The server ------------------------------------------------------------------------

export function buildApi(opts: ApiOptions): FastifyInstance {
  const tokens = new TokenTable(opts.tokens);
  const store = opts.store;
  const principals = new WeakMap<FastifyRequest, Principal>();
  const documented: DocumentedRoute[] = [];
  const viewer = loadViewer(opts.viewerDir ?? defaultViewerDir());

  const app = Fastify({
    ...(opts.logger !== undefined ? { loggerInstance: opts.logger } : { logger: false }),
    bodyLimit: opts.bodyLimit ?? 16 * 1024,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 100 },
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
  });

  app.addHook('onRoute', (r: RouteOptions) => {
    if (r.method === 'HEAD' || (Array.isArray(r.method) && r.method.includes('HEAD'))) return;
    const cfg = r.config as { doc?: Omit<DocumentedRoute, 'method' | 'url' | 'schema'> } | undefined;
    if (cfg?.doc === undefined) return;
    documented.push({ method: String(r.method), url: r.url, schema: r.schema as DocumentedRoute['schema'], ...cfg.doc });
  });

  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    if (reply.getHeader('cache-control') === undefined) reply.header('cache-control', 'no-store');
    return payload;
  });

  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?', 1)[0] ?? '';
    const needsAuth = path.startsWith('/api/') || path === '/api' || (path === '/metrics' && opts.metricsAuth === true);
    if (!needsAuth) return;
    const header = req.headers.authorization;
    const p = tokens.authenticate(header);
    if (p === undefined) {
      const challenge = header === undefined ? 'Bearer realm="im-history"' : 'Bearer realm="im-history", error="invalid_token"';
      return reply
        .code(401)
        .header('www-authenticate', challenge)
        .send(errorBody('unauthorized', header === undefined ? 'a bearer token is required' : 'unknown or malformed bearer token'));
    }
    if (path === '/metrics' && !p.operator) return reply.code(403).send(errorBody('forbidden', 'metrics are for operators'));
    principals.set(req, p);
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ApiError) return reply.code(err.statusCode).send(errorBody(err.code, err.message));
    const e = err as { validation?: unknown; statusCode?: number; message?: string };
    if (e.validation !== undefined) return reply.code(400).send(errorBody('bad_request', e.message ?? 'invalid request'));
    if (err instanceof NoSuchHistoryError) return reply.code(404).send(errorBody('not_found', 'no such history'));
    if (err instanceof StoreOverloadedError || err instanceof StoreClosedError) {
      return reply.code(503).header('retry-after', '1').send(errorBody('unavailable', 'the history store is busy, try again'));
    }
    const status = e.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.code(status).send(errorBody(CODE_BY_STATUS[status] ?? 'bad_request', e.message ?? 'bad request'));
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send(errorBody('internal', 'internal error'));
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(errorBody('not_found', `no route ${req.method} ${req.url.split('?', 1)[0] ?? ''}`));
  });

  const principal = (req: FastifyRequest): Principal => {
    const p = principals.get(req);
    if (p === undefined) throw new ApiError(401, 'unauthorized', 'a bearer token is required');
    return p;
  };

  /** The histories the principal may read (operator: all). */
  const visibleHistories = async (p: Principal): Promise<HistoryRecord[]> =>
    p.operator ? store.listHistories() : store.historiesVisibleTo(p.aor);

  /** The history if it exists and the principal may see it; 404 otherwise (also when hidden). */
  const visibleHistory = async (p: Principal, id: string): Promise<HistoryRecord> => {
    const h = await store.getHistory(id);
    if (h !== undefined && (p.operator || (await store.historiesVisibleTo(p.aor)).some((v) => v.id === h.id))) return h;
    throw new ApiError(404, 'not_found', 'no such history');
  };

  const err = (description: string) => ({ description, ...errorSchema });
  const authErrors = { 401: err('Missing or unknown bearer token') };

  // ---- /api/v1 ----

  app.get<{ Querystring: { state?: HistoryState; limit: number } }>(
    `${API_PREFIX}/histories`,
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { state: { type: 'string', enum: ['inviting', 'active', 'ended', 'failed'] }, limit: limitSchema(100) },
        },
        response: { 400: err('Bad input'), ...authErrors },
      },
      config: { doc: { summary: 'List the histories the caller may see, oldest first', auth: true } },
    },
    async (req) => {
      const p = principal(req);
      const { state, limit } = req.query;
      const list = p.operator ? await store.listHistories({ ...(state !== undefined ? { state } : {}) }) : await store.historiesVisibleTo(p.aor);
      const filtered = list.filter((h) => state === undefined || h.state === state);
      return { histories: filtered.slice(0, limit).map(summary), truncated: filtered.length > limit };
    },
  );

  app.get<{ Params: { id: string } }>(
    `${API_PREFIX}/histories/:id`,
    {
      schema: { params: idParams, response: { 400: err('Bad input'), 404: err('No such history (or not visible)'), ...authErrors } },
      config: { doc: { summary: 'One history: its record and participants', auth: true } },
    },
    async (req) => {
      const h = await visibleHistory(principal(req), req.params.id);
      return { history: h, participants: await store.participants(h.id) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { afterSeq: number; limit: number } }>(
    `${API_PREFIX}/histories/:id/messages`,
    {
      schema: {
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { afterSeq: { type: 'integer', minimum: 0, default: 0 }, limit: limitSchema(100) },
        },
        response: { 400: err('Bad input'), 404: err('No such history (or not visible)'), ...authErrors },
      },
      config: {
        doc: {
          summary: 'Messages in arrival order (seq > afterSeq): text/* bodies as `text`, others as `bodyBase64` with `contentType`',
          auth: true,
        },
      },
    },
    async (req) => {
      const h = await visibleHistory(principal(req), req.params.id);
      const { afterSeq, limit } = req.query;
      // One more than asked tells whether another page follows.
      const page = await store.messages(h.id, { afterSeq, limit: limit + 1 });
      const messages = page.slice(0, limit);
      const last = messages[messages.length - 1];
      return { messages: messages.map(messageView), nextAfterSeq: page.length > limit && last !== undefined ? last.seq : null };
    },
  );

  app.get<{ Params: { id: string } }>(
    `${API_PREFIX}/histories/:id/roster`,
    {
      schema: { params: idParams, response: { 400: err('Bad input'), 404: err('No such history (or not visible)'), ...authErrors } },
      config: { doc: { summary: 'Roster events (RFC 4575 joins, leaves, status changes) in arrival order', auth: true } },
    },
    async (req) => {
      const h = await visibleHistory(principal(req), req.params.id);
      return { events: await store.rosterEvents(h.id) };
    },
  );

  app.get<{ Querystring: { q: string; limit: number } }>(
    `${API_PREFIX}/search`,
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['q'],
          additionalProperties: false,
          properties: { q: { type: 'string', minLength: 1, maxLength: 500 }, limit: limitSchema(50) },
        },
        response: { 400: err('Bad input'), ...authErrors },
      },
      config: {
        doc: {
          summary: 'Full-text search in the messages of visible histories, newest first (snippet marks matches with \u00ab \u00bb)',
          auth: true,
        },
      },
    },
    async (req) => {
      const p = principal(req);
      const { q, limit } = req.query;
      if (q.trim() === '') throw new ApiError(400, 'bad_request', 'q must contain a word');
      const hits = await store.searchMessages({ text: q, limit, ...(p.operator ? {} : { participant: p.aor }) });
      const names = new Map((await visibleHistories(p)).map((h) => [h.id, h.name]));
      return { hits: hits.filter((x) => names.has(x.historyId)).map((x) => ({ ...x, historyName: names.get(x.historyId) })) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { format: 'text' | 'json' } }>(
    `${API_PREFIX}/histories/:id/export`,
    {
      schema: {
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { format: { type: 'string', enum: ['text', 'json'], default: 'text' } },
        },
        response: { 400: err('Bad input'), 404: err('No such history (or not visible)'), ...authErrors },
      },
      config: { doc: { summary: 'Download a history as a transcript (text) or JSON', auth: true, download: true } },
    },
    async (req, reply) => {
      const h = await visibleHistory(principal(req), req.params.id);
      const [messages, participants] = await Promise.all([store.messages(h.id), store.participants(h.id)]);
      let body: string;
      if (req.query.format === 'text') {
        body = formatTranscript({ history: h, messages, participants });
        reply.type('text/plain; charset=utf-8');
      } else {
        const rosterEvents = await store.rosterEvents(h.id);
        body = JSON.stringify({ history: h, participants, rosterEvents, messages: messages.map(messageView) }, null, 2) + '\n';
        reply.type('application/json; charset=utf-8');
      }
      reply.header('content-disposition', contentDisposition(h.name, h.id, req.query.format === 'json' ? 'json' : 'txt'));
      return reply.send(body);
    },
  );

  app.delete<{ Params: { id: string } }>(
    `${API_PREFIX}/histories/:id`,
    {
      schema: {
        params: idParams,
        response: { 400: err('Bad input'), 403: err('Not an operator'), 404: err('No such history'), ...authErrors },
      },
      config: { doc: { summary: 'Delete a history and everything recorded in it (operator only)', auth: true, noContent: true } },
    },
    async (req, reply) => {
      const p = principal(req);
      if (!p.operator) throw new ApiError(403, 'forbidden', 'only an operator may delete histories');
      if (!(await store.deleteHistory(req.params.id))) throw new ApiError(404, 'not_found', 'no such history');
      req.log.info({ historyId: req.params.id }, 'history deleted');
      return reply.code(204).send();
    },
  );

  app.get(
    `${API_PREFIX}/sessions`,
    {
      schema: { response: authErrors },
      config: { doc: { summary: 'Sessions being recorded now (only those of visible histories for a user)', auth: true } },
    },
    async (req) => {
      const p = principal(req);
      const live = opts.live === undefined ? [] : await opts.live();
      if (p.operator) return { sessions: live };
      const ids = new Set((await store.historiesVisibleTo(p.aor)).map((h) => h.id));
      return { sessions: live.filter((s) => ids.has(s.historyId)) };
    },
  );

  app.get(
    `${API_PREFIX}/me`,
    { schema: { response: authErrors }, config: { doc: { summary: 'Who the token stands for: { aor, operator }', auth: true } } },
    async (req) => {
      const p = principal(req);
      return { aor: p.aor, operator: p.operator };
    },
  );

  // ---- operations ----

  app.get('/healthz', { config: { doc: { summary: 'Liveness: 200 while the process runs', auth: false } } }, async () => ({ status: 'ok' }));

  app.get(
    '/readyz',
    { schema: { response: { 503: err('Not ready') } }, config: { doc: { summary: 'Readiness: 200 when ready, else 503', auth: false } } },
    async (_req, reply) => {
      if (opts.ready === undefined || opts.ready()) return { status: 'ready' };
      return reply.code(503).send(errorBody('unavailable', 'not ready'));
    },
  );

  app.get(
    '/metrics',
    {
      config: {
        doc: { summary: 'Prometheus metrics (text exposition format)', auth: opts.metricsAuth === true, contentType: 'text/plain' },
      },
    },
    async (_req, reply) => {
      if (opts.metrics === undefined) throw new ApiError(404, 'not_found', 'metrics are not enabled');
      const text = await opts.metrics.metrics();
      return reply.type(opts.metrics.contentType).send(text);
    },
  );

  app.get('/openapi.json', { config: { doc: { summary: 'This description (OpenAPI 3.1)', auth: false } } }, async () =>
    buildOpenApi(documented),
  );

  // ---- the viewer ----

  for (const [url, { file, type }] of Object.entries(VIEWER_FILES)) {
    app.get(url, async (_req, reply: FastifyReply) => {
      const content = viewer.get(file);
      if (content === undefined) throw new ApiError(404, 'not_found', 'the viewer is not installed');
      reply.header('content-security-policy', VIEWER_CSP).header('x-frame-options', 'DENY').header('cache-control', 'no-cache');
      return reply.type(type).send(content);
    });
  }

  return app;
}
