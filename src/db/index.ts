import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { DB } from './schema.js';
import { talkLogTables } from '../products/talk/tables.js';
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
    // An idle connection the server dropped (restart, failover, a test database dropped while
    // the pool shuts down) has already been discarded by the pool; the next query opens a new
    // one. Without a listener the pool's 'error' event would crash the process.
    pool.on('error', () => {});
    db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    pools.set(db, pool);
  } else {
    dialect = 'sqlite';
    const file = options.sqlitePath ?? ':memory:';
    const sqlite = new Database(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    const database = reusingStatements(sqlite);
    db = new Kysely<DB>({ dialect: new SqliteDialect({ database }) });
    stamps.set(db, database.changeStamp);
  }
  await migrateToLatest(db);
  return {
    db,
    dialect,
    close: () => db.destroy(),
  };
}

const stamps = new WeakMap<object, () => number>();
const pools = new WeakMap<object, pg.Pool>();

/**
 * The PostgreSQL pool behind a store, for the few hot queries that run as named prepared
 * statements (planned once per connection; Kysely sends every query unnamed, to be
 * planned again each time). Undefined on SQLite.
 */
export function postgresPool(db: Kysely<DB>): pg.Pool | undefined {
  return pools.get(db);
}

/**
 * A number that changes whenever the database may have changed: after any statement other
 * than a SELECT run through this store, or (within a millisecond) a commit by another
 * connection to the same SQLite file (`PRAGMA data_version`). Hot paths may keep what they derived from the
 * database in memory and trust it while the stamp is unchanged. Undefined on PostgreSQL,
 * where other instances write unseen: there, always read the database.
 */
export function changeStamp(db: Kysely<DB>): number | undefined {
  return stamps.get(db)?.();
}

/**
 * Reads, and transaction control (a transaction's own writes move the stamp; no other
 * query runs on the one connection until it ends), leave the change stamp alone.
 */
const READ_OR_TRANSACTION = /^\s*(select|begin|commit|rollback|savepoint|release)\b/i;
/** Writes to these tables leave the change stamp alone (see `talkLogTables`). */
const LOG_WRITE = new RegExp(`^\\s*(insert\\s+into|update|delete\\s+from)\\s+"?(${talkLogTables.join('|')})"?[\\s(]`, 'i');

/**
 * Kysely prepares a statement for every query, and compiling one costs better-sqlite3 more
 * than running a small indexed query (and leaves garbage for the collector). Queries are
 * built from a fixed set of shapes, so keep the compiled statements (bounded) and reuse
 * them; a statement still being iterated (`busy`) is never handed out twice. Kysely runs
 * each statement right after preparing it, so preparing any other statement than those
 * above moves the change stamp.
 */
function reusingStatements(sqlite: Database.Database, max = 2000) {
  const statements = new Map<string, Database.Statement>();
  const dataVersion = sqlite.prepare('PRAGMA data_version').pluck();
  let generation = 0;
  let lastDataVersion = dataVersion.get() as number;
  let lastChecked = performance.now();
  return {
    close: () => sqlite.close(),
    prepare(text: string): Database.Statement {
      if (!READ_OR_TRANSACTION.test(text) && !LOG_WRITE.test(text)) generation++;
      const cached = statements.get(text);
      if (cached && !cached.busy) return cached;
      const statement = sqlite.prepare(text);
      if (!cached) {
        if (statements.size >= max) statements.delete(statements.keys().next().value as string);
        statements.set(text, statement);
      }
      return statement;
    },
    changeStamp(): number {
      // Asking SQLite costs more than the rest of a cached lookup: other processes' commits
      // are looked for at most once a millisecond.
      const now = performance.now();
      if (now - lastChecked >= 1) {
        lastChecked = now;
        const version = dataVersion.get() as number;
        if (version !== lastDataVersion) {
          lastDataVersion = version;
          generation++;
        }
      }
      return generation;
    },
  };
}


export { sql };
