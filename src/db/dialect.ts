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
