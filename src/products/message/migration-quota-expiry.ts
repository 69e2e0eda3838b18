import { type Kysely } from 'kysely';
import { counterPeriodEnd } from './quota-periods.js';

/** Counters read and stamped per batch, in primary-key order. */
const BATCH = 1000;

/**
 * 065: Talk quota counters of periods past are removed by the expiry sweep (store/expiry.ts):
 * a counter (one per sender and day, sender and month, receiver and day, pair and day) was
 * kept forever, though it is read only during its period. `expires_at` is when the period
 * its key ends with (`…:YYYYMMDD`, or `sm:…:YYYYMM`; Korea Standard Time, UTC+9) is over:
 * filled here for the counters stored before, from their keys by the same rule an import
 * uses (`counterPeriodEnd`; a key that names no period, which only a hand-written import
 * could store, stays 0: expired), and indexed so that a sweep costs what it removes.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('talk_quota_counters').addColumn('expires_at', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  let after: { app_id: number; counter_key: string } | undefined;
  for (;;) {
    const rows: { app_id: number; counter_key: string }[] = await db
      .selectFrom('talk_quota_counters')
      .select(['app_id', 'counter_key'])
      .$if(after !== undefined, (q) => q.where((eb) => eb(eb.refTuple('app_id', 'counter_key'), '>', eb.tuple(after!.app_id, after!.counter_key))))
      .orderBy('app_id')
      .orderBy('counter_key')
      .limit(BATCH)
      .execute();
    if (rows.length === 0) break;
    // One statement per app and period end in the batch (a batch holds few of either).
    const keysByEnd = new Map<string, string[]>();
    for (const r of rows) {
      const end = counterPeriodEnd(r.counter_key);
      if (end === undefined) continue;
      const group = `${r.app_id} ${end}`;
      keysByEnd.set(group, [...(keysByEnd.get(group) ?? []), r.counter_key]);
    }
    for (const [group, keys] of keysByEnd) {
      const [appId, end] = group.split(' ').map(Number);
      await db.updateTable('talk_quota_counters').set({ expires_at: end }).where('app_id', '=', appId).where('counter_key', 'in', keys).execute();
    }
    after = rows.at(-1);
  }
  await db.schema.createIndex('talk_quota_counters_expiry').on('talk_quota_counters').column('expires_at').execute();
}
