import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { KakaoApiError, TOKEN_EXPIRED, TOKEN_UNKNOWN, consentItemDisabled, insufficientScopes, invalidToken, keyNotAllowed, notLinked } from './errors.js';
import { hasScope } from './scopes.js';
import { rawParams, validateParams } from './params.js';
import { originOf, type Platform } from './platform.js';
import type { Account, App, KeyType, Link } from './model.js';
import { isAllowedUrlText } from './fetcher.js';

/** seed 002's sample -401 message, for an Authorization header that carries no usable token. */
export const TOKEN_MALFORMED = 'InvalidTokenException';

/**
 * Who is calling, as every operation sees it: the platform, the origin the client reached
 * (for absolute URLs), the `KA` header (SDK, language), and the caller's identity. The
 * route declaration (`core/route.ts`) builds it from the auth kind it declares.
 */
export interface Call {
  platform: Platform;
  origin: string;
  /** The `KA` header the SDKs send (`sdk/… lang/ko-KR …`), if any. */
  ka?: string;
  /** The Authorization header as sent (routes with auth `none` that check credentials themselves). */
  authorization?: string;
  /** The `Origin` header of a browser's request (the page calling a JavaScript-key API), if any. */
  pageOrigin?: string;
}

/** A call made with an app key (`Authorization: KakaoAK <key>`). */
export interface AppCall extends Call {
  app: App;
  keyType: KeyType;
  key: string;
}

/** A call about one person: with their access token, or with the app's admin key naming them. */
export interface PersonCall extends Call {
  app: App;
  account: Account;
  link: Link;
  /** True for the admin form (`KakaoAK <ADMIN_KEY>` with `target_id_type=user_id&target_id=…`). */
  byAdmin: boolean;
  /** When the access token expires (ms); absent for the admin form. */
  tokenExpiresAt?: number;
}

/** A call made with a person's access token. */
export interface UserCall extends PersonCall {
  byAdmin: false;
  tokenExpiresAt: number;
}

/** The person and app behind an access token, as the directory resolves it. */
export interface TokenOwner {
  app: App;
  account: Account;
  link: Link;
  tokenExpiresAt: number;
}

/**
 * How core finds callers without knowing the repositories: implemented over the store by
 * `store/directory.ts` and handed to the platform by `buildApp`.
 */
export interface Directory {
  /**
   * null: no such token, or its link is gone. Hands out a copy the caller may change.
   * `fresh`: read from the database, not from what is kept in memory.
   */
  tokenOwner(token: string, fresh?: boolean): Promise<TokenOwner | null>;
  appByKey(key: string): Promise<{ app: App; keyType: KeyType } | undefined>;
  /** The person `userId` of `appId` (admin-key calls), if linked. */
  linkedPerson(appId: number, userId: number): Promise<{ account: Account; link: Link } | undefined>;
}

function authorization(req: FastifyRequest): { scheme: string; value: string } | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space < 0) return { scheme: header, value: '' };
  return { scheme: header.slice(0, space).toLowerCase(), value: header.slice(space + 1).trim() };
}

/** What every call carries whoever makes it. */
export function baseCall(req: FastifyRequest): Call {
  const ka = req.headers.ka;
  const pageOrigin = req.headers.origin;
  return {
    platform: req.server.platform,
    origin: originOf(req),
    ka: typeof ka === 'string' ? ka : undefined,
    authorization: req.headers.authorization,
    pageOrigin: typeof pageOrigin === 'string' ? pageOrigin : undefined,
  };
}

/** Resolves `Authorization: Bearer <access token>`; -401 when missing, unknown or expired. */
export async function requireUser(req: FastifyRequest, fresh = false): Promise<UserCall> {
  const platform = req.server.platform;
  const auth = authorization(req);
  if (!auth) {
    // RFC 6750 §2.3: the token as an `access_token` query parameter (node-oauth, and with
    // it passport-kakao, sends it this way on GET), or as a form field.
    const token = accessTokenParam(req);
    if (token) return userCall(req, token, fresh);
  }
  if (!auth || auth.scheme !== 'bearer' || !auth.value) {
    if (auth?.scheme === 'kakaoak') {
      const found = await platform.directory.appByKey(auth.value);
      if (found) throw keyNotAllowed(auth.value);
      throw invalidToken(TOKEN_UNKNOWN);
    }
    // No header: no token. A header that is no credential at all (another scheme, an
    // empty Bearer): the platform's generic message, as in seed 002's sample.
    throw invalidToken(auth ? TOKEN_MALFORMED : TOKEN_UNKNOWN);
  }
  return userCall(req, auth.value, fresh);
}

