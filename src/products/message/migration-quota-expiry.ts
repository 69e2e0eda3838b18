import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * 065: Talk quota counters of periods past are removed by the expiry sweep (store/expiry.ts):
 * a counter (one per sender and day, sender and month, receiver and day, pair and day) was
 * kept forever, though it is read only during its period. `expires_at` is when the period
 * its key ends with (`…:YYYYMMDD`, or `sm:…:YYYYMM`; Korea Standard Time, UTC+9) is over:
 * filled here for the counters stored before, from their keys (a key that names no period,
 * which only a hand-written import could store, is expired), and indexed so that a sweep
 * costs what it removes.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema.alterTable('talk_quota_counters').addColumn('expires_at', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  // The day after a day, the month after a month, as ms at 00:00 KST. Date arithmetic from
  // the first of the month, so that a day that does not exist gives no error.
  const end = postgres
    ? sql`CASE
        WHEN counter_key LIKE 'sm:%' AND right(counter_key, 7) ~ '^:[1-9][0-9]{3}(0[1-9]|1[0-2])$'
          THEN extract(epoch FROM (make_date(substr(right(counter_key, 6), 1, 4)::int, substr(right(counter_key, 6), 5, 2)::int, 1) + interval '1 month')) * 1000 - 32400000
        WHEN counter_key NOT LIKE 'sm:%' AND right(counter_key, 9) ~ '^:[1-9][0-9]{3}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$'
          THEN extract(epoch FROM (make_date(substr(right(counter_key, 8), 1, 4)::int, substr(right(counter_key, 8), 5, 2)::int, 1)
            + substr(right(counter_key, 8), 7, 2)::int)::timestamp) * 1000 - 32400000
        ELSE 0 END`
    : sql`coalesce(CASE
        WHEN counter_key LIKE 'sm:%' AND substr(counter_key, -7) GLOB ':[1-9][0-9][0-9][0-9][0-9][0-9]'
          THEN CAST(strftime('%s', substr(counter_key, -6, 4) || '-' || substr(counter_key, -2) || '-01', '+1 month') AS INTEGER) * 1000 - 32400000
        WHEN counter_key NOT LIKE 'sm:%' AND substr(counter_key, -9) GLOB ':[1-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'
          THEN CAST(strftime('%s', substr(counter_key, -8, 4) || '-' || substr(counter_key, -4, 2) || '-01', '+' || CAST(substr(counter_key, -2) AS INTEGER) || ' days') AS INTEGER) * 1000 - 32400000
        END, 0)`;
  await sql`UPDATE talk_quota_counters SET expires_at = ${end}`.execute(db);
  await db.schema.createIndex('talk_quota_counters_expiry').on('talk_quota_counters').column('expires_at').execute();
}
