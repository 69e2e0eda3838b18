import type { Kysely, Selectable } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { PushDeliveriesTable, PushTokensTable } from './tables.js';

/** Storage of push settings, registered tokens and device inboxes. Knows no HTTP. */

export type TokenRow = Selectable<PushTokensTable>;
export type DeliveryRow = Selectable<PushDeliveriesTable>;

/** Kakao's sample answers -1: tokens live until deregistered unless the app sets a lifetime. */
export const DEFAULT_TOKEN_TTL_DAYS = -1;

export async function tokenTtlDays(db: Kysely<DB>, appId: number): Promise<number> {
  const row = await db.selectFrom('push_settings').select('token_ttl_days').where('app_id', '=', appId).executeTakeFirst();
  return row?.token_ttl_days ?? DEFAULT_TOKEN_TTL_DAYS;
}

export async function setTokenTtlDays(db: Kysely<DB>, appId: number, days: number): Promise<void> {
  await db
    .insertInto('push_settings')
    .values({ app_id: appId, token_ttl_days: days })
    .onConflict((oc) => oc.column('app_id').doUpdateSet({ token_ttl_days: days }))
    .execute();
}

/** Registers (or re-registers, renewing its lifetime) a device's token. */
export async function upsertToken(db: Kysely<DB>, row: TokenRow): Promise<void> {
  await db
    .insertInto('push_tokens')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['app_id', 'uuid', 'device_id']).doUpdateSet({ push_type: row.push_type, push_token: row.push_token, updated_at: row.updated_at, expires_at: row.expires_at }),
    )
    .execute();
}

/** Removes a token; the number of live ones removed (an expired token is gone already: 0). */
export async function deleteToken(db: Kysely<DB>, appId: number, uuid: string, deviceId: string, pushType: string, now: number): Promise<number> {
  const removed = await db
    .deleteFrom('push_tokens')
    .where('app_id', '=', appId)
    .where('uuid', '=', uuid)
    .where('device_id', '=', deviceId)
    .where('push_type', '=', pushType as TokenRow['push_type'])
    .returning('expires_at')
    .execute();
  return removed.filter((r) => r.expires_at === null || Number(r.expires_at) > now).length;
}

/** The live tokens of these users (expired ones are gone for the API), oldest registration first. */
export async function liveTokens(db: Kysely<DB>, appId: number, uuids: readonly string[], now: number): Promise<TokenRow[]> {
  if (uuids.length === 0) return [];
  return db
    .selectFrom('push_tokens')
    .selectAll()
    .where('app_id', '=', appId)
    .where('uuid', 'in', uuids)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy('created_at')
    .orderBy('device_id')
    .execute();
}

/** Where a device stands in the list of an app's tokens; undefined when it is not registered. */
export interface TokenPosition {
  uuid: string;
  createdAt: number;
  deviceId: string;
}

export async function tokenPosition(db: Kysely<DB>, appId: number, uuid: string, deviceId: string): Promise<TokenPosition | undefined> {
  const row = await db
    .selectFrom('push_tokens')
    .select('created_at')
    .where('app_id', '=', appId)
    .where('uuid', '=', uuid)
    .where('device_id', '=', deviceId)
    .executeTakeFirst();
  return row && { uuid, createdAt: Number(row.created_at), deviceId };
}

/**
 * A page of an app's tokens, expired ones included, by uuid, then registration,
 * then device id, from the one after `after`: one range of push_tokens_listed.
 */
export async function tokensPage(db: Kysely<DB>, appId: number, after: TokenPosition | undefined, limit: number): Promise<TokenRow[]> {
  let q = db.selectFrom('push_tokens').selectAll().where('app_id', '=', appId);
  if (after) q = q.where((eb) => eb(eb.refTuple('uuid', 'created_at', 'device_id'), '>', eb.tuple(after.uuid, after.createdAt, after.deviceId)));
  return q.orderBy('uuid').orderBy('created_at').orderBy('device_id').limit(limit).execute();
}

/** Where a device stands in the list of every app's tokens (the console's): its app, then its place in the app's list. */
export interface DevicePosition {
  appId: number;
  uuid: string;
  createdAt: number;
  deviceId: string;
}

/**
 * A page of every app's tokens, expired ones included: by app, then as tokensPage orders an
 * app's, from the one after `after`: one range of push_tokens_listed, whatever the apps hold.
 */
export async function devicesPage(db: Kysely<DB>, after: DevicePosition | undefined, limit: number): Promise<TokenRow[]> {
  let q = db.selectFrom('push_tokens').selectAll();
  if (after) q = q.where((eb) => eb(eb.refTuple('app_id', 'uuid', 'created_at', 'device_id'), '>', eb.tuple(after.appId, after.uuid, after.createdAt, after.deviceId)));
  return q.orderBy('app_id').orderBy('uuid').orderBy('created_at').orderBy('device_id').limit(limit).execute();
}

export async function insertDeliveries(db: Kysely<DB>, rows: readonly DeliveryRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.transaction().execute(async (tx) => {
    for (let i = 0; i < rows.length; i += 100) await tx.insertInto('push_deliveries').values(rows.slice(i, i + 100)).execute();
  });
}

export async function deliveries(db: Kysely<DB>, appId: number, filter: { uuid?: string; deviceId?: string }, limit: number): Promise<DeliveryRow[]> {
  let q = db.selectFrom('push_deliveries').selectAll().where('app_id', '=', appId);
  if (filter.uuid !== undefined) q = q.where('uuid', '=', filter.uuid);
  if (filter.deviceId !== undefined) q = q.where('device_id', '=', filter.deviceId);
  return q.orderBy('sent_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}
