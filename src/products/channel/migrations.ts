import type { Kysely } from 'kysely';

/** Kakao Talk Channels: channels owned by apps, their links to apps, people's relations, chats and customer files. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('channels')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('public_id', 'text', (c) => c.notNull().unique())
    .addColumn('search_id', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('profile_image_url', 'text')
    .addColumn('owner_app_id', 'bigint', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('banned', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('channels_owner').on('channels').column('owner_app_id').execute();

  await db.schema
    .createTable('channel_apps')
    .addColumn('channel_id', 'bigint', (c) => c.notNull().references('channels.id').onDelete('cascade'))
    .addColumn('app_id', 'bigint', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('linked_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('channel_apps_pk', ['channel_id', 'app_id'])
    .execute();
  await db.schema.createIndex('channel_apps_app').on('channel_apps').columns(['app_id', 'linked_at']).execute();

  await db.schema
    .createTable('channel_relations')
    .addColumn('channel_id', 'bigint', (c) => c.notNull().references('channels.id').onDelete('cascade'))
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('relation', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('channel_relations_pk', ['channel_id', 'account_id'])
    .execute();
  await db.schema.createIndex('channel_relations_account').on('channel_relations').column('account_id').execute();

  await db.schema
    .createTable('channel_chat_messages')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('channel_id', 'bigint', (c) => c.notNull().references('channels.id').onDelete('cascade'))
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('channel_chat_messages_chat').on('channel_chat_messages').columns(['channel_id', 'account_id', 'created_at']).execute();

  await db.schema
    .createTable('channel_files')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('channel_id', 'bigint', (c) => c.notNull().references('channels.id').onDelete('cascade'))
    .addColumn('app_id', 'bigint', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('schema', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('channel_files_name', ['channel_id', 'file_name'])
    .execute();

  await db.schema
    .createTable('channel_file_users')
    .addColumn('file_id', 'bigint', (c) => c.notNull().references('channel_files.id').onDelete('cascade'))
    .addColumn('user_type', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('fields', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('channel_file_users_pk', ['file_id', 'user_type', 'user_id'])
    .execute();
}
