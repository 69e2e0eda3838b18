import type { Kysely, Selectable } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Store } from '../../db/index.js';
import { registryKey } from '../../db/registry.js';
import type { TalkAppFriendsTable, TalkMultiProfilesTable } from './tables.js';
import { hasScope } from '../../core/scopes.js';
import { type FriendLanguage, sortKey } from './collation.js';
import { newId } from '../../db/ids.js';
import { referenceGone } from '../../db/dialect.js';
import { findAccountById } from '../../store/accounts.js';
import { findAppById } from '../../store/apps.js';

/** Repository of Kakao Talk state: settings, multi-profiles and the friends lists apps see. */

export interface TalkSettings {
  messagesBlocked: boolean;
  countryIso: string | null;
}

export async function getTalkSettings(db: Kysely<DB>, accountId: number): Promise<TalkSettings> {
  const row = await db.selectFrom('talk_settings').selectAll().where('account_id', '=', accountId).executeTakeFirst();
  return { messagesBlocked: row?.messages_blocked === 1, countryIso: row?.country_iso ?? null };
}

export async function saveTalkSettings(db: Kysely<DB>, accountId: number, settings: TalkSettings): Promise<void> {
  const row = { account_id: accountId, messages_blocked: (settings.messagesBlocked ? 1 : 0) as 0 | 1, country_iso: settings.countryIso };
  await db
    .insertInto('talk_settings')
    .values(row)
    .onConflict((oc) => oc.column('account_id').doUpdateSet({ messages_blocked: row.messages_blocked, country_iso: row.country_iso }))
    .execute();
}

/** A Talk profile as someone sees it: the default one or a multi-profile. */
export interface TalkProfile {
  nickname: string;
  profileImageUrl: string | null;
  thumbnailImageUrl: string | null;
}

export interface MultiProfile extends TalkProfile {
  id: number;
  accountId: number;
  shownTo: number[];
  createdAt: number;
}

function toMultiProfile(row: Selectable<TalkMultiProfilesTable>, shownTo: number[]): MultiProfile {
  return {
    id: row.id,
    accountId: row.account_id,
    nickname: row.nickname,
    profileImageUrl: row.profile_image_url,
    thumbnailImageUrl: row.thumbnail_image_url,
    shownTo,
    createdAt: row.created_at,
  };
}

export async function listMultiProfiles(db: Kysely<DB>, accountId: number): Promise<MultiProfile[]> {
  const rows = await db.selectFrom('talk_multi_profiles').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute();
  const viewers = await db.selectFrom('talk_profile_viewers').selectAll().where('account_id', '=', accountId).execute();
  return rows.map((r) => toMultiProfile(r, viewers.filter((v) => v.profile_id === r.id).map((v) => v.viewer_account_id)));
}

export async function findMultiProfile(db: Kysely<DB>, accountId: number, id: number): Promise<MultiProfile | undefined> {
  return (await listMultiProfiles(db, accountId)).find((p) => p.id === id);
}

export interface MultiProfileInput {
  nickname?: string;
  profileImageUrl?: string | null;
  thumbnailImageUrl?: string | null;
  /** Friends who see this profile instead of the default one (replaces the list). */
  shownTo?: number[];
}

export async function saveMultiProfile(db: Kysely<DB>, accountId: number, id: number | undefined, input: MultiProfileInput, now: number): Promise<number> {
  return db.transaction().execute(async (tx) => {
    let profileId = id;
    if (profileId === undefined) {
      profileId = await newId(tx);
      await tx
        .insertInto('talk_multi_profiles')
        .values({
          id: profileId,
          account_id: accountId,
          nickname: input.nickname ?? '',
          profile_image_url: input.profileImageUrl ?? null,
          thumbnail_image_url: input.thumbnailImageUrl ?? null,
          created_at: now,
        })
        .execute();
    } else {
      const set: Record<string, unknown> = {};
      if (input.nickname !== undefined) set.nickname = input.nickname;
      if (input.profileImageUrl !== undefined) set.profile_image_url = input.profileImageUrl;
      if (input.thumbnailImageUrl !== undefined) set.thumbnail_image_url = input.thumbnailImageUrl;
      if (Object.keys(set).length > 0) await tx.updateTable('talk_multi_profiles').set(set).where('id', '=', profileId).execute();
    }
    if (input.shownTo) {
      await tx.deleteFrom('talk_profile_viewers').where('profile_id', '=', profileId).execute();
      for (const viewer of new Set(input.shownTo)) {
        // A friend sees one profile of a person: the latest assignment wins (one statement,
        // so two assignments made at once do not both insert the row).
        await tx
          .insertInto('talk_profile_viewers')
          .values({ account_id: accountId, viewer_account_id: viewer, profile_id: profileId })
          .onConflict((oc) => oc.columns(['account_id', 'viewer_account_id']).doUpdateSet({ profile_id: profileId }))
          .execute();
      }
    }
    return profileId;
  });
}

