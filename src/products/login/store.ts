import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { randomToken, sha256 } from '../../core/ids.js';
import { type Account, toAccount } from '../../store/accounts.js';
import { lockLink } from '../../store/links.js';

/**
 * Storage of what the login flow hands out: authorization codes, AGTs and login sessions.
 * Every secret is returned once and stored only as its SHA-256 hash.
 */

/** Authorization codes live 10 minutes (by the platform clock) and work once. */
export const CODE_TTL_MS = 10 * 60 * 1000;
/** AGTs are for an immediate re-authorization: 10 minutes, single use. */
export const AGT_TTL_MS = 10 * 60 * 1000;
/** A Kapibara login session (the person is "signed in to Kakao" in this browser). */
export const LOGIN_SESSION_TTL_MS = 24 * 3600 * 1000;

export interface NewCode {
  appId: number;
  accountId: number;
  redirectUri: string;
  scopes: string[];
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  nonce?: string;
  authTime: number;
}

export interface StoredCode extends NewCode {
  hash: string;
  expiresAt: number;
  used: boolean;
}

export async function createCode(db: Kysely<DB>, input: NewCode, now: number): Promise<string> {
  // Kakao's codes are long url-safe strings (86 characters here).
  const code = randomToken(64);
  await db
    .insertInto('auth_codes')
    .values({
      code_hash: sha256(code),
      app_id: input.appId,
      account_id: input.accountId,
      redirect_uri: input.redirectUri,
      scopes: JSON.stringify(input.scopes),
      code_challenge: input.codeChallenge ?? null,
      code_challenge_method: input.codeChallengeMethod ?? null,
      nonce: input.nonce ?? null,
      auth_time: input.authTime,
      expires_at: now + CODE_TTL_MS,
      used: 0,
    })
    .execute();
  return code;
}

export async function findCode(db: Kysely<DB>, code: string): Promise<StoredCode | undefined> {
  const row = await db.selectFrom('auth_codes').selectAll().where('code_hash', '=', sha256(code)).executeTakeFirst();
  if (!row) return undefined;
  return {
    hash: row.code_hash,
    appId: row.app_id,
    accountId: row.account_id,
    redirectUri: row.redirect_uri,
    scopes: JSON.parse(row.scopes),
    codeChallenge: row.code_challenge ?? undefined,
    codeChallengeMethod: (row.code_challenge_method ?? undefined) as StoredCode['codeChallengeMethod'],
    nonce: row.nonce ?? undefined,
    authTime: row.auth_time,
    expiresAt: row.expires_at,
    used: row.used !== 0,
  };
}

/** Marks a code used; false when another request used it first (single use, race-free). */
export async function consumeCode(db: Kysely<DB>, hash: string): Promise<boolean> {
  const res = await db.updateTable('auth_codes').set({ used: 1 }).where('code_hash', '=', hash).where('used', '=', 0).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/**
 * Records the refresh token the code's exchange issued; false when the code was replayed
 * meanwhile (the caller then revokes what it just issued).
 */
export async function recordCodeTokens(db: Kysely<DB>, hash: string, refreshHash: string): Promise<boolean> {
  const res = await db.updateTable('auth_codes').set({ refresh_hash: refreshHash }).where('code_hash', '=', hash).where('used', '=', 1).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/**
 * A used code presented again (RFC 6749 §4.1.2): marks it replayed and revokes the refresh
 * token issued from it and every access token that refresh token gave. Under the link's
 * lock, as refreshes are: a rotation under way hands the code over to its new refresh
 * token first, or finds the old one revoked.
 */
export async function revokeReplayedCode(db: Kysely<DB>, code: StoredCode): Promise<void> {
  const { hash } = code;
  await db.transaction().execute(async (tx) => {
    await lockLink(tx, code.appId, code.accountId);
    await tx.updateTable('auth_codes').set({ used: 2 }).where('code_hash', '=', hash).execute();
    const row = await tx.selectFrom('auth_codes').select('refresh_hash').where('code_hash', '=', hash).executeTakeFirst();
    if (row?.refresh_hash) await revokeRefreshFamily(tx, row.refresh_hash);
  });
}

/** A refresh token and the access tokens issued with it or from it. */
export async function revokeRefreshFamily(db: Kysely<DB>, refreshHash: string): Promise<void> {
  await db.deleteFrom('access_tokens').where('refresh_hash', '=', refreshHash).execute();
  await db.deleteFrom('refresh_tokens').where('token_hash', '=', refreshHash).execute();
}

/** A rotated refresh token: the code that started the chain now answers for the new one. */
export async function handOverCodeTokens(db: Kysely<DB>, oldRefreshHash: string, newRefreshHash: string): Promise<void> {
  await db.updateTable('auth_codes').set({ refresh_hash: newRefreshHash }).where('refresh_hash', '=', oldRefreshHash).execute();
}

export async function createAgt(db: Kysely<DB>, appId: number, accountId: number, now: number): Promise<string> {
  const agt = randomToken(32);
  await db.insertInto('agts').values({ agt_hash: sha256(agt), app_id: appId, account_id: accountId, expires_at: now + AGT_TTL_MS }).execute();
  return agt;
}

/** Uses an AGT up: the person it identifies, when it is this app's, unexpired and unused. */
export async function consumeAgt(db: Kysely<DB>, agt: string, appId: number, now: number): Promise<number | undefined> {
  const hash = sha256(agt);
  const row = await db.selectFrom('agts').selectAll().where('agt_hash', '=', hash).executeTakeFirst();
  if (!row) return undefined;
  const res = await db.deleteFrom('agts').where('agt_hash', '=', hash).executeTakeFirst();
  if (Number(res.numDeletedRows) !== 1) return undefined;
  if (row.app_id !== appId || row.expires_at <= now) return undefined;
  return row.account_id;
}

export interface LoginSession {
  accountId: number;
  createdAt: number;
}

export async function createLoginSession(db: Kysely<DB>, accountId: number, now: number): Promise<string> {
  const value = randomToken(32);
  await db
    .insertInto('login_sessions')
    .values({ session_hash: sha256(value), account_id: accountId, created_at: now, expires_at: now + LOGIN_SESSION_TTL_MS })
    .execute();
  return value;
}

export async function findLoginSession(db: Kysely<DB>, value: string, now: number): Promise<LoginSession | undefined> {
  const row = await db
    .selectFrom('login_sessions')
    .select(['account_id', 'created_at', 'expires_at'])
    .where('session_hash', '=', sha256(value))
    .executeTakeFirst();
  if (!row || row.expires_at <= now) return undefined;
  return { accountId: row.account_id, createdAt: row.created_at };
}

export async function deleteLoginSession(db: Kysely<DB>, value: string): Promise<void> {
  await db.deleteFrom('login_sessions').where('session_hash', '=', sha256(value)).execute();
}

/** The people offered on the login page: the first `limit` simulated accounts. */
export async function accountsForLoginPage(db: Kysely<DB>, limit: number): Promise<Account[]> {
  const rows = await db.selectFrom('accounts').selectAll().orderBy('created_at').orderBy('id').limit(limit).execute();
  return rows.map(toAccount);
}
