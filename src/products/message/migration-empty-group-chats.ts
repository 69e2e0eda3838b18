import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * 064: a group chat goes with its last member. Members leave a chat only by being deleted
 * (their rows cascade), and a chat nobody is in can be seen by nobody: it stayed, one per CI
 * run that made a chat among people it then deleted. A chat with members left keeps them.
 */
const EMPTIED = `DELETE FROM talk_group_chats WHERE id = OLD.chat_id
  AND NOT EXISTS (SELECT 1 FROM talk_group_chat_members WHERE chat_id = OLD.chat_id)`;

export async function up(db: Kysely<any>): Promise<void> {
  const statements =
    db.getExecutor().adapter instanceof PostgresAdapter
      ? [
          `CREATE FUNCTION talk_group_chat_member_deleted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${EMPTIED}; RETURN NULL; END $$`,
          'CREATE TRIGGER talk_group_chat_member_deleted AFTER DELETE ON talk_group_chat_members FOR EACH ROW EXECUTE FUNCTION talk_group_chat_member_deleted()',
        ]
      : [`CREATE TRIGGER talk_group_chat_member_deleted AFTER DELETE ON talk_group_chat_members BEGIN ${EMPTIED}; END`];
  for (const statement of statements) await sql.raw(statement).execute(db);
}