export async function deleteMultiProfile(db: Kysely<DB>, accountId: number, id: number): Promise<boolean> {
  const res = await db.deleteFrom('talk_multi_profiles').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/**
 * The profiles `owners` show to `viewer`: the multi-profile assigned to the viewer when
 * the two are friends, otherwise the default profile of the account.
 */
export async function profilesSeenBy(db: Kysely<DB>, owners: number[], viewer: number | undefined): Promise<Map<number, TalkProfile & { talkUser: boolean }>> {
  const out = new Map<number, TalkProfile & { talkUser: boolean }>();
  if (owners.length === 0) return out;
  const accounts = await db
    .selectFrom('accounts')
    .select(['id', 'nickname', 'profile_image_url', 'thumbnail_image_url', 'talk_user'])
    .where('id', 'in', owners)
    .execute();
  for (const a of accounts) {
    out.set(a.id, { nickname: a.nickname, profileImageUrl: a.profile_image_url, thumbnailImageUrl: a.thumbnail_image_url, talkUser: a.talk_user === 1 });
  }
  if (viewer === undefined) return out;
  const multi = await db
    .selectFrom('talk_profile_viewers as v')
    .innerJoin('talk_multi_profiles as m', 'm.id', 'v.profile_id')
    .innerJoin('friendships as f', (j) => j.onRef('f.account_id', '=', 'v.viewer_account_id').onRef('f.friend_account_id', '=', 'v.account_id'))
    .select(['v.account_id', 'm.nickname', 'm.profile_image_url', 'm.thumbnail_image_url'])
    .where('v.viewer_account_id', '=', viewer)
    .where('v.account_id', 'in', owners)
    .execute();
  for (const m of multi) {
    const base = out.get(m.account_id);
    if (base) out.set(m.account_id, { ...base, nickname: m.nickname, profileImageUrl: m.profile_image_url, thumbnailImageUrl: m.thumbnail_image_url });
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Friends lists

export interface FriendListCounts {
  totalCount: number;
  favoriteCount: number;
}

/**
 * The counts of the friends list `app` sees for `accountId`, building the materialized list
 * first when it is missing or its inputs changed. Steady state: one indexed lookup.
 */
export async function friendListCounts(owner: Store, appId: number, accountId: number): Promise<FriendListCounts> {
  const { db } = owner;
  const state = await db
    .selectNoFrom((eb) => [
      eb.selectFrom('talk_stale_viewers').select('gen').where('account_id', '=', accountId).as('stale_gen'),
      eb.selectFrom('talk_friend_lists').select('total_count').where('account_id', '=', accountId).where('app_id', '=', appId).as('total_count'),
      eb.selectFrom('talk_friend_lists').select('favorite_count').where('account_id', '=', accountId).where('app_id', '=', appId).as('favorite_count'),
    ])
    .executeTakeFirstOrThrow();
  if (state.stale_gen === null && state.total_count !== null && state.favorite_count !== null) {
    return { totalCount: Number(state.total_count), favoriteCount: Number(state.favorite_count) };
  }
  // One build per list at a time: concurrent requests for a stale list share it.
  const inFlight = owner.registry.get(BUILDS);
  const key = `${appId}:${accountId}`;
  let build = inFlight.get(key);
  if (!build) {
    build = (async () => {
      if (state.stale_gen !== null) await discardLists(db, accountId, Number(state.stale_gen));
      return builtAsAfterDeletes(db, appId, accountId);
    })().finally(() => inFlight.delete(key));
    inFlight.set(key, build);
  }
  return build;
}

/**
 * A friend deleted between the build's read and its write has the list's insert refused by its
 * foreign key: the list is built again, as it is after the delete. The list's own person or
 * app gone is left to the call (its credential now names no one: -401). Every one of
 * BUILD_ATTEMPTS builds meeting a delete: `ListRaced`, for the call to answer in its shape.
 */
async function builtAsAfterDeletes(db: Kysely<DB>, appId: number, accountId: number): Promise<FriendListCounts> {
  for (let n = 1; ; n++) {
    try {
      return await buildFriendList(db, appId, accountId);
    } catch (err) {
      if (!referenceGone(err) || !(await findAccountById(db, accountId)) || !(await findAppById(db, appId))) throw err;
      if (n >= BUILD_ATTEMPTS) throw new ListRaced('friends were deleted during every build of the list', { cause: err });
    }
  }
}

/** Builds of one friends list made at most, each after a friend deleted during the last (as sends make, message/delivery.ts). */
export const BUILD_ATTEMPTS = 3;

/** Every build of a friends list met a friend deleted while it was under way: nothing was stored. */
export class ListRaced extends Error {}

/** Friends lists being built, per store (app:account → the build). */
const BUILDS = registryKey('talk friends list builds', () => new Map<string, Promise<FriendListCounts>>(), { durable: true });

/** Drops every app's list of a person whose inputs changed; they are rebuilt on demand. */
async function discardLists(db: Kysely<DB>, accountId: number, gen: number): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx.deleteFrom('talk_friend_lists').where('account_id', '=', accountId).execute();
    await tx.deleteFrom('talk_app_friends').where('account_id', '=', accountId).execute();
    // A change marked while we were discarding keeps its mark (the generation moved on).
    await tx.deleteFrom('talk_stale_viewers').where('account_id', '=', accountId).where('gen', '=', gen).execute();
  });
}

