import { KakaoApiError, invalidParam, notLinked, notTalkUser } from '../../core/errors.js';
import type { UserCall } from '../../core/auth.js';
import type { Platform } from '../../core/platform.js';
import { hasScope } from '../../core/scopes.js';
import { listParam } from '../../core/params.js';
import { httpsUrl, urlForClient } from '../../core/own-urls.js';
import type { App } from '../../store/apps.js';
import { findLinkByUserId, type Link } from '../../store/links.js';
import type { FriendLanguage } from './collation.js';
import { ListRaced, friendListCounts, friendPage, getTalkSettings, profilesSeenBy, type TalkProfile } from './store.js';

/** Kakao Talk Social operations: inputs in, wire-shaped results out. */

export const NOT_TALK_USER_PROFILE = 'given account is not connected to any talk user.';

/**
 * Talk profile and friend images are https only (seed 003), whatever `secure_resource`
 * says; Kapibara's own images are on the origin the request came in on.
 */
export function talkImageUrl(url: string | null | undefined, origin: string): string | undefined {
  if (!url) return undefined;
  return httpsUrl(url, origin);
}

/**
 * GET /v1/api/talk/profile: the person's own default Talk profile, each field only with
 * its consent (seed 003). `id` accompanies any profile field; `countryISO` (seed 001) when
 * the person has one.
 */
export async function talkProfile(ctx: UserCall, origin: string): Promise<Record<string, unknown>> {
  if (!ctx.account.talkUser) throw notTalkUser(NOT_TALK_USER_PROFILE);
  const scopes = ctx.link.scopes;
  const body: Record<string, unknown> = {};
  if (hasScope(scopes, 'profile_nickname')) body.nickName = ctx.account.nickname;
  if (hasScope(scopes, 'profile_image')) {
    const profile = talkImageUrl(ctx.account.profileImageUrl, origin);
    const thumbnail = talkImageUrl(ctx.account.thumbnailImageUrl, origin);
    if (profile) body.profileImageURL = profile;
    if (thumbnail) body.thumbnailURL = thumbnail;
  }
  return Object.keys(body).length > 0 ? { id: ctx.link.userId, ...body } : body;
}

export async function talkProfileWithCountry(platform: Platform, ctx: UserCall, origin: string): Promise<Record<string, unknown>> {
  const body = await talkProfile(ctx, origin);
  const settings = await getTalkSettings(platform.db, ctx.account.id);
  if (settings.countryIso) body.countryISO = settings.countryIso;
  return body;
}

export interface FriendsInput {
  offset?: number;
  limit?: number;
  order?: string;
  friendOrder?: string;
  /** `secure_resource=true` is carried into the paging URLs (images are https anyway). */
  secure: boolean;
  language: FriendLanguage;
  /** The request's origin, for Kapibara's own images. */
  origin: string;
  /** Absolute URL of this endpoint, for before_url/after_url. */
  baseUrl: string;
}

export const FRIENDS_DEFAULT_LIMIT = 10;
export const FRIENDS_MAX_LIMIT = 100;