function accessTokenParam(req: FastifyRequest): string | undefined {
  const fromQuery = (req.query as Record<string, unknown> | undefined)?.access_token;
  if (typeof fromQuery === 'string' && fromQuery) return fromQuery;
  const body = req.body;
  const fromBody = body && typeof body === 'object' && !Buffer.isBuffer(body) ? (body as Record<string, unknown>).access_token : undefined;
  return typeof fromBody === 'string' && fromBody ? fromBody : undefined;
}

async function userCall(req: FastifyRequest, token: string, fresh: boolean): Promise<UserCall> {
  const platform = req.server.platform;
  const owner = await platform.directory.tokenOwner(token, fresh);
  if (!owner) throw invalidToken(TOKEN_UNKNOWN);
  if (owner.tokenExpiresAt <= platform.clock.now()) throw invalidToken(TOKEN_EXPIRED);
  return personCall(req, owner.app, owner.account, owner.link, false, owner.tokenExpiresAt) as UserCall;
}

/**
 * A call about a person, written out rather than spread (as requireAppKey's): it is built
 * on every call, and a spread-built object is far slower for V8 to build and to resolve
 * the caller's promise with.
 */
function personCall(req: FastifyRequest, app: App, account: Account, link: Link, byAdmin: boolean, tokenExpiresAt?: number): PersonCall {
  const base = baseCall(req);
  return { platform: base.platform, origin: base.origin, ka: base.ka, authorization: base.authorization, pageOrigin: base.pageOrigin, app, account, link, byAdmin, tokenExpiresAt };
}

/**
 * Resolves `Authorization: KakaoAK <app key>` and checks the key type may call the API
 * (-3 otherwise, as in seed 002). A Bearer token where an app key is required is -401.
 */
export async function requireAppKey(req: FastifyRequest, allowed: readonly KeyType[]): Promise<AppCall> {
  const auth = authorization(req);
  if (!auth || auth.scheme !== 'kakaoak' || !auth.value) {
    throw new KakaoApiError(-401, 'invalid authorization: this api needs "Authorization: KakaoAK ${APP_KEY}".', 401, {}, {
      'www-authenticate': 'KakaoAK error=invalid_key',
    });
  }
  const found = await req.server.platform.directory.appByKey(auth.value);
  if (!found) {
    throw new KakaoApiError(-401, 'invalid app key.', 401, {}, { 'www-authenticate': 'KakaoAK error=invalid_key' });
  }
  if (!allowed.includes(found.keyType)) throw keyNotAllowed(auth.value);
  const base = baseCall(req);
  return { platform: base.platform, origin: base.origin, ka: base.ka, authorization: base.authorization, pageOrigin: base.pageOrigin, app: found.app, keyType: found.keyType, key: auth.value };
}

/**
 * Whom a refused call's credential names, for the request inspector: the app of a known
 * app key (of whatever type, with a target or not), or the app and person of a known access
 * token, expired or not. Undefined when it names nobody. Only refused calls ask, so the
 * lookups are not on the path of a call that gets through.
 */
export async function namedCaller(req: FastifyRequest): Promise<{ app: App; account?: Account; link?: Link } | undefined> {
  const { directory } = req.server.platform;
  const auth = authorization(req);
  if (auth?.scheme === 'kakaoak') return auth.value ? directory.appByKey(auth.value) : undefined;
  const token = auth ? (auth.scheme === 'bearer' ? auth.value : undefined) : accessTokenParam(req);
  return token ? ((await directory.tokenOwner(token)) ?? undefined) : undefined;
}

/** Whether the app has a consent item turned on (required or optional). */
export function consentItemOn(app: App, scope: string): boolean {
  const setting = app.consentItems[scope];
  return setting === 'required' || setting === 'optional';
}

