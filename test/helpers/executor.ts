import { type CompiledQuery, type QueryExecutor, type QueryResult, sql } from 'kysely';
import type { Store } from '../../src/db/index.js';

type Patched = Record<'executeQuery' | 'withConnectionProvider', (this: QueryExecutor, ...args: any[]) => any>;

/**
 * Runs `around` in place of every statement `store` sends, inside its transactions too (the
 * executors' prototype is patched: a transaction's executor is made from the store's, and
 * shares it); `send()` sends the statement. `inTransaction` says whether it is sent in a
 * transaction (on SQLite, one that holds the store's one connection). Returns what puts the
 * executors back as they were.
 */
export function aroundEveryQuery(
  store: Store,
  around: (query: CompiledQuery, send: () => Promise<QueryResult<unknown>>, where: { inTransaction: boolean }) => Promise<QueryResult<unknown>>,
): () => void {
  const own = store.db.getExecutor();
  const proto = Object.getPrototypeOf(own) as Patched;
  const names = ['executeQuery', 'withConnectionProvider'] as const;
  const original = { executeQuery: proto.executeQuery, withConnectionProvider: proto.withConnectionProvider };
  const owned = names.filter((name) => Object.prototype.hasOwnProperty.call(proto, name));
  const transactions = new WeakSet<object>();
  proto.withConnectionProvider = function (...args) {
    const made = original.withConnectionProvider.apply(this, args);
    if (this.adapter === own.adapter) transactions.add(made);
    return made;
  };
  proto.executeQuery = function (query: CompiledQuery, ...rest) {
    const send = () => original.executeQuery.call(this, query, ...rest) as Promise<QueryResult<unknown>>;
    return this.adapter === own.adapter ? around(query, send, { inTransaction: transactions.has(this) }) : send();
  };
  return () => {
    for (const name of names) delete proto[name];
    for (const name of owned) proto[name] = original[name];
  };
}

/** Whether a statement on the store's database waits for a lock (PostgreSQL): a write another holds. */
export async function lockWaits(store: Store): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(store.db);
  return rows[0].n > 0;
}
