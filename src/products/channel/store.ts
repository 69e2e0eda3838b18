import { type Kysely, type Selectable, sql } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { ChannelFilesTable, ChannelsTable } from './tables.js';
import { type Position, positionOf } from '../../db/positions.js';

/** Storage of channels, their app links, people's relations, chats and customer files. Knows no HTTP. */

export type ChannelRow = Selectable<ChannelsTable>;
export type FileRow = Selectable<ChannelFilesTable>;
export type Relation = 'ADDED' | 'BLOCKED' | 'NONE';

export interface RelationRow {
  channelId: number;
  accountId: number;
  relation: 'ADDED' | 'BLOCKED';
  createdAt: number;
  updatedAt: number;
}

export async function insertChannel(db: Kysely<DB>, row: ChannelRow): Promise<void> {
  await db.insertInto('channels').values(row).execute();
  await db.insertInto('channel_apps').values({ channel_id: row.id, app_id: row.owner_app_id, linked_at: row.created_at }).execute();
}

/** Changes a channel; false when it is gone (deleted since it was looked up), nothing changed. */
export async function updateChannel(db: Kysely<DB>, id: number, changes: Partial<Omit<ChannelRow, 'id'>>): Promise<boolean> {
  if (!Object.keys(changes).length) return (await db.selectFrom('channels').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  const res = await db.updateTable('channels').set(changes).where('id', '=', id).executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

export async function deleteChannel(db: Kysely<DB>, id: number): Promise<boolean> {
  const res = await db.deleteFrom('channels').where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** PostgreSQL refuses NUL in text: such an id can match nothing. */
const storable = (text: string) => !text.includes('\u0000');

export async function findChannelByPublicId(db: Kysely<DB>, publicId: string): Promise<ChannelRow | undefined> {
  if (!storable(publicId)) return undefined;
  return db.selectFrom('channels').selectAll().where('public_id', '=', publicId).executeTakeFirst();
}

export async function findChannelsByPublicIds(db: Kysely<DB>, publicIds: string[]): Promise<ChannelRow[]> {
  publicIds = publicIds.filter(storable);
  if (publicIds.length === 0) return [];
  return db.selectFrom('channels').selectAll().where('public_id', 'in', publicIds).execute();
}

/** The channels with these ids (those that exist), by primary key. */
export async function findChannelsByIds(db: Kysely<DB>, ids: readonly number[]): Promise<ChannelRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('channels').selectAll().where('id', 'in', [...new Set(ids)]).execute();
}

/** Where a channel stands in the list of channels (its time and id); undefined when it is gone. */
export const channelPosition = (db: Kysely<DB>, id: number): Promise<Position | undefined> => positionOf(db, 'channels', id);

/** A page of channels, oldest first (time, then id) from the one after `after`: one range of channels_created. */
export async function listChannelsPage(db: Kysely<DB>, after: Position | undefined, limit: number): Promise<ChannelRow[]> {
  let q = db.selectFrom('channels').selectAll();
  if (after) q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '>', eb.tuple(after.createdAt, after.id)));
  return q.orderBy('created_at').orderBy('id').limit(limit).execute();
}

/** The channels linked to an app, in the order they were linked. */
export async function channelsOfApp(db: Kysely<DB>, appId: number): Promise<ChannelRow[]> {
  return db
    .selectFrom('channel_apps')
    .innerJoin('channels', 'channels.id', 'channel_apps.channel_id')
    .selectAll('channels')
    .where('channel_apps.app_id', '=', appId)
    .orderBy('channel_apps.linked_at')
    .orderBy('channels.id')
    .execute();
}

export async function linkedAppIds(db: Kysely<DB>, channelId: number): Promise<number[]> {
  const rows = await db.selectFrom('channel_apps').select('app_id').where('channel_id', '=', channelId).orderBy('linked_at').orderBy('app_id').execute();
  return rows.map((r) => r.app_id);
}

export async function isLinked(db: Kysely<DB>, channelId: number, appId: number): Promise<boolean> {
  const row = await db.selectFrom('channel_apps').select('app_id').where('channel_id', '=', channelId).where('app_id', '=', appId).executeTakeFirst();
  return row !== undefined;
}

export async function linkApp(db: Kysely<DB>, channelId: number, appId: number, now: number): Promise<void> {
  await db
    .insertInto('channel_apps')
    .values({ channel_id: channelId, app_id: appId, linked_at: now })
    .onConflict((oc) => oc.columns(['channel_id', 'app_id']).doNothing())
    .execute();
}

