import type { Kysely } from 'kysely';

/**
 * A group chat message's copies (one per member, each with an id of its own) share a key, the
 * message's, drawn when it is sent: the chat's pages are in order of time and key, the same for
 * every member, and their cursor names the message, so a page goes on from any member's copies
 * after the first member is deleted. Copy ids are no such order: on PostgreSQL two sends stored
 * at once can take ids from the sequence in turn. Copies stored before have no key (each is its
 * own message, named by its id); an index on the keys there are finds a cursor's message.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('talk_messages').addColumn('message_key', 'bigint').execute();
  await db.schema.createIndex('talk_messages_key').on('talk_messages').column('message_key').where('message_key', 'is not', null).execute();
}
