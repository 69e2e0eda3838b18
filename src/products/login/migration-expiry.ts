import type { Kysely } from 'kysely';

/** 058: SDK login results past their expiry are removed by the expiry sweep, found by this index. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('login_auth_transactions_expiry').on('login_auth_transactions').column('expires_at').execute();
}
