import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * 052: ids are issued by the store (db/ids.ts) instead of drawn at random in each process,
 * so instances sharing one database never issue the same id and one store never collides
 * with itself (random 10-digit ids collided after some 10^5 rows). PostgreSQL: one sequence
 * per id space; SQLite: a row per space. Both start past every id the random draws could
 * have made (below 10^10 for ids, below 10^7 for app ids), so stores made before keep theirs.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`CREATE SEQUENCE kapibara_id_seq START WITH 10000000000`.execute(db);
    await sql`CREATE SEQUENCE kapibara_app_id_seq START WITH 10000000`.execute(db);
    return;
  }
  await db.schema
    .createTable('kapibara_ids')
    .addColumn('space', 'text', (c) => c.primaryKey())
    .addColumn('next', 'bigint', (c) => c.notNull())
    .execute();
  await db
    .insertInto('kapibara_ids')
    .values([
      { space: 'id', next: 10_000_000_000 },
      { space: 'app', next: 10_000_000 },
    ])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`DROP SEQUENCE kapibara_id_seq`.execute(db);
    await sql`DROP SEQUENCE kapibara_app_id_seq`.execute(db);
    return;
  }
  await db.schema.dropTable('kapibara_ids').execute();
}
