import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import * as core from './001_core.js';
import * as talk from '../../products/talk/migrations.js';
import * as story from '../../products/story/migrations.js';
import * as user from '../../products/user/migrations.js';
import * as talkPositions from '../../products/talk/migration-positions.js';
import * as messageRowid from '../../products/message/migration-rowid.js';
import * as loginCodeTokens from '../../products/login/migration-code-tokens.js';
import * as passwordHashes from './008_password_hashes.js';

/**
 * One ordered list of migrations for both stores. Products keep their migrations beside
 * their code; a new migration gets a new, later name here and is never edited once shipped.
 */
const migrations: Record<string, Migration> = {
  '001_core': core,
  '002_talk': talk,
  '003_story': story,
  '004_user': user,
  '005_talk_friend_positions': talkPositions,
  '006_talk_message_rowid': messageRowid,
  '007_login_code_tokens': loginCodeTokens,
  '008_password_hashes': passwordHashes,
};

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

export async function migrateToLatest(db: Kysely<any>): Promise<void> {
  await migrateTo(db);
}

/** Up to and including `target` (a name of the list; tests build older databases with it). */
export async function migrateTo(db: Kysely<any>, target?: string): Promise<void> {
  const migrator = new Migrator({ db, provider: new StaticProvider() });
  const { error, results } = target === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(target);
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
}
