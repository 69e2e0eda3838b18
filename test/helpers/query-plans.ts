import assert from 'node:assert/strict';
import { CompiledQuery, type Kysely, createQueryId, sql } from 'kysely';
import { Recorder } from './recorder.js';
import type { DB } from '../../src/db/schema.js';
import { isPostgres } from '../../src/db/dialect.js';
import type { Store } from '../../src/db/index.js';
import { aroundEveryQuery } from './executor.js';

/**
 * The one query-plan check of the tests (DESIGN.md, "Fast": cost grows with the page, never
 * with the table), shown by the plan the store makes for each statement, never by timing.
 *
 * SQLite's EXPLAIN QUERY PLAN may show no scan of a table (`SCAN t`; through an index only
 * under a LIMIT, see assertIndexed) and no sort of its own (`USE TEMP B-TREE`); searches
 * (`SEARCH t USING …`) are what an index serves. PostgreSQL would scan a
 * table of a few rows whatever its indexes, so its plan is asked for with sequential scans,
 * bitmap scans and sorts priced out (`enable_seqscan`, `enable_bitmapscan`, `enable_sort`
 * off): it still chooses a `Seq Scan` or a `Sort` when no index can serve the statement.
 */

export interface Plan {
  sql: string;
  lines: string[];
}

const PRICED_OUT = ['enable_seqscan', 'enable_sort', 'enable_bitmapscan'];

/**
 * The plan of each statement `run` sends (run for real first, then explained as sent).
 * `sortsFound`: sorts are not priced out on PostgreSQL, for a statement meant to sort what its
 * index searches found (checked with assertIndexed's `sortsFound`): priced out, the planner
 * would rather read a whole index in the sort's order than sort a few rows.
 */
export async function plansOf(db: Kysely<DB>, run: (db: Kysely<DB>) => Promise<unknown>, options: { sortsFound?: boolean } = {}): Promise<Plan[]> {
  return explaining(db, options, async (conn) => {
    const recorder = new Recorder();
    await run(conn.withPlugin(recorder));
    return recorder.nodes.map((node) => conn.getExecutor().compileQuery(node, createQueryId()));
  });
}

/** A statement a store ran (statementsDuring) and how many rows it answered. */
export interface Statement {
  query: CompiledQuery;
  rows: number;
}

/**
 * Every statement `store` runs while `call` runs (a request, with whatever it reads and
 * writes, in transactions too), with the rows each answered: what a call reads, shown by
 * its statements and their rows rather than by timing.
 */
export async function statementsDuring<T>(store: Store, call: () => Promise<T>): Promise<{ result: T; statements: Statement[] }> {
  const statements: Statement[] = [];
  const release = aroundEveryQuery(store, async (query, send) => {
    const result = await send();
    statements.push({ query, rows: result.rows.length });
    return result;
  });
  try {
    return { result: await call(), statements };
  } finally {
    release();
  }
}

/** The plans of statements statementsDuring recorded, asked for as plansOf asks (`sortsFound` too). */
export async function plansOfStatements(db: Kysely<DB>, statements: readonly Statement[], options: { sortsFound?: boolean } = {}): Promise<Plan[]> {
  return explaining(db, options, async () => statements.map((s) => s.query));
}

/** Explains what `statements` gives, on one connection with PostgreSQL's scans and sorts priced out. */
async function explaining(db: Kysely<DB>, options: { sortsFound?: boolean }, statements: (conn: Kysely<DB>) => Promise<CompiledQuery[]>): Promise<Plan[]> {
  const postgres = isPostgres(db);
  const pricedOut = options.sortsFound ? PRICED_OUT.filter((name) => name !== 'enable_sort') : PRICED_OUT;
  // One connection, so that the settings apply to the plans asked for on it.
  return db.connection().execute(async (conn) => {
    if (postgres) for (const name of pricedOut) await sql`SELECT set_config(${name}, 'off', false)`.execute(conn);
    try {
      const plans: Plan[] = [];
      for (const compiled of await statements(conn)) {
        const explain = CompiledQuery.raw(`${postgres ? 'EXPLAIN' : 'EXPLAIN QUERY PLAN'} ${compiled.sql}`, [...compiled.parameters]);
        const rows = (await conn.executeQuery<Record<string, string>>(explain)).rows;
        plans.push({ sql: compiled.sql, lines: rows.map((r) => (postgres ? r['QUERY PLAN'] : r.detail)) });
      }
      return plans;
    } finally {
      if (postgres) for (const name of pricedOut) await sql`SELECT set_config(${name}, 'on', false)`.execute(conn);
    }
  });
}

