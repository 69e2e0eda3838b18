import { type Kysely } from 'kysely';
import { counterPeriodEnd } from './quota-periods.js';

/** Counters read and stamped per batch, in primary-key order. */
const BATCH = 1000;

/**
 * 078: Talk quota counters stored before 065 are stamped again by the rule an import uses
 * (`counterPeriodEnd`, the state format's: when the period a key ends with is over, in Korea
 * Standard Time; a key that names no period: 0, expired). 065 computed it in SQL of its own per
 * store, which gave an expiry to keys the rule rejects (30 February, an `x:` prefix, a person
 * who is no number), so the same counter expired differently migrated and imported. Read and
 * written in batches in primary-key order.
 */
export async function up(db: Kysely<any>): Promise<void> {
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
      const end = counterPeriodEnd(r.counter_key) ?? 0;
      const group = `${r.app_id} ${end}`;
      keysByEnd.set(group, [...(keysByEnd.get(group) ?? []), r.counter_key]);
    }
    for (const [group, keys] of keysByEnd) {
      const [appId, end] = group.split(' ').map(Number);
      await db.updateTable('talk_quota_counters').set({ expires_at: end }).where('app_id', '=', appId).where('counter_key', 'in', keys).execute();
    }
    after = rows.at(-1);
  }
}
