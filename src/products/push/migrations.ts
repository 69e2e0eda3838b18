import type { Kysely } from 'kysely';

/** Push: per-app token lifetime, registered devices, and each device's inbox. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('push_settings')
    .addColumn('app_id', 'bigint', (c) => c.primaryKey().references('apps.id').onDelete('cascade'))
    .addColumn('token_ttl_days', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('push_tokens')
    .addColumn('app_id', 'bigint', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('uuid', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('push_type', 'text', (c) => c.notNull())
    .addColumn('push_token', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addPrimaryKeyConstraint('push_tokens_pk', ['app_id', 'uuid', 'device_id'])
    .execute();

  await db.schema
    .createTable('push_deliveries')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('app_id', 'bigint', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('uuid', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('push_type', 'text', (c) => c.notNull())
    .addColumn('push_token', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('truncated', 'integer', (c) => c.notNull())
    .addColumn('sent_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('push_deliveries_device').on('push_deliveries').columns(['app_id', 'uuid', 'device_id', 'sent_at']).execute();
}
