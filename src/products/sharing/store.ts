import type { Kysely, Selectable } from 'kysely';
import type { DB } from '../../db/schema.js';
import { sha256 } from '../../core/ids.js';
import type { Json } from '../message/index.js';
import type { SharingImagesTable, SharingRequestsTable, SharingWebhookCallsTable } from './tables.js';
import { newId } from '../../db/ids.js';

/** Repository of Kakao Talk sharing: issued templates, images, pending shares, webhooks. */

// ---------------------------------------------------------------------------------------
// Templates issued by validation (default and scrap)

/** The id of this final template in this app: the same message validated twice keeps its id. */
export async function issueTemplate(db: Kysely<DB>, appId: number, kind: 'default' | 'scrap', template: Json, now: number): Promise<number> {
  const text = JSON.stringify(template);
  const digest = sha256(text);
  const find = () => db.selectFrom('sharing_templates').select('id').where('app_id', '=', appId).where('digest', '=', digest).executeTakeFirst();
  for (;;) {
    const found = await find();
    if (found) return Number(found.id);
    await db
      .insertInto('sharing_templates')
      .values({ id: await newId(db), app_id: appId, kind, digest, template: text, created_at: now })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

export async function findIssuedTemplate(db: Kysely<DB>, appId: number, id: number): Promise<{ kind: string; template: Json } | undefined> {
  const row = await db.selectFrom('sharing_templates').select(['kind', 'template']).where('app_id', '=', appId).where('id', '=', id).executeTakeFirst();
  return row && { kind: row.kind, template: JSON.parse(row.template) };
}

// ---------------------------------------------------------------------------------------
// Images

export type ImageRow = Selectable<SharingImagesTable>;

/** Expired images are removed by the expiry sweep, a day after they expire (store/expiry.ts). */
export async function insertImages(db: Kysely<DB>, rows: ImageRow[]): Promise<void> {
  await db.insertInto('sharing_images').values(rows).execute();
}

/** An image still within its 20 days. */
export async function findImage(db: Kysely<DB>, key: string, now: number): Promise<ImageRow | undefined> {
  const row = await db.selectFrom('sharing_images').selectAll().where('key', '=', key).where('expires_at', '>', now).executeTakeFirst();
  return row && { ...row, bytes: Buffer.from(row.bytes) };
}

export async function deleteImage(db: Kysely<DB>, appId: number, key: string, now: number): Promise<boolean> {
  const res = await db.deleteFrom('sharing_images').where('key', '=', key).where('app_id', '=', appId).where('expires_at', '>', now).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

// ---------------------------------------------------------------------------------------
// Shares waiting in the sharer

export type RequestRow = Selectable<SharingRequestsTable>;

export async function insertRequest(db: Kysely<DB>, shortKey: string, row: Omit<RequestRow, 'key_hash'>): Promise<void> {
  await db.insertInto('sharing_requests').values({ key_hash: sha256(shortKey), ...row }).execute();
}

export async function findRequest(db: Kysely<DB>, shortKey: string, now: number): Promise<RequestRow | undefined> {
  return db.selectFrom('sharing_requests').selectAll().where('key_hash', '=', sha256(shortKey)).where('expires_at', '>', now).executeTakeFirst();
}

/** Binds the picker form to the session it was shown to. */
export async function bindRequest(db: Kysely<DB>, shortKey: string, session: string, formToken: string): Promise<void> {
  await db
    .updateTable('sharing_requests')
    .set({ session_hash: sha256(session), form_token_hash: sha256(formToken) })
    .where('key_hash', '=', sha256(shortKey))
    .execute();
}

/** Marks the share sent; false when it already was (a form sent twice sends once). */
export async function markSent(db: Kysely<DB>, shortKey: string, now: number): Promise<boolean> {
  const res = await db.updateTable('sharing_requests').set({ sent_at: now }).where('key_hash', '=', sha256(shortKey)).where('sent_at', 'is', null).executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** A share whose delivery was refused is no longer sent: it can be sent again. */
export async function unmarkSent(db: Kysely<DB>, shortKey: string): Promise<void> {
  await db.updateTable('sharing_requests').set({ sent_at: null }).where('key_hash', '=', sha256(shortKey)).execute();
}

// ---------------------------------------------------------------------------------------
// Success webhooks

export interface Webhook {
  url: string;
  method: 'GET' | 'POST';
  updatedAt: number;
}

export async function findWebhook(db: Kysely<DB>, appId: number): Promise<Webhook | undefined> {
  const row = await db.selectFrom('sharing_webhooks').selectAll().where('app_id', '=', appId).executeTakeFirst();
  return row && { url: row.url, method: row.method === 'POST' ? 'POST' : 'GET', updatedAt: Number(row.updated_at) };
}

export async function saveWebhook(db: Kysely<DB>, appId: number, url: string, method: 'GET' | 'POST', now: number): Promise<void> {
  await db
    .insertInto('sharing_webhooks')
    .values({ app_id: appId, url, method, updated_at: now })
    .onConflict((oc) => oc.column('app_id').doUpdateSet({ url, method, updated_at: now }))
    .execute();
}

export async function deleteWebhook(db: Kysely<DB>, appId: number): Promise<boolean> {
  const res = await db.deleteFrom('sharing_webhooks').where('app_id', '=', appId).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export type WebhookCallRow = Selectable<SharingWebhookCallsTable>;

export async function insertWebhookCall(db: Kysely<DB>, row: Omit<WebhookCallRow, 'id'>): Promise<void> {
  await db.insertInto('sharing_webhook_calls').values({ id: await newId(db), ...row }).execute();
}

/** Webhook calls, newest first: of an app, or of the shares a person made. */
export async function listWebhookCalls(db: Kysely<DB>, by: { appId?: number; accountId?: number }, limit: number): Promise<WebhookCallRow[]> {
  let q = db.selectFrom('sharing_webhook_calls').selectAll();
  if (by.appId !== undefined) q = q.where('app_id', '=', by.appId);
  if (by.accountId !== undefined) q = q.where('account_id', '=', by.accountId);
  return q.orderBy('called_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

// ---------------------------------------------------------------------------------------
// Who a person can share to

export interface TalkFriend {
  accountId: number;
  nickname: string;
  thumbnailUrl: string | null;
  favorite: boolean;
}

/** Every Kakao Talk friend of the person (not only the app's users): favorites first, then by name. */
export async function talkFriends(db: Kysely<DB>, accountId: number): Promise<TalkFriend[]> {
  const rows = await talkFriendsQuery(db, accountId).orderBy('friendships.favorite', 'desc').orderBy('accounts.nickname').orderBy('accounts.id').execute();
  return rows.map(toTalkFriend);
}

/**
 * Of `friendIds`, those that are Kakao Talk friends of the person (the chats a share was sent
 * to), unordered: each found by the friendships key, however many friends the person has.
 */
export async function talkFriendsAmong(db: Kysely<DB>, accountId: number, friendIds: readonly number[]): Promise<TalkFriend[]> {
  if (friendIds.length === 0) return [];
  const rows = await talkFriendsQuery(db, accountId).where('friendships.friend_account_id', 'in', [...new Set(friendIds)]).execute();
  return rows.map(toTalkFriend);
}

function talkFriendsQuery(db: Kysely<DB>, accountId: number) {
  return db
    .selectFrom('friendships')
    .innerJoin('accounts', 'accounts.id', 'friendships.friend_account_id')
    .select(['accounts.id', 'accounts.nickname', 'accounts.thumbnail_image_url', 'friendships.favorite'])
    .where('friendships.account_id', '=', accountId)
    .where('accounts.talk_user', '=', 1);
}

function toTalkFriend(r: { id: number; nickname: string; thumbnail_image_url: string | null; favorite: number }): TalkFriend {
  return { accountId: Number(r.id), nickname: r.nickname, thumbnailUrl: r.thumbnail_image_url, favorite: Number(r.favorite) === 1 };
}

export async function nicknames(db: Kysely<DB>, ids: number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('accounts').select(['id', 'nickname']).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [Number(r.id), r.nickname]));
}
