import type { Kysely } from 'kysely';

/**
 * Indexes for lookups that scanned their whole table, so that their cost grows with what
 * they return, never with the table (a shared sandbox gathers people and tokens for months):
 * - the login page, the sharer's sign-in page and Story's share page list the first people
 *   by `created_at, id` (a scan and a sort of every account, 41 ms at 100,000 people);
 * - a replayed code or a refresh token's revocation removes the access tokens issued with a
 *   refresh token (`refresh_hash`);
 * - unlinking removes the person's codes and AGTs of the app (`app_id, account_id`).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('accounts_created').on('accounts').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('access_tokens_refresh_hash').on('access_tokens').column('refresh_hash').execute();
  await db.schema.createIndex('auth_codes_app_account').on('auth_codes').columns(['app_id', 'account_id']).execute();
  await db.schema.createIndex('agts_app_account').on('agts').columns(['app_id', 'account_id']).execute();
}
