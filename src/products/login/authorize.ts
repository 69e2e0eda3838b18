import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Platform } from '../../core/platform.js';
import { type OfferedChannel, linkedChannels } from '../channel/index.js';
import { OAuthError, PageError, RedirectError } from '../../core/errors.js';
import { type ScopeCatalog, hasScope } from '../../core/scopes.js';
import type { App, KeyType, Link, ServiceTerm } from '../../core/model.js';
import { findClient } from './client.js';
import { type ConsentItem, errorPage, jsSdkResultPage, loginPagePolicy } from './pages.js';
import { jsResultOrigins } from '../../core/security.js';
import { alternatives } from '../../core/schema-errors.js';
import { kakaojsPagePolicy, kakaojsResultPage } from './sdk-results.js';

/**
 * GET /oauth/authorize, as a list of small steps. The first three (client, Kakao Login
 * enabled, redirect URI) fail with an error page, since the app cannot be trusted to
 * receive the error; every later step fails by redirecting to the app with `error`.
 */

export type Prompt = 'login' | 'none' | 'select_account' | 'create';
const PROMPTS: readonly Prompt[] = ['login', 'none', 'select_account', 'create'];

/** Where results and errors go back to; known once the redirect URI is checked. */
export interface RedirectTarget {
  redirectUri: string;
  state?: string;
  /** With `JS-SDK` and `kakaojs`: the origins the result page may hand the result to. */
  resultOrigins?: string[];
  /** With `kakaojs` (SDK v1's popup login): the SDK's login widget frame in the opener, by name. */
  kakaojs?: { proxy?: string; clientId: string };
}

export interface AuthorizeRequest extends RedirectTarget {
  /** The query string as received, carried through the login and consent forms. */
  raw: string;
  app: App;
  clientId: string;
  keyType: KeyType;
  /** Scopes the app asked for with `scope`; undefined: the app's configured consent items. */
  requestedScopes?: string[];
  prompts: Set<Prompt>;
  loginHint?: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  agt?: string;
  /** `service_terms` (or the JavaScript SDK's `extra.service_terms`): limits which terms are shown. */
  serviceTermTags?: string[];
  /** The JavaScript SDK's login transaction: the result is kept for GET /apiweb/code.json. */
  authTranId?: string;
  /** `channel_public_id` (Kakao Sync): channels linked to the app, offered on the consent page. */
  channels: OfferedChannel[];
  /** The consent items the platform knows (titles for the consent page). */
  catalog: ScopeCatalog;
}

/** An error shown as a page with a KOE code and HTTP 400 (never redirected). */
export class LoginPageError extends PageError {
  constructor(
    readonly errorCode: string,
    readonly description: string,
  ) {
    super(400, errorPage(errorCode, description), description, { 'content-security-policy': loginPagePolicy([]) });
  }
}

/**
 * Back to the app's redirect URI with `code` and `state`, or with `error`,
 * `error_description`, `error_code` and `state`. The JavaScript SDK's `JS-SDK` target gets a
 * result page instead of a redirect.
 */
