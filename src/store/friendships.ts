import type { Kysely } from 'kysely';
import { byCodePoint } from '../db/dialect.js';
import type { DB } from '../db/schema.js';

/** Friendships are mutual: one row in each direction, each with its own favorite flag. */
export async function addFriendship(db: Kysely<DB>, a: number, b: number, now: number, favorite = { ab: false, ba: false }): Promise<void> {
  const rows = [
    { account_id: a, friend_account_id: b, favorite: (favorite.ab ? 1 : 0) as 0 | 1, created_at: now },
    { account_id: b, friend_account_id: a, favorite: (favorite.ba ? 1 : 0) as 0 | 1, created_at: now },
  ];
  for (const row of rows) {
    await db
      .insertInto('friendships')
      .values(row)
      .onConflict((oc) => oc.columns(['account_id', 'friend_account_id']).doUpdateSet({ favorite: row.favorite }))
      .execute();
  }
}

/** Removes both directions; whether there was a friendship to remove. */
export async function removeFriendship(db: Kysely<DB>, a: number, b: number): Promise<boolean> {
  const res = await db
    .deleteFrom('friendships')
    .where((eb) =>
      eb.or([
        eb.and([eb('account_id', '=', a), eb('friend_account_id', '=', b)]),
        eb.and([eb('account_id', '=', b), eb('friend_account_id', '=', a)]),
      ]),
    )
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** Whether `accountId` has `friendId` as a Kakao friend. */
export async function areFriends(db: Kysely<DB>, accountId: number, friendId: number): Promise<boolean> {
  const row = await db
    .selectFrom('friendships')
    .select('favorite')
    .where('account_id', '=', accountId)
    .where('friend_account_id', '=', friendId)
    .executeTakeFirst();
  return row !== undefined;
}

export interface Friend {
  accountId: number;
  nickname: string;
  favorite: boolean;
}

/** A person's friends by nickname, code point by code point, equal ones by id (control plane, console). */
export async function listFriends(db: Kysely<DB>, accountId: number): Promise<Friend[]> {
  const rows = await db
    .selectFrom('friendships')
    .innerJoin('accounts', 'accounts.id', 'friendships.friend_account_id')
    .select(['accounts.id', 'accounts.nickname', 'friendships.favorite'])
    .where('friendships.account_id', '=', accountId)
    .orderBy(byCodePoint(db, 'accounts.nickname'))
    .orderBy('accounts.id')
    .execute();
  return rows.map((r) => ({ accountId: r.id, nickname: r.nickname, favorite: r.favorite === 1 }));
}
