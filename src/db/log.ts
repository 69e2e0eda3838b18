import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';
import type { Store } from './index.js';
import { registryKey, type RegistryKey } from './registry.js';
import { storeUnavailable } from './dialect.js';

/**
 * Writers for append-only log tables (declared `log: true` by their product): the tables no
 * kept value is derived from, so their writes leave the store's change stamp alone and
 * sending a message does not throw away cached tokens and pages. Every write to such a
 * table goes through one of these; no trigger may write other tables from them.
 */
export class LogTable {
  constructor(
    protected readonly store: Store,
    readonly table: string,
  ) {
    if (!store.logTables.has(table)) throw new Error(`${table} is not declared as a log table`);
  }

  /** Runs one write to this table (on `db`, which may be a transaction) without moving the stamp. */
  async write<R>(db: Kysely<any>, query: Compilable<R> | CompiledQuery<R>): Promise<QueryResult<R>> {
    const compiled = 'compile' in query ? query.compile() : query;
    this.store.markUnstamped(compiled.sql);
    return db.executeQuery(compiled);
  }

  /**
   * The same outside a transaction, as a named prepared statement on PostgreSQL: parsed and
   * planned once per connection (Kysely sends every query unnamed, parsed again each time).
   */
  async writeNamed(name: string, query: CompiledQuery): Promise<void> {
    const pool = this.store.pool;
    if (!pool) {
      await this.write(this.store.db, query);
      return;
    }
    this.store.markUnstamped(query.sql);
    await pool.query({ name, text: query.sql, values: query.parameters as unknown[] });
  }
}

/**
 * Group commit: the rows of every `append` made in the same turn of the event loop are
 * stored by one multi-row INSERT (one commit), its text written directly (Kysely's builder
 * spends more per row than SQLite spends storing it, and the text depends only on the row
 * count, so the prepared statement is reused). Each caller's promise settles once its own
 * rows are stored, or with its own error: a failed batch is retried row set by row set, so
 * one bad append neither fails nor hides the others; but not when the store failed to answer
 * (db/dialect.ts `storeUnavailable`), whose insert may have been stored: every caller is told.
 *
 * On PostgreSQL an insert takes a round trip, and at most `MAX_IN_FLIGHT` are under way at
 * once: appends made meanwhile wait for one to finish and go in the next batch together.
 * The batches then grow with the load instead of staying one turn's worth: two instances
 * sharing one load each sent inserts of a few rows, and together stored 29-37 % fewer
 * messages per second (docs/benchmarks.md, sixth session). A lone append is stored at
 * once, as before.
 */
export class AppendLog<Row extends Record<string, unknown>> extends LogTable {
  private queue: Pending<Row>[] = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly columnList: string;

  constructor(
    store: Store,
    table: string,
    private readonly columns: readonly (keyof Row & string)[],
    private readonly maxRowsPerInsert = 500,
  ) {
    super(store, table);
    this.columnList = columns.map((c) => `"${c}"`).join(', ');
  }

  append(rows: Row[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.queue.push({ rows, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0 || this.inFlight >= MAX_IN_FLIGHT) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private insert(rows: Row[]): CompiledQuery {
    const postgres = this.store.dialect === 'postgres';
    const values: unknown[] = [];
    const tuples: string[] = [];
    for (const row of rows) {
      const marks: string[] = [];
      for (const column of this.columns) {
        values.push(row[column]);
        marks.push(postgres ? `$${values.length}` : '?');
      }
      tuples.push(`(${marks.join(', ')})`);
    }
    return CompiledQuery.raw(`insert into "${this.table}" (${this.columnList}) values ${tuples.join(', ')}`, values);
  }

  /** One statement when the rows fit in one, else one transaction: all stored, or none. */
  private async insertAll(rows: Row[]): Promise<void> {
    if (rows.length <= this.maxRowsPerInsert) {
      const query = this.insert(rows);
      // A named statement per row count (PostgreSQL), up to NAMED_UP_TO rows.
      if (rows.length <= NAMED_UP_TO) await this.writeNamed(`kapibara_log_${this.table}_${rows.length}`, query);
      else await this.write(this.store.db, query);
      return;
    }
    await this.store.db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += this.maxRowsPerInsert) {
        await this.write(trx, this.insert(rows.slice(i, i + this.maxRowsPerInsert)));
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    this.inFlight++;
    try {
      await this.storeBatch(batch);
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }

  private async storeBatch(batch: Pending<Row>[]): Promise<void> {
    try {
      await this.insertAll(batch.flatMap((b) => b.rows));
      for (const b of batch) b.resolve();
    } catch (err) {
      // A store that failed to answer (the connection lost, maybe after the insert was stored)
      // is not asked again: the rows may be in, and storing them again would keep them twice.
      if (batch.length === 1 || storeUnavailable(err) !== undefined) {
        for (const b of batch) b.reject(err);
        return;
      }
      // One bad append must not fail the others: store each on its own and report its own error.
      for (const b of batch) {
        try {
          await this.insertAll(b.rows);
          b.resolve();
        } catch (own) {
          b.reject(own);
        }
      }
    }
  }
}

/** One caller's rows, waiting to be stored. */
interface Pending<Row> {
  rows: Row[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Inserts of one log table under way at once (per process). */
const MAX_IN_FLIGHT = 1;

/** Batches of up to this many rows are named prepared statements on PostgreSQL (one per size and connection). */
const NAMED_UP_TO = 64;

/** A registry key for one log writer per store (durable: its queue is not a cache). */
export function appendLogKey<Row extends Record<string, unknown>>(table: string, columns: readonly (keyof Row & string)[]): RegistryKey<AppendLog<Row>> {
  return registryKey(`log writer: ${table}`, (store) => new AppendLog<Row>(store, table, columns), { durable: true });
}
