import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { DB } from './schema.js';
import { migrateToLatest } from './migrations/index.js';

export type Dialect = 'sqlite' | 'postgres';

export interface StoreOptions {
  /** `postgres://…` selects PostgreSQL. */
  databaseUrl?: string;
  /** SQLite file path, or `:memory:`. */
  sqlitePath?: string;
}

export interface Store {
  db: Kysely<DB>;
  dialect: Dialect;
  close(): Promise<void>;
}

// int8 (bigint) columns hold ids and millisecond timestamps, all below 2^53.
pg.types.setTypeParser(20, (v: string) => Number(v));

export async function openStore(options: StoreOptions): Promise<Store> {
  let db: Kysely<DB>;
  let dialect: Dialect;
  if (options.databaseUrl) {
    dialect = 'postgres';
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
    db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  } else {
    dialect = 'sqlite';
    const file = options.sqlitePath ?? ':memory:';
    const sqlite = new Database(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    db = new Kysely<DB>({ dialect: new SqliteDialect({ database: reusingStatements(sqlite) }) });
  }
  await migrateToLatest(db, dialect);
  return {
    db,
    dialect,
    close: () => db.destroy(),
  };
}

/**
 * Kysely prepares a statement for every query, and compiling one costs better-sqlite3 more
 * than running a small indexed query (and leaves garbage for the collector). Queries are
 * built from a fixed set of shapes, so keep the compiled statements (bounded) and reuse
 * them; a statement still being iterated (`busy`) is never handed out twice.
 */
function reusingStatements(sqlite: Database.Database, max = 2000) {
  const statements = new Map<string, Database.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string): Database.Statement {
      const cached = statements.get(text);
      if (cached && !cached.busy) return cached;
      const statement = sqlite.prepare(text);
      if (!cached) {
        if (statements.size >= max) statements.delete(statements.keys().next().value as string);
        statements.set(text, statement);
      }
      return statement;
    },
  };
}

/** Every table, in an order safe to delete from (children first). */
export async function tableNames(db: Kysely<DB>): Promise<string[]> {
  const tables = await db.introspection.getTables();
  return tables.map((t) => t.name).filter((n) => !n.startsWith('kysely_'));
}

export { sql };
