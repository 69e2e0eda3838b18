import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * A person's messages across all their chats, newest first (the control plane's
 * `/accounts/{id}/messages`), read from an index where a page starts instead of sorting all
 * of them: one more b-tree for each stored message row. SQLite keeps the rowid (the id) in
 * every index already.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createIndex('talk_messages_account')
    .on('talk_messages')
    .columns(postgres ? ['account_id', 'created_at', 'id'] : ['account_id', 'created_at'])
    .execute();
}