/** Friends who are linked to the app and agreed to `friends`, as on the real platform. */
async function buildFriendList(db: Kysely<DB>, appId: number, accountId: number): Promise<FriendListCounts> {
  const rows = await db
    .selectFrom('friendships as f')
    .innerJoin('accounts as a', 'a.id', 'f.friend_account_id')
    .innerJoin('app_users as u', (j) => j.onRef('u.account_id', '=', 'f.friend_account_id').on('u.app_id', '=', appId))
    .leftJoin('talk_profile_viewers as v', (j) => j.onRef('v.account_id', '=', 'f.friend_account_id').on('v.viewer_account_id', '=', accountId))
    .leftJoin('talk_multi_profiles as m', 'm.id', 'v.profile_id')
    .select([
      'f.friend_account_id',
      'f.favorite',
      'a.nickname',
      'a.thumbnail_image_url',
      'a.talk_user',
      'u.user_id',
      'u.uuid',
      'u.scopes',
      'm.id as multi_id',
      'm.nickname as multi_nickname',
      'm.thumbnail_image_url as multi_thumbnail',
    ])
    .where('f.account_id', '=', accountId)
    .execute();
  const friends: Selectable<TalkAppFriendsTable>[] = [];
  for (const r of rows) {
    if (r.talk_user !== 1 || !hasScope(JSON.parse(r.scopes), 'friends')) continue;
    const nickname = r.multi_id !== null ? (r.multi_nickname ?? '') : r.nickname;
    friends.push({
      app_id: appId,
      account_id: accountId,
      friend_account_id: r.friend_account_id,
      favorite: r.favorite,
      sort_ko: sortKey(nickname, 'ko'),
      sort_en: sortKey(nickname, 'en'),
      pos_ko: 0,
      pos_en: 0,
      fav_pos_ko: 0,
      fav_pos_en: 0,
      user_id: r.user_id,
      uuid: r.uuid,
      nickname,
      thumbnail_image_url: r.multi_id !== null ? r.multi_thumbnail : r.thumbnail_image_url,
    });
  }
  assignPositions(friends, 'sort_ko', 'pos_ko', 'fav_pos_ko');
  assignPositions(friends, 'sort_en', 'pos_en', 'fav_pos_en');
  const counts = { totalCount: friends.length, favoriteCount: friends.filter((f) => f.favorite === 1).length };
  await db.transaction().execute(async (tx) => {
    await tx.deleteFrom('talk_app_friends').where('account_id', '=', accountId).where('app_id', '=', appId).execute();
    for (let i = 0; i < friends.length; i += 500) {
      await tx
        .insertInto('talk_app_friends')
        .values(friends.slice(i, i + 500))
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    const list = { app_id: appId, account_id: accountId, total_count: counts.totalCount, favorite_count: counts.favoriteCount };
    await tx
      .insertInto('talk_friend_lists')
      .values(list)
      .onConflict((oc) => oc.columns(['account_id', 'app_id']).doUpdateSet({ total_count: list.total_count, favorite_count: list.favorite_count }))
      .execute();
  });
  return counts;
}

/**
 * Numbers the list in ascending order of a sort key (ties by friend id), overall and within
 * the favorite / other segments. Sort keys are ASCII, so this order is the stores' bytewise one.
 */
function assignPositions(
  friends: Selectable<TalkAppFriendsTable>[],
  key: 'sort_ko' | 'sort_en',
  pos: 'pos_ko' | 'pos_en',
  favPos: 'fav_pos_ko' | 'fav_pos_en',
): void {
  const ordered = [...friends].sort((a, b) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : a.friend_account_id - b.friend_account_id));
  const segment = [0, 0];
  ordered.forEach((f, i) => {
    f[pos] = i;
    f[favPos] = segment[f.favorite]++;
  });
}

