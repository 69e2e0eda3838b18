import { Kysely, type Migration, PostgresDialect, SqliteDialect, sql } from 'kysely';
import Database from 'better-sqlite3';
import type pg from 'pg';
import type { DB } from './schema.js';
import { migrateToLatest } from './migrations/index.js';
import { StoreRegistry } from './registry.js';
import { PgChanges, installChangeTriggers } from './pg-changes.js';
import { sqliteAddon } from './sqlite-addon.js';
import { storeUnavailable } from './dialect.js';
import { BACKSTOP_PAGES, type Checkpointer, startCheckpointer } from './checkpointer.js';

export type Dialect = 'sqlite' | 'postgres';

/**
 * Connections each instance keeps for calls on PostgreSQL (one more listens for changes,
 * db/pg-changes.ts): the README's count of instances a server's max_connections serves.
 */
export const POOL_SIZE = 10;
/**
 * How long a query waits for a lock another connection holds before it is given up: SQLite's
 * busy timeout, and PostgreSQL's `lock_timeout` for calls. A session left holding one (a
 * `psql` in an open transaction) then fails the calls that need it, named (db/dialect.ts
 * storeUnavailable), instead of stalling them and, once they hold every pooled connection,
 * the whole instance. On PostgreSQL, imports, resets and startup wait for one another (and
 * for the calls under way) as long as it takes.
 */
export const LOCK_WAIT_MS = 5000;

/** How often a SQLite store looks for commits another process made, for what watches a table. */
const OTHER_COMMITS_MS = 100;

export interface StoreOptions {
  /** `postgres://…` selects PostgreSQL. */
  databaseUrl?: string;
  /** SQLite file path, or `:memory:`. */
  sqlitePath?: string;
  /** How long a query waits for a lock another connection holds (default LOCK_WAIT_MS). */
  lockWaitMs?: number;
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
   * trust it while the stamp is unchanged. On PostgreSQL it moves on this instance's writes
   * and on every other instance's (LISTEN/NOTIFY, db/pg-changes.ts), and is undefined
   * (keep nothing) while that is not known to be current.
   */
  changeStamp(): number | undefined;
  /** Lets this exact statement text write without moving the change stamp (log writers). */
  markUnstamped(sqlText: string): void;
  readonly logTables: ReadonlySet<string>;
  /**
   * Runs `fn` while no other Kapibara on the same database runs one (PostgreSQL: a session
   * advisory lock): migrations and first-start seeding, so instances started together on a
   * fresh database do not race. `fn` writes through the `db` it is given: on PostgreSQL the
   * lock's own connection, which waits for other sessions' locks as long as it takes (a call's
   * connection gives up after LOCK_WAIT_MS). On SQLite one process owns the file; `fn` just
   * runs, with the store's `db`.
   */
  exclusively<T>(fn: (db: Kysely<DB>) => Promise<T>): Promise<T>;
  /** Resolves once the change stamp reflects every write committed before the call, by any instance. */
  settled(): Promise<void>;
  /**
   * Calls `fn` when another instance sharing the store changes `table` (PostgreSQL). A
   * SQLite file belongs to one server, but another process may write it too (a second
   * server, `kapibara import` while one runs): `fn` is called within OTHER_COMMITS_MS of any
   * commit of theirs, whatever table it changed. Returns what stops the calls.
   */
  onTableChanged(table: string, fn: () => void): () => void;
  close(): Promise<void>;
}

/** The advisory lock key of `exclusively` (an arbitrary constant: "kapibara" in ASCII, cut to 53 bits). */
const STARTUP_LOCK = 0x6b61706962617261 % Number.MAX_SAFE_INTEGER;

// int8 (bigint) columns hold ids and millisecond timestamps, all below 2^53. Set per pool,
// not on pg's global type table.
const BIGINT_OID = 20;
function pgTypes(driver: typeof pg): pg.CustomTypesConfig {
  return {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === BIGINT_OID && format !== 'binary') return (v: string) => Number(v);
      return driver.types.getTypeParser(oid, format as 'text');
    },
  } as unknown as pg.CustomTypesConfig;
}

