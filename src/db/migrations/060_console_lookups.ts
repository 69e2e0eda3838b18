import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * What the console looks up about people, by index so that a page costs what it shows:
 * - the start of a nickname (the overview's search), compared code point by code point on
 *   both stores (PostgreSQL's default collation would not serve a prefix range), the id after
 *   it ordering equal nicknames;
 * - a person's links to apps (the person page): the key starts with the app.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`CREATE INDEX accounts_nickname ON accounts (nickname COLLATE "C", id)`.execute(db);
  } else {
    await db.schema.createIndex('accounts_nickname').on('accounts').columns(['nickname', 'id']).execute();
  }
  await db.schema.createIndex('app_users_account').on('app_users').column('account_id').execute();
}
