import type { Kysely } from 'kysely';

/**
 * A refresh token remembers when the person authenticated (the code's auth_time, or the
 * minting time for control-plane tokens), so ID tokens issued on refresh keep the original
 * `auth_time` (OpenID Connect Core 12.2). Tokens stored before have none; for them the
 * refresh token's creation time stands in, as before.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('refresh_tokens').addColumn('auth_time', 'bigint').execute();
}