export function resultFor(target: RedirectTarget, params: Record<string, string | undefined>): { page: string; policy: string } | { location: string } {
  const defined = () => Object.fromEntries(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
  if (target.redirectUri === 'JS-SDK') return { page: jsSdkResultPage(defined(), target.resultOrigins ?? []), policy: loginPagePolicy([], true) };
  if (target.redirectUri === 'kakaojs' && target.kakaojs) {
    return { page: kakaojsResultPage({ result: defined(), ...target.kakaojs, origins: target.resultOrigins ?? [] }), policy: kakaojsPagePolicy() };
  }
  return { location: redirectLocation(target.redirectUri, params) };
}

/** An OAuth error sent back to the app (as a redirect, or the JS-SDK result page). */
export function authorizeRedirectError(target: RedirectTarget, oauth: OAuthError): PageError | RedirectError {
  const result = resultFor(target, { error: oauth.error, error_description: oauth.description, error_code: oauth.errorCode, state: target.state });
  return 'page' in result ? new PageError(200, result.page, oauth.description, { 'content-security-policy': result.policy }) : new RedirectError(result.location);
}

export type Query = Record<string, string | string[] | undefined>;

/** One value of a query parameter (the last when repeated); empty counts as absent. */
export function one(query: Query, name: string): string | undefined {
  const v = query[name];
  const value: unknown = Array.isArray(v) ? v[v.length - 1] : v;
  // A JSON body may carry numbers or objects where a form carries text: those are not values.
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Lists in Kakao parameters come space-separated (`+` decodes to a space) or comma-separated. */
export function splitList(value: string | undefined): string[] {
  return value ? value.split(/[\s,]+/).filter(Boolean) : [];
}

export async function readAuthorizeRequest(platform: Platform, raw: string): Promise<AuthorizeRequest> {
  const query = Object.fromEntries(new URLSearchParams(raw)) as Query;
  const scopes = platform.scopes;
  const { app, keyType, clientId } = await checkPageClient(platform.db, one(query, 'client_id'));
  checkLoginEnabled(app);
  const redirectUri = checkRedirectUri(app, keyType, one(query, 'redirect_uri'));
  const target: RedirectTarget = { redirectUri, state: one(query, 'state') };
  if (redirectUri === 'JS-SDK' || redirectUri === 'kakaojs') target.resultOrigins = jsResultOrigins(app.webDomains, one(query, 'ka'));
  if (redirectUri === 'kakaojs') target.kakaojs = { proxy: one(query, 'proxy'), clientId };
  const fail = (err: OAuthError) => authorizeRedirectError(target, err);
  try {
    checkResponseType(one(query, 'response_type'));
    const pkce = checkPkceParams(one(query, 'code_challenge'), one(query, 'code_challenge_method'));
    return {
      ...target,
      raw,
      app,
      clientId,
      keyType,
      requestedScopes: checkScopes(app, scopes, one(query, 'scope')),
      prompts: checkPrompt(one(query, 'prompt')),
      loginHint: one(query, 'login_hint'),
      nonce: one(query, 'nonce'),
      ...pkce,
      agt: one(query, 'agt'),
      serviceTermTags: serviceTermTags(one(query, 'service_terms') ?? one(query, 'extra.service_terms')),
      authTranId: one(query, 'auth_tran_id'),
      channels: await checkChannels(platform, app, one(query, 'channel_public_id')),
      catalog: scopes,
    };
  } catch (err) {
    if (err instanceof OAuthError) throw fail(err);
    throw err;
  }
}

/**
 * `channel_public_id` (comma-separated, Kakao Sync's "add channel during consent"): every
 * channel must be linked to the app (KOE102, wire facts §2.7), in the order asked.
 */
async function checkChannels(platform: Platform, app: App, value: string | undefined): Promise<OfferedChannel[]> {
  const ids = [...new Set(splitList(value))];
  if (ids.length === 0) return [];
  const linked = await linkedChannels(platform, app.id, ids);
  const missing = ids.find((id) => !linked.has(id));
  if (missing !== undefined) throw new OAuthError('invalid_request', `channel_public_id: channel ${missing} is not linked to app ${app.id}.`, 'KOE102');
  return ids.map((id) => linked.get(id)!);
}

/** `service_terms` / `extra.service_terms`: the tags of the terms to ask for, or every term when absent. */
function serviceTermTags(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : splitList(value);
}

/** client_id on a page: any of the app's keys except the admin key (KOE101 page otherwise). */
export async function checkPageClient(db: Kysely<DB>, clientId: string | undefined) {
  if (!clientId) throw new LoginPageError('KOE101', 'client_id is required.');
  const found = await findClient(db, clientId);
  if (!found) throw new LoginPageError('KOE101', `invalid client_id: ${clientId}`);
  return found;
}

/** KOE004: the app has Kakao Login turned off. */
function checkLoginEnabled(app: App): void {
  if (!app.loginEnabled) throw new LoginPageError('KOE004', `Kakao Login is disabled for app ${app.id}.`);
}

/**
 * The redirect URI must be registered, except the SDKs' own: the literal `JS-SDK` with
 * the JavaScript key and `kakao{NATIVE_KEY}://oauth` with the native key (KOE006).
 */
function checkRedirectUri(app: App, keyType: KeyType, redirectUri: string | undefined): string {
  if (!redirectUri) throw new LoginPageError('KOE006', 'redirect_uri is required.');
  if (!isAllowedRedirectUri(app, keyType, redirectUri)) {
    throw new LoginPageError('KOE006', `redirect_uri mismatch: ${redirectUri} is not registered for app ${app.id}.`);
  }
  // A registered value that is not a URL cannot be redirected to either.
  if (redirectUri !== 'JS-SDK' && redirectUri !== 'kakaojs' && !URL.canParse(redirectUri)) {
    throw new LoginPageError('KOE006', `redirect_uri ${redirectUri} is not a valid URL; fix the app's redirect URIs.`);
  }
  return redirectUri;
}

export function isAllowedRedirectUri(app: App, keyType: KeyType, redirectUri: string): boolean {
  if (app.redirectUris.includes(redirectUri)) return true;
  if (keyType === 'javascript' && (redirectUri === 'JS-SDK' || redirectUri === 'kakaojs')) return true;
  if (keyType === 'native' && redirectUri === `kakao${app.keys.native}://oauth`) return true;
  return false;
}

/** Only the authorization code flow (KOE201; the implicit `token` flow is KOE202). */
function checkResponseType(responseType: string | undefined): void {
  if (responseType === 'code') return;
  if (responseType === 'token' || responseType?.split(' ').includes('token')) {
    throw new OAuthError('invalid_request', 'response_type=token is not supported.', 'KOE202');
  }
  throw new OAuthError('invalid_request', `unsupported response_type: ${responseType ?? '(missing)'}; only "code" is supported.`, 'KOE201');
}

/** PKCE: S256 (the SDKs' choice) or plain; a challenge is 43–128 unreserved characters. */
function checkPkceParams(challenge: string | undefined, method: string | undefined) {
  if (!challenge) {
    if (method) throw new OAuthError('invalid_request', 'code_challenge_method given without code_challenge.', 'KOE001');
    return {};
  }
  const m = method ?? 'plain';
  if (m !== 'S256' && m !== 'plain') throw new OAuthError('invalid_request', `unsupported code_challenge_method: ${m}`, 'KOE001');
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(challenge)) {
    throw new OAuthError('invalid_request', 'invalid code_challenge: 43 to 128 characters of [A-Z a-z 0-9 - . _ ~].', 'KOE001');
  }
  return { codeChallenge: challenge, codeChallengeMethod: m as 'S256' | 'plain' };
}

/** `scope`: known consent items the app has enabled; `openid` needs OIDC on (KOE205). */
function checkScopes(app: App, catalog: ScopeCatalog, scope: string | undefined): string[] | undefined {
  if (scope === undefined) return undefined;
  const ids = [...new Set(splitList(scope))];
  for (const id of ids) {
    if (!catalog.has(id)) throw new OAuthError('invalid_scope', `invalid scope: ${id} is not a consent item.`, 'KOE205');
    if (id === 'openid') {
      if (!app.oidcEnabled || app.consentItems.openid === 'disabled') {
        throw new OAuthError('invalid_scope', 'invalid scope: openid (OpenID Connect is not enabled for this app).', 'KOE205');
      }
      continue;
    }
    const setting = app.consentItems[id];
    if (!setting || setting === 'disabled') {
      throw new OAuthError('invalid_scope', `invalid scope: ${id} is not enabled in the app's consent items.`, 'KOE205');
    }
  }
  return ids;
}

/** `prompt`: space- or comma-separated; `none` cannot be combined with anything else. */
function checkPrompt(prompt: string | undefined): Set<Prompt> {
  const values = splitList(prompt);
  for (const v of values) {
    if (!PROMPTS.includes(v as Prompt)) throw new OAuthError('invalid_request', `invalid prompt: ${v} (must be ${alternatives(PROMPTS)})`, 'KOE001');
  }
  const set = new Set(values as Prompt[]);
  if (set.has('none') && set.size > 1) throw new OAuthError('invalid_request', 'prompt=none cannot be combined with other values.', 'KOE001');
  return set;
}

/** What this authorization asks for: the `scope` list, or the app's consent items. */
export function requestedScopes(req: AuthorizeRequest): string[] {
  if (req.requestedScopes) return req.requestedScopes;
  const configured = Object.entries(req.app.consentItems)
    .filter(([id, setting]) => setting !== 'disabled' && id !== 'openid')
    .map(([id]) => id);
  // With OIDC on, a login without `scope` also gets an ID token (Kakao's documented default).
  if (req.app.oidcEnabled && req.app.consentItems.openid !== 'disabled') configured.push('openid');
  return configured;
}

export interface PendingConsent {
  scopes: ConsentItem[];
  terms: ConsentItem[];
  /** Channels (`channel_public_id`) the person has not added or blocked: offered, checked, on a consent page shown anyway. */
  channels: ConsentItem[];
}

/**
 * The items the consent page must show. First login: everything requested, and the app's
 * required items even when `scope` leaves them out. Later logins:
 * with `scope`, the requested items not yet agreed (incremental consent); without it, only
 * required items added since. `openid` is never shown; it comes with the login.
 */
export function pendingConsent(req: AuthorizeRequest, link: Link | undefined): PendingConsent {
  const app = req.app;
  // A first login always includes the app's required items: a link needs them.
  const required = link ? [] : Object.keys(app.consentItems).filter((id) => app.consentItems[id] === 'required');
  const scopes = [...new Set([...requestedScopes(req), ...required])]
    .filter((id) => id !== 'openid')
    .filter((id) => !link || !hasScope(link.scopes, id))
    .filter((id) => !link || req.requestedScopes || app.consentItems[id] === 'required')
    .map((id) => ({ id, title: req.catalog.get(id)?.display_name ?? id, required: app.consentItems[id] === 'required' }));
  const terms = app.serviceTerms
    .filter((t) => req.serviceTermTags === undefined || req.serviceTermTags.includes(t.tag))
    .filter((t) => !link || !link.terms[t.tag])
    .filter((t) => !link || req.serviceTermTags || t.required)
    .map((t: ServiceTerm) => ({ id: t.tag, title: t.title, required: t.required }));
  return { scopes, terms, channels: [] };
}

/** A channel as the consent page lists it. */
export function channelItem(channel: OfferedChannel): ConsentItem {
  return { id: channel.publicId, title: `Add ${channel.name} as a channel`, required: false };
}

/** What a person grants by pressing Agree: every required item plus the checked ones, and the checked channels. */
export function chosenGrant(pending: PendingConsent, checked: { scopes: string[]; terms: string[]; channels: string[] }) {
  return {
    scopes: pending.scopes.filter((s) => s.required || checked.scopes.includes(s.id)).map((s) => s.id),
    terms: pending.terms.filter((t) => t.required || checked.terms.includes(t.id)).map((t) => t.id),
    channels: pending.channels.filter((c) => checked.channels.includes(c.id)).map((c) => c.id),
  };
}

/** The scopes an authorization code carries: what was requested and is agreed, plus openid. */
export function codeScopes(req: AuthorizeRequest, link: Link): string[] {
  return requestedScopes(req).filter((id) => id === 'openid' || hasScope(link.scopes, id));
}

/** The request to continue with after logging in: without the prompts that forced it, or the AGT. */
export function continueQuery(raw: string): string {
  const params = new URLSearchParams(raw);
  const rest = splitList(params.get('prompt') ?? undefined).filter((p) => p === 'none');
  if (rest.length) params.set('prompt', rest.join(' '));
  else params.delete('prompt');
  params.delete('agt');
  return params.toString();
}

/** The app's redirect URI with result parameters added. */
/**
 * The registered URI exactly as registered, the result appended to its query (wire facts
 * §2.1): an app that signs its own query, or rebuilds redirect_uri from the URL it was
 * called on, must get back the bytes it registered, not a re-encoded query.
 */
export function redirectLocation(redirectUri: string, result: Record<string, string | undefined>): string {
  const added = new URLSearchParams(Object.entries(result).filter((e): e is [string, string] => e[1] !== undefined)).toString();
  if (added === '') return redirectUri;
  const hash = redirectUri.indexOf('#');
  const base = hash < 0 ? redirectUri : redirectUri.slice(0, hash);
  const fragment = hash < 0 ? '' : redirectUri.slice(hash);
  const joiner = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${joiner}${added}${fragment}`;
}
