import type { Kysely } from 'kysely';

/** Where a row stands in a list ordered by time then id: a page starts after it. */
export interface Position {
  createdAt: number;
  id: number;
}

/** The time and id of row `id` of `table` (one with `id` and `created_at`); undefined when it is gone. */
export async function positionOf(db: Kysely<any>, table: string, id: number): Promise<Position | undefined> {
  const row = await db.selectFrom(table).select(['id', 'created_at']).where('id', '=', id).executeTakeFirst();
  return row && { createdAt: Number(row.created_at), id: Number(row.id) };
}
