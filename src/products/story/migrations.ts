import { type Kysely, PostgresAdapter } from 'kysely';

/** Tables of the Story product. Image bytes live in the database (blob / bytea) so every instance serves them. */
export async function up(db: Kysely<any>): Promise<void> {
  const binary = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';

  await db.schema
    .createTable('story_profiles')
    .addColumn('account_id', 'bigint', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('handle', 'text', (c) => c.notNull().unique())
    .addColumn('nickname', 'text')
    .addColumn('profile_image_url', 'text')
    .addColumn('thumbnail_url', 'text')
    .addColumn('bg_image_url', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('stories')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('app_id', 'bigint', (c) => c.references('apps.id').onDelete('set null'))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('media_type', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('permission', 'text', (c) => c.notNull())
    .addColumn('enable_share', 'integer', (c) => c.notNull())
    .addColumn('android_exec_param', 'text')
    .addColumn('ios_exec_param', 'text')
    .addColumn('android_market_param', 'text')
    .addColumn('ios_market_param', 'text')
    .addColumn('link_info', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('stories_account_seq').on('stories').columns(['account_id', 'seq']).execute();

  await db.schema
    .createTable('story_images')
    .addColumn('key', 'text', (c) => c.primaryKey())
    // An app's deletion leaves the photos of the stories it posted in place.
    .addColumn('app_id', 'bigint', (c) => c.references('apps.id').onDelete('set null'))
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('ext', 'text', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('story_image_files')
    .addColumn('image_key', 'text', (c) => c.notNull().references('story_images.key').onDelete('cascade'))
    .addColumn('variant', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('bytes', binary, (c) => c.notNull())
    .addPrimaryKeyConstraint('story_image_files_pk', ['image_key', 'variant'])
    .execute();

  await db.schema
    .createTable('story_media')
    .addColumn('story_id', 'text', (c) => c.notNull().references('stories.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('image_key', 'text', (c) => c.notNull().references('story_images.key').onDelete('cascade'))
    .addPrimaryKeyConstraint('story_media_pk', ['story_id', 'position'])
    .execute();
  await db.schema.createIndex('story_media_image').on('story_media').column('image_key').execute();

  await db.schema
    .createTable('story_comments')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('story_id', 'text', (c) => c.notNull().references('stories.id').onDelete('cascade'))
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('story_comments_story').on('story_comments').columns(['story_id', 'created_at']).execute();

  await db.schema
    .createTable('story_likes')
    .addColumn('story_id', 'text', (c) => c.notNull().references('stories.id').onDelete('cascade'))
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('emotion', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('story_likes_pk', ['story_id', 'account_id'])
    .execute();

  await db.schema
    .createTable('story_scraps')
    .addColumn('app_id', 'bigint', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('requested_url', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('info', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('story_scraps_pk', ['app_id', 'account_id', 'requested_url'])
    .execute();
  await db.schema.createIndex('story_scraps_url').on('story_scraps').columns(['app_id', 'account_id', 'url']).execute();
}
