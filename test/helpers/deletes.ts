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
  const executor = store.db.getExecutor() as QueryExecutor & { executeQuery: QueryExecutor['executeQuery'] };
  const execute = executor.executeQuery;
  const prefix = `insert into "${table}"`;
  let held = 0;
  executor.executeQuery = async function (query: CompiledQuery, ...rest: unknown[]) {
    if (held === 0 && query.sql.startsWith(prefix)) {
      held++;
      await between();
    }
    return (execute as (...args: unknown[]) => ReturnType<QueryExecutor['executeQuery']>).call(executor, query, ...rest);
  } as QueryExecutor['executeQuery'];
  return { held: () => held, release: () => void delete (executor as { executeQuery?: unknown }).executeQuery };
}
