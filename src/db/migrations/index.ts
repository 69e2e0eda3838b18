import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import * as core from './001_core.js';
import * as refreshAuthTime from './008_refresh_token_auth_time.js';
import * as passwordHashes from './051_password_hashes.js';
import * as idSpaces from './052_id_spaces.js';

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
};

class StaticProvider implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration>) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.migrations;
  }
}

export async function migrateToLatest(db: Kysely<any>, migrations: Record<string, Migration>): Promise<void> {
  await migrateTo(db, migrations);
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
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
}
