import { Kysely, type Migration, PostgresDialect, SqliteDialect, sql } from 'kysely';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { DB } from './schema.js';
import { migrateToLatest } from './migrations/index.js';
import { StoreRegistry } from './registry.js';

export type Dialect = 'sqlite' | 'postgres';

export interface StoreOptions {
  /** `postgres://…` selects PostgreSQL. */
  databaseUrl?: string;
  /** SQLite file path, or `:memory:`. */
  sqlitePath?: string;
}

/**
 * What the products bring to a store: every migration (one ordered list by name, the core
 * ones included) and the append-only log tables, whose writes leave the change stamp alone.
 */
export interface StoreSchema {
  migrations: Record<string, Migration>;
  logTables: readonly string[];
}

export interface Store {
  db: Kysely<DB>;
  dialect: Dialect;
  /** The PostgreSQL pool, for the few hot queries run as named prepared statements. */
  pool?: pg.Pool;
  /** This store's caches and writers: everything kept in memory about it, in one place. */
  registry: StoreRegistry;
  /**
   * A number that changes whenever the database may have changed: after any statement other
   * than a read run through this store (writes to log tables excepted), or (within a
   * millisecond) a commit by another connection to the same SQLite file
   * (`PRAGMA data_version`). Hot paths may keep what they derived from the database and
   * trust it while the stamp is unchanged. Undefined on PostgreSQL, where other instances
   * write unseen: there, always read the database.
   */
  changeStamp(): number | undefined;
  /** Lets this exact statement text write without moving the change stamp (log writers). */
  markUnstamped(sqlText: string): void;
  readonly logTables: ReadonlySet<string>;
  close(): Promise<void>;
}

// int8 (bigint) columns hold ids and millisecond timestamps, all below 2^53. Set per pool,
// not on pg's global type table.
const BIGINT_OID = 20;
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === BIGINT_OID && format !== 'binary') return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as unknown as pg.CustomTypesConfig;

export async function openStore(options: StoreOptions, schema: StoreSchema): Promise<Store> {
  const logTables = new Set(schema.logTables);
  const unstamped = new Set<string>();
  let store: Store;
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10, types: pgTypes });
    // An idle connection the server dropped (restart, failover, a test database dropped while
    // the pool shuts down) has already been discarded by the pool; the next query opens a new
    // one. Without a listener the pool's 'error' event would crash the process.
    pool.on('error', () => {});
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    store = {
      db,
      dialect: 'postgres',
      pool,
      registry: new StoreRegistry(),
      changeStamp: () => undefined,
      markUnstamped: () => {},
      logTables,
      close: () => db.destroy(),
    };
  } else {
    const sqlite = new Database(options.sqlitePath ?? ':memory:');
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    const database = reusingStatements(sqlite, unstamped);
    const db = new Kysely<DB>({ dialect: new SqliteDialect({ database }) });
    store = {
      db,
      dialect: 'sqlite',
      registry: new StoreRegistry(),
      changeStamp: database.changeStamp,
      markUnstamped: (text) => unstamped.add(text),
      logTables,
      close: () => db.destroy(),
    };
  }
  store.registry.bind(store);
  await migrateToLatest(store.db, schema.migrations);
  return store;
}

/**
 * Reads, and transaction control (a transaction's own writes move the stamp; no other
 * query runs on the one connection until it ends), leave the change stamp alone.
 */
const READ_OR_TRANSACTION = /^\s*(select|begin|commit|rollback|savepoint|release)\b/i;

/**
 * Kysely prepares a statement for every query, and compiling one costs better-sqlite3 more
 * than running a small indexed query (and leaves garbage for the collector). Queries are
 * built from a fixed set of shapes, so keep the compiled statements (bounded) and reuse
 * them; a statement still being iterated (`busy`) is never handed out twice. Kysely runs
 * each statement right after preparing it, so preparing any statement other than a read,
 * transaction control or a log writer's own text (`unstamped`) moves the change stamp.
 */
function reusingStatements(sqlite: Database.Database, unstamped: ReadonlySet<string>, max = 2000) {
  const statements = new Map<string, Database.Statement>();
  const dataVersion = sqlite.prepare('PRAGMA data_version').pluck();
  let generation = 0;
  let lastDataVersion = dataVersion.get() as number;
  let lastChecked = performance.now();
  return {
    close: () => sqlite.close(),
    prepare(text: string): Database.Statement {
      if (!unstamped.has(text) && !READ_OR_TRANSACTION.test(text)) generation++;
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
