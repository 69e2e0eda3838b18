import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * 063: a deleted person leaves no mark in talk_stale_viewers (the people whose materialized
 * friends lists must be built again). Their deletion removes their friendships, whose triggers
 * marked them (and their friends, rightly) stale; the marks of the deleted person stayed, one
 * per person a CI run made and deleted, forever. Now a mark names only a person who exists, and
 * deleting a person removes the mark they had. (On PostgreSQL the triggers of the rows a
 * deletion cascades to run after the deleted row's own, so the guard, not the order, is what
 * keeps a mark from coming back.)
 */
const MARK = (who: string) =>
  `INSERT INTO talk_stale_viewers (account_id, gen) SELECT ${who}, 1 WHERE EXISTS (SELECT 1 FROM accounts WHERE id = ${who})
   ON CONFLICT (account_id) DO UPDATE SET gen = talk_stale_viewers.gen + 1`;
const UNMARK = 'DELETE FROM talk_stale_viewers WHERE account_id = OLD.id';

const SQLITE = [
  'DROP TRIGGER talk_friendships_insert',
  'DROP TRIGGER talk_friendships_update',
  'DROP TRIGGER talk_friendships_delete',
  'DROP TRIGGER talk_profile_viewers_insert',
  'DROP TRIGGER talk_profile_viewers_update',
  'DROP TRIGGER talk_profile_viewers_delete',
  `CREATE TRIGGER talk_friendships_insert AFTER INSERT ON friendships BEGIN ${MARK('NEW.account_id')}; END`,
  `CREATE TRIGGER talk_friendships_update AFTER UPDATE ON friendships BEGIN ${MARK('NEW.account_id')}; END`,
  `CREATE TRIGGER talk_friendships_delete AFTER DELETE ON friendships BEGIN ${MARK('OLD.account_id')}; END`,
  `CREATE TRIGGER talk_profile_viewers_insert AFTER INSERT ON talk_profile_viewers BEGIN ${MARK('NEW.viewer_account_id')}; END`,
  `CREATE TRIGGER talk_profile_viewers_update AFTER UPDATE ON talk_profile_viewers BEGIN ${MARK('OLD.viewer_account_id')}; ${MARK('NEW.viewer_account_id')}; END`,
  `CREATE TRIGGER talk_profile_viewers_delete AFTER DELETE ON talk_profile_viewers BEGIN ${MARK('OLD.viewer_account_id')}; END`,
  `CREATE TRIGGER talk_accounts_delete AFTER DELETE ON accounts BEGIN ${UNMARK}; END`,
];

const plpgsql = (name: string, body: string) =>
  `CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${body} RETURN NULL; END $$`;

const POSTGRES = [
  plpgsql('talk_friendships_changed', `IF TG_OP = 'DELETE' THEN ${MARK('OLD.account_id')}; ELSE ${MARK('NEW.account_id')}; END IF;`),
  plpgsql(
    'talk_profile_viewers_changed',
    `IF TG_OP <> 'INSERT' THEN ${MARK('OLD.viewer_account_id')}; END IF; IF TG_OP <> 'DELETE' THEN ${MARK('NEW.viewer_account_id')}; END IF;`,
  ),
  plpgsql('talk_accounts_deleted', `${UNMARK};`),
  'CREATE TRIGGER talk_accounts_deleted AFTER DELETE ON accounts FOR EACH ROW EXECUTE FUNCTION talk_accounts_deleted()',
];

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  for (const statement of postgres ? POSTGRES : SQLITE) await sql.raw(statement).execute(db);
}
