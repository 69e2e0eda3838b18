import type { Kysely } from 'kysely';

/**
 * Friends pages by position. Materialized list rows carry their position in each order
 * (Korean and English collation; in the whole list and within their favorite/other
 * segment), so a page is a range of an indexed integer column: its cost grows with the
 * page, never with the offset or the list. Existing lists are dropped and rebuilt on demand.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('talk_app_friends').execute();
  await db.deleteFrom('talk_friend_lists').execute();
  for (const key of ['sort_ko', 'sort_en']) {
    await db.schema.dropIndex(`talk_app_friends_${key}`).execute();
    await db.schema.dropIndex(`talk_app_friends_fav_${key}`).execute();
  }
  for (const lang of ['ko', 'en']) {
    await db.schema.alterTable('talk_app_friends').addColumn(`pos_${lang}`, 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('talk_app_friends').addColumn(`fav_pos_${lang}`, 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.createIndex(`talk_app_friends_pos_${lang}`).on('talk_app_friends').columns(['account_id', 'app_id', `pos_${lang}`]).execute();
    await db.schema
      .createIndex(`talk_app_friends_fav_pos_${lang}`)
      .on('talk_app_friends')
      .columns(['account_id', 'app_id', 'favorite', `fav_pos_${lang}`])
      .execute();
  }
}
