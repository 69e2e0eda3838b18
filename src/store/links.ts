import { type Kysely, type Selectable, sql } from 'kysely';
import type { AppUsersTable, DB } from '../db/schema.js';
import { randomToken } from '../core/ids.js';
import type { Link, TermAgreement } from '../core/model.js';
import { issueIdsAbove, newId } from '../db/ids.js';
import { inTransaction, isPostgres } from '../db/dialect.js';

export type { Link, TermAgreement };

export function toLink(row: Selectable<AppUsersTable>): Link {
  return {
    appId: row.app_id,
    accountId: row.account_id,
    userId: row.user_id,
    uuid: row.uuid,
    connectedAt: row.connected_at,
    signedUpAt: row.signed_up_at,
    properties: JSON.parse(row.properties),
    scopes: JSON.parse(row.scopes),
    terms: JSON.parse(row.terms),
  };
}

/** The app's link whose `column` is `value`; under its row's lock in `tx` when `lock` (PostgreSQL). */
async function linkBy(db: Kysely<DB>, appId: number, column: 'account_id' | 'user_id' | 'uuid', value: number | string, lock = false): Promise<Link | undefined> {
  const row = await db
    .selectFrom('app_users')
    .selectAll()
    .where('app_id', '=', appId)
    .where(column, '=', value as never)
    .$if(lock && isPostgres(db), (q) => q.forUpdate())
    .executeTakeFirst();
  return row && toLink(row);
}

export function findLink(db: Kysely<DB>, appId: number, accountId: number): Promise<Link | undefined> {
  return linkBy(db, appId, 'account_id', accountId);
}

export function findLinkByUserId(db: Kysely<DB>, appId: number, userId: number): Promise<Link | undefined> {
  return linkBy(db, appId, 'user_id', userId);
}

export function findLinkByUuid(db: Kysely<DB>, appId: number, uuid: string): Promise<Link | undefined> {
  return linkBy(db, appId, 'uuid', uuid);
}

/**
 * The link, read under its row's lock in the caller's transaction (PostgreSQL; SQLite's one
 * writer takes transactions in turn). Token writes of one app and person take it first
 * (refresh, logout, unlink, a replayed code's revocation), so that they run one after
 * another: a refresh that read its refresh token before a logout deleted it stored its new
 * tokens after the logout's deletes, and they outlived it.
 *
 * The person's and the app's rows are share-locked first, in the order their deletes take
 * them (the person or the app, then by cascade the link): a token write that locked the link
 * and then met the person's row in its tokens' foreign-key check deadlocked with a delete of
 * that person, which held the person's row and waited for the link (one of the two answered
 * 500). A delete now waits for the token write, or the token write for the delete.
 */
export async function lockLink(tx: Kysely<DB>, appId: number, accountId: number): Promise<Link | undefined> {
  if (isPostgres(tx)) await sql`SELECT 1 FROM accounts, apps WHERE accounts.id = ${accountId} AND apps.id = ${appId} FOR KEY SHARE`.execute(tx);
  return linkBy(tx, appId, 'account_id', accountId, true);
}

export interface NewLink {
  scopes?: Record<string, number>;
  terms?: Record<string, TermAgreement>;
  properties?: Record<string, string>;
  signedUp: boolean;
  userId?: number;
}

/**
 * Links a person to an app unless they are linked already (undefined then): a first login
 * made twice at once, or on two instances, links once instead of failing the second insert.
 */
export async function createLinkIfAbsent(db: Kysely<DB>, appId: number, accountId: number, now: number, input: NewLink): Promise<Link | undefined> {
  if (input.userId !== undefined) await issueIdsAbove(db, 'id', input.userId);
  const row: Selectable<AppUsersTable> = {
    app_id: appId,
    account_id: accountId,
    user_id: input.userId ?? (await newId(db)),
    uuid: randomToken(12),
    connected_at: now,
    signed_up_at: input.signedUp ? now : null,
    properties: JSON.stringify(input.properties ?? {}),
    scopes: JSON.stringify(input.scopes ?? {}),
    terms: JSON.stringify(input.terms ?? {}),
  };
  const result = await db
    .insertInto('app_users')
    .values(row)
    .onConflict((oc) => oc.columns(['app_id', 'account_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0 ? toLink(row) : undefined;
}

/**
 * Changes a link as one read and one write under the row's lock, so that changes made at
 * the same time (two requests, two instances) each build on the other's: PostgreSQL runs
 * transactions side by side, and a read-then-write of the whole row kept only the last
 * writer's change (SQLite's one writer takes them in turn). `change` edits the link it is
 * given, returns false when it changed nothing (nothing is written), and may throw to leave
 * it as it was. Undefined when the person is not linked to the app (any more). In the caller's
 * transaction when `db` is one (a consent stored as one write).
 */
export async function changeLink(db: Kysely<DB>, appId: number, accountId: number, change: (link: Link) => boolean | void): Promise<Link | undefined> {
  return inTransaction(db, async (tx) => {
    const link = await lockLink(tx, appId, accountId);
    if (!link) return undefined;
    if (change(link) !== false) await saveLink(tx, link);
    return link;
  });
}

export async function saveLink(db: Kysely<DB>, link: Link): Promise<void> {
  await db
    .updateTable('app_users')
    .set({
      signed_up_at: link.signedUpAt,
      properties: JSON.stringify(link.properties),
      scopes: JSON.stringify(link.scopes),
      terms: JSON.stringify(link.terms),
    })
    .where('app_id', '=', link.appId)
    .where('account_id', '=', link.accountId)
    .execute();
}

/**
 * Unlinks: the connection, its properties and consents, every token, code and AGT; whether
 * there was a link. Under the link's lock, so that no refresh under way stores a token after.
 */
export async function deleteLink(db: Kysely<DB>, appId: number, accountId: number): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    await lockLink(tx, appId, accountId);
    await tx.deleteFrom('access_tokens').where('app_id', '=', appId).where('account_id', '=', accountId).execute();
    await tx.deleteFrom('refresh_tokens').where('app_id', '=', appId).where('account_id', '=', accountId).execute();
    await tx.deleteFrom('auth_codes').where('app_id', '=', appId).where('account_id', '=', accountId).execute();
    await tx.deleteFrom('agts').where('app_id', '=', appId).where('account_id', '=', accountId).execute();
    const removed = await tx.deleteFrom('app_users').where('app_id', '=', appId).where('account_id', '=', accountId).executeTakeFirst();
    return Number(removed.numDeletedRows) > 0;
  });
}
