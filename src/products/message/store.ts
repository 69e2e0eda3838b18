import { type Kysely, type Selectable, sql } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { TalkTemplatesTable } from '../talk/tables.js';

/** Repository of Talk messaging: custom templates, chats and messages, quotas. */

// ---------------------------------------------------------------------------------------
// Custom templates

export interface CustomTemplate {
  id: number;
  appId: number;
  name: string;
  objectType: string;
  template: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

function toTemplate(row: Selectable<TalkTemplatesTable>): CustomTemplate {
  return {
    id: row.id,
    appId: row.app_id,
    name: row.name,
    objectType: row.object_type,
    template: JSON.parse(row.template),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function findTemplate(db: Kysely<DB>, appId: number, id: number): Promise<CustomTemplate | undefined> {
  const row = await db.selectFrom('talk_templates').selectAll().where('id', '=', id).where('app_id', '=', appId).executeTakeFirst();
  return row && toTemplate(row);
}

export async function listTemplates(db: Kysely<DB>, appId: number): Promise<CustomTemplate[]> {
  const rows = await db.selectFrom('talk_templates').selectAll().where('app_id', '=', appId).orderBy('id').execute();
  return rows.map(toTemplate);
}

export async function templateIdTaken(db: Kysely<DB>, id: number): Promise<boolean> {
  return (await db.selectFrom('talk_templates').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

export async function insertTemplate(db: Kysely<DB>, t: Omit<CustomTemplate, 'createdAt' | 'updatedAt'>, now: number): Promise<CustomTemplate> {
  const row = {
    id: t.id,
    app_id: t.appId,
    name: t.name,
    object_type: t.objectType,
    template: JSON.stringify(t.template),
    created_at: now,
    updated_at: now,
  };
  await db.insertInto('talk_templates').values(row).execute();
  return toTemplate(row);
}

export async function updateTemplate(db: Kysely<DB>, t: CustomTemplate, now: number): Promise<CustomTemplate> {
  await db
    .updateTable('talk_templates')
    .set({ name: t.name, object_type: t.objectType, template: JSON.stringify(t.template), updated_at: now })
    .where('id', '=', t.id)
    .where('app_id', '=', t.appId)
    .execute();
  return { ...t, updatedAt: now };
}

export async function deleteTemplate(db: Kysely<DB>, appId: number, id: number): Promise<boolean> {
  const res = await db.deleteFrom('talk_templates').where('id', '=', id).where('app_id', '=', appId).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

// ---------------------------------------------------------------------------------------
// Chats and messages

export type ChatType = 'memo' | 'direct';

export function memoChatKey(accountId: number): string {
  return `memo:${accountId}`;
}

export function directChatKey(a: number, b: number): string {
  return a < b ? `direct:${a}:${b}` : `direct:${b}:${a}`;
}

let lastMessageId = 0;
/**
 * Message ids grow with time so that messages of the same millisecond keep their order:
 * wall-clock microseconds, bumped past the last id issued by this process.
 */
export function nextMessageId(): number {
  const candidate = Date.now() * 1000;
  lastMessageId = Math.max(candidate, lastMessageId + 1);
  return lastMessageId;
}

export interface NewMessage {
  appId: number;
  senderAccountId: number;
  templateType: string;
  templateId: number | null;
  template: Record<string, unknown>;
}

/** Delivers a message into a chat and moves the chat to the top of each member's list. */
export async function deliver(
  db: Kysely<DB>,
  chat: { key: string; type: ChatType; members: { accountId: number; peerAccountId: number }[] },
  message: NewMessage,
  now: number,
): Promise<number> {
  const id = nextMessageId();
  await db
    .insertInto('talk_messages')
    .values({
      id,
      chat_key: chat.key,
      app_id: message.appId,
      sender_account_id: message.senderAccountId,
      template_type: message.templateType,
      template_id: message.templateId,
      template: JSON.stringify(message.template),
      created_at: now,
    })
    .execute();
  await db
    .insertInto('talk_chat_members')
    .values(
      chat.members.map((m) => ({
        account_id: m.accountId,
        chat_key: chat.key,
        chat_type: chat.type,
        peer_account_id: m.peerAccountId,
        last_message_at: now,
        created_at: now,
      })),
    )
    .onConflict((oc) => oc.columns(['account_id', 'chat_key']).doUpdateSet({ last_message_at: now }))
    .execute();
  return id;
}

export interface ChatSummary {
  key: string;
  type: ChatType;
  peerAccountId: number;
  lastMessageAt: number;
  createdAt: number;
}

export async function listChats(db: Kysely<DB>, accountId: number, offset: number, limit: number): Promise<{ total: number; chats: ChatSummary[] }> {
  const [rows, count] = await Promise.all([
    db
      .selectFrom('talk_chat_members')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('last_message_at', 'desc')
      .orderBy('chat_key', 'desc')
      .limit(limit)
      .offset(offset)
      .execute(),
    db.selectFrom('talk_chat_members').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow(),
  ]);
  return {
    total: Number(count.n),
    chats: rows.map((r) => ({
      key: r.chat_key,
      type: r.chat_type as ChatType,
      peerAccountId: r.peer_account_id,
      lastMessageAt: r.last_message_at,
      createdAt: r.created_at,
    })),
  };
}

export interface StoredMessage {
  id: number;
  chatKey: string;
  appId: number;
  senderAccountId: number;
  templateType: string;
  templateId: number | null;
  template: Record<string, unknown>;
  createdAt: number;
}

export async function listMessages(db: Kysely<DB>, chatKeys: string[], offset: number, limit: number): Promise<{ total: number; messages: StoredMessage[] }> {
  if (chatKeys.length === 0) return { total: 0, messages: [] };
  const [rows, count] = await Promise.all([
    db
      .selectFrom('talk_messages')
      .selectAll()
      .where('chat_key', 'in', chatKeys)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .offset(offset)
      .execute(),
    db.selectFrom('talk_messages').select((eb) => eb.fn.countAll<number>().as('n')).where('chat_key', 'in', chatKeys).executeTakeFirstOrThrow(),
  ]);
  return {
    total: Number(count.n),
    messages: rows.map((r) => ({
      id: r.id,
      chatKey: r.chat_key,
      appId: r.app_id,
      senderAccountId: r.sender_account_id,
      templateType: r.template_type,
      templateId: r.template_id,
      template: JSON.parse(r.template),
      createdAt: r.created_at,
    })),
  };
}

export async function chatKeysOf(db: Kysely<DB>, accountId: number): Promise<string[]> {
  const rows = await db.selectFrom('talk_chat_members').select('chat_key').where('account_id', '=', accountId).execute();
  return rows.map((r) => r.chat_key);
}

// ---------------------------------------------------------------------------------------
// Quotas

export interface QuotaLimits {
  senderDaily: number | null;
  senderMonthly: number | null;
  receiverDaily: number | null;
  pairDaily: number | null;
}

/** Kakao's daily quotas for messages to friends; no monthly limit unless an app sets one. */
export const DEFAULT_QUOTAS: QuotaLimits = { senderDaily: 100, senderMonthly: null, receiverDaily: 100, pairDaily: 20 };

/** The app's settings: null fields fall back to the defaults. */
export async function quotaSettings(db: Kysely<DB>, appId: number): Promise<QuotaLimits> {
  const row = await db.selectFrom('talk_message_quotas').selectAll().where('app_id', '=', appId).executeTakeFirst();
  return {
    senderDaily: row?.sender_daily ?? null,
    senderMonthly: row?.sender_monthly ?? null,
    receiverDaily: row?.receiver_daily ?? null,
    pairDaily: row?.pair_daily ?? null,
  };
}

export async function saveQuotaSettings(db: Kysely<DB>, appId: number, q: QuotaLimits): Promise<void> {
  const row = { app_id: appId, sender_daily: q.senderDaily, sender_monthly: q.senderMonthly, receiver_daily: q.receiverDaily, pair_daily: q.pairDaily };
  await db
    .insertInto('talk_message_quotas')
    .values(row)
    .onConflict((oc) =>
      oc.column('app_id').doUpdateSet({
        sender_daily: row.sender_daily,
        sender_monthly: row.sender_monthly,
        receiver_daily: row.receiver_daily,
        pair_daily: row.pair_daily,
      }),
    )
    .execute();
}

export async function readCounters(db: Kysely<DB>, appId: number, keys: string[]): Promise<Map<string, number>> {
  const rows = await db.selectFrom('talk_quota_counters').select(['counter_key', 'count']).where('app_id', '=', appId).where('counter_key', 'in', keys).execute();
  return new Map(rows.map((r) => [r.counter_key, r.count]));
}

export async function addToCounters(db: Kysely<DB>, appId: number, increments: Map<string, number>): Promise<void> {
  if (increments.size === 0) return;
  await db
    .insertInto('talk_quota_counters')
    .values([...increments].map(([counter_key, count]) => ({ app_id: appId, counter_key, count })))
    .onConflict((oc) => oc.columns(['app_id', 'counter_key']).doUpdateSet({ count: sql`talk_quota_counters.count + excluded.count` }))
    .execute();
}
