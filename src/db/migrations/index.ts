import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import * as core from './001_core.js';
import * as refreshAuthTime from './008_refresh_token_auth_time.js';
import * as passwordHashes from './051_password_hashes.js';
import * as idSpaces from './052_id_spaces.js';
import * as matchingWebDomains from './053_matching_web_domains.js';
import * as lookupIndexes from './056_lookup_indexes.js';
import * as expiryIndexes from './057_expiry_indexes.js';
import * as consoleLookups from './060_console_lookups.js';

/**
 * Migrations are one list for both stores, ordered by name: the core one here, each
 * product's in its own module (`migrations` of `src/products/<p>/index.ts`). A new
 * migration gets a new, later name and is never edited once shipped.
 */
export const coreMigrations: Record<string, Migration> = {
  '001_core': core,
  '008_refresh_token_auth_time': refreshAuthTime,
  '051_password_hashes': passwordHashes,
  '052_id_spaces': idSpaces,
  '053_matching_web_domains': matchingWebDomains,
  '056_lookup_indexes': lookupIndexes,
  '057_expiry_indexes': expiryIndexes,
  '060_console_lookups': consoleLookups,
};

class StaticProvider implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration>) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.migrations;
  }
}

export async function migrateToLatest(db: Kysely<any>, migrations: Record<string, Migration>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  // A store that has run exactly these migrations needs no migrator: Kysely's reads the
  // columns of every table first (one query per table on SQLite, a fifth of a server's start).
  if (await appliedExactly(db, Object.keys(migrations), dialect)) return;
  await refuseNewerStore(db, migrations);
  await migrateTo(db, migrations);
}

/**
 * A store a newer Kapibara has migrated (a shared database upgraded by another instance)
 * cannot be served by this one, which does not know what those migrations changed. Kysely's
 * own refusal ("corrupted migrations: previously executed migration … is missing") reads as
 * if the store were damaged; this one says what happened and what to do.
 */
async function refuseNewerStore(db: Kysely<any>, migrations: Record<string, Migration>): Promise<void> {
  let applied: string[];
  try {
    applied = await appliedMigrations(db);
  } catch {
    return; // a new store: no migration table yet
  }
  const unknown = applied.filter((name) => !(name in migrations)).sort();
  if (unknown.length === 0) return;
  throw new Error(
    `this store was migrated by a newer Kapibara: it has ${unknown.length === 1 ? 'migration' : 'migrations'} ${unknown.join(', ')}, ` +
      'which this version does not know. Run a Kapibara at least as new as the one that migrated it, or use another store.',
  );
}

/** The names in the store's migration table (which must exist). */
export async function appliedMigrations(db: Kysely<any>): Promise<string[]> {
  return (await db.selectFrom('kysely_migration').select('name').execute()).map((r) => String(r.name));
}

/** Whether the store's migration table lists exactly `names` (none missing, none unknown to this version). */
async function appliedExactly(db: Kysely<any>, names: readonly string[], dialect: 'sqlite' | 'postgres'): Promise<boolean> {
  const exists =
    dialect === 'sqlite'
      ? sql<{ found: number }>`SELECT count(*) AS found FROM sqlite_master WHERE type = 'table' AND name = 'kysely_migration'`
      : sql<{ found: number }>`SELECT count(*)::int AS found FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = 'kysely_migration'`;
  if (Number((await exists.execute(db)).rows[0]?.found) === 0) return false;
  const applied = await appliedMigrations(db);
  const wanted = new Set(names);
  return applied.length === wanted.size && applied.every((name) => wanted.has(name));
}

/** Up to and including `target` (a name of the list; tests build older databases with it). */
export async function migrateTo(db: Kysely<any>, migrations: Record<string, Migration>, target?: string): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: new StaticProvider(migrations),
    // Kysely orders migrations run in the same millisecond with localeCompare, whose first
    // call loads ICU's collation (15 ms of every start); names are ASCII, and code-point
    // order is the order Kysely sorts the migrations themselves in.
    nameComparator: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
  });
  const { error, results } = target === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(target);
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed ? `${failed.migrationName} ` : ''}failed: ${String(error)}`);
  }
}
