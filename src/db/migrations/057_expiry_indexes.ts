import type { Kysely } from 'kysely';

/**
 * Expired tokens, codes, AGTs and login sessions are removed by the expiry sweep
 * (store/expiry.ts): found by these indexes, so that a sweep costs what it removes, never
 * what the table holds. (The login tables among them were made by 001_core.)
 */
export async function up(db: Kysely<any>): Promise<void> {
  for (const table of ['access_tokens', 'refresh_tokens', 'auth_codes', 'login_sessions', 'agts']) {
    await db.schema.createIndex(`${table}_expiry`).on(table).column('expires_at').execute();
  }
}
