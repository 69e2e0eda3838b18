import assert from 'node:assert/strict';
import type { CompiledQuery, QueryExecutor } from 'kysely';
import type { Store } from '../../src/db/index.js';
import { eventually } from './eventually.js';
import { aroundEveryQuery, lockWaits } from './executor.js';

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
 * transaction begins. With `times`, after each of the first `times` such queries (a write made
 * again after meeting a delete), `between(n)` for the nth.
 */
export function afterQuery(store: Store, sqlStart: string, between: (n: number) => Promise<unknown>, times = 1): { held: () => number; release: () => void } {
  return hold(store, sqlStart, between, 'after', times);
}

function hold(store: Store, sqlStart: string, between: (n: number) => Promise<unknown>, when: 'before' | 'after', times = 1): { held: () => number; release: () => void } {
  const executor = store.db.getExecutor() as QueryExecutor & { executeQuery: QueryExecutor['executeQuery'] };
  const execute = executor.executeQuery;
  let held = 0;
  executor.executeQuery = async function (query: CompiledQuery, ...rest: unknown[]) {
    const now = held < times && query.sql.startsWith(sqlStart);
    if (now) held++;
    const n = held;
    if (now && when === 'before') await between(n);
    const result = await (execute as (...args: unknown[]) => ReturnType<QueryExecutor['executeQuery']>).call(executor, query, ...rest);
    if (now && when === 'after') await between(n);
    return result;
  } as QueryExecutor['executeQuery'];
  return { held: () => held, release: () => void delete (executor as { executeQuery?: unknown }).executeQuery };
}

/**
 * As beforeInsertInto, for a query that may run inside a transaction (several writes made as
 * one): `between` starts when the first query starting with `sqlStart` is about to be sent,
 * and the query goes on once `between` has finished, or waits for the transaction and cannot
 * finish before it ends: on PostgreSQL, once the store shows a statement waiting for a lock (a
 * row the transaction holds); on SQLite at once, since a transaction holds the one connection
 * that `between` needs. Outside a transaction (or where no lock stops it) `between` lands
 * where the query was held, as with beforeInsertInto. `landed()` resolves when `between` has
 * (whileDeleting awaits it).
 */
export function midTransaction(store: Store, sqlStart: string, between: () => Promise<unknown>): Hold {
  let held = 0;
  let landing: Promise<unknown> | undefined;
  const release = aroundEveryQuery(store, async (query, send, { inTransaction }) => {
    if (held === 0 && query.sql.startsWith(sqlStart)) {
      held++;
      let done = false;
      landing = between().finally(() => (done = true));
      landing.catch(() => {}); // reported by landed()
      const waits = store.dialect === 'postgres' ? () => lockWaits(store) : async () => inTransaction;
      await eventually(async () => (done || (await waits()) ? true : undefined));
    }
    return send();
  });
  return { held: () => held, release, landed: async () => landing };
}

/** A write held where a delete lands (beforeInsertInto, afterQuery, midTransaction, deliveries' betweenCheckAndInsert). */
export interface Hold {
  held: () => number;
  release: () => void;
  /** Resolves when what landed there has ended (midTransaction's may end after the write). */
  landed?: () => Promise<unknown>;
}

/**
 * Runs `call` with `hold` in place, puts the store back, then asserts the delete landed: the
 * hold met `times` queries (1 unless told), or the test would pass on a call that never met the
 * delete. `what` says which case, from the call's answer. The assertion comes after the call
 * and its release, never in a `finally`: a call that throws fails the test with its own error.
 */
export async function whileDeleting<T>(hold: Hold, call: () => Promise<T>, what?: (result: T) => string, times = 1): Promise<T> {
  let result: T;
  try {
    result = await call();
  } finally {
    hold.release();
  }
  await hold.landed?.();
  assert.equal(hold.held(), times, `the delete did not land where the call was held${what ? `: ${what(result)}` : ''}`);
  return result;
}
