import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { Server as NetServer, Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { isAllowedUrl } from './fetcher.js';
import { JSON_TYPE, sendPage } from './http.js';
import { errorPage } from './pages.js';
import type { RequestPhases } from './phases.js';

/**
 * The web-facing defences (docs/security.md), one mechanism per section: which Host names
 * are served, whose X-Forwarded-* headers are believed, who may call the control plane
 * and console, CORS, framing and page policies, form tokens, and limits on slow or greedy
 * clients. buildApp installs them with `installSecurity`; pages use the helpers.
 */

export interface SecurityOptions {
  /**
   * Host names served besides loopback names, IP addresses, Kakao's host names and the
   * public URL's host: exact names, `*.example.com` for subdomains, or `*` for any host.
   */
  allowedHosts?: string[];
  /** Addresses or CIDRs (or proxy-addr's `loopback`…) of proxies whose X-Forwarded-* headers are believed. */
  trustProxy?: string[];
  limits?: Partial<ConnectionLimits>;
}

// ---------------------------------------------------------------------------------------
// Host names (DNS rebinding)

/**
 * A page on an attacker's domain can re-point that name to 127.0.0.1 and then talk to
 * Kapibara as its own origin. Its requests still carry the attacker's name in `Host`, so
 * only names that cannot be re-pointed by an outsider are served: loopback names, IP
 * literals, Kakao's names (`kakao.com` and its subdomains), the public URL's host, and
 * what the operator adds.
 */
export function isServedHost(hostname: string, allowed: readonly string[]): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name.replace(/^\[|\]$/g, ''))) return true;
  if (name === 'kakao.com' || name.endsWith('.kakao.com')) return true;
  for (const rule of allowed) {
    const r = rule.toLowerCase().replace(/\.$/, '');
    if (r === '*' || r === name) return true;
    if (r.startsWith('*.') && name.endsWith(r.slice(1))) return true;
  }
  return false;
}

/** The host name of a `Host` value (`[::1]:9876` → `[::1]`, `localhost:80` → `localhost`). */
export function hostnameOf(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end < 0 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

function installHostCheck(phases: RequestPhases, allowedHosts: readonly string[], publicUrl: string | undefined): void {
  const allowed = [...allowedHosts];
  if (publicUrl && URL.canParse(publicUrl)) allowed.push(new URL(publicUrl).hostname);
  // Every request asks; clients send a handful of Host values, so the answers are kept.
  const served = new Map<string, boolean>();
  const isServed = (host: string): boolean => {
    let yes = served.get(host);
    if (yes === undefined) {
      yes = isServedHost(hostnameOf(host), allowed);
      if (served.size >= 256) served.clear();
      served.set(host, yes);
    }
    return yes;
  };
  phases.onArrival((req, reply) => {
    // req.host is the forwarded host only when the peer is a declared proxy.
    const host = req.host;
    if (host && isServed(host)) return false;
    const name = host ? hostnameOf(host) : '(none)';
    reply
      .status(421)
      .type('text/plain; charset=utf-8')
      .send(
        `Kapibara does not serve the host name "${name}". It answers loopback names, IP addresses, ` +
          `Kakao's host names and its --public-url; add others with --allowed-host ${host ? name : '<name>'} ` +
          `(or KAPIBARA_ALLOWED_HOSTS). This protects a local Kapibara from DNS rebinding.\n`,
      );
    return true;
  });
}

// ---------------------------------------------------------------------------------------
// Forwarded headers

/** Fastify's trustProxy: only the declared proxies (addresses, CIDRs), none by default. */
export function trustedProxies(options: SecurityOptions): FastifyServerOptions['trustProxy'] {
  const list = (options.trustProxy ?? []).map((s) => s.trim()).filter(Boolean);
  return list.length ? list : false;
}

// ---------------------------------------------------------------------------------------
// Origins

/** The origins this request reached Kapibara at: its own Host (and scheme), and the public URL. */
export function ownOrigins(req: FastifyRequest): string[] {
  const out: string[] = [];
  const own = `${req.protocol}://${req.host}`;
  if (URL.canParse(own)) out.push(new URL(own).origin);
  const fixed = req.server.platform.config.publicUrl;
  if (fixed && URL.canParse(fixed)) out.push(new URL(fixed).origin);
  return out;
}

/**
 * Whether a browser request was sent by one of Kapibara's own pages, or by no page at all
 * (a command-line client, a test): a foreign or `null` Origin, Fetch Metadata saying
 * another site or another origin of this site (another port on localhost) sent it, or a
 * page Kapibara frames for SDK v1 (which sends requests for the page framing it), fail.
 */
export function isFromOwnPage(req: FastifyRequest): boolean {
  if (isFromSdkProxy(req)) return false;
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  return ownOrigins(req).includes(origin.toLowerCase());
}

/**
 * Pages Kapibara serves for Kakao's SDK v1 to frame (kapi `/cors/`, kauth's login widget)
 * send requests on behalf of the page that frames them, another origin's: same-origin
 * requests that carry no foreign Origin, known by their Referer (the pages' own, full URL).
 */
const SDK_PROXY_PAGES = ['/cors/', '/public/widget/login/'];

function isFromSdkProxy(req: FastifyRequest): boolean {
  const referer = req.headers.referer;
  if (referer === undefined) return false;
  try {
    const path = new URL(referer).pathname;
    return SDK_PROXY_PAGES.some((page) => path.startsWith(page));
  } catch {
    return false;
  }
}

/** Who sent a refused request, for the refusal's text. */
function senderOf(req: FastifyRequest): string {
  if (isFromSdkProxy(req)) return 'the SDK v1 proxy page, on behalf of the page that framed it';
  return req.headers.origin ?? String(req.headers['sec-fetch-site']);
}

// ---------------------------------------------------------------------------------------
// Control plane and console

export const CONTROL_PATH = '/_kapibara/v1';
export const CONSOLE_PATH = '/_kapibara/console';
/** The header a body-less state-changing control call sends (any value). */
export const CONTROL_HEADER = 'x-kapibara-control';
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Why an operator token cannot be used, if it cannot: the console hands it back as a cookie
 * value (RFC 6265 cookie-octets: visible ASCII but `"`, `,`, `;` and `\`), and it is sent
 * as `Authorization: Bearer`, whose bytes Node reads as Latin-1. The generated token
 * (base64url) is always fine.
 */
export function operatorTokenProblem(token: string): string | undefined {
  if (/^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]+$/.test(token)) return undefined;
  return 'expected ASCII letters, digits and punctuation other than " , ; \\ (no spaces): the console keeps the token in a cookie';
}

function under(url: string, prefix: string): boolean {
  return url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`);
}