/** GET /v1/api/talk/friends (seed 003, wire facts §4.2). */
export async function friendsList(platform: Platform, ctx: UserCall, input: FriendsInput): Promise<Record<string, unknown>> {
  const offset = input.offset ?? 0;
  const limit = input.limit ?? FRIENDS_DEFAULT_LIMIT;
  const order = input.order ?? 'asc';
  const friendOrder = input.friendOrder ?? 'favorite';
  if (offset < 0) throw invalidParam('invalid offset: must be 0 or more.');
  if (limit < 1 || limit > FRIENDS_MAX_LIMIT) throw invalidParam(`invalid limit: must be between 1 and ${FRIENDS_MAX_LIMIT}.`);
  if (order !== 'asc' && order !== 'desc') throw invalidParam('invalid order: must be asc or desc.');
  if (friendOrder !== 'favorite' && friendOrder !== 'nickname') throw invalidParam('invalid friend_order: must be favorite or nickname.');
  if (!ctx.account.talkUser) throw notTalkUser();

  const { db } = platform;
  const counts = await friendListCounts(platform.store, ctx.app.id, ctx.account.id).catch((err) => {
    // Friends deleted during every build (see BUILD_ATTEMPTS): a 400 that says so; the next call builds it.
    if (err instanceof ListRaced) throw new KakaoApiError(-7, 'friends were deleted while the list was being built, each attempt: nothing was listed. Call it again.', 400);
    throw err;
  });
  const rows = await friendPage(
    db,
    {
      appId: ctx.app.id,
      accountId: ctx.account.id,
      offset,
      limit,
      descending: order === 'desc',
      favoritesFirst: friendOrder === 'favorite',
      language: input.language,
    },
    counts,
  );
  const pageUrl = (at: number) => {
    const q = new URLSearchParams({ offset: String(at), limit: String(limit), order });
    if (input.friendOrder !== undefined) q.set('friend_order', friendOrder);
    if (input.secure) q.set('secure_resource', 'true');
    return `${input.baseUrl}?${q.toString()}`;
  };
  const body: Record<string, unknown> = {
    elements: rows.map((r) => ({
      profile_nickname: r.nickname,
      profile_thumbnail_image: talkImageUrl(r.thumbnail_image_url, input.origin) ?? '',
      id: r.user_id,
      uuid: r.uuid,
      favorite: r.favorite === 1,
    })),
    total_count: counts.totalCount,
  };
  if (offset > 0) body.before_url = pageUrl(Math.max(0, offset - limit));
  if (offset + limit < counts.totalCount) body.after_url = pageUrl(offset + limit);
  body.favorite_count = counts.favoriteCount;
  return body;
}

export interface ProfilesInput {
  targetIds: string;
  targetIdType: string;
  viewerId?: number;
  viewerIdType?: string;
}

/** GET|POST /v2/api/talk/profiles with the admin key (seed 003). */
export async function talkProfiles(platform: Platform, app: App, input: ProfilesInput, origin: string): Promise<Record<string, unknown>> {
  const { db } = platform;
  if (input.targetIdType !== 'user_id') throw invalidParam('invalid target_id_type: must be user_id.');
  if (input.viewerIdType !== undefined && input.viewerIdType !== 'user_id') throw invalidParam('invalid viewer_id_type: must be user_id.');
  let ids: number[];
  try {
    ids = [...new Set((listParam(input.targetIds) ?? []).map((s) => Number(s)))];
  } catch {
    throw invalidParam('invalid target_ids: must be a JSON array of user ids.');
  }
  if (ids.length === 0 || ids.some((id) => !Number.isSafeInteger(id))) throw invalidParam('invalid target_ids: must be a JSON array of user ids.');

  let viewer: Link | undefined;
  if (input.viewerId !== undefined) {
    viewer = await findLinkByUserId(db, app.id, input.viewerId);
    if (!viewer) throw notLinked();
  }
  const targets: Link[] = [];
  for (const id of ids) {
    const link = await findLinkByUserId(db, app.id, id);
    if (!link) throw invalidParam('invalid target_ids. can get the profile only to registered users.');
    targets.push(link);
  }
  const seen = await profilesSeenBy(
    db,
    targets.map((t) => t.accountId),
    viewer?.accountId,
  );
  const body: Record<string, unknown> = {};
  if (viewer) {
    const own = await profilesSeenBy(db, [viewer.accountId], undefined);
    body.viewer = profileInfo(viewer, own.get(viewer.accountId), origin);
  }
  body.targets = targets.map((t) => profileInfo(t, seen.get(t.accountId), origin));
  return body;
}

/** The seed's sample shows http image URLs here: others' URLs are kept as stored. */
function profileInfo(link: Link, profile: (TalkProfile & { talkUser: boolean }) | undefined, origin: string): Record<string, unknown> {
  const info: Record<string, unknown> = { user_id: link.userId };
  if (!profile || !profile.talkUser) return info;
  if (hasScope(link.scopes, 'profile_nickname')) info.nickname = profile.nickname;
  if (hasScope(link.scopes, 'profile_image')) {
    if (profile.profileImageUrl) info.profile_image_url = urlForClient(profile.profileImageUrl, origin);
    if (profile.thumbnailImageUrl) info.thumbnail_image_url = urlForClient(profile.thumbnailImageUrl, origin);
  }
  return info;
}
