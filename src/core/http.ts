import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ControlError, KakaoApiError, OAuthError, PageError, RedirectError } from './errors.js';
import { errorPage } from './pages.js';
import type { RequestPhases } from './phases.js';
import { readableAjvErrors } from './schema-errors.js';
import { UNREAD_JSON_HINT, sentUnreadJson } from './json.js';
import type { ErrorObject } from 'ajv';
import { concurrencyFailure, storeLocked, storeUnavailable } from '../db/dialect.js';

/**
 * The surfaces a route can belong to, each with its own error shape (DESIGN.md): kauth's
 * OAuth JSON, kapi's `{code,msg}`, the control plane's `{error}`, and HTML pages (or a
 * redirect) for what a browser opens. Declared with every route; for requests that match no
 * route (404s, and requests refused before routing) the longest matching path prefix
 * decides, and kapi otherwise.
 */
export type Surface = 'kauth' | 'kapi' | 'control' | 'page';

export interface SurfacePrefix {
  prefix: string;
  surface: Surface;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    surface?: Surface;
    /**
     * The status a control route's success answers with, when not 200: the reply gets it
     * (control/routes.ts) and the OpenAPI document says it (core/openapi.ts).
     */
    success?: 201 | 204;
  }
}

/** Route config of a control route that creates something: 201 with it. */
export const CREATED = { success: 201 } as const;
/** Route config of a control route that answers 204 with no body (`return reply.send()`). */
export const NO_CONTENT = { success: 204 } as const;

/** Text holding a NUL character (U+0000), which neither store may keep alike (PostgreSQL refuses it). */
export const NUL_TEXT = 'text may not contain the NUL character (U+0000, %00)';
export const NUL_REFUSED = `invalid request: ${NUL_TEXT}.`;
/** Text holding half of a surrogate pair, which each store keeps as a different U+FFFD. */
export const LONE_SURROGATE_TEXT = 'text may not contain a lone surrogate (an unpaired \\ud800-\\udfff escape)';

/** Kakao writes JSON as `application/json;charset=UTF-8`. */
export const JSON_TYPE = 'application/json;charset=UTF-8';
export const HTML_TYPE = 'text/html; charset=utf-8';

/** Which surface a URL path belongs to when no route says so. */
export function surfaceForPath(prefixes: readonly SurfacePrefix[], url: string): Surface {
  const path = url.split('?')[0];
  let best: SurfacePrefix | undefined;
  for (const p of prefixes) if (path.startsWith(p.prefix) && (!best || p.prefix.length > best.prefix.length)) best = p;
  return best?.surface ?? 'kapi';
}

/**
 * A parameter error of a request whose JSON body was not read (core/json.ts) says so: the
 * platform answers as if no parameter was sent, and the reason is not in the answer.
 */
function withHint<E extends KakaoApiError | OAuthError>(err: E): E {
  if (err instanceof KakaoApiError) {
    return new KakaoApiError(err.code, `${err.msg.replace(/\.$/, '')}; ${UNREAD_JSON_HINT}.`, err.status, err.extras, err.headers) as E;
  }
  const o = err as OAuthError;
  return new OAuthError(o.error, `${o.description.replace(/\.$/, '')}; ${UNREAD_JSON_HINT}.`, o.errorCode, o.status) as E;
}

/** A short reason phrase for a client error without a message of its own. */
function describe(fe: FastifyError, req: FastifyRequest, surface: Surface): string {
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    // Kakao's APIs take form fields (JSON only where a route says so); multipart only on uploads.
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim();
    const json = surface === 'control' || req.routeOptions.config.declaration?.jsonBody === true;
    const wanted = json ? 'a JSON body (application/json)' : 'the parameters as application/x-www-form-urlencoded';
    return `unsupported Content-Type "${type}": send ${wanted}.`;
  }
  if (fe.validation) {
    return `invalid ${fe.validationContext ?? 'parameter'}: ${readableAjvErrors(fe.validation as ErrorObject[])
      .map((v) => {
        const params = v.params as { missingProperty?: string; additionalProperty?: string };
        const path = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
        if (params.additionalProperty !== undefined) return `unknown field "${path ? `${path}.` : ''}${params.additionalProperty}"`;
        const name = path || params.missingProperty || '';
        return name ? `${name} ${v.message}` : `${v.message}`;
      })
      .join(', ')}`;
  }
  return fe.message;
}