export async function unlinkApp(db: Kysely<DB>, channelId: number, appId: number): Promise<boolean> {
  const res = await db.deleteFrom('channel_apps').where('channel_id', '=', channelId).where('app_id', '=', appId).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

function toRelation(row: Selectable<DB['channel_relations']>): RelationRow {
  return { channelId: row.channel_id, accountId: row.account_id, relation: row.relation, createdAt: row.created_at, updatedAt: row.updated_at };
}

/** Relations of several people to several channels (absent pairs are NONE). */
export async function relationsOf(db: Kysely<DB>, channelIds: readonly number[], accountIds: readonly number[]): Promise<RelationRow[]> {
  if (channelIds.length === 0 || accountIds.length === 0) return [];
  const rows = await db
    .selectFrom('channel_relations')
    .selectAll()
    .where('channel_id', 'in', channelIds)
    .where('account_id', 'in', accountIds)
    .execute();
  return rows.map(toRelation);
}

export async function relationOf(db: Kysely<DB>, channelId: number, accountId: number): Promise<RelationRow | undefined> {
  const row = await db.selectFrom('channel_relations').selectAll().where('channel_id', '=', channelId).where('account_id', '=', accountId).executeTakeFirst();
  return row && toRelation(row);
}

/** Sets a person's relation; NONE removes it. An unchanged relation keeps its timestamps. */
export async function setRelation(db: Kysely<DB>, channelId: number, accountId: number, relation: Relation, now: number): Promise<void> {
  if (relation === 'NONE') {
    await db.deleteFrom('channel_relations').where('channel_id', '=', channelId).where('account_id', '=', accountId).execute();
    return;
  }
  await db
    .insertInto('channel_relations')
    .values({ channel_id: channelId, account_id: accountId, relation, created_at: now, updated_at: now })
    .onConflict((oc) =>
      oc
        .columns(['channel_id', 'account_id'])
        .doUpdateSet({ relation, updated_at: now })
        .where('channel_relations.relation', '<>', relation),
    )
    .execute();
}

/**
 * A page of a channel's relations by account id, from the one after `after`: one range of the
 * primary key (a relation's time changes; its person does not, so a page never moves).
 */
export async function relationsOfChannelPage(db: Kysely<DB>, channelId: number, after: number | undefined, limit: number): Promise<RelationRow[]> {
  let q = db.selectFrom('channel_relations').selectAll().where('channel_id', '=', channelId);
  if (after !== undefined) q = q.where('account_id', '>', after);
  return (await q.orderBy('account_id').limit(limit).execute()).map(toRelation);
}

/** Relations counted up to this many of each kind: a count costs at most this many entries of channel_relations_kind (079). */
export const RELATIONS_COUNT_CAP = 1000;

/** How many people added and blocked a channel, each counted up to RELATIONS_COUNT_CAP + 1 (more says only "more"). */
export async function countRelations(db: Kysely<DB>, channelId: number): Promise<{ added: number; blocked: number }> {
  const count = async (relation: 'ADDED' | 'BLOCKED') => {
    const some = db.selectFrom('channel_relations').select(sql<number>`1`.as('one')).where('channel_id', '=', channelId).where('relation', '=', relation).limit(RELATIONS_COUNT_CAP + 1);
    const row = await db.selectFrom(some.as('r')).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  };
  const [added, blocked] = await Promise.all([count('ADDED'), count('BLOCKED')]);
  return { added, blocked };
}

export async function relationsOfAccount(db: Kysely<DB>, accountId: number): Promise<RelationRow[]> {
  const rows = await db.selectFrom('channel_relations').selectAll().where('account_id', '=', accountId).orderBy('updated_at', 'desc').execute();
  return rows.map(toRelation);
}

export interface ChatMessage {
  id: number;
  accountId: number;
  text: string;
  createdAt: number;
}

export async function addChatMessage(db: Kysely<DB>, id: number, channelId: number, accountId: number, text: string, now: number): Promise<void> {
  await db.insertInto('channel_chat_messages').values({ id, channel_id: channelId, account_id: accountId, text, created_at: now }).execute();
}

/** The latest `limit` messages of one person's chat with a channel (or of every chat), oldest first. */
export async function chatMessages(db: Kysely<DB>, channelId: number, accountId: number | undefined, limit: number): Promise<ChatMessage[]> {
  let q = db.selectFrom('channel_chat_messages').selectAll().where('channel_id', '=', channelId);
  if (accountId !== undefined) q = q.where('account_id', '=', accountId);
  const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.reverse().map((r) => ({ id: r.id, accountId: r.account_id, text: r.text, createdAt: r.created_at }));
}

// Customer files

export async function filesOfChannel(db: Kysely<DB>, channelId: number): Promise<FileRow[]> {
  return db.selectFrom('channel_files').selectAll().where('channel_id', '=', channelId).orderBy('created_at').orderBy('id').execute();
}

export async function countFiles(db: Kysely<DB>, channelId: number): Promise<number> {
  const row = await db.selectFrom('channel_files').select((eb) => eb.fn.countAll<string | number>().as('n')).where('channel_id', '=', channelId).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function findFileByName(db: Kysely<DB>, channelId: number, fileName: string): Promise<FileRow | undefined> {
  if (!storable(fileName)) return undefined;
  return db.selectFrom('channel_files').selectAll().where('channel_id', '=', channelId).where('file_name', '=', fileName).executeTakeFirst();
}

export async function findFile(db: Kysely<DB>, fileId: number): Promise<FileRow | undefined> {
  return db.selectFrom('channel_files').selectAll().where('id', '=', fileId).executeTakeFirst();
}

export async function insertFile(db: Kysely<DB>, row: FileRow): Promise<void> {
  await db.insertInto('channel_files').values(row).execute();
}

export async function userCounts(db: Kysely<DB>, fileIds: readonly number[]): Promise<Map<number, number>> {
  if (fileIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('channel_file_users')
    .select(['file_id', (eb) => eb.fn.countAll<string | number>().as('n')])
    .where('file_id', 'in', fileIds)
    .groupBy('file_id')
    .execute();
  return new Map(rows.map((r) => [r.file_id, Number(r.n)]));
}

export interface FileUser {
  userType: 'app' | 'phone';
  userId: string;
  fields: Record<string, string | number>;
  updatedAt: number;
}

/** Adds or replaces customers of a file, in one transaction. */
export async function upsertFileUsers(db: Kysely<DB>, fileId: number, users: readonly FileUser[], now: number): Promise<void> {
  if (users.length === 0) return;
  await db.transaction().execute(async (tx) => {
    for (let i = 0; i < users.length; i += 200) {
      const chunk = users.slice(i, i + 200);
      await tx
        .insertInto('channel_file_users')
        .values(chunk.map((u) => ({ file_id: fileId, user_type: u.userType, user_id: u.userId, fields: JSON.stringify(u.fields), updated_at: u.updatedAt })))
        .onConflict((oc) => oc.columns(['file_id', 'user_type', 'user_id']).doUpdateSet((eb) => ({ fields: eb.ref('excluded.fields'), updated_at: eb.ref('excluded.updated_at') })))
        .execute();
    }
    await tx.updateTable('channel_files').set({ updated_at: now }).where('id', '=', fileId).execute();
  });
}

/** Removes customers of a file; the number removed. */
export async function deleteFileUsers(db: Kysely<DB>, fileId: number, userType: 'app' | 'phone', userIds: readonly string[], now: number): Promise<number> {
  if (userIds.length === 0) return 0;
  return db.transaction().execute(async (tx) => {
    let removed = 0;
    for (let i = 0; i < userIds.length; i += 500) {
      const res = await tx
        .deleteFrom('channel_file_users')
        .where('file_id', '=', fileId)
        .where('user_type', '=', userType)
        .where('user_id', 'in', userIds.slice(i, i + 500))
        .executeTakeFirst();
      removed += Number(res.numDeletedRows);
    }
    if (removed > 0) await tx.updateTable('channel_files').set({ updated_at: now }).where('id', '=', fileId).execute();
    return removed;
  });
}

export async function fileUsers(db: Kysely<DB>, fileId: number, limit: number): Promise<FileUser[]> {
  const rows = await db.selectFrom('channel_file_users').selectAll().where('file_id', '=', fileId).orderBy('updated_at', 'desc').orderBy('user_id').limit(limit).execute();
  return rows.map((r) => ({ userType: r.user_type, userId: r.user_id, fields: JSON.parse(r.fields), updatedAt: r.updated_at }));
}
