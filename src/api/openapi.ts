/**
 * The OpenAPI 3.1 description served at /openapi.json, generated from the routes' own JSON
 * schemas (params, querystring, error responses) plus a short doc entry per route, so the
 * description cannot drift from what the server validates.
 */
import { VERSION } from '../version.js';

type Schema = Record<string, unknown>;

export interface DocumentedRoute {
  method: string;
  url: string;
  schema?: { params?: Schema; querystring?: Schema; response?: Record<string, Schema> };
  summary: string;
  /** Needs the bearer token. */
  auth: boolean;
  /** A file download (Content-Disposition). */
  download?: boolean;
  /** Answers 204 without a body. */
  noContent?: boolean;
  /** Content type of the 200 body when not JSON. */
  contentType?: string;
}

function parameters(where: 'path' | 'query', s: Schema | undefined): Schema[] {
  if (s === undefined) return [];
  const props = (s.properties ?? {}) as Record<string, Schema>;
  const required = new Set((s.required ?? []) as string[]);
  return Object.entries(props).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(description !== undefined ? { description } : {}),
      schema: rest,
    };
  });
}

export function buildOpenApi(routes: readonly DocumentedRoute[]): Schema {
  const paths: Record<string, Record<string, Schema>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const responses: Record<string, Schema> = {};
    if (r.noContent === true) responses['204'] = { description: 'Done' };
    else if (r.download === true) {
      responses['200'] = {
        description: 'The file, with Content-Disposition: attachment',
        headers: { 'Content-Disposition': { schema: { type: 'string' } } },
        content: { 'text/plain': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'object' } } },
      };
    } else if (r.contentType !== undefined) {
      responses['200'] = { description: 'OK', content: { [r.contentType]: { schema: { type: 'string' } } } };
    } else responses['200'] = { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } };
    // Every error response has the Error shape; the route schema gives its description.
    for (const [status, s] of Object.entries(r.schema?.response ?? {})) {
      responses[status] = {
        description: typeof s.description === 'string' ? s.description : 'Error',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    const params = [...parameters('path', r.schema?.params), ...parameters('query', r.schema?.querystring)];
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(r.auth ? {} : { security: [] }),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'im-history API',
      version: VERSION,
      description:
        'Read access to the IM histories recorded by the OMA SIMPLE IM History Function. A user token sees the histories ' +
        'its AOR owns, was invited to or took part in (404 for any other); the operator token sees all.',
    },
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
          },
        },
      },
    },
    paths,
  };
}
