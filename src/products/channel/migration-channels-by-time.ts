import type { Kysely } from 'kysely';

/**
 * The control plane lists channels oldest first, a page at a time (`GET /channels?after=&limit=`):
 * an index by time and id serves a page from where it starts, instead of a sort of every channel.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('channels_created').on('channels').columns(['created_at', 'id']).execute();
}
