import type pg from 'pg';
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';

/**
 * A change stamp for PostgreSQL, where other instances write unseen: every table but the
 * log tables carries a statement trigger that sends `NOTIFY kapibara_changed`; each
 * instance LISTENs on a connection of its own and moves its stamp on every notification,
 * and on its own writes as they complete (a COMMIT included, so a reader never keeps what a
 * transaction was about to change). The listening connection is checked every
 * `HEARTBEAT_MS` by notifying itself: hearing it means notifications reach it, and that every
 * one of a commit made before the check started has arrived (PostgreSQL delivers them in
 * commit order, to an idle session at once). While no check
 * has returned for `STALE_AFTER_MS`, the stamp is undefined and nothing is kept, and what
 * watches a table (the clock, the signing key) looks again at every beat, so a write on one
 * instance is seen by the others within STALE_AFTER_MS, whatever happens to the connection.
 * A connection that fails (refused, closed, or silent for `CHECK_TIMEOUT_MS`) is closed and
 * another opened at the next beat. docs/design.md states the bound; test/instances.test.ts
 * and test/pg-changes.test.ts prove it.
 */
export const HEARTBEAT_MS = 100;
export const STALE_AFTER_MS = 2 * HEARTBEAT_MS;
/** How long connecting, LISTEN or a check may take before the listening connection is given up. */
export const CHECK_TIMEOUT_MS = 1000;
/** The listening connection's `application_name` (unless the database URL names one). */
export const LISTENER_NAME = 'kapibara changes';
const CHANNEL = 'kapibara_changed';
/** What a connection notifies itself with, to learn that notifications reach it (no change: no stamp moves). */
const PROBE = 'kapibara probe ';

/** Notifications do not reach the listening connection (a pooler in transaction mode keeps no LISTEN). */
export class NotificationsLost extends Error {}

const READ_OR_TRANSACTION = /^\s*(select|begin|rollback|savepoint|release|listen|commit)\b/i;
const COMMIT = /^\s*commit\b/i;

export class PgChanges {
  private generation = 0;
  private confirmedAt = -Infinity;
  private listener?: pg.Client;
  private timer?: NodeJS.Timeout;
  private checking = false;
  /** The check under way (a connection being made included), which close() waits for. */
  private current?: Promise<void>;
  private closed = false;
  private waiting: { after: number; resolve: () => void }[] = [];
  private readonly watchers: { table: string; fn: () => void }[] = [];
  /** Probes sent and not yet heard, by payload. */
  private readonly probes = new Map<string, () => void>();

  constructor(
    private readonly driver: typeof pg,
    private readonly connectionString: string,
    private readonly unstamped: ReadonlySet<string>,
  ) {}

  /** The stamp, or undefined while the listening connection is not known to be current. */
  stamp(): number | undefined {
    return performance.now() - this.confirmedAt <= STALE_AFTER_MS ? this.generation : undefined;
  }