/** The one place errors become responses; every other path throws typed errors. */
export function installErrorHandling(app: FastifyInstance, phases: RequestPhases, prefixes: readonly SurfacePrefix[]): void {
  const surfaceOf = (req: FastifyRequest): Surface => req.routeOptions.config?.surface ?? surfaceForPath(prefixes, req.url);

  // No text may hold a NUL character (PostgreSQL refuses it): a URL with one is a bad
  // request on either store, in its surface's shape. Bodies: core/form.ts and core/json.ts.
  phases.onArrival((req, reply) => {
    if (!req.url.includes('%00')) return false;
    sendClientError(reply, surfaceOf(req), 400, NUL_REFUSED);
    return true;
  });

  phases.onSending((_req, reply) => {
    const type = reply.getHeader('content-type');
    if (type !== JSON_TYPE && typeof type === 'string' && type.startsWith('application/json')) reply.header('content-type', JSON_TYPE);
  });

  app.setErrorHandler((err: FastifyError | KakaoApiError | OAuthError | ControlError | PageError | RedirectError, req, reply) => {
    if (err instanceof KakaoApiError) return sendApiError(reply, sentUnreadJson(req) && err.code === -2 ? withHint(err) : err);
    if (err instanceof ControlError) return reply.status(err.status).type(JSON_TYPE).send({ error: err.message });
    if (err instanceof OAuthError) return reply.status(err.status).type(JSON_TYPE).send((sentUnreadJson(req) && err.status === 400 ? withHint(err) : err).body());
    if (err instanceof PageError) return sendPage(reply.headers(err.headers), err.status, err.html);
    if (err instanceof RedirectError) return reply.header('cache-control', 'no-store').redirect(err.location, 302);
    const fe = err as FastifyError;
    const surface = surfaceOf(req);
    // Schema validation, malformed bodies, unsupported content types, bodies too large: the client's fault.
    if (fe.validation || (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500)) {
      return sendClientError(reply, surface, fe.validation ? 400 : fe.statusCode!, describe(fe, req, surface));
    }
    req.log.error({ err }, 'unhandled error');
    return sendServerError(reply, surface, err);
  });

  app.setNotFoundHandler((req, reply) => {
    const what = `${req.method} ${req.url.split('?')[0]}`;
    switch (surfaceOf(req)) {
      case 'control':
        return reply.status(404).type(JSON_TYPE).send({ error: `no such control-plane endpoint: ${what}` });
      case 'kauth':
        // KOE002 is kauth's "wrong URL" (wire facts §2.7); KOE101 would blame the app key.
        return reply.status(404).type(JSON_TYPE).send({ error: 'invalid_request', error_description: `no such endpoint: ${what}`, error_code: 'KOE002' });
      case 'page':
        return sendPage(reply, 404, errorPage('404', `There is no page at ${what}.`));
      default:
        return reply.status(404).type(JSON_TYPE).send({ msg: `no such api: ${what}`, code: -1 });
    }
  });
}

/** Errors raised before a request reaches a route (bad URL, parameter too long): by path. */
export function frameworkErrorHandler(prefixes: readonly SurfacePrefix[]) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
    return sendClientError(reply, surfaceForPath(prefixes, req.url ?? '/'), status, err.message);
  };
}

/**
 * Requests Node's HTTP parser refuses (headers too large, bytes that are no HTTP): the
 * answer is written to the socket directly, in the shape of the surface the request line
 * names when it can be read.
 */
export function clientErrorHandler(prefixes: readonly SurfacePrefix[]) {
  return (err: Error & { code?: string; rawPacket?: unknown }, socket: import('node:net').Socket): void => {
    if (!socket.writable) {
      socket.destroy(err);
      return;
    }
    const raw = Buffer.isBuffer(err.rawPacket) ? err.rawPacket : undefined;
    const { status, reason, phrase } = clientErrorStatus(err.code, raw);
    const packet = raw ? raw.toString('latin1', 0, 8192) : '';
    // The path only: a request line longer than what is read of it has no ` HTTP/1.1` in view.
    const line = /^[A-Z]+ (\S+)/.exec(packet);
    // A timeout has no packet: a request whose headers arrived (its body did not) is the
    // parser's message in progress.
    const parsing = (socket as { parser?: { incoming?: { url?: unknown } | null } }).parser?.incoming?.url;
    const surface = surfaceForPath(prefixes, line?.[1] ?? (typeof parsing === 'string' ? parsing : '/'));
    const { type, body } = clientErrorBody(surface, status, reason);
    const bytes = Buffer.from(body);
    socket.end(
      `HTTP/1.1 ${status} ${phrase}\r\n` +
        `Content-Type: ${type}\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n\r\n${body}`,
    );
  };
}

/** What Node's parser refused, as an HTTP status. */
function clientErrorStatus(code: string | undefined, packet: Buffer | undefined): { status: number; reason: string; phrase: string } {
  switch (code) {
    case 'HPE_INVALID_URL': {
      const reason = packet && nonAsciiInRequestLine(packet);
      if (reason) return { status: 400, reason, phrase: 'Bad Request' };
      return { status: 400, reason: 'malformed HTTP request: the request target is not a valid URL', phrase: 'Bad Request' };
    }
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: 'request header fields too large', phrase: 'Request Header Fields Too Large' };
    case 'HPE_URI_TOO_LONG':
      return { status: 414, reason: 'URI too long', phrase: 'URI Too Long' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'the request did not arrive in time', phrase: 'Request Timeout' };
    default:
      return { status: 400, reason: 'malformed HTTP request', phrase: 'Bad Request' };
  }
}

