import type { Insertable, Kysely, Selectable } from 'kysely';
import { isPostgres } from '../../db/dialect.js';
import type { DB } from '../../db/schema.js';
import type { ShippingAddressesTable } from './tables.js';
import { type Account, toAccount } from '../../store/accounts.js';
import { type Link, toLink } from '../../store/links.js';

/** The User API's own queries: multi-user reads, user-id paging, shipping addresses. */

export interface LinkedPerson {
  link: Link;
  account: Account;
}

/** The app's links (and their accounts) for the given service user ids; unknown ids are left out. */
export async function findLinkedPeople(db: Kysely<DB>, appId: number, userIds: number[]): Promise<LinkedPerson[]> {
  if (userIds.length === 0) return [];
  const rows = await db
    .selectFrom('app_users as l')
    .innerJoin('accounts as c', 'c.id', 'l.account_id')
    .selectAll('c')
    .select([
      'l.app_id as l_app_id',
      'l.account_id as l_account_id',
      'l.user_id as l_user_id',
      'l.uuid as l_uuid',
      'l.connected_at as l_connected_at',
      'l.signed_up_at as l_signed_up_at',
      'l.properties as l_properties',
      'l.scopes as l_scopes',
      'l.terms as l_terms',
    ])
    .where('l.app_id', '=', appId)
    .where('l.user_id', 'in', userIds)
    .execute();
  return rows.map((r) => ({
    account: toAccount(r),
    link: toLink({
      app_id: r.l_app_id,
      account_id: r.l_account_id,
      user_id: r.l_user_id,
      uuid: r.l_uuid,
      connected_at: r.l_connected_at,
      signed_up_at: r.l_signed_up_at,
      properties: r.l_properties,
      scopes: r.l_scopes,
      terms: r.l_terms,
    }),
  }));
}

export interface UserIdPage {
  ids: number[];
  /** More ids follow the last one in this order. */
  hasAfter: boolean;
  /** Ids precede the first one in this order. */
  hasBefore: boolean;
  total: number;
}

/**
 * Keyset paging over the app's user ids (index app_users(app_id, user_id)): `fromId` is
 * exclusive, so the next page starts after the last id of this one.
 */
export async function pageUserIds(
  db: Kysely<DB>,
  appId: number,
  page: { limit: number; order: 'asc' | 'desc'; fromId?: number },
): Promise<UserIdPage> {
  const asc = page.order === 'asc';
  let query = db.selectFrom('app_users').select('user_id').where('app_id', '=', appId);
  if (page.fromId !== undefined) query = query.where('user_id', asc ? '>' : '<', page.fromId);
  const rows = await query
    .orderBy('user_id', asc ? 'asc' : 'desc')
    .limit(page.limit + 1)
    .execute();
  const ids = rows.slice(0, page.limit).map((r) => r.user_id);
  let hasBefore = false;
  if (ids.length > 0) {
    const before = await db
      .selectFrom('app_users')
      .select('user_id')
      .where('app_id', '=', appId)
      .where('user_id', asc ? '<' : '>', ids[0])
      .limit(1)
      .executeTakeFirst();
    hasBefore = before !== undefined;
  }
  const count = await db
    .selectFrom('app_users')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('app_id', '=', appId)
    .executeTakeFirstOrThrow();
  return { ids, hasAfter: rows.length > page.limit, hasBefore, total: Number(count.n) };
}

export type ShippingAddressRow = Selectable<ShippingAddressesTable>;

/**
 * A person's shipping addresses, the default one first and then the most recently updated:
 * the first `size`, or every one without it. Later pages (`after`) hold only non-default
 * addresses, updated before `beforeMs` when set.
 */
export async function listShippingAddresses(
  db: Kysely<DB>,
  accountId: number,
  page: { addressId?: number; after?: { beforeMs?: number }; size?: number },
): Promise<ShippingAddressRow[]> {
  let query = db.selectFrom('shipping_addresses').selectAll().where('account_id', '=', accountId);
  if (page.addressId !== undefined) return query.where('id', '=', page.addressId).execute();
  if (page.after) {
    query = query.where('is_default', '=', 0);
    if (page.after.beforeMs !== undefined) query = query.where('updated_at', '<', page.after.beforeMs);
  }
  return query
    .orderBy('is_default', 'desc')
    .orderBy('updated_at', 'desc')
    .orderBy('id', 'desc')
    .$if(page.size !== undefined, (q) => q.limit(page.size!))
    .execute();
}

/**
 * Adds an address to a person, its time chosen by `updatedAt` from their newest address's
 * (ms, if they have one), under the person's lock: the newest is read and the address stored
 * in one transaction, with the person's row locked on PostgreSQL (which runs requests side
 * by side) and the one connection held on SQLite. Addresses added at the same time then each
 * see the one added before. Undefined when the person is gone.
 */
export async function addShippingAddress(
  db: Kysely<DB>,
  row: Omit<Insertable<ShippingAddressesTable>, 'updated_at'>,
  updatedAt: (newest: number | undefined) => number,
): Promise<ShippingAddressRow | undefined> {
  return db.transaction().execute(async (trx) => {
    const person = await trx
      .selectFrom('accounts')
      .select('id')
      .where('id', '=', row.account_id)
      .$if(isPostgres(trx), (q) => q.forUpdate())
      .executeTakeFirst();
    if (!person) return undefined;
    const newest = await trx
      .selectFrom('shipping_addresses')
      .select('updated_at')
      .where('account_id', '=', row.account_id)
      .orderBy('updated_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    const stored = { ...row, updated_at: updatedAt(newest === undefined ? undefined : Number(newest.updated_at)) };
    await trx.insertInto('shipping_addresses').values(stored).execute();
    return stored as ShippingAddressRow;
  });
}

/** Removes one of a person's addresses; false when they have none of that id. */
export async function deleteShippingAddress(db: Kysely<DB>, accountId: number, addressId: number): Promise<boolean> {
  const result = await db.deleteFrom('shipping_addresses').where('account_id', '=', accountId).where('id', '=', addressId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function findDefaultShippingAddress(db: Kysely<DB>, accountId: number): Promise<ShippingAddressRow | undefined> {
  return db
    .selectFrom('shipping_addresses')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('is_default', '=', 1)
    .orderBy('updated_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function hasNonDefaultShippingAddressInSecond(db: Kysely<DB>, accountId: number, secondStartMs: number): Promise<boolean> {
  const row = await db
    .selectFrom('shipping_addresses')
    .select('id')
    .where('account_id', '=', accountId)
    .where('is_default', '=', 0)
    .where('updated_at', '>=', secondStartMs)
    .where('updated_at', '<', secondStartMs + 1000)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