function isJsonType(type: string | undefined): boolean {
  const media = (type ?? '').split(';')[0].trim().toLowerCase();
  return media === 'application/json' || (media.startsWith('application/') && media.endsWith('+json'));
}

/**
 * The path the router matched: the raw URL could spell the same route differently
 * (`/%5Fkapibara/v1/reset`). Unmatched paths and the catch-all OPTIONS route (CORS
 * preflights) are judged by the decoded URL.
 */
export function routedPath(req: FastifyRequest): string {
  const route = req.routeOptions.url;
  if (route !== undefined && !route.includes('*')) return route;
  const raw = req.url.split('?')[0];
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function isGuarded(path: string): boolean {
  return under(path, CONTROL_PATH) || under(path, CONSOLE_PATH);
}

/**
 * Whether the request may be for a guarded path, from its raw URL alone: the router is
 * case-sensitive and collapses nothing, so a URL that neither starts with `/_` nor encodes
 * anything cannot reach (or be judged as) a guarded path. Spares the API calls working
 * out the routed path.
 */
function mayBeGuarded(req: FastifyRequest): boolean {
  const url = req.url;
  return url.startsWith('/_') || url.includes('%');
}

function isGuardedRequest(req: FastifyRequest): boolean {
  return mayBeGuarded(req) && isGuarded(routedPath(req));
}

/**
 * The control plane and console are for the developer's tools and Kapibara's own pages:
 * a request another origin's page sent is refused, and a state-changing control call must
 * be one that a page cannot send cross-origin without a CORS preflight (which Kapibara
 * refuses here): a JSON body, or the X-Kapibara-Control header.
 */
function installControlGuard(phases: RequestPhases): void {
  phases.onArrival((req, reply) => {
    if (!mayBeGuarded(req)) return false;
    const path = routedPath(req);
    if (!isGuarded(path)) return false;
    const control = under(path, CONTROL_PATH);
    let refusal: string | undefined;
    if (!isFromOwnPage(req)) {
      // A person following a link to the console from another site still gets there.
      const navigation = req.headers['sec-fetch-mode'] === 'navigate' && req.headers['sec-fetch-dest'] === 'document' && req.headers.origin === undefined;
      if (control || !navigation || req.method !== 'GET') {
        refusal = `the ${control ? 'control plane' : 'console'} does not answer requests sent by another origin's page (${senderOf(req)})`;
      }
    } else if (control && STATE_CHANGING.has(req.method) && !isJsonType(req.headers['content-type']) && req.headers[CONTROL_HEADER] === undefined) {
      refusal = `a ${req.method} to the control plane needs a JSON body (Content-Type: application/json) or, without a body, the header X-Kapibara-Control: 1`;
    }
    if (!refusal) return false;
    if (control) reply.status(403).type(JSON_TYPE).send({ error: refusal });
    else sendPage(reply, 403, errorPage('403', refusal));
    return true;
  });
}

// ---------------------------------------------------------------------------------------
// CORS

/**
 * Browser apps call kapi and kauth's JSON endpoints from their own origin (the JavaScript
 * SDK sends Authorization and KA, so every call is preflighted): those answer any origin,
 * for the methods the SDK uses. Never the control plane or console (the guard above
 * refuses their preflights; page headers strip the rest), and never a page or a redirect
 * (navigations need no CORS; reading a login page cross-origin would reveal its form token).
 */
function installCors(app: FastifyInstance, phases: RequestPhases): void {
  // What @fastify/cors did with { origin: true, credentials: true, methods, maxAge: 3600 },
  // header for header, as one step of the arrival phase: the plugin copied its options
  // object and built Fastify's routeOptions twice for every request, 6% of the CPU of a
  // /v2/user/me (A/B in docs/benchmarks.md). test/security-web.test.ts pins the headers.
  phases.onArrival((req, reply) => {
    const origin = req.headers.origin;
    reply.header('vary', 'Origin');
    if (origin) reply.header('access-control-allow-origin', origin);
    reply.header('access-control-allow-credentials', 'true');
    if (req.raw.method !== 'OPTIONS') return false;
    // A preflight names its origin and the method it asks for; any other OPTIONS is refused.
    if (!origin || !req.headers['access-control-request-method']) {
      reply.status(400).type('text/plain').send('Invalid Preflight Request');
      return true;
    }
    reply.header('access-control-allow-methods', CORS_METHODS);
    reply.header('vary', 'Origin, Access-Control-Request-Headers');
    const requested = req.headers['access-control-request-headers'];
    if (requested !== undefined) reply.header('access-control-allow-headers', requested);
    reply.header('access-control-max-age', CORS_MAX_AGE);
    reply.code(204).header('content-length', '0').send();
    return true;
  });
  // Routes OPTIONS on every path to the hooks (the step above has answered before a handler runs).
  app.options('*', (_req, reply) => reply.callNotFound());
}

const CORS_METHODS = 'GET, HEAD, POST, DELETE';
const CORS_MAX_AGE = '3600';

const CORS_HEADERS = ['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-expose-headers'];

// ---------------------------------------------------------------------------------------
// Framing and page policies

const framable = new WeakSet<FastifyReply>();

/**
 * Lets this page be framed by `origins` only; every other page refuses framing. An SDK's
 * proxy page (SDK v1's kapi and kauth iframes) passes `webDomainSources(app.webDomains)`.
 */
export function allowFramingBy(reply: FastifyReply, origins: readonly string[]): void {
  framable.add(reply);
  reply.header('content-security-policy', `frame-ancestors ${origins.length ? origins.join(' ') : "'none'"}`);
}

/**
 * The `frame-ancestors` sources for an app's registered web domains: an origin as written,
 * a bare host name on any scheme and port (as the fetcher and link checks read it).
 */
export function webDomainSources(webDomains: readonly string[]): string[] {
  const out = new Set<string>();
  for (const domain of webDomains) {
    if (/^https?:\/\//i.test(domain) && URL.canParse(domain)) out.add(new URL(domain).origin);
    else if (/^[a-z0-9.-]+$/i.test(domain)) for (const scheme of ['https', 'http']) out.add(`${scheme}://${domain.toLowerCase()}:*`);
  }
  return [...out];
}

/** A CSP source for an inline `<style>` or `<script>` with exactly this text. */
export function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * The policy of a page that takes a decision (login, consent, sharing): nothing loads but
 * its own inline style and script (by hash), forms go only to Kapibara and to where the
 * answer is redirected, no `<base>`, and no framing.
 */
export function strictPagePolicy(p: { styles?: string[]; scripts?: string[]; formAction?: string[] }): string {
  const parts = ["default-src 'none'"];
  if (p.styles?.length) parts.push(`style-src ${p.styles.map(cspHash).join(' ')}`);
  if (p.scripts?.length) parts.push(`script-src ${p.scripts.map(cspHash).join(' ')}`);
  parts.push(`form-action ${p.formAction?.length ? p.formAction.join(' ') : "'none'"}`);
  parts.push("base-uri 'none'", "frame-ancestors 'none'");
  return parts.join('; ');
}

/** The CSP source a form may navigate to so its answer reaches `redirectUri` (an origin, or a scheme). */
export function redirectSource(redirectUri: string): string | undefined {
  if (!URL.canParse(redirectUri)) return undefined;
  const url = new URL(redirectUri);
  if ((url.protocol === 'http:' || url.protocol === 'https:') && !url.hostname.startsWith('[')) return url.origin;
  return url.protocol;
}

/**
 * Every HTML answer refuses framing unless its route allowed it, and is not sniffed; pages
 * and redirects are never readable cross-origin.
 */
function installPageHeaders(phases: RequestPhases): void {
  phases.onSending((req, reply) => {
    const type = reply.getHeader('content-type');
    const html = typeof type === 'string' && type.startsWith('text/html');
    if (html || (reply.statusCode >= 300 && reply.statusCode < 400) || isGuardedRequest(req)) for (const h of CORS_HEADERS) reply.removeHeader(h);
    if (html) {
      if (!framable.has(reply)) {
        reply.header('x-frame-options', 'DENY');
        if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', "frame-ancestors 'none'");
      }
      reply.header('x-content-type-options', 'nosniff');
    }
  });
}

// ---------------------------------------------------------------------------------------
// Form tokens (login, sign-up and consent forms)

/** The cookie that ties a form to the browser it was shown in. */
export const FORM_COOKIE = 'kapibara_csrf';
const FORM_KEY_SETTING = 'form_token_key';

export class FormRefused extends Error {}

async function formKey(db: Kysely<DB>): Promise<Buffer> {
  const read = () => db.selectFrom('settings').select('value').where('key', '=', FORM_KEY_SETTING).executeTakeFirst();
  let row = await read();
  if (!row) {
    await db
      .insertInto('settings')
      .values({ key: FORM_KEY_SETTING, value: randomBytes(32).toString('base64url') })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    // Instances sharing PostgreSQL use whichever key was stored first.
    row = (await read())!;
  }
  return Buffer.from(row.value, 'base64url');
}

function readCookie(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

export interface FormBinding {
  /** What the form does: `login`, `signup`, `consent`. */
  purpose: string;
  /** The pending authorization request the form carries (its raw query). */
  request: string;
  /** The login session the form answers for, when it acts for a signed-in person. */
  session?: string;
}

function sign(key: Buffer, browser: string, b: FormBinding): string {
  return createHmac('sha256', key).update([b.purpose, browser, b.session ?? '', b.request].join('\n')).digest('base64url');
}

/**
 * The token a form carries: an HMAC over its purpose, the pending request, the login
 * session and this browser's form cookie (set here when the browser has none yet).
 */
export async function formToken(req: FastifyRequest, reply: FastifyReply, binding: FormBinding): Promise<string> {
  let browser = readCookie(req, FORM_COOKIE);
  if (!browser || !/^[A-Za-z0-9_-]{43}$/.test(browser)) {
    browser = randomBytes(32).toString('base64url');
    const secure = req.protocol === 'https' ? '; Secure' : '';
    reply.header('set-cookie', `${FORM_COOKIE}=${browser}; Path=/; HttpOnly; SameSite=Lax${secure}`);
  }
  return sign(await formKey(req.server.platform.db), browser, binding);
}

/**
 * A submitted form must come from Kapibara's own page (Origin and Fetch Metadata) and
 * carry the token that page was rendered with, for this browser, request and session.
 */
export async function checkForm(req: FastifyRequest, binding: FormBinding, token: string | undefined): Promise<void> {
  if (!isFromOwnPage(req)) throw new FormRefused(`This form was sent by another site's page (${senderOf(req)}), not by Kapibara's own page.`);
  const browser = readCookie(req, FORM_COOKIE);
  if (!browser || !token) throw new FormRefused('This form is missing its security token or cookie: it did not come from a Kapibara page in this browser.');
  const expected = Buffer.from(sign(await formKey(req.server.platform.db), browser, binding));
  const given = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new FormRefused('This form has expired or was not shown in this browser for this login (its security token does not match).');
  }
}

// ---------------------------------------------------------------------------------------
// The JavaScript SDK's login result

/**
 * Where the `redirect_uri=JS-SDK` result page may post the result: the app's registered
 * web domains as exact origins (a bare host name stands for its http and https origins),
 * plus the page origin the SDK reports in `ka` (`origin/<encoded origin>`) when it is
 * registered. The browser delivers a message only to an opener on one of them.
 */
export function jsResultOrigins(webDomains: readonly string[], ka: string | undefined): string[] {
  const out = new Set<string>();
  for (const domain of webDomains) {
    if (/^https?:\/\//i.test(domain) && URL.canParse(domain)) out.add(new URL(domain).origin);
    else if (/^[a-z0-9.-]+$/i.test(domain)) for (const scheme of ['https', 'http']) out.add(`${scheme}://${domain.toLowerCase()}`);
  }
  const reported = /(?:^|\s)origin\/(\S+)/.exec(ka ?? '')?.[1];
  if (reported) {
    let decoded: string | undefined;
    try {
      decoded = decodeURIComponent(reported);
    } catch {
      decoded = undefined;
    }
    if (decoded && URL.canParse(decoded)) {
      const url = new URL(decoded);
      if ((url.protocol === 'http:' || url.protocol === 'https:') && isAllowedUrl(url, webDomains)) out.add(url.origin);
    }
  }
  return [...out];
}

// ---------------------------------------------------------------------------------------
// Slow and greedy clients

export interface ConnectionLimits {
  /** Time to receive a request's headers. */
  headersTimeoutMs: number;
  /** Time to receive a whole request, body included. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
  /** A connection with no traffic either way for this long is closed (a client not reading its answer). */
  idleTimeoutMs: number;
  /** Open connections per client address (0: no limit). */
  maxConnectionsPerClient: number;
}

export const DEFAULT_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 72_000,
  idleTimeoutMs: 120_000,
  maxConnectionsPerClient: 256,
};

export function connectionLimits(options: SecurityOptions): ConnectionLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const [k, v] of Object.entries(options.limits ?? {})) if (v !== undefined) limits[k as keyof ConnectionLimits] = v;
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) limits.headersTimeoutMs = limits.requestTimeoutMs;
  return limits;
}

