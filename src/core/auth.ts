import type { FastifyRequest } from 'fastify';
import { KakaoApiError, TOKEN_EXPIRED, TOKEN_UNKNOWN, insufficientScopes, invalidToken, keyNotAllowed } from './errors.js';
import { sha256 } from './ids.js';
import { hasScope } from './scopes.js';
import type { Platform } from './platform.js';
import { type App, type KeyType, findAppById, findAppByKey } from '../store/apps.js';
import { type Account, findAccountById } from '../store/accounts.js';
import { type Link, findLink } from '../store/links.js';

/** A kapi call made with a person's access token. */
export interface UserContext {
  app: App;
  account: Account;
  link: Link;
  tokenExpiresAt: number;
}

/** A kapi call made with an app key (`Authorization: KakaoAK <key>`). */
export interface AppKeyContext {
  app: App;
  keyType: KeyType;
  key: string;
}

function authorization(req: FastifyRequest): { scheme: string; value: string } | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space < 0) return { scheme: header, value: '' };
  return { scheme: header.slice(0, space).toLowerCase(), value: header.slice(space + 1).trim() };
}

/** Resolves `Authorization: Bearer <access token>`; -401 when missing, unknown or expired. */
export async function requireUser(req: FastifyRequest): Promise<UserContext> {
  const platform = req.server.platform;
  const auth = authorization(req);
  if (!auth || auth.scheme !== 'bearer' || !auth.value) {
    if (auth?.scheme === 'kakaoak') {
      const found = await findAppByKey(platform.db, auth.value);
      if (found) throw keyNotAllowed(auth.value);
    }
    throw invalidToken(TOKEN_UNKNOWN);
  }
  return userFromToken(platform, auth.value);
}

export async function userFromToken(platform: Platform, token: string): Promise<UserContext> {
  const { db, clock } = platform;
  const row = await db
    .selectFrom('access_tokens')
    .select(['app_id', 'account_id', 'expires_at'])
    .where('token_hash', '=', sha256(token))
    .executeTakeFirst();
  if (!row) throw invalidToken(TOKEN_UNKNOWN);
  if (row.expires_at <= clock.now()) throw invalidToken(TOKEN_EXPIRED);
  const [app, account, link] = await Promise.all([
    findAppById(db, row.app_id),
    findAccountById(db, row.account_id),
    findLink(db, row.app_id, row.account_id),
  ]);
  if (!app || !account || !link) throw invalidToken(TOKEN_UNKNOWN);
  return { app, account, link, tokenExpiresAt: row.expires_at };
}

/**
 * Resolves `Authorization: KakaoAK <app key>` and checks the key type may call the API
 * (-3 otherwise, as in seed 002). A Bearer token where an app key is required is -401.
 */
export async function requireAppKey(req: FastifyRequest, allowed: readonly KeyType[]): Promise<AppKeyContext> {
  const auth = authorization(req);
  if (!auth || auth.scheme !== 'kakaoak' || !auth.value) {
    throw new KakaoApiError(-401, 'invalid authorization: this api needs "Authorization: KakaoAK ${APP_KEY}".', 401, {}, {
      'www-authenticate': 'KakaoAK error=invalid_key',
    });
  }
  const found = await findAppByKey(req.server.platform.db, auth.value);
  if (!found) {
    throw new KakaoApiError(-401, 'invalid app key.', 401, {}, { 'www-authenticate': 'KakaoAK error=invalid_key' });
  }
  if (!allowed.includes(found.keyType)) throw keyNotAllowed(auth.value);
  return { app: found.app, keyType: found.keyType, key: auth.value };
}

export const ADMIN_ONLY: readonly KeyType[] = ['admin'];

/** -402 unless the person agreed to every scope in `required`. */
export function requireScopes(ctx: UserContext, apiType: string, required: string[]): void {
  const missing = required.filter((s) => !hasScope(ctx.link.scopes, s));
  if (missing.length > 0) throw insufficientScopes(apiType, missing, Object.keys(ctx.link.scopes));
}
