import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Message ids are given by the database, so instances sharing one store never issue the
 * same id (each process used to make its own from its clock, and two instances on one
 * PostgreSQL database collided). PostgreSQL: a sequence starting past every stored id.
 * SQLite: nothing to change, the id is the rowid (006) and an INSERT without it takes the
 * next one. Either way ids keep growing in the order messages are stored.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`CREATE SEQUENCE talk_messages_id_seq OWNED BY talk_messages.id`.execute(db);
  await sql`SELECT setval('talk_messages_id_seq', GREATEST((SELECT COALESCE(MAX(id), 0) FROM talk_messages), 1))`.execute(db);
  await sql`ALTER TABLE talk_messages ALTER COLUMN id SET DEFAULT nextval('talk_messages_id_seq')`.execute(db);
}
