import type { FastifyInstance, RouteOptions } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import type { RouteDeclaration } from './route.js';
import type { Surface } from './http.js';

/**
 * The OpenAPI 3.1 description of everything Kapibara serves, generated from the routes as
 * they are registered (never written by hand): each Fastify route is seen by an `onRoute`
 * hook; routes declared with `route()` add their auth kind, api_type, scopes and parameter
 * schema, plugin routes their TypeBox schemas. Error answers use the shape of the route's
 * surface. Served at /_kapibara/openapi.json.
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The `route()` declaration a route was registered from (core/route.ts). */
    declaration?: RouteDeclaration;
  }
}

interface Seen {
  methods: string[];
  url: string;
  options: RouteOptions;
}

/** HEAD routes Fastify adds for every GET, and the CORS preflight catch-all: described, not listed. */
export function isDerivedRoute(method: string, url: string): boolean {
  return method === 'HEAD' || (method === 'OPTIONS' && url.includes('*'));
}

/** Starts collecting routes; call before any route is registered. */
export function collectRoutes(app: FastifyInstance): () => Seen[] {
  const seen: Seen[] = [];
  app.addHook('onRoute', (options) => {
    const methods = (Array.isArray(options.method) ? options.method : [options.method]).map(String).filter((m) => !isDerivedRoute(m, options.url));
    if (methods.length > 0) seen.push({ methods, url: options.url, options });
  });
  return () => seen;
}

const ERROR_SCHEMAS = {
  KapiError: {
    type: 'object',
    description: 'kapi.kakao.com errors (and dapi answers of the same shape).',
    required: ['code', 'msg'],
    properties: {
      msg: { type: 'string' },
      code: { type: 'integer', description: 'Kakao error code: -1, -2, -3, -401, -402, …' },
      api_type: { type: 'string', description: 'on -402 and -3: the API that needs the consent' },
      required_scopes: { type: 'array', items: { type: 'string' } },
      allowed_scopes: { type: 'array', items: { type: 'string' } },
    },
  },
  KauthError: {
    type: 'object',
    description: 'kauth.kakao.com errors (OAuth 2.0 shape with a KOE code).',
    required: ['error', 'error_description'],
    properties: {
      error: { type: 'string', description: 'invalid_request, invalid_grant, invalid_client, …' },
      error_description: { type: 'string' },
      error_code: { type: 'string', pattern: '^KOE\\d+$' },
    },
  },
  ControlError: {
    type: 'object',
    description: 'Kapibara control-plane errors.',
    required: ['error'],
    properties: { error: { type: 'string' } },
  },
} as const;

function errorResponses(surface: Surface): Record<string, unknown> {
  if (surface === 'page') {
    return {
      '302': { description: 'a redirect back to the app (errors an app receives as redirect parameters)' },
      '4XX': { description: 'an HTML page naming the KOE code and its cause', content: { 'text/html': { schema: { type: 'string' } } } },
    };
  }
  const name = surface === 'kauth' ? 'KauthError' : surface === 'control' ? 'ControlError' : 'KapiError';
  const body = { content: { 'application/json': { schema: { $ref: `#/components/schemas/${name}` } } } };
  return { '4XX': { description: 'the client’s error, in this surface’s shape', ...body }, '5XX': { description: 'an internal error', ...body } };
}

