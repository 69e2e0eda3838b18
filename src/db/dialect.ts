import { type Kysely, PostgresAdapter, sql, type RawBuilder } from 'kysely';

/** Whether `db` (a store's Kysely, or a transaction of it) is on PostgreSQL. */
export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * `column` to sort by as SQLite's BINARY collation does (code point by code point), whatever
 * the PostgreSQL database's default collation is (an `en_US` database ignores case first).
 */
export function byCodePoint(db: Kysely<any>, column: string): RawBuilder<unknown> {
  return isPostgres(db) ? sql`${sql.ref(column)} collate "C"` : sql`${sql.ref(column)}`;
}

/**
 * `table`'s rows in the order of its primary key, text compared code point by code point on
 * both stores: an ORDER BY for `selectFrom(table)`. Empty for a table without a key.
 */
export async function primaryKeyOrder(db: Kysely<any>, table: string): Promise<RawBuilder<unknown>[]> {
  if (isPostgres(db)) {
    const { rows } = await sql<{ name: string; text: boolean }>`
      SELECT a.attname AS name, t.typcategory = 'S' AS text FROM pg_index i
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      JOIN pg_type t ON t.oid = a.atttypid
      WHERE i.indrelid = ${table}::regclass AND i.indisprimary
      ORDER BY array_position(i.indkey, a.attnum)`.execute(db);
    return rows.map((r) => (r.text ? byCodePoint(db, r.name) : sql`${sql.ref(r.name)}`));
  }
  const { rows } = await sql<{ name: string }>`SELECT name FROM pragma_table_info(${table}) WHERE pk > 0 ORDER BY pk`.execute(db);
  return rows.map((r) => sql`${sql.ref(r.name)}`);
}

/**
 * Whether `err` is a write refused by a foreign key: the row it refers to is gone (a person or
 * app deleted, a reset or an import while the write was under way), on either store.
 */
export function referenceGone(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === '23503' || e?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || /FOREIGN KEY constraint failed/.test(String(e?.message ?? ''));
}

/**
 * A write naming rows the call looked up first (a person, a story, a channel): one deleted while
 * the call was under way has the write refused by its foreign key, and the call answers as it
 * would have after the delete: `lookUpAgain` runs the call's lookups again and throws their
 * error naming what is gone (the control plane's 404, kapi's -541). A refusal that leaves every
 * lookup passing stands as it was.
 */
export async function asAfterDeletes<T>(write: () => Promise<T>, lookUpAgain: () => Promise<unknown>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (referenceGone(err)) await lookUpAgain();
    throw err;
  }
}

/**
 * Runs `work` in the caller's transaction when `db` is one (a write made as part of a larger
 * one, which commits or rolls back with it), else in a transaction of its own.
 */
export function inTransaction<D, T>(db: Kysely<D>, work: (tx: Kysely<D>) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}

/**
 * Whether `err` is PostgreSQL ending a transaction for running beside others (a deadlock, or
 * a serialization failure): nothing of it was written, and the same request may be sent again.
 */
export function concurrencyFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

/**
 * `write` made again when PostgreSQL rolled it back for running beside others (nothing of it
 * was written), up to `attempts` times in all; the last failure is thrown.
 */
export async function againIfRolledBack<T>(write: () => Promise<T>, attempts = 3): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await write();
    } catch (err) {
      if (!concurrencyFailure(err) || n >= attempts) throw err;
    }
  }
}

/** Node's socket errors for a server that cannot be reached, or that went away. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN']);
/**
 * PostgreSQL's SQLSTATEs for a server that does not serve: class 08 (the connection), 53
 * (out of connections, disk or memory), 57P0x (shutting down, starting up). A lock another
 * session held past `lock_timeout` (55P03, SQLite's SQLITE_BUSY) is named as well.
 */
const UNSERVED = /^(08|53|57P0)/;
/** What pg says of a connection lost or not made in time (it gives them no code). */
const LOST = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout)/;
/** SQLite's codes for a file it cannot read or write (disk full, I/O error, unopenable, read-only, damaged). */
const SQLITE_UNSERVED = /^SQLITE_(FULL|IOERR|CANTOPEN|READONLY|CORRUPT|NOTADB)/;

/**
 * Whether the store gave up waiting for a lock another connection held (PostgreSQL's
 * `lock_timeout`, 55P03; SQLite's busy timeout): nothing of the call was written.
 */
export function storeLocked(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '55P03' || code === 'SQLITE_BUSY';
}

/**
 * What the store said when it failed to serve a call at all (PostgreSQL down, restarting, out
 * of connections or reached no more; SQLite's disk full or file unreadable), for the answer to
 * name it; undefined for any other error, which is no failure of the store.
 */
export function storeUnavailable(err: unknown): string | undefined {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  const pgServer = /^[0-9A-Z]{5}$/.test(code);
  if (storeLocked(err)) return `${message} (${code})`;
  if (UNREACHABLE.has(code) || (pgServer && UNSERVED.test(code)) || (!code && LOST.test(message))) return message || code;
  if (SQLITE_UNSERVED.test(code)) return `${message} (${code})`;
  return undefined;
}