/** Node checks the two request timeouts on an interval: often enough for the shorter one. */
function checkInterval(limits: ConnectionLimits): number {
  return Math.max(10, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)));
}

/** The Fastify (and Node http) options that carry the limits. */
export function serverLimitOptions(options: SecurityOptions): Pick<FastifyServerOptions, 'requestTimeout' | 'keepAliveTimeout' | 'connectionTimeout'> & {
  http: { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number };
} {
  const limits = connectionLimits(options);
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    http: { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: checkInterval(limits) },
  };
}

/**
 * Caps open connections per client address: the one over the cap gets a 503 (plain HTTP)
 * or is closed (TLS) before any request on it is read.
 */
export function limitConnectionsPerClient(server: NetServer, max: number, plainHttp: boolean): void {
  if (max <= 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const count = open.get(address) ?? 0;
    if (count >= max) {
      if (!plainHttp) return void socket.destroy();
      const body = `Too many open connections from ${address} (at most ${max}); close some and retry.\n`;
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    connectionLimits: ConnectionLimits;
  }
}

/** Node server options for another listener of the app (the TLS port), with the same limits. */
export function listenerOptions(app: FastifyInstance) {
  const limits = app.connectionLimits;
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: checkInterval(limits),
  };
}

/** The limits a listener's options cannot carry: idle sockets and connections per client. */
export function limitListener(app: FastifyInstance, server: NetServer & { setTimeout(ms: number): unknown }): void {
  server.setTimeout(app.connectionLimits.idleTimeoutMs);
  limitConnectionsPerClient(server, app.connectionLimits.maxConnectionsPerClient, false);
}

// ---------------------------------------------------------------------------------------

/** Installs every defence above on the app; run before any route is registered. */
export function installSecurity(app: FastifyInstance, phases: RequestPhases, options: SecurityOptions & { publicUrl?: string }): void {
  const limits = connectionLimits(options);
  app.decorate('connectionLimits', limits);
  limitConnectionsPerClient(app.server, limits.maxConnectionsPerClient, true);
  installHostCheck(phases, options.allowedHosts ?? [], options.publicUrl);
  installControlGuard(phases);
  // After the guard, which refuses control-plane preflights from other origins first.
  installCors(app, phases);
  installPageHeaders(phases);
}
