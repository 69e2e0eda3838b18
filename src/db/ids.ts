import { type Kysely, sql } from 'kysely';
import { isPostgres } from './dialect.js';

/**
 * Numeric ids, issued by the store (migration 052) so that they are unique across every
 * instance sharing it:
 * - `id`: people, app users, stories, profiles, chats, webhook calls… (from 10^10 up);
 * - `app`: app ids (from 10^7 up; Kakao's are 6 to 8 digits).
 * PostgreSQL draws from a sequence (never rolled back, never blocking another instance);
 * SQLite bumps a row in the caller's own transaction (SQLite has one writer at a time, and
 * a rolled-back transaction takes back the ids together with the rows that used them).
 * Pass the executor the rows are written with (`db` or a transaction). Ids stay below
 * 2^53, so JavaScript clients read them exactly: explicit and imported ids move the issued
 * ones past theirs only below ISSUED_BELOW (2^52), so an id up to 2^53-1 (the largest the
 * control plane takes) never leaves the store nothing exact to issue.
 */
export type IdSpace = 'id' | 'app';

const SEQUENCES: Record<IdSpace, string> = { id: 'kapibara_id_seq', app: 'kapibara_app_id_seq' };

/**
 * Ids from here up are never issued after an explicit one (unless explicit ids just under it
 * pushed the issued ids there): the upper half of the exact range is the callers' own.
 */
export const ISSUED_BELOW = 2 ** 52;

/** Whether an explicit or imported id moves the ids issued after it (see ISSUED_BELOW). */
export function movesIssuedIds(id: number): boolean {
  return Number.isSafeInteger(id) && id < ISSUED_BELOW;
}

/** `count` new ids of `space`, increasing. */
export async function newIds(db: Kysely<any>, space: IdSpace, count: number): Promise<number[]> {
  if (count <= 0) return [];
  if (isPostgres(db)) {
    const { rows } = await sql<{ id: string | number }>`SELECT nextval(${SEQUENCES[space]}::regclass) AS id FROM generate_series(1, ${count})`.execute(db);
    return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
  }
  const row = await db
    .updateTable('kapibara_ids')
    .set({ next: sql`next + ${count}` })
    .where('space', '=', space)
    .returning('next')
    .executeTakeFirstOrThrow();
  const first = Number(row.next) - count;
  return Array.from({ length: count }, (_, i) => first + i);
}

export async function newId(db: Kysely<any>, space: IdSpace = 'id'): Promise<number> {
  return (await newIds(db, space, 1))[0];
}

/**
 * After rows with ids of their own were written (an imported state, a seed, an explicit id
 * on the control plane): ids issued from now on are above `max`, so they cannot meet them
 * (for `max` below ISSUED_BELOW; ids above it are left to themselves).
 */
export async function issueIdsAbove(db: Kysely<any>, space: IdSpace, max: number): Promise<void> {
  if (!movesIssuedIds(max)) return;
  if (isPostgres(db)) {
    await sequenceAbove(db, SEQUENCES[space], max);
    return;
  }
  await db
    .updateTable('kapibara_ids')
    .set({ next: sql`max(next, ${max + 1})` })
    .where('space', '=', space)
    .execute();
}

/** Moves a PostgreSQL sequence so that its next value is above `max` (never back). */
export async function sequenceAbove(db: Kysely<any>, sequence: string, max: number): Promise<void> {
  if (!isPostgres(db) || !movesIssuedIds(max)) return;
  // setval(…, v) makes the next nextval v + 1.
  await sql`SELECT setval(${sequence}::regclass, GREATEST(${max}::bigint, (SELECT last_value FROM ${sql.table(sequence)})))`.execute(db);
}

/** Whether `err` is a duplicate of `table`'s primary key (SQLite or PostgreSQL). */
function duplicatePrimaryKey(err: unknown, table: string): boolean {
  const e = err as { message?: string; code?: string; constraint?: string };
  return (e?.code === '23505' && e.constraint === `${table}_pkey`) || new RegExp(`UNIQUE constraint failed: ${table}\\.id$`).test(e?.message ?? '');
}

/**
 * Inserts with an issued id, drawn again when it meets a row that took it first: another
 * instance that wrote an id of its own between this draw and this insert (its
 * issueIdsAbove moves the issued ids past it, so the next draw cannot meet it again).
 */
export async function withIssuedId<T>(db: Kysely<any>, space: IdSpace, table: string, insert: (id: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const id = await newId(db, space);
    try {
      return await insert(id);
    } catch (err) {
      if (attempt >= 5 || !duplicatePrimaryKey(err, table)) throw err;
    }
  }
}
