import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * A chat is a peer and a kind: a 1:1 chat with person 7 and group chat 7 are two chats (ids
 * given on the control plane can make them share a number). The chat index gets the chat
 * type before the time, so that the list of a person's chats finds each (peer, type) by one
 * seek and one chat's messages are one range of it. It replaces the index without the type:
 * still one b-tree per stored message row.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema.dropIndex('talk_messages_chat').execute();
  await db.schema
    .createIndex('talk_messages_chat')
    .on('talk_messages')
    .columns(postgres ? ['account_id', 'peer_account_id', 'chat_type', 'created_at', 'id'] : ['account_id', 'peer_account_id', 'chat_type', 'created_at'])
    .execute();
}