/** TypeBox schemas are JSON Schema; a clean copy drops TypeBox's symbols and undefined values. */
function plain(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

function pathParams(url: string, schema: unknown): unknown[] {
  const names = [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
  const props = (schema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
  return names.map((name) => ({ name, in: 'path', required: true, schema: props[name] ? plain(props[name]) : { type: 'string' } }));
}

function queryParams(schema: unknown): unknown[] {
  const s = schema as { properties?: Record<string, TSchema>; required?: string[] } | undefined;
  if (!s?.properties) return [];
  return Object.entries(s.properties).map(([name, prop]) => ({ name, in: 'query', required: s.required?.includes(name) ?? false, schema: plain(prop) }));
}

function securityOf(d: RouteDeclaration | undefined, surface: Surface): unknown[] | undefined {
  if (surface === 'control') return [{ operatorToken: [] }, {}];
  if (!d) return undefined;
  switch (d.auth) {
    case 'user':
      return [{ accessToken: [] }];
    case 'user-or-admin':
      return [{ accessToken: [] }, { appKey: [] }];
    case 'app-key':
      return [{ appKey: [] }];
    default:
      return [];
  }
}

function operation(method: string, seen: Seen, surfaceOf: (o: RouteOptions) => Surface): Record<string, unknown> {
  const { options } = seen;
  const surface = surfaceOf(options);
  const d = options.config?.declaration;
  const schema = (options.schema ?? {}) as { params?: unknown; querystring?: unknown; body?: unknown; response?: Record<string, unknown> };
  const op: Record<string, unknown> = { tags: [surface], operationId: `${method.toLowerCase()} ${seen.url}` };
  const notes: string[] = [];
  if (d) {
    notes.push(`auth: ${d.auth}${d.keys ? ` (${d.keys.join(', ')} keys)` : ''}`);
    if (d.apiType) op['x-kakao-api-type'] = d.apiType;
    if (d.scopes?.length) {
      op['x-kakao-scopes'] = [...d.scopes];
      notes.push(`needs consent to ${d.scopes.join(', ')} (api_type ${d.apiType}; -402 otherwise)`);
    }
    op['x-kapibara-auth'] = d.auth;
  }
  if (notes.length) op.description = notes.join('; ');
  const security = securityOf(d, surface);
  if (security) op.security = security;

  const parameters: unknown[] = pathParams(seen.url, schema.params);
  const params = d?.params;
  const readsBody = method !== 'GET' && method !== 'DELETE' && method !== 'HEAD';
  if (params) {
    // Kakao takes query and form fields alike; GETs document them in the query.
    if (readsBody) {
      op.requestBody = {
        required: ((params as { required?: string[] }).required?.length ?? 0) > 0,
        content: {
          'application/x-www-form-urlencoded': { schema: plain(params) },
          ...(d?.body ? { 'multipart/form-data': { schema: { type: 'object' } } } : {}),
        },
      };
    } else parameters.push(...queryParams(params));
  } else if (d?.body) {
    const type = d.jsonBody ? 'application/json' : 'multipart/form-data';
    op.requestBody = { required: true, content: { [type]: { schema: { type: 'object' } } } };
  }
  if (schema.querystring) parameters.push(...queryParams(schema.querystring));
  if (schema.body) op.requestBody = { required: true, content: { 'application/json': { schema: plain(schema.body) } } };
  if (parameters.length) op.parameters = parameters;

  const responses: Record<string, unknown> = {};
  const declared = schema.response ?? {};
  for (const [status, body] of Object.entries(declared)) {
    responses[status] = { description: `status ${status}`, content: { 'application/json': { schema: plain(body) } } };
  }
  if (Object.keys(responses).length === 0) {
    // A control route that creates answers 201, one that deletes 204 (its `success`, core/http.ts).
    const success = options.config?.success;
    responses[String(success ?? 200)] =
      surface === 'page'
        ? { description: 'an HTML page', content: { 'text/html': { schema: { type: 'string' } } } }
        : success === 204
          ? { description: 'success, with no body' }
          : d?.response === 'empty'
            ? { description: 'success, with an empty body' }
            : { description: success === 201 ? 'created' : 'success', content: { 'application/json': { schema: {} } } };
  }
  Object.assign(responses, errorResponses(surface));
  op.responses = responses;
  return op;
}

/** `/apps/:app_id` → `/apps/{app_id}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

export function openApiDocument(routes: Seen[], surfaceOf: (o: RouteOptions) => Surface, version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const seen of routes) {
    const path = openApiPath(seen.url);
    paths[path] ??= {};
    for (const method of seen.methods) paths[path][method.toLowerCase()] = operation(method, seen, surfaceOf);
  }
  const sorted = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Kapibara',
      version,
      description:
        'The Kakao developer platform as Kapibara emulates it (kauth, kapi and the pages a browser opens) and ' +
        'Kapibara’s own control plane. One origin serves every Kakao host. Every GET also answers HEAD, and ' +
        'kapi and kauth paths answer CORS preflights (OPTIONS); those are not listed (the control plane and ' +
        'console refuse preflights with 403, docs/security.md). Errors use the shape of the ' +
        'route’s surface (tag): kapi {msg, code}, kauth {error, error_description, error_code}, control {error}, ' +
        'page an HTML page or a redirect.',
    },
    tags: [
      { name: 'kauth', description: 'kauth.kakao.com: OAuth 2.0 / OpenID Connect' },
      { name: 'kapi', description: 'kapi.kakao.com: REST APIs' },
      { name: 'page', description: 'pages a browser opens (login, consent, console)' },
      { name: 'control', description: 'Kapibara’s control plane and health' },
    ],
    paths: sorted,
    components: {
      schemas: ERROR_SCHEMAS,
      securitySchemes: {
        accessToken: { type: 'http', scheme: 'bearer', description: 'a person’s access token' },
        appKey: { type: 'apiKey', in: 'header', name: 'Authorization', description: '`KakaoAK <app key>`' },
        operatorToken: { type: 'http', scheme: 'bearer', description: 'the operator token, when the server has one' },
      },
    },
  };
}
