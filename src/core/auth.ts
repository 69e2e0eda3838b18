import type { FastifyRequest } from 'fastify';
import { type Kysely, CompiledQuery } from 'kysely';
import { Type } from '@sinclair/typebox';
import { KakaoApiError, TOKEN_EXPIRED, TOKEN_UNKNOWN, insufficientScopes, invalidToken, keyNotAllowed, notLinked } from './errors.js';
import { sha256 } from './ids.js';
import { hasScope } from './scopes.js';
import { rawParams, validateParams } from './params.js';
import type { Platform } from './platform.js';
import type { AccessTokensTable, AccountsTable, AppsTable, AppUsersTable, DB } from '../db/schema.js';
import { postgresPool } from '../db/index.js';
import { StampedCache } from '../db/stamped-cache.js';
import { type App, type KeyType, findAppByKey, toApp } from '../store/apps.js';
import { type Account, findAccountById, toAccount } from '../store/accounts.js';
import { type Link, findLinkByUserId, toLink } from '../store/links.js';

/** seed 002's sample -401 message, for an Authorization header that carries no usable token. */
export const TOKEN_MALFORMED = 'InvalidTokenException';

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
  if (!auth) {
    // RFC 6750 §2.3: the token as an `access_token` query parameter (node-oauth, and with
    // it passport-kakao, sends it this way on GET), or as a form field.
    const token = accessTokenParam(req);
    if (token) return userFromToken(platform, token);
  }
  if (!auth || auth.scheme !== 'bearer' || !auth.value) {
    if (auth?.scheme === 'kakaoak') {
      const found = await findAppByKey(platform.db, auth.value);
      if (found) throw keyNotAllowed(auth.value);
      throw invalidToken(TOKEN_UNKNOWN);
    }
    // No header: no token. A header that is no credential at all (another scheme, an
    // empty Bearer): the platform's generic message, as in seed 002's sample.
    throw invalidToken(auth ? TOKEN_MALFORMED : TOKEN_UNKNOWN);
  }
  return userFromToken(platform, auth.value);
}

function accessTokenParam(req: FastifyRequest): string | undefined {
  const fromQuery = (req.query as Record<string, unknown> | undefined)?.access_token;
  if (typeof fromQuery === 'string' && fromQuery) return fromQuery;
  const body = req.body;
  const fromBody = body && typeof body === 'object' && !Buffer.isBuffer(body) ? (body as Record<string, unknown>).access_token : undefined;
  return typeof fromBody === 'string' && fromBody ? fromBody : undefined;
}

export async function userFromToken(platform: Platform, token: string): Promise<UserContext> {
  const { db, clock } = platform;
  // Kept by the token itself (in memory only; the database holds hashes): a kept token
  // costs no hashing.
  const ctx = await resolvedTokens.get(db, token, async () => contextFromRow(await queryTokenContext(platform, sha256(token))));
  if (!ctx) throw invalidToken(TOKEN_UNKNOWN);
  if (ctx.tokenExpiresAt <= clock.now()) throw invalidToken(TOKEN_EXPIRED);
  // Callers may change what they get (a link's consents before saving it): hand out copies.
  const { link } = ctx;
  return {
    app: { ...ctx.app },
    account: { ...ctx.account },
    link: { ...link, properties: { ...link.properties }, scopes: { ...link.scopes }, terms: { ...link.terms } },
    tokenExpiresAt: ctx.tokenExpiresAt,
  };
}

async function queryTokenContext(platform: Platform, hash: string): Promise<Record<string, unknown> | undefined> {
  const { db } = platform;
  const text = tokenContextSql(db, platform.dialect);
  const pool = postgresPool(db);
  if (pool) return (await pool.query({ name: 'kapibara_token_context', text, values: [hash] })).rows[0];
  return (await db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(text, [hash]))).rows[0];
}

/** null: no such token, or its link is gone (unlinked), so it no longer identifies anyone. */
function contextFromRow(row: Record<string, unknown> | undefined): UserContext | null {
  if (!row || row.l__user_id === null || row.l__user_id === undefined) return null;
  return {
    app: toApp(pick<AppsTable>(row, 'a__', APP_COLUMNS)),
    account: toAccount(pick<AccountsTable>(row, 'c__', ACCOUNT_COLUMNS)),
    link: toLink(pick<AppUsersTable>(row, 'l__', LINK_COLUMNS)),
    tokenExpiresAt: row.t__expires_at as number,
  };
}

