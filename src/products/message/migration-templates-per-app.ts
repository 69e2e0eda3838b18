import { type Kysely, sql } from 'kysely';

/**
 * Custom template ids belong to their app: the key becomes (app_id, id), so two apps may
 * each have a template 123456 (a test app can create the seed's template although the demo
 * app has one). Same columns, in the same order, and the same rows; the old table's
 * separate (app_id, id) index is the primary key now.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('talk_templates_per_app')
    .addColumn('id', 'bigint', (c) => c.notNull())
    .addColumn('app_id', 'bigint', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('object_type', 'text', (c) => c.notNull())
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('talk_templates_per_app_pk', ['app_id', 'id'])
    .execute();
  const columns = 'id, app_id, name, object_type, template, created_at, updated_at';
  await sql.raw(`INSERT INTO talk_templates_per_app (${columns}) SELECT ${columns} FROM talk_templates`).execute(db);
  await db.schema.dropTable('talk_templates').execute();
  await db.schema.alterTable('talk_templates_per_app').renameTo('talk_templates').execute();
}
