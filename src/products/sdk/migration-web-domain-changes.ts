import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * 066: SDK v1's login widget may be framed only by a web domain some app registered. It read
 * every app on each page load; it now keeps the set of registered origins and reads one row
 * to know whether it still holds: `sdk_web_domain_changes.gen`, moved by these triggers on
 * every insert and delete of an app and every change of an app's web_domains, whoever makes
 * it (the control plane, a state import or reset, plain SQL, another instance).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sdk_web_domain_changes')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('gen', 'bigint', (c) => c.notNull())
    .execute();
  await db.insertInto('sdk_web_domain_changes').values({ id: 1, gen: 0 }).execute();
  const bump = 'UPDATE sdk_web_domain_changes SET gen = gen + 1 WHERE id = 1';
  const statements =
    db.getExecutor().adapter instanceof PostgresAdapter
      ? [
          `CREATE FUNCTION sdk_web_domains_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${bump}; RETURN NULL; END $$`,
          'CREATE TRIGGER sdk_apps_added_or_removed AFTER INSERT OR DELETE ON apps FOR EACH STATEMENT EXECUTE FUNCTION sdk_web_domains_changed()',
          'CREATE TRIGGER sdk_apps_web_domains AFTER UPDATE OF web_domains ON apps FOR EACH ROW WHEN (OLD.web_domains IS DISTINCT FROM NEW.web_domains) EXECUTE FUNCTION sdk_web_domains_changed()',
        ]
      : [
          `CREATE TRIGGER sdk_apps_added AFTER INSERT ON apps BEGIN ${bump}; END`,
          `CREATE TRIGGER sdk_apps_removed AFTER DELETE ON apps BEGIN ${bump}; END`,
          `CREATE TRIGGER sdk_apps_web_domains AFTER UPDATE OF web_domains ON apps WHEN OLD.web_domains IS NOT NEW.web_domains BEGIN ${bump}; END`,
        ];
  for (const statement of statements) await sql.raw(statement).execute(db);
}
