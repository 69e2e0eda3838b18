import type { Kysely } from 'kysely';

/**
 * Group chats (Kakao Talk "MultiChat"): a title and members. A message in a group chat is
 * stored once per member, as 1:1 messages are, with chat_type `group` and the chat's id in
 * peer_account_id (the column names the other side of a chat: a person, or a group).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('talk_group_chats')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('talk_group_chat_members')
    .addColumn('chat_id', 'bigint', (c) => c.notNull().references('talk_group_chats.id').onDelete('cascade'))
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('talk_group_chat_members_pk', ['chat_id', 'account_id'])
    .execute();
  await db.schema.createIndex('talk_group_chat_members_account').on('talk_group_chat_members').columns(['account_id', 'chat_id']).execute();
}