  /** Moves the stamp when a statement that may write completes on one of the pool's clients. */
  watch(pool: pg.Pool): void {
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      // Within a transaction, a COMMIT moves the stamp only when the transaction wrote more
      // than log rows (a message send's quota counters leave it alone).
      let inTransaction = false;
      let wrote = false;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        const first = args[0] as string | { text?: string } | undefined;
        const text = typeof first === 'string' ? first : first?.text;
        let moves = false;
        if (text !== undefined) {
          if (/^\s*begin\b/i.test(text)) {
            inTransaction = true;
            wrote = false;
          } else if (COMMIT.test(text) || /^\s*rollback\b/i.test(text)) {
            moves = COMMIT.test(text) && wrote;
            inTransaction = false;
            wrote = false;
          } else if (!READ_OR_TRANSACTION.test(text) && !this.unstamped.has(text)) {
            moves = true;
            if (inTransaction) wrote = true;
          }
        }
        if (!moves) return query(...args);
        const last = args[args.length - 1];
        if (typeof last === 'function') {
          args[args.length - 1] = (...result: unknown[]) => {
            this.generation++;
            (last as (...r: unknown[]) => void)(...result);
          };
          return query(...args);
        }
        const pending = query(...args) as Promise<unknown>;
        const moved = () => {
          this.generation++;
        };
        pending.then(moved, moved);
        return pending;
      };
    });
  }

  async start(): Promise<void> {
    await this.connect();
    this.timer = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  private beat(): void {
    if (this.closed) return;
    if (!this.checking) this.current = this.check();
    // Notifications may be going unseen (the connection is down, or silent): every watcher
    // looks again, at every beat until a check returns, as after a reconnection.
    if (this.stamp() === undefined) this.lookAgain();
  }

  private lookAgain(): void {
    for (const w of this.watchers) w.fn();
  }

  private async connect(): Promise<void> {
    const client = new this.driver.Client({
      connectionString: this.connectionString,
      application_name: LISTENER_NAME,
      // A peer gone without a word (a failover, a dropped network) is found by the check's
      // timeout; keepalive lets the system close the socket too.
      keepAlive: true,
      connectionTimeoutMillis: CHECK_TIMEOUT_MS,
      query_timeout: CHECK_TIMEOUT_MS,
    });
    client.on('notification', (message) => {
      if (message.payload?.startsWith(PROBE)) return this.probes.get(message.payload)?.();
      this.generation++;
      // The payload names the table another instance wrote.
      for (const w of this.watchers) if (w.table === message.payload) w.fn();
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      // Refused by a server that cannot take it (a hot standby during a failover, say).
      await client.query(`LISTEN ${CHANNEL}`);
      await this.probe(client);
    } catch (err) {
      // Closed, or one connection would be left open at every beat.
      void client.end().catch(() => {});
      throw err;
    }
    // Closed while this connection was being made: it is not kept.
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.listener = client;
    this.generation++;
    this.confirmedAt = performance.now();
    // Notifications sent while no connection listened are lost: every watcher looks again.
    this.lookAgain();
  }

  /**
   * Notifies the connection itself and waits to hear it, as every check does: a LISTEN that
   * went through a pooler in transaction mode (PgBouncer with `pool_mode = transaction`, or a
   * managed transaction pooler) is forgotten with the server connection it ran on, while a
   * mere `SELECT 1` would still pass, leaving every instance trusting what it keeps.
   */
  private async probe(client: pg.Client): Promise<void> {
    const payload = `${PROBE}${randomUUID()}`;
    let timer: NodeJS.Timeout | undefined;
    const heard = new Promise<void>((resolve, reject) => {
      this.probes.set(payload, resolve);
      timer = setTimeout(
        () =>
          reject(
            new NotificationsLost(
              'PostgreSQL notifications do not reach the connection that listens for them (is DATABASE_URL a pooler in transaction mode?): ' +
                'instances sharing a database need a session of their own, see docs/design.md',
            ),
          ),
        CHECK_TIMEOUT_MS,
      );
    });
    try {
      // Both awaited at once: a query slower than the timeout must not leave `heard`'s
      // rejection unhandled (which would end the process).
      await Promise.all([client.query(`SELECT pg_notify('${CHANNEL}', $1)`, [payload]), heard]);
    } finally {
      clearTimeout(timer);
      this.probes.delete(payload);
    }
  }

  /** Calls `fn` whenever another instance commits a change to `table` (and after a reconnection), until the returned function is called. */
  onTableChanged(table: string, fn: () => void): () => void {
    const watcher = { table, fn };
    this.watchers.push(watcher);
    return () => {
      const at = this.watchers.indexOf(watcher);
      if (at >= 0) this.watchers.splice(at, 1);
    };
  }

  private lost(client: pg.Client): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    this.confirmedAt = -Infinity;
    this.generation++;
    // A connection given up may still be open (silent, not closed): it is closed, so that none
    // is left behind (pg destroys the socket of one with a query under way).
    void client.end().catch(() => {});
  }

  private async check(): Promise<void> {
    if (this.checking || this.closed) return;
    this.checking = true;
    const started = performance.now();
    try {
      if (!this.listener) await this.connect();
      else {
        await this.probe(this.listener);
        this.confirmedAt = started;
        const done = this.waiting.filter((w) => w.after <= started);
        this.waiting = this.waiting.filter((w) => w.after > started);
        for (const w of done) w.resolve();
      }
    } catch {
      if (this.listener) this.lost(this.listener);
    } finally {
      this.checking = false;
    }
  }

  /** Resolves once every change committed before the call has moved the stamp (a heartbeat after it returned). */
  settled(): Promise<void> {
    return new Promise((resolve) => this.waiting.push({ after: performance.now(), resolve }));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting) w.resolve();
    this.waiting = [];
    if (this.timer) clearInterval(this.timer);
    // A connection being made sees `closed` and closes itself; a check returns within its timeout.
    await this.current;
    const client = this.listener;
    this.listener = undefined;
    this.confirmedAt = -Infinity;
    await client?.end().catch(() => {});
  }
}

/**
 * Installs the notifying trigger on every table of the schema but the log tables and the
 * migrator's own (idempotent; run after migrations, under the startup lock, so tables a
 * product adds later get theirs too).
 */
export async function installChangeTriggers(db: Kysely<any>, logTables: ReadonlySet<string>): Promise<void> {
  await sql
    .raw(
      `CREATE OR REPLACE FUNCTION kapibara_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('${CHANNEL}', TG_TABLE_NAME); RETURN NULL; END $$`,
    )
    .execute(db);
  const tables = await sql<{ name: string; has: boolean }>`
    SELECT t.table_name AS name,
           EXISTS (SELECT 1 FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
                   WHERE c.relname = t.table_name AND c.relnamespace = to_regnamespace(current_schema()) AND g.tgname = 'kapibara_changed') AS has
    FROM information_schema.tables t
    WHERE t.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`.execute(db);
  for (const { name, has } of tables.rows) {
    if (has || logTables.has(name) || name.startsWith('kysely_')) continue;
    await sql
      .raw(`CREATE TRIGGER kapibara_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "${name}" FOR EACH STATEMENT EXECUTE FUNCTION kapibara_changed()`)
      .execute(db);
  }
}