export const ADMIN_ONLY: readonly KeyType[] = ['admin'];
export const ANY_KEY: readonly KeyType[] = ['rest_api', 'native', 'javascript', 'admin'];

/**
 * The scopes an API needs: -3 when the app has not turned a consent item on (Kakao's
 * message; an item left out of `consent_items` is off, as on the console, and
 * `/oauth/authorize` refuses it with KOE205, so a -402 the SDK answers by asking for it
 * would end there), then -402 for those the person has not agreed to.
 */
export function requireScopes(call: PersonCall, apiType: string, required: readonly string[]): void {
  for (const scope of required) {
    if (!consentItemOn(call.app, scope)) throw consentItemDisabled(call.app.name, scope, apiType);
  }
  const missing = required.filter((s) => !hasScope(call.link.scopes, s));
  if (missing.length > 0) throw insufficientScopes(apiType, missing, Object.keys(call.link.scopes));
}

const AdminTarget = Type.Object({
  target_id_type: Type.Literal('user_id'),
  target_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
});

/**
 * APIs with an admin form (/v2/user/me, logout, unlink, scopes, service terms, shipping
 * addresses…): `Bearer <token>` acts for the token's person; `KakaoAK <ADMIN_KEY>` acts for
 * `target_id` of the key's app (-101 when that id is not linked to the app). Other key
 * types are -3.
 */
export async function requireUserOrAdmin(req: FastifyRequest, fresh = false): Promise<PersonCall> {
  const auth = authorization(req);
  if (auth?.scheme !== 'kakaoak') return requireUser(req, fresh);
  const call = await requireAppKey(req, ADMIN_ONLY);
  const target = validateParams(AdminTarget, rawParams(req));
  const person = await req.server.platform.directory.linkedPerson(call.app.id, target.target_id);
  if (!person) throw notLinked();
  return personCall(req, call.app, person.account, person.link, true);
}

/**
 * The page origin a JavaScript key is used from (the `Origin` header, else the `origin/` the
 * SDK reports in `KA`) must be one of the app's web domains: -401 otherwise, as kapi answers.
 */
export function checkCallerDomain(app: App, keyType: string, pageOrigin: string | undefined, ka: string | undefined): string | undefined {
  const caller = callerOrigin(pageOrigin, ka);
  if (keyType !== 'javascript' || caller === undefined) return caller;
  if (!isAllowedUrlText(caller, app.webDomains)) throw domainMismatched(caller);
  return caller;
}

/**
 * checkCallerDomain for a kapi call. A request whose `Origin` is Kapibara's own (the host it
 * was sent to) comes from one of Kapibara's pages, in practice SDK v1's kapi /cors/ proxy
 * (the sdk product), which calls kapi same-origin for the page framing it and writes that
 * page's real origin into `KA`: the page origin is then the one in `KA`.
 */
export function checkCaller(call: { app: App; keyType: string; origin: string; pageOrigin?: string; ka?: string }): string | undefined {
  const pageOrigin = call.pageOrigin === call.origin ? undefined : call.pageOrigin;
  return checkCallerDomain(call.app, call.keyType, pageOrigin, call.ka);
}

export function domainMismatched(caller: string): KakaoApiError {
  return new KakaoApiError(-401, `domain mismatched! caller=${caller}. check out registered web domains.`, 401, {}, { 'www-authenticate': 'KakaoAK error=invalid_key' });
}

export function callerOrigin(pageOrigin: string | undefined, ka: string | undefined): string | undefined {
  if (pageOrigin && pageOrigin !== 'null') return pageOrigin;
  return kaOrigin(ka);
}

/**
 * The page origin an SDK reports in `KA` (`origin/<encoded origin>`), as sent when it does
 * not decode (so that a check refuses it rather than passing over it).
 */
export function kaOrigin(ka: string | undefined): string | undefined {
  const reported = /(?:^|\s)origin\/(\S+)/.exec(ka ?? '')?.[1];
  if (!reported) return undefined;
  try {
    return decodeURIComponent(reported);
  } catch {
    return reported;
  }
}