export async function openStore(options: StoreOptions, schema: StoreSchema): Promise<Store> {
  const logTables = new Set(schema.logTables);
  const unstamped = new Set<string>();
  let store: Store;
  let changes: PgChanges | undefined;
  if (options.databaseUrl) {
    // The driver is loaded only for PostgreSQL stores (a SQLite server starts without it).
    const driver = (await import('pg')).default;
    const pool = new driver.Pool({ connectionString: options.databaseUrl, max: POOL_SIZE, types: pgTypes(driver) });
    const lockWait = `SET lock_timeout = ${Math.max(0, Math.floor(options.lockWaitMs ?? LOCK_WAIT_MS))}`;
    changes = new PgChanges(driver, options.databaseUrl, unstamped);
    changes.watch(pool);
    const stamps = changes;
    // An idle connection the server dropped (restart, failover, a test database dropped while
    // the pool shuts down) has already been discarded by the pool; the next query opens a new
    // one. Without a listener the pool's 'error' event would crash the process.
    pool.on('error', () => {});
    // A connection the server drops while a query is under way rejects that query (the call
    // answers that the store does not answer, core/http.ts) and then emits 'error' on its
    // client, which the pool does not listen to while the client is lent out: without this
    // listener, a PostgreSQL restart mid-query ended the process. The pool discards the client
    // when it comes back.
    // The lock wait is set by a statement, not a startup parameter, which a pool in front of
    // the server (PgBouncer) would refuse; a client runs its queries in order, so this one
    // comes before the first call's.
    pool.on('connect', (client) => {
      client.on('error', () => {});
      client.query(lockWait).catch(() => {});
    });
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    store = {
      db,
      dialect: 'postgres',
      pool,
      registry: new StoreRegistry(),
      changeStamp: () => stamps.stamp(),
      markUnstamped: (text) => unstamped.add(text),
      logTables,
      exclusively: (fn) =>
        db.connection().execute(async (own) => {
          // Another instance's migrations, or an import under way, take as long as they take.
          await sql`SET lock_timeout = 0`.execute(own);
          try {
            await sql`SELECT pg_advisory_lock(${STARTUP_LOCK})`.execute(own);
            return await fn(own);
          } finally {
            await sql`SELECT pg_advisory_unlock(${STARTUP_LOCK})`.execute(own).catch(() => {});
            await sql.raw(lockWait).execute(own).catch(() => {});
          }
        }),
      settled: () => stamps.settled(),
      onTableChanged: (table, fn) => stamps.onTableChanged(table, fn),
      async close() {
        await stamps.close();
        await db.destroy();
      },
    };
  } else {
    const path = options.sqlitePath ?? ':memory:';
    // better-sqlite3 takes the addon object too (lib/database.js); its types say only a path.
    const sqlite = new Database(path, { nativeBinding: sqliteAddon() as string });
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma(`busy_timeout = ${options.lockWaitMs ?? LOCK_WAIT_MS}`);
    // A database file's checkpoints run in a worker (db/checkpointer.ts), started a moment
    // after opening so that it costs a starting server nothing; until then, and should it
    // fall behind, the writing connection checkpoints at a larger WAL.
    let checkpointer: Checkpointer | undefined;
    let starting: NodeJS.Timeout | undefined;
    if (path !== ':memory:' && path !== '' && !path.startsWith('file::memory:')) {
      sqlite.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
      starting = setTimeout(() => (checkpointer = startCheckpointer(path)), 1000).unref();
    }
    const database = reusingStatements(sqlite, unstamped);
    const db = new Kysely<DB>({ dialect: new SqliteDialect({ database }) });
    // What another process commits to the file (a second server, `kapibara import` while
    // this one runs) is seen by the caches through the change stamp; what the server holds
    // outside them (the clock, the signing key) is read again when such a commit is seen.
    const watchers = new Set<() => void>();
    let watching: NodeJS.Timeout | undefined;
    let seenVersion = database.dataVersion();
    const lookForCommits = () => {
      const version = database.dataVersion();
      if (version === seenVersion) return;
      seenVersion = version;
      for (const fn of watchers) fn();
    };
    store = {
      db,
      dialect: 'sqlite',
      registry: new StoreRegistry(),
      changeStamp: database.changeStamp,
      markUnstamped: (text) => unstamped.add(text),
      logTables,
      exclusively: (fn) => fn(db),
      settled: async () => {},
      onTableChanged(_table, fn) {
        watchers.add(fn);
        watching ??= setInterval(lookForCommits, OTHER_COMMITS_MS).unref();
        return () => {
          watchers.delete(fn);
          if (watchers.size === 0) watching = void clearInterval(watching);
        };
      },
      async close() {
        clearInterval(watching);
        clearTimeout(starting);
        await checkpointer?.stop();
        await db.destroy();
      },
    };
  }
  store.registry.bind(store);
  try {
    await store.exclusively(async (own) => {
      await migrateToLatest(own, schema.migrations, store.dialect);
      if (changes) await installChangeTriggers(own, logTables);
    });
  } catch (err) {
    await store.close().catch(() => {});
    const detail = storeUnavailable(err);
    // `connect ECONNREFUSED 127.0.0.1:5432` alone does not say what was being reached.
    if (detail !== undefined && options.databaseUrl) throw new Error(`the PostgreSQL database ${whereIs(options.databaseUrl)} does not answer (${detail})`, { cause: err });
    throw err;
  }
  try {
    await changes?.start();
  } catch (err) {
    await store.close();
    throw err;
  }
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
    /** SQLite's count of commits other connections made to the file (it moves on theirs only). */
    dataVersion: () => dataVersion.get() as number,
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

/** A database URL as it may be printed: host, port and database, never the user or password. */
function whereIs(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.pathname.slice(1) || '(default)'} at ${url.hostname || 'localhost'}:${url.port || '5432'}`;
  } catch {
    return '(its URL could not be read)';
  }
}
