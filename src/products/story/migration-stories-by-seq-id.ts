import type { Kysely } from 'kysely';

/**
 * A person's stories are listed newest first by `seq`, then id (two may share a seq), a page
 * at a time from where the page before ended: on the control plane (`after`) and on kapi
 * (`last_id`). The index gets the id after the seq, so that a page is one range of it in the
 * list's order (no sort of the person's stories). It replaces the index without the id.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('stories_account_seq').execute();
  await db.schema.createIndex('stories_account_seq').on('stories').columns(['account_id', 'seq', 'id']).execute();
}