export interface FriendPageQuery {
  appId: number;
  accountId: number;
  offset: number;
  limit: number;
  descending: boolean;
  favoritesFirst: boolean;
  language: FriendLanguage;
}

export type FriendRow = Pick<Selectable<TalkAppFriendsTable>, 'friend_account_id' | 'favorite' | 'user_id' | 'uuid' | 'nickname' | 'thumbnail_image_url'>;

/**
 * One page of a materialized list: a range of positions on an index, whatever the offset.
 * With favorites first, the favorites segment and the others segment are each read in the
 * requested direction.
 */
export async function friendPage(db: Kysely<DB>, q: FriendPageQuery, counts: FriendListCounts): Promise<FriendRow[]> {
  const lang = q.language === 'en' ? 'en' : 'ko';
  // Rows [offset, offset + limit) of a segment of `size` rows in the requested direction.
  const scan = async (favorite: 0 | 1 | undefined, size: number, offset: number, limit: number) => {
    const column = favorite === undefined ? (`pos_${lang}` as const) : (`fav_pos_${lang}` as const);
    const [from, to] = q.descending ? [size - offset - limit, size - offset] : [offset, offset + limit];
    let query = db
      .selectFrom('talk_app_friends')
      .select(['friend_account_id', 'favorite', 'user_id', 'uuid', 'nickname', 'thumbnail_image_url'])
      .where('account_id', '=', q.accountId)
      .where('app_id', '=', q.appId);
    if (favorite !== undefined) query = query.where('favorite', '=', favorite);
    return query
      .where(column, '>=', Math.max(0, from))
      .where(column, '<', to)
      .orderBy(column, q.descending ? 'desc' : 'asc')
      .execute();
  };
  if (q.limit === 0 || q.offset >= counts.totalCount) return [];
  if (!q.favoritesFirst) return scan(undefined, counts.totalCount, q.offset, q.limit);
  const favorites = counts.favoriteCount;
  const others = counts.totalCount - favorites;
  if (q.offset >= favorites) return scan(0, others, q.offset - favorites, q.limit);
  const first = await scan(1, favorites, q.offset, Math.min(q.limit, favorites - q.offset));
  const rest = q.limit - first.length;
  return rest > 0 ? first.concat(await scan(0, others, 0, rest)) : first;
}

