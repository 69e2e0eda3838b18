import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { randomToken, sha256 } from '../core/ids.js';
import { lockLink } from './links.js';

/** Lifetimes as Kakao documents them for REST apps: 12 hours and 2 months (minus a second). */
export const ACCESS_TOKEN_TTL_S = 43_199;
export const REFRESH_TOKEN_TTL_S = 5_183_999;
/** A refresh token is re-issued only when it has less than a month to live. */
export const REFRESH_ROTATION_WINDOW_S = 30 * 24 * 3600;

export interface IssuedTokens {
  accessToken: string;
  expiresIn: number;
  refreshToken?: string;
  refreshTokenExpiresIn?: number;
}

/**
 * Issues an access token; with `refresh` unset, also a new refresh token, which keeps
 * `authTime` (when the person authenticated; default now) for the ID tokens of later
 * refreshes. Tokens are returned once and stored only as SHA-256 hashes.
 */
export async function issueTokens(
  db: Kysely<DB>,
  appId: number,
  accountId: number,
  now: number,
  refresh?: { hash: string; expiresAt: number },
  authTime = now,
): Promise<IssuedTokens> {
  const accessToken = randomToken(40);
  let refreshToken: string | undefined;
  let refreshHash = refresh?.hash;
  let refreshExpiresAt = refresh?.expiresAt;
  if (!refresh) {
    refreshToken = randomToken(40);
    refreshHash = sha256(refreshToken);
    refreshExpiresAt = now + REFRESH_TOKEN_TTL_S * 1000;
    await db
      .insertInto('refresh_tokens')
      .values({ token_hash: refreshHash, app_id: appId, account_id: accountId, expires_at: refreshExpiresAt, created_at: now, auth_time: authTime })
      .execute();
  }
  await db
    .insertInto('access_tokens')
    .values({
      token_hash: sha256(accessToken),
      app_id: appId,
      account_id: accountId,
      refresh_hash: refreshHash ?? null,
      expires_at: now + ACCESS_TOKEN_TTL_S * 1000,
      created_at: now,
    })
    .execute();
  return {
    accessToken,
    expiresIn: ACCESS_TOKEN_TTL_S,
    refreshToken,
    refreshTokenExpiresIn: refreshToken ? REFRESH_TOKEN_TTL_S : undefined,
  };
}

export async function findRefreshToken(db: Kysely<DB>, token: string) {
  return db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', sha256(token)).executeTakeFirst();
}

/** Whether a refresh token (by hash) is still stored. */
export async function refreshTokenExists(db: Kysely<DB>, hash: string): Promise<boolean> {
  return (await db.selectFrom('refresh_tokens').select('token_hash').where('token_hash', '=', hash).executeTakeFirst()) !== undefined;
}

export async function deleteRefreshToken(db: Kysely<DB>, hash: string): Promise<void> {
  await db.deleteFrom('refresh_tokens').where('token_hash', '=', hash).execute();
}

/**
 * Logout: every token the app holds for the person stops working; how many access tokens
 * did. Under the link's lock (store/links.ts lockLink), as refreshes are, so that a refresh
 * under way either finishes first (and what it issued is deleted here) or finds its refresh
 * token gone.
 */
export async function revokeTokens(db: Kysely<DB>, appId: number, accountId: number): Promise<number> {
  return db.transaction().execute(async (tx) => {
    await lockLink(tx, appId, accountId);
    const revoked = await tx.deleteFrom('access_tokens').where('app_id', '=', appId).where('account_id', '=', accountId).executeTakeFirst();
    await tx.deleteFrom('refresh_tokens').where('app_id', '=', appId).where('account_id', '=', accountId).execute();
    return Number(revoked.numDeletedRows);
  });
}
