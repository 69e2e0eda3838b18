import type { Kysely } from 'kysely';

/**
 * An authorization code remembers the refresh token issued from it, so that a replayed
 * code revokes what its first use obtained (RFC 6749 §4.1.2). Indexed: a rotated refresh
 * token hands the code over to its successor.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('auth_codes').addColumn('refresh_hash', 'text').execute();
  await db.schema.createIndex('auth_codes_refresh_hash').on('auth_codes').column('refresh_hash').execute();
}