/**
 * A request target with raw UTF-8 (`curl -g '…?x=가'`): nginx, in front of Kakao, takes the
 * bytes, but Node 20's parser (llhttp) refuses any byte above 0x7F in a URL, under every option
 * it has (`insecureHTTPParser` included), before Kapibara sees the request. What can be done
 * is to say so: the byte, and the character percent-encoded when the bytes are UTF-8.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function nonAsciiInRequestLine(packet: Buffer): string | undefined {
  let end = packet.indexOf('\r\n');
  if (end < 0) end = Math.min(packet.length, 8192);
  const at = packet.subarray(0, end).findIndex((b) => b > 0x7f);
  if (at < 0) return undefined;
  const byte = packet[at];
  const reason = `the request line holds a byte that is not ASCII (0x${byte.toString(16).toUpperCase()}): percent-encode non-ASCII characters in the URL`;
  // The UTF-8 character starting there, if it is one: 2, 3 or 4 bytes by its lead byte.
  const length = byte >= 0xf5 ? 0 : byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc2 ? 2 : 0;
  let decoded: string | undefined;
  try {
    if (length && at + length <= packet.length) decoded = UTF8.decode(packet.subarray(at, at + length));
  } catch {
    // Not UTF-8: the byte alone is named.
  }
  return decoded ? `${reason} ("${decoded}" is ${encodeURIComponent(decoded)})` : reason;
}

function clientErrorBody(surface: Surface, status: number, what: string): { type: string; body: string } {
  switch (surface) {
    case 'kauth':
      return { type: JSON_TYPE, body: JSON.stringify({ error: 'invalid_request', error_description: what, error_code: 'KOE001' }) };
    case 'control':
      return { type: JSON_TYPE, body: JSON.stringify({ error: what }) };
    case 'page':
      return { type: HTML_TYPE, body: errorPage(String(status), what) };
    default:
      return { type: JSON_TYPE, body: JSON.stringify(new KakaoApiError(-2, what, status).body()) };
  }
}

function sendClientError(reply: FastifyReply, surface: Surface, status: number, what: string) {
  // kauth and kapi answer a bad request with 400 whatever Fastify called it (a body too
  // large keeps its 413 everywhere); the control plane keeps Fastify's status.
  const wireStatus = surface === 'control' || surface === 'page' || status === 413 ? status : 400;
  const { type, body } = clientErrorBody(surface, wireStatus, what);
  return reply.status(wireStatus).type(type).send(body);
}

/**
 * A failure that is no fault of the request. When the store failed to serve the call at all
 * (db/dialect.ts), or PostgreSQL rolled the call's transaction back for running beside
 * another, the answer says so in the surface's shape: kapi's -1 and kauth's server_error
 * (Kakao's own codes for a failure on its side) name it, the control plane and pages answer
 * 503 (the store) or 409 (send it again) as health and the control plane's own writes do.
 * Anything else is the plain internal error, claiming nothing.
 */
function sendServerError(reply: FastifyReply, surface: Surface, err: unknown) {
  const store = storeUnavailable(err);
  const rolledBack = !store && concurrencyFailure(err);
  const detail = store !== undefined
    ? storeLocked(err)
      ? `Kapibara's store gave up waiting for a lock another connection to the database held (${store}): nothing of the call was written; send it again`
      : `Kapibara's store does not answer (${store})`
    : rolledBack
      ? `the call met writes made at the same time and was rolled back (${(err as Error).message}): nothing of it was written; send it again`
      : undefined;
  const status = store !== undefined ? 503 : rolledBack ? 409 : 500;
  switch (surface) {
    case 'kauth':
      return reply
        .status(500)
        .type(JSON_TYPE)
        .send({ error: 'server_error', error_description: detail ? `internal error: ${detail}` : 'internal error', error_code: 'KOE003' });
    case 'control':
      return reply.status(status).type(JSON_TYPE).send({ error: detail ?? 'internal error' });
    case 'page':
      return sendPage(reply, status, errorPage(String(status), detail ? `${detail[0].toUpperCase()}${detail.slice(1)}.` : 'Something went wrong on Kapibara’s side.'));
    default:
      return sendApiError(reply, new KakaoApiError(-1, detail ? `internal error: ${detail}` : 'internal error', 500));
  }
}

export function sendPage(reply: FastifyReply, status: number, html: string) {
  return reply.status(status).header('cache-control', 'no-store').type(HTML_TYPE).send(html);
}

function sendApiError(reply: FastifyReply, err: KakaoApiError) {
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return reply.status(err.status).type(JSON_TYPE).send(err.body());
}
