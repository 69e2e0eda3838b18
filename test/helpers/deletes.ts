import type { CompiledQuery, QueryExecutor } from 'kysely';
import type { Store } from '../../src/db/index.js';

/**
 * Runs `between` when the next `insert into "<table>"` made outside a transaction is about to
 * go to the database: after every check the call made before it, and then sends the insert,
 * which meets what `between` did (a person, a story, a channel deleted) as it would had another
 * request landed exactly there. Returns how many inserts were held; `release()` puts the
 * store's executor back as it was.
 */
export function beforeInsertInto(store: Store, table: string, between: () => Promise<unknown>): { held: () => number; release: () => void } {
  return hold(store, `insert into "${table}"`, between, 'before');
}

/**
 * As beforeInsertInto, for a write made in a transaction of its own (whose queries cannot be
 * held: on SQLite the delete would wait for the transaction's connection): `between` runs once
 * the first query starting with `sqlStart` (the call's last check) has answered, before the
 * transaction begins.
 */
export function afterQuery(store: Store, sqlStart: string, between: () => Promise<unknown>): { held: () => number; release: () => void } {
  return hold(store, sqlStart, between, 'after');
}

function hold(store: Store, sqlStart: string, between: () => Promise<unknown>, when: 'before' | 'after'): { held: () => number; release: () => void } {
  const executor = store.db.getExecutor() as QueryExecutor & { executeQuery: QueryExecutor['executeQuery'] };
  const execute = executor.executeQuery;
  let held = 0;
  executor.executeQuery = async function (query: CompiledQuery, ...rest: unknown[]) {
    const now = held === 0 && query.sql.startsWith(sqlStart);
    if (now) held++;
    if (now && when === 'before') await between();
    const result = await (execute as (...args: unknown[]) => ReturnType<QueryExecutor['executeQuery']>).call(executor, query, ...rest);
    if (now && when === 'after') await between();
    return result;
  } as QueryExecutor['executeQuery'];
  return { held: () => held, release: () => void delete (executor as { executeQuery?: unknown }).executeQuery };
}
