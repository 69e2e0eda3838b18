import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { randomToken, sha256 } from '../core/ids.js';
import type { ClientKeyType } from '../core/model.js';
import { lockLink } from './links.js';

/**
 * An access token lives as long as the key it was requested with says, minus a second as
 * Kakao answers it: 12 hours for a native app key, 6 for a REST API key, 2 for a JavaScript
 * key (Kakao's per-platform lifetimes; tokens issued to REST API keys read
 * `"expires_in":21599` on the wire). A refresh token lives 2 months whatever the key.
 */
export const ACCESS_TOKEN_TTL_S: Readonly<Record<ClientKeyType, number>> = {
  native: 43_199,
  rest_api: 21_599,
  javascript: 7_199,
};
export const REFRESH_TOKEN_TTL_S = 5_183_999;
/** A refresh token is re-issued only when it has less than a month to live. */
export const REFRESH_ROTATION_WINDOW_S = 30 * 24 * 3600;

export interface IssuedTokens {
  accessToken: string;
  expiresIn: number;
  refreshToken?: string;
  refreshTokenExpiresIn?: number;
}

export interface TokenGrant {
  appId: number;
  accountId: number;
  /** The key the tokens are requested with: it sets the access token's lifetime. */
  keyType: ClientKeyType;
  now: number;
  /** The refresh token the new access token goes with; unset, a new one is issued. */
  refresh?: { hash: string; expiresAt: number };
  /** When the person authenticated (default now), kept for the ID tokens of later refreshes. */
  authTime?: number;
}

/**
 * Issues an access token; with `refresh` unset, also a new refresh token. Tokens are
 * returned once and stored only as SHA-256 hashes.
 */
export async function issueTokens(db: Kysely<DB>, grant: TokenGrant): Promise<IssuedTokens> {
  const { appId, accountId, now, refresh, authTime = now } = grant;
  const lifetime = ACCESS_TOKEN_TTL_S[grant.keyType];
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
      expires_at: now + lifetime * 1000,
      created_at: now,
    })
    .execute();
  return {
    accessToken,
    expiresIn: lifetime,
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
