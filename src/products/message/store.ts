import { type Kysely, type Selectable, sql } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Store } from '../../db/index.js';
import { LogTable, appendLogKey } from '../../db/log.js';
import { registryKey } from '../../db/registry.js';
import type { TalkMessagesTable, TalkTemplatesTable } from './tables.js';
import { newId, newIds } from '../../db/ids.js';
import { type Position, positionOf } from '../../db/positions.js';

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

/** An app's templates by id, from the one after `after`, at most `limit` (the primary key's order). */
export async function listTemplates(db: Kysely<DB>, appId: number, after: number | undefined, limit: number): Promise<CustomTemplate[]> {
  let q = db.selectFrom('talk_templates').selectAll().where('app_id', '=', appId);
  if (after !== undefined) q = q.where('id', '>', after);
  const rows = await q.orderBy('id').limit(limit).execute();
  return rows.map(toTemplate);
}

/** Whether any app has a template `id` (ids Kapibara issues are unique across apps, as Kakao's). */
export async function templateIdUsed(db: Kysely<DB>, id: number): Promise<boolean> {
  return (await db.selectFrom('talk_templates').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

/** Template ids belong to their app; undefined when the app already has this id. */
export async function insertTemplate(
  db: Kysely<DB>,
  t: Omit<CustomTemplate, 'createdAt' | 'updatedAt'>,
  now: number,
): Promise<CustomTemplate | undefined> {
  const row = {
    id: t.id,
    app_id: t.appId,
    name: t.name,
    object_type: t.objectType,
    template: JSON.stringify(t.template),
    created_at: now,
    updated_at: now,
  };
  const result = await db
    .insertInto('talk_templates')
    .values(row)
    .onConflict((oc) => oc.columns(['app_id', 'id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0 ? toTemplate(row) : undefined;
}

/** The template as updated; undefined when it is no longer there (deleted, or its app). */
export async function updateTemplate(db: Kysely<DB>, t: CustomTemplate, now: number): Promise<CustomTemplate | undefined> {
  const res = await db
    .updateTable('talk_templates')
    .set({ name: t.name, object_type: t.objectType, template: JSON.stringify(t.template), updated_at: now })
    .where('id', '=', t.id)
    .where('app_id', '=', t.appId)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0 ? { ...t, updatedAt: now } : undefined;
}

export async function deleteTemplate(db: Kysely<DB>, appId: number, id: number): Promise<boolean> {
  const res = await db.deleteFrom('talk_templates').where('id', '=', id).where('app_id', '=', appId).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

// ---------------------------------------------------------------------------------------
// Chats and messages

export type ChatType = 'memo' | 'direct' | 'group';

export interface NewMessage {
  appId: number;
  senderAccountId: number;
  templateType: string;
  templateId: number | null;
  template: Record<string, unknown>;
}

/** The chats one send reaches: the sender's memo chat, 1:1 chats with people, group chats. */
export interface Recipients {
  memo?: boolean;
  direct?: readonly number[];
  groups?: readonly GroupChat[];
}

/**
 * Delivers a message: one row per person who sees it (the sender's memo chat; each 1:1 chat,
 * on both sides; each member of a group chat, the chat's id as the peer). The rows are stored
 * together, all or none: a person deleted while the send was under way (a foreign key
 * refuses their row) leaves nothing stored. Resolves once the rows are stored. The copies in
 * a group chat share a key drawn for the message (db/ids.ts, before they are stored): the
 * chat's pages order and name messages by it, as the copies' own ids, taken from the store's
 * sequence by sends under way at once, may interleave.
 */
export async function deliver(store: Store, message: NewMessage, to: Recipients, now: number): Promise<void> {
  const template = JSON.stringify(message.template);
  const groups = to.groups ?? [];
  const keys = groups.length > 0 ? await newIds(store.db, 'id', groups.length) : [];
  const row = (account: number, type: ChatType, peer: number, key: number | null = null): NewMessageRow => ({
    account_id: account,
    chat_type: type,
    peer_account_id: peer,
    app_id: message.appId,
    sender_account_id: message.senderAccountId,
    template_type: message.templateType,
    template_id: message.templateId,
    template,
    created_at: now,
    message_key: key,
  });
  const sender = message.senderAccountId;
  const rows: NewMessageRow[] = [];
  if (to.memo) rows.push(row(sender, 'memo', sender));
  for (const [i, chat] of groups.entries()) for (const account of chat.memberAccountIds) rows.push(row(account, 'group', chat.id, keys[i]));
  for (const r of to.direct ?? []) rows.push(row(sender, 'direct', r), row(r, 'direct', sender));
  await store.registry.get(MESSAGE_LOG).append(rows);
}

type MessageRow = Selectable<TalkMessagesTable>;
/** A message to store: the database gives its id (009), growing in the order of storing. */
type NewMessageRow = Omit<MessageRow, 'id'>;

/** Every column but the id, checked against the table: a column added to it and not here is a compile error. */
const MESSAGE_COLUMNS = Object.keys({
  account_id: true,
  chat_type: true,
  peer_account_id: true,
  app_id: true,
  sender_account_id: true,
  template_type: true,
  template_id: true,
  template: true,
  created_at: true,
  message_key: true,
} satisfies Record<keyof NewMessageRow, true>) as (keyof NewMessageRow)[];

/**
 * Delivered messages: an append-only log, stored by group commit (see AppendLog). Exported
 * for the tests that make a delete land between a send's checks and the insert of its rows.
 */
export const MESSAGE_LOG = appendLogKey<NewMessageRow>('talk_messages', MESSAGE_COLUMNS);
/** Quota counters: a log table too, written only inside `reserveCounters`. */
const COUNTERS = registryKey('talk quota counters writer', (store) => new LogTable(store, 'talk_quota_counters'), { durable: true });

/** Counts of a person's messages stop here: a count costs at most this many index entries. */
export const COUNT_CAP = 1000;

export interface ChatSummary {
  type: ChatType;
  peerAccountId: number;
  lastMessageAt: number;
  /** The id of the chat's latest message: with `lastMessageAt`, the chat's place in the list. */
  lastMessageId: number;
  firstMessageAt: number;
}

/** Where a page of a list ordered newest first starts: after the message with this time and id. */
export type { Position };

/** The time and id of `accountId`'s message `id` (a cursor), if it is theirs. */
export async function messagePosition(db: Kysely<DB>, accountId: number, id: number): Promise<Position | undefined> {
  const row = await db.selectFrom('talk_messages').select(['id', 'created_at']).where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  return row && { createdAt: Number(row.created_at), id: Number(row.id) };
}

/**
 * Where a page of group chat `chatId` starts: after the message `before` names (the `next` of
 * the page before). That is the message's key, found in any member's copy by index, so the
 * pages go on from the next first member's copies when the first member is deleted; for a
 * message stored before keys (080), the id of the first member's copy, each copy its own
 * message. Undefined when it names no message of the chat.
 */
export async function groupMessagePosition(db: Kysely<DB>, chatId: number, firstMemberId: number, before: number): Promise<Position | undefined> {
  const inChat = db.selectFrom('talk_messages').select('created_at').where('peer_account_id', '=', chatId).where('chat_type', '=', 'group');
  const keyed = await inChat.where('message_key', '=', before).limit(1).executeTakeFirst();
  const row = keyed ?? (await inChat.where('id', '=', before).where('account_id', '=', firstMemberId).where('message_key', 'is', null).executeTakeFirst());
  return row && { createdAt: Number(row.created_at), id: before };
}

/** A group chat message's place among the chat's messages after its time: its key, or its own id when stored without one. */
const groupKey = sql<number>`coalesce(message_key, id)`;

/**
 * A group chat's messages as `memberId` holds them, newest first by time and then key (the
 * same order in every member's copies), from after `page.before` (a groupMessagePosition),
 * past `page.offset`, at most `limit`, each with its key (the `next` that names it). One range
 * of talk_messages_chat, the messages that share a time sorted by key as they come.
 */
export async function groupChatMessages(
  db: Kysely<DB>,
  chatId: number,
  memberId: number,
  page: { before?: Position; offset?: number },
  limit: number,
): Promise<(StoredMessage & { key: number })[]> {
  const at = page.before;
  let q = messagesOf(db, memberId, { type: 'group', peer: chatId }).selectAll().select(groupKey.as('message_order'));
  if (at) q = q.where('created_at', '<=', at.createdAt).where((eb) => eb.or([eb('created_at', '<', at.createdAt), eb(groupKey, '<', at.id)]));
  const offset = page.offset ?? 0;
  const rows = await q.orderBy('created_at', 'desc').orderBy(groupKey, 'desc').limit(offset + limit).execute();
  return rows.slice(offset).map((r) => ({ ...storedMessage(r), key: Number(r.message_order) }));
}

/** Whether a (time, id) comes before `at` in a list ordered newest first. */
const isOlder = (createdAt: number, id: number, at: Position) => createdAt < at.createdAt || (createdAt === at.createdAt && id < at.id);

/**
 * Every chat of a person, latest activity first. A chat is a peer and a type: memo and 1:1
 * chats name people, group chats their own ids, and ids given on the control plane can make
 * a person and a group chat share a number. Read by a loose index scan of
 * `talk_messages_chat` (account, peer, type, time): one seek for each next peer, and for
 * each of the three chat types one seek for its latest message and, when there is one, one
 * for its first; so the cost grows with the person's chats, never with their messages.
 */
export async function listChats(db: Kysely<DB>, accountId: number): Promise<ChatSummary[]> {
  const { rows } = await sql<{ peer: number | string; type: ChatType; last_id: number | string; first_at: number | string }>`
    WITH RECURSIVE peers(p) AS (
      SELECT (SELECT min(peer_account_id) FROM talk_messages WHERE account_id = ${accountId})
      UNION ALL
      SELECT (SELECT min(peer_account_id) FROM talk_messages WHERE account_id = ${accountId} AND peer_account_id > peers.p)
      FROM peers WHERE peers.p IS NOT NULL
    ),
    kinds(t) AS (SELECT 'memo' UNION ALL SELECT 'direct' UNION ALL SELECT 'group'),
    chats(p, t, last_id) AS (
      SELECT peers.p, kinds.t,
        (SELECT m.id FROM talk_messages m WHERE m.account_id = ${accountId} AND m.peer_account_id = peers.p AND m.chat_type = kinds.t ORDER BY m.created_at DESC, m.id DESC LIMIT 1)
      FROM peers CROSS JOIN kinds WHERE peers.p IS NOT NULL
    )
    SELECT p AS peer, t AS type, last_id,
      (SELECT m.created_at FROM talk_messages m WHERE m.account_id = ${accountId} AND m.peer_account_id = chats.p AND m.chat_type = chats.t ORDER BY m.created_at LIMIT 1) AS first_at
    FROM chats WHERE last_id IS NOT NULL`.execute(db);
  if (rows.length === 0) return [];
  const latestAt = new Map<number, number>();
  const ids = rows.map((r) => Number(r.last_id));
  // The latest messages' times by primary key, in slices that keep each statement's parameters few.
  for (let i = 0; i < ids.length; i += 500) {
    const found = await db.selectFrom('talk_messages').select(['id', 'created_at']).where('id', 'in', ids.slice(i, i + 500)).execute();
    for (const m of found) latestAt.set(Number(m.id), Number(m.created_at));
  }
  const chats = rows.flatMap((r): ChatSummary[] => {
    const lastAt = latestAt.get(Number(r.last_id));
    if (lastAt === undefined) return []; // deleted since the scan
    return [{ type: r.type, peerAccountId: Number(r.peer), lastMessageAt: lastAt, lastMessageId: Number(r.last_id), firstMessageAt: Number(r.first_at) }];
  });
  return chats.sort((a, b) => b.lastMessageAt - a.lastMessageAt || b.lastMessageId - a.lastMessageId);
}

/** The chats after `before` (a message's position: chats whose latest message is older), then past `offset`, at most `limit`. */
export function pageOfChats(chats: ChatSummary[], before: Position | undefined, offset: number, limit: number): ChatSummary[] {
  const from = before ? chats.filter((c) => isOlder(c.lastMessageAt, c.lastMessageId, before)) : chats;
  return from.slice(offset, offset + limit);
}

export interface StoredMessage {
  id: number;
  chatType: ChatType;
  peerAccountId: number;
  appId: number;
  senderAccountId: number;
  templateType: string;
  templateId: number | null;
  template: Record<string, unknown>;
  createdAt: number;
}

/** One chat of a person: the memo chat, a 1:1 chat (the friend) or a group chat (its id). */
export interface ChatRef {
  type: ChatType;
  peer: number;
}

function messagesOf(db: Kysely<DB>, accountId: number, which: ChatRef | number | undefined) {
  const chat: ChatRef | undefined = typeof which === 'number' ? { type: 'direct', peer: which } : which;
  let q = db.selectFrom('talk_messages').where('account_id', '=', accountId);
  if (chat !== undefined) {
    // One range of the chat index: a person's own number is their memo chat, another's a 1:1 chat.
    const type: ChatType = chat.type === 'group' ? 'group' : chat.peer === accountId ? 'memo' : 'direct';
    q = q.where('peer_account_id', '=', chat.peer).where('chat_type', '=', type);
  }
  return q;
}

/**
 * A person's messages, newest first: of one chat (a bare number: a memo or 1:1 chat's peer),
 * or of all their chats. A page starts after `before` (a message's position: keyset, read
 * from the index where it starts) and then skips `offset`; at most `limit`. Each chat is
 * read by `talk_messages_chat`; all of them by reading each chat's first `offset + limit`
 * from where the page starts and keeping the newest, of the chats that can hold the page
 * (chatsHolding): a page of all chats costs the page times the chats it can come from, plus
 * one index seek per chat to list them, never the person's whole history, and message sends keep one
 * index per row (an index by person and time for this list cost a send on PostgreSQL about
 * 4% of its throughput).
 */
export async function listMessages(
  db: Kysely<DB>,
  accountId: number,
  which: ChatRef | number | undefined,
  page: { before?: Position; offset?: number },
  limit: number,
): Promise<StoredMessage[]> {
  const upTo = (page.offset ?? 0) + limit;
  const chats = which === undefined ? (await chatsHolding(db, accountId, page.before, upTo)).map((c): ChatRef => ({ type: c.type, peer: c.peerAccountId })) : [which];
  const rows = (await Promise.all(chats.map((chat) => newestOf(db, accountId, chat, page.before, upTo)))).flat();
  if (chats.length > 1) rows.sort((a, b) => Number(b.created_at) - Number(a.created_at) || Number(b.id) - Number(a.id));
  return rows.slice(page.offset ?? 0, upTo).map(storedMessage);
}

function storedMessage(r: MessageRow): StoredMessage {
  return {
    id: r.id,
    chatType: r.chat_type as ChatType,
    peerAccountId: r.peer_account_id,
    appId: r.app_id,
    senderAccountId: r.sender_account_id,
    templateType: r.template_type,
    templateId: r.template_id,
    template: JSON.parse(r.template),
    createdAt: r.created_at,
  };
}

/**
 * The chats that can hold a person's newest `upTo` messages before `at` (all when unset).
 * Chats come newest first, and a chat whose latest message is before `at` has a message newer
 * than those of every chat after it: of those, only the first `upTo` can hold the page. A chat
 * that spans `at` may hold any of it; one that begins after `at` holds none of it.
 */
async function chatsHolding(db: Kysely<DB>, accountId: number, at: Position | undefined, upTo: number): Promise<ChatSummary[]> {
  const chats = await listChats(db, accountId);
  if (!at) return chats.slice(0, upTo);
  const spanning = chats.filter((c) => !isOlder(c.lastMessageAt, c.lastMessageId, at) && c.firstMessageAt <= at.createdAt);
  const older = chats.filter((c) => isOlder(c.lastMessageAt, c.lastMessageId, at)).slice(0, upTo);
  return [...spanning, ...older];
}

/** One chat's newest `limit` messages before `at` (all when unset), newest first. */
function newestOf(db: Kysely<DB>, accountId: number, chat: ChatRef | number, at: Position | undefined, limit: number) {
  let q = messagesOf(db, accountId, chat).selectAll();
  if (at) q = q.where('created_at', '<=', at.createdAt).where((eb) => eb.or([eb('created_at', '<', at.createdAt), eb('id', '<', at.id)]));
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

/**
 * How many messages a person has (in one chat, or in all), counted up to `COUNT_CAP` + 1 from
 * the index: a count above the cap says only that there are more than it.
 */
export async function countMessages(db: Kysely<DB>, accountId: number, which: ChatRef | number | undefined): Promise<number> {
  const row = await db
    .selectFrom(messagesOf(db, accountId, which).select(sql<number>`1`.as('one')).limit(COUNT_CAP + 1).as('m'))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

// ---------------------------------------------------------------------------------------
// Group chats

export interface GroupChat {
  id: number;
  title: string;
  memberAccountIds: number[];
  createdAt: number;
}

async function withMembers(db: Kysely<DB>, rows: { id: number; title: string; created_at: number }[]): Promise<GroupChat[]> {
  if (rows.length === 0) return [];
  const members = await db
    .selectFrom('talk_group_chat_members')
    .select(['chat_id', 'account_id', 'position'])
    .where(
      'chat_id',
      'in',
      rows.map((r) => r.id),
    )
    .execute();
  // In the order they were named: sorted here, as the rows of a page's chats are few (no sort in the store).
  members.sort((a, b) => Number(a.chat_id) - Number(b.chat_id) || a.position - b.position);
  const byChat = new Map<number, number[]>();
  for (const m of members) {
    const chatId = Number(m.chat_id);
    byChat.set(chatId, [...(byChat.get(chatId) ?? []), Number(m.account_id)]);
  }
  return rows.map((r) => ({ id: Number(r.id), title: r.title, memberAccountIds: byChat.get(Number(r.id)) ?? [], createdAt: Number(r.created_at) }));
}

/** Group chat ids are issued by the store (db/ids.ts), like every other numeric id. */
export async function createGroupChat(db: Kysely<DB>, title: string, memberAccountIds: number[], now: number): Promise<GroupChat> {
  return db.transaction().execute(async (trx) => {
    const id = await newId(trx);
    await trx.insertInto('talk_group_chats').values({ id, title, created_at: now }).execute();
    await trx
      .insertInto('talk_group_chat_members')
      .values(memberAccountIds.map((account_id, position) => ({ chat_id: id, account_id, position })))
      .execute();
    return { id, title, memberAccountIds, createdAt: now };
  });
}

export async function findGroupChat(db: Kysely<DB>, id: number): Promise<GroupChat | undefined> {
  const row = await db.selectFrom('talk_group_chats').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? (await withMembers(db, [row]))[0] : undefined;
}

/** The group chats with these ids (those that exist), with their members, by primary key. */
export async function findGroupChats(db: Kysely<DB>, ids: readonly number[]): Promise<GroupChat[]> {
  if (ids.length === 0) return [];
  return withMembers(db, await db.selectFrom('talk_group_chats').selectAll().where('id', 'in', [...new Set(ids)]).execute());
}

/**
 * Up to `limit` group chats `accountId` is in that hold no message of theirs, newest id first:
 * their memberships read by index from the newest, each checked by one seek of
 * talk_messages_chat, stopping at `limit`.
 */
export async function quietGroupChats(db: Kysely<DB>, accountId: number, limit: number): Promise<GroupChat[]> {
  const rows = await db
    .selectFrom('talk_group_chat_members as m')
    .innerJoin('talk_group_chats as c', 'c.id', 'm.chat_id')
    .select(['c.id', 'c.title', 'c.created_at'])
    .where('m.account_id', '=', accountId)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('talk_messages as t')
            .select(sql<number>`1`.as('one'))
            .where('t.account_id', '=', accountId)
            .whereRef('t.peer_account_id', '=', 'm.chat_id')
            .where('t.chat_type', '=', 'group'),
        ),
      ),
    )
    .orderBy('m.chat_id', 'desc')
    .limit(limit)
    .execute();
  return withMembers(db, rows);
}

/** Every group chat, or those `accountId` is a member of; newest first. */
export async function listGroupChats(db: Kysely<DB>, accountId?: number): Promise<GroupChat[]> {
  let q = db.selectFrom('talk_group_chats').selectAll('talk_group_chats');
  if (accountId !== undefined) {
    q = q.where('id', 'in', db.selectFrom('talk_group_chat_members').select('chat_id').where('account_id', '=', accountId));
  }
  return withMembers(db, await q.orderBy('created_at', 'desc').orderBy('id', 'desc').execute());
}

/** Where a group chat stands in the newest-first list (its time and id); undefined when it is gone. */
export const groupChatPosition = (db: Kysely<DB>, id: number): Promise<Position | undefined> => positionOf(db, 'talk_group_chats', id);

/**
 * A page of group chats, newest first (time, then id, both descending), from the one after
 * `after`, at most `limit`. Every chat: read from talk_group_chats_created where the page
 * starts. A person's (`accountId`): their memberships by index, sorted; a page costs the
 * chats they are in, never the table.
 */
export async function listGroupChatsPage(db: Kysely<DB>, accountId: number | undefined, after: Position | undefined, limit: number): Promise<GroupChat[]> {
  let q = db.selectFrom('talk_group_chats as c').select(['c.id', 'c.title', 'c.created_at']);
  if (accountId !== undefined) q = q.innerJoin('talk_group_chat_members as m', 'm.chat_id', 'c.id').where('m.account_id', '=', accountId);
  if (after) q = q.where((eb) => eb(eb.refTuple('c.created_at', 'c.id'), '<', eb.tuple(after.createdAt, after.id)));
  return withMembers(db, await q.orderBy('c.created_at', 'desc').orderBy('c.id', 'desc').limit(limit).execute());
}

export async function deleteGroupChat(db: Kysely<DB>, id: number): Promise<boolean> {
  const res = await db.deleteFrom('talk_group_chats').where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
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

/**
 * Counts quota use without races. `counters` maps each key to the end of its period (its
 * expiry). In one transaction the counters are locked (created at 0 when new) and read, `decide` picks the increments, and they are added; what it picked
 * is returned. On PostgreSQL the upsert holds the rows' locks until commit, so concurrent
 * sends, from this process or another instance, wait for each other (keys are locked in
 * sorted order: no deadlocks); on SQLite the transaction has the one connection to itself.
 */
export async function reserveCounters(
  store: Store,
  appId: number,
  counters: ReadonlyMap<string, number>,
  decide: (counts: Map<string, number>) => Map<string, number>,
): Promise<Map<string, number>> {
  const unique = [...counters.keys()].sort();
  const writer = store.registry.get(COUNTERS);
  return store.db.transaction().execute(async (trx) => {
    const { rows } = await writer.write(
      trx,
      trx
        .insertInto('talk_quota_counters')
        .values(unique.map((counter_key) => ({ app_id: appId, counter_key, count: 0, expires_at: counters.get(counter_key)! })))
        .onConflict((oc) => oc.columns(['app_id', 'counter_key']).doUpdateSet({ count: sql`talk_quota_counters.count` }))
        .returning(['counter_key', 'count']),
    );
    const increments = decide(new Map(rows.map((r) => [r.counter_key, Number(r.count)])));
    if (increments.size > 0) {
      await writer.write(
        trx,
        trx
          .insertInto('talk_quota_counters')
          .values([...increments].map(([counter_key, count]) => ({ app_id: appId, counter_key, count, expires_at: counters.get(counter_key)! })))
          .onConflict((oc) => oc.columns(['app_id', 'counter_key']).doUpdateSet({ count: sql`talk_quota_counters.count + excluded.count` })),
      );
    }
    return increments;
  });
}

/**
 * Gives back what `reserveCounters` added for a send whose messages were not stored (a
 * receiver deleted while it was under way): quota is used only by what is stored. Keys are
 * changed in sorted order, as they are reserved.
 */
export async function releaseCounters(store: Store, appId: number, increments: Map<string, number>): Promise<void> {
  if (increments.size === 0) return;
  const counters = store.registry.get(COUNTERS);
  await store.db.transaction().execute(async (trx) => {
    for (const [counterKey, count] of [...increments].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      await counters.write(
        trx,
        trx
          .updateTable('talk_quota_counters')
          .set({ count: sql`count - ${count}` })
          .where('app_id', '=', appId)
          .where('counter_key', '=', counterKey),
      );
    }
  });
}
