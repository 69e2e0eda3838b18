import { type Kysely, PostgresAdapter } from 'kysely';

/** Tables of Kakao Talk sharing. Image bytes live in the database (blob / bytea) so every instance serves them. */
export async function up(db: Kysely<any>): Promise<void> {
  const binary = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';
  const app = (c: any) => c.notNull().references('apps.id').onDelete('cascade');

  await db.schema
    .createTable('sharing_templates')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('app_id', 'bigint', app)
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('sharing_templates_digest', ['app_id', 'digest'])
    .execute();

  await db.schema
    .createTable('sharing_images')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('app_id', 'bigint', app)
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('ext', 'text', (c) => c.notNull())
    .addColumn('length', 'integer', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('bytes', binary, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sharing_images_expiry').on('sharing_images').column('expires_at').execute();

  await db.schema
    .createTable('sharing_requests')
    .addColumn('key_hash', 'text', (c) => c.primaryKey())
    .addColumn('app_id', 'bigint', app)
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('template_id', 'bigint', (c) => c.notNull())
    .addColumn('template_type', 'text', (c) => c.notNull())
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('callback_args', 'text')
    .addColumn('opener_origin', 'text')
    .addColumn('session_hash', 'text')
    .addColumn('form_token_hash', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('sent_at', 'bigint')
    .execute();
  await db.schema.createIndex('sharing_requests_expiry').on('sharing_requests').column('expires_at').execute();

  await db.schema
    .createTable('sharing_webhooks')
    .addColumn('app_id', 'bigint', (c) => c.primaryKey().references('apps.id').onDelete('cascade'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sharing_webhook_calls')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('app_id', 'bigint', app)
    .addColumn('account_id', 'bigint', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('status', 'integer')
    .addColumn('error', 'text')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('called_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sharing_webhook_calls_app').on('sharing_webhook_calls').columns(['app_id', 'called_at']).execute();
}