/** Resolved tokens (token → context, null for none) while the store is unchanged. */
const resolvedTokens = new StampedCache<UserContext | null>();

/**
 * The hot path of every Bearer call: one indexed lookup (token hash → token, app, person,
 * link) instead of four. The SQL text is built once per store. The column lists are
 * checked against the table interfaces: a column added to a table and not listed here
 * is a compile error, so `toApp`/`toAccount`/`toLink` always get whole rows.
 */
function columnsOf<T>(all: Record<keyof T, true>): readonly string[] {
  return Object.keys(all);
}
const TOKEN_COLUMNS: readonly string[] = ['expires_at' satisfies keyof AccessTokensTable];
const APP_COLUMNS = columnsOf<AppsTable>({
  id: true, name: true, rest_api_key: true, native_key: true, javascript_key: true, admin_key: true,
  client_secret: true, redirect_uris: true, logout_redirect_uris: true, web_domains: true, consent_items: true,
  service_terms: true, user_property_keys: true, login_enabled: true, oidc_enabled: true, manual_signup: true,
  created_at: true,
});
const ACCOUNT_COLUMNS = columnsOf<AccountsTable>({
  id: true, email: true, password: true, nickname: true, profile_image_url: true, thumbnail_image_url: true,
  name: true, gender: true, birthyear: true, birthday: true, birthday_type: true, is_leap_month: true,
  phone_number: true, is_korean: true, email_verified: true, talk_user: true, story_user: true, created_at: true,
});
const LINK_COLUMNS = columnsOf<AppUsersTable>({
  app_id: true, account_id: true, user_id: true, uuid: true, connected_at: true, signed_up_at: true,
  properties: true, scopes: true, terms: true,
});
const tokenSql = new WeakMap<object, string>();

function tokenContextSql(db: Kysely<DB>, dialect: Platform['dialect']): string {
  let text = tokenSql.get(db);
  if (!text) {
    const cols = (alias: string, prefix: string, names: readonly string[]) => names.map((c) => `${alias}.${c} AS ${prefix}${c}`);
    text =
      `SELECT ${[
        ...cols('t', 't__', TOKEN_COLUMNS),
        ...cols('a', 'a__', APP_COLUMNS),
        ...cols('c', 'c__', ACCOUNT_COLUMNS),
        ...cols('l', 'l__', LINK_COLUMNS),
      ].join(', ')} FROM access_tokens t` +
      ' JOIN apps a ON a.id = t.app_id JOIN accounts c ON c.id = t.account_id' +
      ' LEFT JOIN app_users l ON l.app_id = t.app_id AND l.account_id = t.account_id' +
      ` WHERE t.token_hash = ${dialect === 'postgres' ? '$1' : '?'}`;
    tokenSql.set(db, text);
  }
  return text;
}

/** Splits the joined row back into one table's row (`prefix` + column → column). */
function pick<T>(row: Record<string, unknown>, prefix: string, columns: readonly string[]): T {
  const out: Record<string, unknown> = {};
  for (const column of columns) out[column] = row[prefix + column];
  return out as T;
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

/** A kapi call about one person: made with their access token, or with the admin key naming them. */
export interface TargetContext {
  app: App;
  account: Account;
  link: Link;
  /** True for the admin form (`KakaoAK <ADMIN_KEY>` with `target_id_type=user_id&target_id=…`). */
  byAdmin: boolean;
  /** When the access token expires (ms); absent for the admin form. */
  tokenExpiresAt?: number;
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
export async function requireUserOrAdmin(req: FastifyRequest): Promise<TargetContext> {
  const auth = authorization(req);
  if (auth?.scheme !== 'kakaoak') return { ...(await requireUser(req)), byAdmin: false };
  const { app } = await requireAppKey(req, ADMIN_ONLY);
  const target = validateParams(AdminTarget, rawParams(req));
  const db = req.server.platform.db;
  const link = await findLinkByUserId(db, app.id, target.target_id);
  const account = link && (await findAccountById(db, link.accountId));
  if (!link || !account) throw notLinked();
  return { app, account, link, byAdmin: true };
}
