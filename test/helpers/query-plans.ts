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
  /** SQLite: each line's node and its parent's (EXPLAIN QUERY PLAN's tree; 0 is the statement). */
  nodes?: { id: number; parent: number }[];
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
        const lines = rows.map((r) => (postgres ? r['QUERY PLAN'] : r.detail));
        plans.push(postgres ? { sql: compiled.sql, lines } : { sql: compiled.sql, lines, nodes: rows.map((r) => ({ id: Number(r.id), parent: Number(r.parent) })) });
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
 * A statement's query blocks (the statement and each parenthesized part: subqueries, common
 * table expressions, but also argument lists), each as its own text with the parts nested in
 * it left as `()`. Quoted text and names are kept whole.
 */
function blocksOf(statement: string): string[] {
  const blocks: string[] = [];
  const open: string[] = [''];
  let quote: string | undefined;
  for (const ch of statement) {
    if (quote) {
      open[open.length - 1] += ch;
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      open[open.length - 1] += ch;
    } else if (ch === '(') {
      open.push('');
    } else if (ch === ')' && open.length > 1) {
      blocks.push(open.pop()!);
      open[open.length - 1] += '()';
    } else {
      open[open.length - 1] += ch;
    }
  }
  return [...open, ...blocks];
}

const KEYWORDS = new Set(['where', 'inner', 'left', 'right', 'cross', 'join', 'on', 'group', 'order', 'limit', 'union', 'natural', 'using', 'window', 'having']);

/** Whether a block reads `name` (a table, or the alias it is given there) in its FROM or a JOIN. */
function readsIn(block: string, name: string): boolean {
  for (const m of block.matchAll(/\b(?:from|join)\s+"?(\w+)"?(?:\s+(?:as\s+)?"?(\w+)"?)?/gi)) {
    const alias = m[2] && !KEYWORDS.has(m[2].toLowerCase()) ? m[2] : undefined;
    if ((alias ?? m[1]) === name) return true;
  }
  return false;
}

/** Whether a block stops at its own LIMIT as rows come, rather than after reading them all to count or group. */
function limitsAsRead(block: string): boolean {
  return /\blimit\b/i.test(block) && !/\b(?:count|sum|min|max|avg|total|group_concat|string_agg|array_agg)\s*\(|\bgroup\s+by\b|\bdistinct\b/i.test(block);
}

/**
 * SQLite: whether the walk of an index on line `at` (`SCAN t USING [COVERING] INDEX i`) is
 * bounded by a LIMIT: it is the outer loop of its query block (the first loop under it, not
 * a loop run again for each row of another), the block sorts nothing before its rows come
 * out (`USE TEMP B-TREE FOR ORDER BY`, `GROUP BY`, `DISTINCT`), and every block of the
 * statement that reads that table has a LIMIT of its own and no count or grouping. A LIMIT
 * of another block (a subquery beside the walk) bounds nothing of it.
 */
function boundedSqlite(plan: Plan, at: number, table: string): boolean {
  const nodes = plan.nodes!;
  const parent = nodes[at].parent;
  const siblings = nodes.flatMap((n, i) => (n.parent === parent ? [i] : []));
  const loops = siblings.filter((i) => /^(?:SCAN|SEARCH) /.test(plan.lines[i].trim()));
  if (loops[0] !== at) return false;
  if (siblings.some((i) => /^USE TEMP B-TREE FOR (?!RIGHT PART OF ORDER BY)/.test(plan.lines[i].trim()))) return false;
  const readers = blocksOf(plan.sql).filter((block) => readsIn(block, table));
  return readers.length > 0 && readers.every(limitsAsRead);
}

/** PostgreSQL nodes that pass rows of their first input on as they come (a LIMIT above them stops the input). */
const PG_STREAMING = /^(?:Limit|Result|Subquery Scan|Append|Merge Append|Unique|Incremental Sort|Nested Loop|Hash Join|Merge Join|Gather|Gather Merge|ProjectSet)\b/;

/**
 * PostgreSQL: whether the index scan on line `at` is bounded by a LIMIT: a `Limit` node above
 * it in the same plan (not across a SubPlan, InitPlan or CTE, which run on their own), with
 * only nodes that pass on their first input's rows as they come in between, the scan on that
 * first input each time (the inner side of a join is read again for every outer row).
 */
function boundedPg(lines: string[], at: number): boolean {
  const marker = (i: number) => /^(?:SubPlan|InitPlan|CTE) /.test(lines[i].trim());
  const isNode = (i: number) => i === 0 || lines[i].trimStart().startsWith('->') || marker(i);
  const depth = (i: number) => (lines[i].includes('->') ? lines[i].indexOf('->') : lines[i].length - lines[i].trimStart().length);
  // Each node's parent: the nearest node above it that is less indented.
  const parent = new Map<number, number>();
  for (let i = 1; i < lines.length; i++) {
    if (!isNode(i)) continue;
    for (let j = i - 1; j >= 0; j--) {
      if (isNode(j) && depth(j) < depth(i)) {
        parent.set(i, j);
        break;
      }
    }
  }
  for (let child = at, up = parent.get(at); up !== undefined; child = up, up = parent.get(up)) {
    const node = lines[up].trim().replace(/^->\s*/, '');
    if (marker(up)) return false;
    if (node.startsWith('Limit')) return true;
    if (!PG_STREAMING.test(node)) return false;
    // Its first input (the plans it runs on its own, InitPlans and SubPlans, are no input).
    const first = [...parent.entries()].find(([i, p]) => p === up && !marker(i))?.[0];
    if (first !== child) return false;
  }
  return false;
}

/**
 * Every plan reads by index: no table read whole, no sort of what it read. A table read
 * through an index in the index's order (SQLite: `SCAN t USING INDEX i`; PostgreSQL: an index
 * scan with no `Index Cond`) passes only where a LIMIT bounds that walk: it stops at the page
 * (boundedSqlite, boundedPg say when). A bare `SCAN t` of a table never passes.
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
    for (const [i, line] of plan.lines.entries()) {
      const step = line.trim();
      if (/Index (?:Only )?Scan/.test(step)) {
        const node = plan.lines.slice(i + 1);
        const end = node.findIndex((l) => l.includes('->') || /^\s*(?:SubPlan|InitPlan|CTE) /.test(l));
        const searched = (end < 0 ? node : node.slice(0, end)).some((l) => /Index Cond:/.test(l));
        if (!searched && !boundedPg(plan.lines, i)) assert.fail(`a whole index read:\n${text}`);
      }
      const scan = SQLITE_SCAN.exec(step);
      if (scan && !computed.has(scan[1]) && !(scan[2] && boundedSqlite(plan, i, scan[1]))) assert.fail(`a full scan:\n${text}`);
      assert.doesNotMatch(step, PG_SCAN, `a full scan:\n${text}`);
      if (options.sortsFound) continue;
      assert.doesNotMatch(step, SQLITE_SORT, `a sort of every row:\n${text}`);
      assert.doesNotMatch(step, PG_SORT, `a sort of every row:\n${text}`);
    }
  }
  if (indexes) assert.match(used, indexes, `no plan uses the index:\n${all}`);
}