/** A SQLite line that reads a table (or an alias of one) in full: `SCAN t [USING [COVERING] INDEX i]`. */
const SQLITE_SCAN = /^SCAN (\w+)( USING (?:COVERING )?INDEX \w+)?$/;
const SQLITE_SORT = /TEMP B-TREE/;
const PG_SCAN = /Seq Scan/;
// PostgreSQL reads a whole index as an `Index Scan` or `Index Only Scan` with no `Index Cond`.
const PG_SORT = /\bSort\b/;

/** The names a statement gives its common table expressions (what it computes, not a table). */
function cteNames(statement: string): Set<string> {
  return new Set([...statement.matchAll(/(?:\bwith(?:\s+recursive)?|,)\s*"?(\w+)"?\s*(?:\([^()]*\)\s*)?as\s*(?:not\s+)?(?:materialized\s*)?\(/gi)].map((m) => m[1]));
}

/**
 * Every plan reads by index: no table read whole, no sort of what it read. On SQLite a table
 * read through an index in the index's order (`SCAN t USING INDEX i`) passes only in a
 * statement with a LIMIT (it stops at the page); a bare `SCAN t` of a table never does. So
 * on PostgreSQL: an index scan with no `Index Cond` reads the whole index, and passes only
 * under a LIMIT.
 * `indexes`, when given, must name an index some plan uses (the one meant to serve it): it is
 * matched against the plans' lines only, never the statements, whose table names would match
 * a pattern meant for an index of the table whatever the plan uses.
 * `sortsFound`: a sort of what the index searches found is allowed (a list of one person's
 * rows, bounded by what that person has, in an order no index of theirs holds); the reads
 * must still be searches.
 */
export function assertIndexed(plans: Plan[], indexes?: RegExp, options: { sortsFound?: boolean } = {}): void {
  assert.ok(plans.length > 0, 'no statement ran');
  const all = plans.map((p) => `${p.sql}\n  ${p.lines.join('\n  ')}`).join('\n---\n');
  const used = plans.flatMap((p) => p.lines).join('\n');
  for (const plan of plans) {
    const text = `${plan.sql}\n  ${plan.lines.join('\n  ')}`;
    // Subqueries the plan computes first (a co-routine, a materialized view) are read whole by design.
    const computed = cteNames(plan.sql);
    for (const line of plan.lines) {
      const made = /^(?:CO-ROUTINE|MATERIALIZE) (\w+)$/.exec(line.trim());
      if (made) computed.add(made[1]);
    }
    const limited = /\blimit\b/i.test(plan.sql);
    for (const [i, line] of plan.lines.entries()) {
      const step = line.trim();
      if (/Index (?:Only )?Scan/.test(step) && !limited) {
        const node = plan.lines.slice(i + 1);
        const end = node.findIndex((l) => l.includes('->'));
        if (!(end < 0 ? node : node.slice(0, end)).some((l) => /Index Cond:/.test(l))) assert.fail(`a whole index read:\n${text}`);
      }
      const scan = SQLITE_SCAN.exec(step);
      if (scan && !computed.has(scan[1]) && !(scan[2] && limited)) assert.fail(`a full scan:\n${text}`);
      assert.doesNotMatch(step, PG_SCAN, `a full scan:\n${text}`);
      if (options.sortsFound) continue;
      assert.doesNotMatch(step, SQLITE_SORT, `a sort of every row:\n${text}`);
      assert.doesNotMatch(step, PG_SORT, `a sort of every row:\n${text}`);
    }
  }
  if (indexes) assert.match(used, indexes, `no plan uses the index:\n${all}`);
}
