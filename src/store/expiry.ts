import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { DB } from '../db/schema.js';
import type { Store } from '../db/index.js';
import type { TableSpec } from '../db/tables.js';
import { LogTable } from '../db/log.js';

/**
 * Removal of rows that can never be used again: tokens, codes, AGTs, login sessions, SDK
 * login results, sharing uploads and shares past their expiry, and Talk quota counters past
 * their period (the tables whose TableSpec names an `expiresAt` column).
 * A shared sandbox gathers them by the tens of thousands a day, and nothing else removes
 * them. docs/control-plane.md ("What grows, and what is removed") describes it.
 *
 * A row goes once it has been expired for EXPIRED_KEPT_MS by the platform clock: an instance
 * whose machine clock lags another's by seconds, or a replayed authorization code presented
 * just after its expiry (it still revokes what its first use gave), find what they look for;
 * a clock moved back by more than that finds the rows gone (they answer as unknown ones).
 *
 * The work of one statement is bounded (SWEEP_BATCH rows, found by an index on the column);
 * a pass deletes batch after batch, letting requests run in between, until none is left.
 * Several instances on one PostgreSQL database sweep one at a time: each batch runs under a
 * transaction-scoped advisory lock, and a timed pass finding it held leaves the work to the
 * instance holding it. A delete of what is already gone does nothing, so nothing is lost if
 * two passes meet.
 */

/** How long a row is kept after its expiry. */
export const EXPIRED_KEPT_MS = 24 * 3600 * 1000;
/** Rows one statement removes at most. */
export const SWEEP_BATCH = 1000;
/** How often a running server sweeps, and how soon after it starts it does so first. */
export const SWEEP_INTERVAL_MS = 10 * 60 * 1000;
export const FIRST_SWEEP_MS = 60 * 1000;

/** The advisory lock of a sweep batch (an arbitrary constant, distinct from the startup lock). */
const SWEEP_LOCK = 0x6b6170_737765; // "kap" "swe" in ASCII

/** Rows whose `expiresAt` is before this are removed, and left out of exports. */
export function expiredBefore(now: number): number {
  return now - EXPIRED_KEPT_MS;
}

/** Removed rows per table (tables with none left out). */
export type Swept = Record<string, number>;

/**
 * Removes every row expired for longer than EXPIRED_KEPT_MS at `now`, in batches. With
 * `wait` (an operator's call) a batch waits for another instance's; without (the timer) the
 * pass ends there, and `undefined` says so.
 */
export async function sweepExpired(store: Store, tables: readonly TableSpec[], now: number, options: { wait?: boolean } = {}): Promise<Swept | undefined> {
  const cutoff = expiredBefore(now);
  const swept: Swept = {};
  for (const spec of tables) {
    if (!spec.expiresAt) continue;
    let total = 0;
    for (;;) {
      const removed = await deleteBatch(store, spec, spec.expiresAt, cutoff, options.wait === true);
      if (removed === undefined) return undefined;
      total += removed;
      if (removed < SWEEP_BATCH) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (total) swept[spec.name] = total;
  }
  return swept;
}

/** One batch: rows removed, or undefined when another instance holds the sweep lock. */
async function deleteBatch(store: Store, spec: TableSpec, column: string, cutoff: number, wait: boolean): Promise<number | undefined> {
  const t = sql.table(spec.name);
  const c = sql.ref(column);
  // A read first: a write, even of no rows, would empty every instance's caches.
  const any = await sql`SELECT 1 AS found FROM ${t} WHERE ${c} < ${cutoff} LIMIT 1`.execute(store.db);
  if (any.rows.length === 0) return 0;
  // A log table's rows go through its writer: nothing kept is derived from them (db/log.ts).
  const log = spec.log ? new LogTable(store, spec.name) : undefined;
  const run = (db: Kysely<DB>, query: RawBuilder<unknown>) => (log ? log.write(db, query.compile(db)) : query.execute(db));
  if (store.dialect === 'sqlite') {
    const res = await run(store.db, sql`DELETE FROM ${t} WHERE rowid IN (SELECT rowid FROM ${t} WHERE ${c} < ${cutoff} LIMIT ${SWEEP_BATCH})`);
    return Number(res.numAffectedRows ?? 0);
  }
  return store.db.transaction().execute(async (tx) => {
    if (wait) await sql`SELECT pg_advisory_xact_lock(${SWEEP_LOCK})`.execute(tx);
    else {
      const locked = await sql<{ locked: boolean }>`SELECT pg_try_advisory_xact_lock(${SWEEP_LOCK}) AS locked`.execute(tx);
      if (!locked.rows[0]?.locked) return undefined;
    }
    // By row address (a TID scan), the rows found by the column's index.
    const res = await run(tx, sql`DELETE FROM ${t} WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${t} WHERE ${c} < ${cutoff} LIMIT ${SWEEP_BATCH}))`);
    return Number(res.numAffectedRows ?? 0);
  });
}

/**
 * Sweeps while a server runs: first FIRST_SWEEP_MS after the start, then every
 * `intervalMs`. The timer does not keep the process alive; `stop` clears it and waits for
 * a pass under way, so a closed server leaves nothing running.
 */
export function startSweeper(
  run: () => Promise<unknown>,
  onError: (err: unknown) => void,
  intervalMs = SWEEP_INTERVAL_MS,
  firstMs = Math.min(FIRST_SWEEP_MS, intervalMs),
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (ms: number) => {
    timer = setTimeout(() => {
      running = run()
        .then(
          () => undefined,
          (err) => onError(err),
        )
        .finally(() => {
          running = undefined;
          if (!stopped) schedule(intervalMs);
        });
    }, ms);
    timer.unref();
  };
  schedule(firstMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
