import type { Kysely } from 'kysely';

/**
 * 030: the results of SDK logins that the JavaScript SDK polls for (`auth_tran_id`, GET
 * /apiweb/code.json). A row is looked up by the transaction id's hash and holds the result
 * encrypted with a key derived from that id, so the database never holds a usable code.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('login_auth_transactions')
    .addColumn('app_id', 'bigint', (c) => c.notNull().references('apps.id').onDelete('cascade'))
    .addColumn('tran_hash', 'text', (c) => c.notNull())
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('login_auth_transactions_pk', ['app_id', 'tran_hash'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('login_auth_transactions').execute();
}
