import type { Kysely } from 'kysely';

/**
 * The console counts a channel's followers and blocks up to a cap (countRelations): an index by
 * channel and relation finds each kind where it starts, so a count costs at most the cap's
 * entries. By the primary key (channel, person) the blocks of a channel with many followers were
 * found by reading every relation of the channel.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('channel_relations_kind').on('channel_relations').columns(['channel_id', 'relation', 'account_id']).execute();
}
