import type { Kysely } from 'kysely';

/**
 * The control plane lists group chats newest first, a page at a time
 * (`GET /group_chats?after=&limit=`): an index by time and id serves a page from where it
 * starts, instead of a sort of every chat.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('talk_group_chats_created').on('talk_group_chats').columns(['created_at', 'id']).execute();
}
